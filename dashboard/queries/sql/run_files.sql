-- The row accounting of every file of run $run_id at the scope's site(s), from $source:
-- run_files, or `files` in a release built before run_files (it knows its own run's files).
with

run_files as (
    select * from query_table($source)
),

in_scope as (
    select *
    from run_files
    where run_id = $run_id
      and ($scope_site is null or site_id = $scope_site)
),

final as (
    select
        site_id,
        table_name,
        status,
        rows_read,
        rows_loaded,
        rows_quarantined,
        rows_duplicate,
        blank_rows,
        rows_read = rows_loaded + rows_quarantined + rows_duplicate as adds_up,
        error,
        accepted_at,
        path,
    from in_scope
)

select * from final
order by site_id, table_name, path
