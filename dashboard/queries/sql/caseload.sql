-- One case manager's participants with their latest statuses and the outreach prompts at
-- $as_of. Scope: one caseload ($scope_site and $scope_case_manager), never wider.
with
caseload as (
    select participant_id, referral_date, referral_type, exit_date
    from participants
    where site_id = $scope_site
      and case_manager_id = $scope_case_manager
      and ($include_exited or exit_date is null or exit_date > $as_of)
),
latest_housing as (
    select
        h.participant_id,
        h.living_situation,
        coalesce(ls.category, 'unknown') as housing_category,
        h.assessed_on as housing_assessed_on,
    from housing as h
    left join living_situations as ls on ls.living_situation = h.living_situation
    where h.site_id = $scope_site
      and h.participant_id in (select participant_id from caseload)
      and h.assessed_on <= $as_of
    qualify row_number() over (partition by h.participant_id order by h.assessed_on desc) = 1
),
current_treatment as (
    select
        participant_id,
        service_type as treatment_service,
        start_date as treatment_start,
        count(*) over (partition by participant_id) as current_episodes,
    from treatment
    where site_id = $scope_site
      and participant_id in (select participant_id from caseload)
      and start_date <= $as_of
      and (end_date is null or end_date >= $as_of)
    qualify row_number() over (
        partition by participant_id order by start_date desc, episode_id desc
    ) = 1
),
latest_employment as (
    select
        participant_id,
        employment_status,
        has_income,
        assessed_on as employment_assessed_on,
    from employment
    where site_id = $scope_site
      and participant_id in (select participant_id from caseload)
      and assessed_on <= $as_of
    qualify row_number() over (partition by participant_id order by assessed_on desc) = 1
),
arrests as (
    select participant_id, max(event_date) as last_arrest
    from justice
    where site_id = $scope_site
      and participant_id in (select participant_id from caseload)
      and event_type = 'arrest'
      and event_date <= $as_of
    group by participant_id
),
joined as (
    select
        c.*,
        h.living_situation,
        h.housing_category,
        h.housing_assessed_on,
        datediff('day', h.housing_assessed_on, $as_of) as days_since_housing,
        t.treatment_service,
        t.treatment_start,
        coalesce(t.current_episodes, 0) as current_episodes,
        e.employment_status,
        e.has_income,
        e.employment_assessed_on,
        datediff('day', e.employment_assessed_on, $as_of) as days_since_employment,
        a.last_arrest,
    from caseload as c
    left join latest_housing as h on h.participant_id = c.participant_id
    left join current_treatment as t on t.participant_id = c.participant_id
    left join latest_employment as e on e.participant_id = c.participant_id
    left join arrests as a on a.participant_id = c.participant_id
),
final as (
    select
        participant_id,
        coalesce(days_since_housing > $housing_due_days, true) as housing_check_due,
        coalesce(living_situation = 'unsheltered', false) as unsheltered,
        coalesce(last_arrest >= $as_of::date - $recent_arrest_days::integer, false) as recent_arrest,
        coalesce(exit_date <= $as_of, false) as exited,
        referral_date,
        referral_type,
        living_situation,
        housing_category,
        housing_assessed_on,
        days_since_housing,
        treatment_service,
        treatment_start,
        current_episodes,
        employment_status,
        has_income,
        employment_assessed_on,
        days_since_employment,
        last_arrest,
        exit_date,
    from joined
)
select * from final order by participant_id
