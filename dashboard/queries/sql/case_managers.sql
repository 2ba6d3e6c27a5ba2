with

participants as (
    select * from participants
),

final as (
    select distinct site_id, case_manager_id
    from participants
    where case_manager_id is not null
      and ($scope_site is null or site_id = $scope_site)
      and ($scope_case_manager is null or case_manager_id = $scope_case_manager)
)

select * from final
order by site_id, case_manager_id
