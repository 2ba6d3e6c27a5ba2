-- Every recorded run, newest first, and whether it built this release: program-wide totals.
with

runs as (
    select * from runs
),

release as (
    select run_id from release
),

final as (
    select
        runs.run_id,
        try_cast(runs.started_at as timestamp) as started_at,
        runs.as_of,
        runs.status,
        runs.published,
        runs.run_id in (select run_id from release) as in_release,
        runs.rows_read,
        runs.rows_loaded,
        runs.rows_quarantined,
        runs.rows_duplicate,
        runs.files,
        runs.files_refused,
        -- A column no run has filled is stored with the NULL type: give it its own.
        runs.error::varchar as error,
    from runs
)

select * from final
order by started_at desc nulls last, run_id desc
