with

metric_flags as (
    select * from metric_flags
),

filtered as (
    select
        f.month,
        case when $split_column is null then 'all' else struct_extract(f, $split_column) end as grp,
        struct_extract(f, $numerator_flag) as in_numerator,
        struct_extract(f, $denominator_flag) as in_denominator
    from metric_flags as f
    where (len($sites::varchar[]) = 0 or list_contains($sites::varchar[], f.site_id))
      and (len($referral_types::varchar[]) = 0 or list_contains($referral_types::varchar[], f.referral_type))
      and (len($cohorts::varchar[]) = 0 or list_contains($cohorts::varchar[], f.cohort))
      and ($start is null or f.month >= $start)
      and ($end is null or f.month <= $end)
),

counted as (
    select
        month,
        grp,
        sum(in_numerator)::bigint as numerator,
        sum(in_denominator)::bigint as denominator
    from filtered
    group by month, grp
),

final as (
    select
        month,
        grp as "group",
        numerator,
        denominator,
        case when $is_count then numerator::double else numerator / denominator end as value
    from counted
    where denominator > 0
)

select * from final
order by month, "group"
