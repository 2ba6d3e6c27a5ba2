with

metric_values as (
    select * from metric_values
),

final as (
    select grp as race, numerator, denominator, value
    from metric_values
    where metric = $metric and month = $month and dimension = 'race'
)

select * from final
order by race
