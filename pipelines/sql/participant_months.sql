-- One row per participant and month in the program (DESIGN s.5): active from the referral
-- month to the exit month (or the as-of month), with the housing and employment status at
-- month end and whether the month saw treatment or an arrest.
with

release as (
    select as_of from release
),

participants as (
    select * from participants
),

active_months as (
    select
        p.*,
        unnest(generate_series(
            date_trunc('month', p.referral_date),
            date_trunc('month', least(coalesce(p.exit_date, r.as_of), r.as_of)),
            interval 1 month
        ))::date as month,
        r.as_of
    from participants as p
    cross join release as r
),

months as (
    select
        *,
        least(last_day(month), as_of) as status_date
    from active_months
),

treatment_months as (
    select distinct
        t.site_id,
        t.participant_id,
        unnest(generate_series(
            date_trunc('month', t.start_date),
            date_trunc('month', least(coalesce(t.end_date, r.as_of), r.as_of)),
            interval 1 month
        ))::date as month
    from treatment as t
    cross join release as r
),

arrest_months as (
    select distinct
        site_id,
        participant_id,
        date_trunc('month', event_date)::date as month
    from justice
    where event_type = 'arrest'
),

with_status as (
    select
        m.*,
        h.assessed_on as housing_assessed_on,
        h.living_situation,
        e.assessed_on as employment_assessed_on,
        e.employment_status,
        e.has_income
    from months as m
    asof left join housing as h
        on m.site_id = h.site_id
        and m.participant_id = h.participant_id
        and m.status_date >= h.assessed_on
    asof left join employment as e
        on m.site_id = e.site_id
        and m.participant_id = e.participant_id
        and m.status_date >= e.assessed_on
),

final as (
    select
        s.site_id,
        s.participant_id,
        s.month,
        datediff('month', date_trunc('month', s.referral_date), s.month) as months_since_referral,
        s.case_manager_id,
        s.site_id || ':' || s.case_manager_id as case_manager,
        s.referral_date,
        year(s.referral_date) || '-Q' || quarter(s.referral_date) as cohort,
        s.referral_type,
        s.gender,
        case
            when len(list_filter(string_split(s.race_ethnicity, ';'), lambda x: x <> 'unknown')) = 0 then 'unknown'
            when len(list_filter(string_split(s.race_ethnicity, ';'), lambda x: x <> 'unknown')) = 1
                then list_filter(string_split(s.race_ethnicity, ';'), lambda x: x <> 'unknown')[1]
            else 'multiracial'
        end as race,
        case
            when year(s.referral_date) - s.birth_year < 25 then '18-24'
            when year(s.referral_date) - s.birth_year < 35 then '25-34'
            when year(s.referral_date) - s.birth_year < 45 then '35-44'
            when year(s.referral_date) - s.birth_year < 55 then '45-54'
            else '55+'
        end as age_band,
        case
            when s.housing_assessed_on >= s.status_date - interval 182 day then s.living_situation
        end as living_situation,
        case
            when s.housing_assessed_on >= s.status_date - interval 182 day then ls.category
        end as housing_category,
        case
            when s.employment_assessed_on >= s.status_date - interval 182 day then s.employment_status
        end as employment_status,
        case
            when s.employment_assessed_on >= s.status_date - interval 182 day then s.has_income
        end as has_income,
        tm.month is not null as treatment_engaged,
        am.month is not null as arrested
    from with_status as s
    left join living_situations as ls
        on s.living_situation = ls.living_situation
    left join treatment_months as tm
        on s.site_id = tm.site_id
        and s.participant_id = tm.participant_id
        and s.month = tm.month
    left join arrest_months as am
        on s.site_id = am.site_id
        and s.participant_id = am.participant_id
        and s.month = am.month
)

select * from final
order by site_id, participant_id, month
