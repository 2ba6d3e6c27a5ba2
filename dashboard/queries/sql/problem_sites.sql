-- The sites of the scope to filter problems by: those with an accepted export or a problem.
with

files as (
    select * from files
),

problems as (
    select * from problems
),

sites as (
    select distinct site_id
    from files
    where status in ('new', 'unchanged', 'in_force') and site_id is not null
    union
    select distinct site_id from problems where site_id is not null
),

final as (
    select site_id
    from sites
    where $scope_site is null or site_id = $scope_site
)

select * from final
order by site_id
