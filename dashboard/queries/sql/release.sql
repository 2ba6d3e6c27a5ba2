with

release as (
    select * from release
),

final as (
    select run_id, as_of, built_at, metrics_version
    from release
)

select * from final
order by built_at desc nulls last
limit 1
