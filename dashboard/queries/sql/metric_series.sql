with

metric_values as (
    select * from metric_values
),

final as (
    select month, numerator, denominator, value
    from metric_values
    where metric = $metric
      and dimension = 'all'
      and grp = 'all'
      and ($through is null or month <= $through)
      and ($since is null or month >= $since)
)

select * from final
order by month
