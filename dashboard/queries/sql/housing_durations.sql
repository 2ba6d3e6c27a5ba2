with

time_to_housing as (
    select * from time_to_housing
),

participants as (
    select site_id, participant_id, case_manager_id from participants
),

scoped as (
    select t.*
    from time_to_housing as t
    join participants as p on p.site_id = t.site_id and p.participant_id = t.participant_id
    where ($scope_site is null or p.site_id = $scope_site)
      and ($scope_case_manager is null or p.case_manager_id = $scope_case_manager)
),

final as (
    select
        site_id,
        participant_id,
        referral_type,
        referral_date,
        status_at_referral,
        housed_at_referral,
        housed_on,
        followed_until,
        days,
        housed
    from scoped
    where (len($types::varchar[]) = 0 or list_contains($types::varchar[], referral_type))
      and (len($sites::varchar[]) = 0 or list_contains($sites::varchar[], site_id))
)

select * from final
order by site_id, participant_id
