-- One participant's records in date order, only when they are on the scope's caseload.
with
person as (
    select participant_id, referral_date, referral_type, exit_date, exit_reason
    from participants
    where site_id = $scope_site
      and case_manager_id = $scope_case_manager
      and participant_id = $participant_id
),
referral as (
    select 'referral' as event, referral_date as date, null::date as end_date,
        referral_type as detail, null::varchar as category, 0 as lane
    from person
),
housing_events as (
    select 'housing', h.assessed_on, null::date, h.living_situation,
        coalesce(ls.category, 'unknown'), 1
    from housing as h
    join person as p on p.participant_id = h.participant_id
    left join living_situations as ls on ls.living_situation = h.living_situation
    where h.site_id = $scope_site
),
treatment_events as (
    select 'treatment', t.start_date, t.end_date, t.service_type, t.discharge_reason, 2
    from treatment as t
    join person as p on p.participant_id = t.participant_id
    where t.site_id = $scope_site
),
employment_events as (
    select 'employment', e.assessed_on, null::date, e.employment_status, e.has_income, 3
    from employment as e
    join person as p on p.participant_id = e.participant_id
    where e.site_id = $scope_site
),
justice_events as (
    select 'justice', j.event_date, null::date, j.event_type, j.level, 4
    from justice as j
    join person as p on p.participant_id = j.participant_id
    where j.site_id = $scope_site
),
exit as (
    select 'exit', exit_date, null::date, exit_reason, null::varchar, 5
    from person
    where exit_date is not null
),
final as (
    select * from referral
    union all select * from housing_events
    union all select * from treatment_events
    union all select * from employment_events
    union all select * from justice_events
    union all select * from exit
)
select event, date, end_date, detail, category
from final
order by date, lane, detail
