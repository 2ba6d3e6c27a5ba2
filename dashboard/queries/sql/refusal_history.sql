-- Refusals across runs at the scope's site(s), one row per file and message, latest first.
with

run_files as (
    select * from run_files
),

refusals as (
    select *
    from run_files
    where error is not null
      and ($scope_site is null or site_id = $scope_site)
),

final as (
    select
        site_id,
        table_name,
        path,
        error,
        min(as_of) as first_refused,
        max(as_of) as last_refused,
        count(distinct run_id) as runs,
        max(started_at) as last_started_at,
    from refusals
    group by site_id, table_name, path, error
)

select * from final
order by last_started_at desc, site_id, table_name, path
limit $limit
