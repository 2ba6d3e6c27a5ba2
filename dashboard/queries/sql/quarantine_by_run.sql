-- Rows quarantined and read at each run, program-wide ('all'), oldest first.
with

runs as (
    select * from runs
),

final as (
    select
        run_id,
        try_cast(started_at as timestamp) as started_at,
        as_of,
        status,
        'all' as site_id,
        rows_quarantined,
        rows_read,
    from runs
)

select * from final
order by started_at, run_id
