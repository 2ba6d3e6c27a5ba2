-- Rows quarantined and read at each run, by site (of the scope), oldest first.
with

runs as (
    select * from runs
),

run_files as (
    select * from run_files
),

by_site as (
    select
        run_id,
        site_id,
        sum(rows_quarantined)::bigint as rows_quarantined,
        sum(rows_read)::bigint as rows_read,
    from run_files
    where status in ('new', 'unchanged', 'in_force')
      and ($scope_site is null or site_id = $scope_site)
    group by run_id, site_id
),

final as (
    select
        runs.run_id,
        try_cast(runs.started_at as timestamp) as started_at,
        runs.as_of,
        runs.status,
        by_site.site_id,
        by_site.rows_quarantined,
        by_site.rows_read,
    from runs
    join by_site using (run_id)
)

select * from final
order by started_at, run_id, site_id
