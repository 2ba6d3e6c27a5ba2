-- The exports of the release's run at the scope's site(s) held in the inbox: fewer than half the
-- rows of the export in force they would replace. Each error says how to accept it.
with

files as (
    select * from files
),

final as (
    select site_id, table_name, path, error
    from files
    where status = 'held'
      and ($scope_site is null or site_id = $scope_site)
)

select * from final
order by site_id, table_name, path
