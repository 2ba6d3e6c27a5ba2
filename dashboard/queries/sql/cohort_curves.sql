with

metric_flags as (
    select * from metric_flags
),

flags as (
    select
        f.cohort,
        f.months_since_referral,
        struct_extract(f, $numerator_flag) as numerator_flag,
        struct_extract(f, $denominator_flag) as denominator_flag
    from metric_flags as f
    where f.months_since_referral between 0 and $last_month
      -- The as-of month is read only when it is complete (the caller binds the last whole month).
      and f.month <= $last_complete_month
      and (
          len($referral_types::varchar[]) = 0
          or list_contains($referral_types::varchar[], f.referral_type)
      )
      and (len($sites::varchar[]) = 0 or list_contains($sites::varchar[], f.site_id))
),

grouped as (
    select
        cohort,
        months_since_referral::bigint as months_since_referral,
        sum(numerator_flag)::bigint as numerator,
        sum(denominator_flag)::bigint as denominator
    from flags
    group by cohort, months_since_referral
),

final as (
    select
        cohort,
        months_since_referral,
        numerator,
        denominator,
        case when $is_count then numerator::double else numerator / denominator end as value
    from grouped
    where denominator > 0
)

select * from final
order by cohort, months_since_referral
