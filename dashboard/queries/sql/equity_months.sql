with

metric_values as (
    select * from metric_values
),

final as (
    select distinct month
    from metric_values
    where metric = $metric and dimension = 'race' and month <= $through
)

select * from final
order by month desc
