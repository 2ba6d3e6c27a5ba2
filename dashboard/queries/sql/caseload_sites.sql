-- The sites that have participants inside the scope, in order.
with

participants as (
    select * from participants
),

in_scope as (
    select site_id
    from participants
    where site_id is not null
      and ($scope_site is null or site_id = $scope_site)
      and ($scope_case_manager is null or case_manager_id = $scope_case_manager)
),

final as (
    select distinct site_id from in_scope
)

select * from final
order by site_id
