with

program_wide as (
    select metric, month, numerator, denominator, value
    from metric_values
    where dimension = 'all' and grp = 'all'
),

latest as (
    select * from program_wide where month = $month
),

prior as (
    select * from program_wide where month = $prior_month
),

final as (
    select
        coalesce(latest.metric, prior.metric) as metric,
        latest.numerator,
        latest.denominator,
        latest.value,
        prior.numerator as prior_numerator,
        prior.denominator as prior_denominator,
        prior.value as prior_value,
        latest.value - prior.value as change,
    from latest
    full outer join prior on prior.metric = latest.metric
)

select * from final
