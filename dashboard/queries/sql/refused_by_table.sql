-- How many files of each site (of the scope) and table the release's run refused.
with

files as (
    select * from files
),

refused as (
    select *
    from files
    where status = 'refused'
      and ($scope_site is null or site_id = $scope_site)
),

final as (
    select site_id, table_name, count(*) as refused_files
    from refused
    group by site_id, table_name
)

select * from final
