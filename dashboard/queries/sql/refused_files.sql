-- The files of the release's run at the scope's site(s) with an error: refused, or archived
-- but unreadable now.
with

files as (
    select * from files
),

final as (
    select site_id, table_name, path, status, error
    from files
    where error is not null
      and ($scope_site is null or site_id = $scope_site)
)

select * from final
order by site_id, table_name, path
