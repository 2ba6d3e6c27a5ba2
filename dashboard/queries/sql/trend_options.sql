with

metric_flags as (
    select * from metric_flags
),

final as (
    select
        list(distinct site_id order by site_id) as sites,
        list(distinct referral_type order by referral_type) as referral_types,
        list(distinct cohort order by cohort) as cohorts,
        list(distinct month order by month) as months
    from metric_flags
)

select * from final
