-- One row per participant and month in the program (DESIGN s.5): active from the referral
-- month to the exit month (or the as-of month), with the housing and employment status at
-- month end, whether the month saw treatment, and its justice events and custody days (s.9).
with

release as (
    select as_of from release
),

participants as (
    select * from participants
),

people as (
    select
        site_id,
        participant_id,
        case_manager_id,
        site_id || ':' || case_manager_id as case_manager,
        referral_date,
        exit_date,
        year(referral_date) || '-Q' || quarter(referral_date) as cohort,
        referral_type,
        gender,
        list_filter(string_split(race_ethnicity, ';'), lambda r: r <> 'unknown') as races,
        year(referral_date) - birth_year as age_at_referral
    from participants
),

months as (
    select
        p.*,
        unnest(generate_series(
            date_trunc('month', p.referral_date),
            date_trunc('month', least(coalesce(p.exit_date, r.as_of), r.as_of)),
            interval 1 month
        ))::date as month,
        r.as_of
    from people as p
    cross join release as r
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

-- Each month with a justice event, and what the month's events were.
event_months as (
    select
        site_id,
        participant_id,
        date_trunc('month', event_date)::date as month,
        bool_or(event_type = 'arrest') as arrested,
        bool_or(event_type = 'arrest' and level in ('felony', 'misdemeanor')) as new_offense_arrest,
        bool_or(event_type = 'booking') as booked,
        bool_or(event_type = 'charge' and level = 'felony') as felony_charged
    from justice
    group by site_id, participant_id, month
),

-- Each custody spell once for every month it touches (custody_spells.sql: spells end by the
-- as-of date and never overlap, so a day is in one spell only).
spell_months as (
    select
        site_id,
        participant_id,
        start_date,
        end_date,
        unnest(generate_series(
            date_trunc('month', start_date),
            date_trunc('month', end_date),
            interval 1 month
        ))::date as month
    from custody_spells
),

-- A month's custody days: the days of its spells inside [month start, month end].
custody_months as (
    select
        site_id,
        participant_id,
        month,
        sum(least(end_date, last_day(month)) - greatest(start_date, month) + 1)::integer as custody_days
    from spell_months
    group by site_id, participant_id, month
),

with_status as (
    select
        m.*,
        least(last_day(m.month), m.as_of) as status_date,
        h.assessed_on as housing_assessed_on,
        h.living_situation,
        e.assessed_on as employment_assessed_on,
        e.employment_status,
        e.has_income
    from months as m
    asof left join housing as h
        on m.site_id = h.site_id
        and m.participant_id = h.participant_id
        and least(last_day(m.month), m.as_of) >= h.assessed_on
    asof left join employment as e
        on m.site_id = e.site_id
        and m.participant_id = e.participant_id
        and least(last_day(m.month), m.as_of) >= e.assessed_on
),

final as (
    select
        s.site_id,
        s.participant_id,
        s.month,
        datediff('month', date_trunc('month', s.referral_date), s.month) as months_since_referral,
        s.case_manager_id,
        s.case_manager,
        s.referral_date,
        s.cohort,
        s.referral_type,
        s.gender,
        case len(s.races)
            when 0 then 'unknown'
            when 1 then s.races[1]
            else 'multiracial'
        end as race,
        case
            when s.age_at_referral < 25 then '18-24'
            when s.age_at_referral < 35 then '25-34'
            when s.age_at_referral < 45 then '35-44'
            when s.age_at_referral < 55 then '45-54'
            else '55+'
        end as age_band,
        -- A status counts for 182 days after its assessment, then it is unknown.
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
        coalesce(em.arrested, false) as arrested,
        coalesce(em.new_offense_arrest, false) as new_offense_arrest,
        coalesce(em.booked, false) as booked,
        coalesce(em.felony_charged, false) as felony_charged,
        coalesce(cm.custody_days, 0) as custody_days
    from with_status as s
    left join living_situations as ls
        on s.living_situation = ls.living_situation
    left join treatment_months as tm
        on s.site_id = tm.site_id
        and s.participant_id = tm.participant_id
        and s.month = tm.month
    left join event_months as em
        on s.site_id = em.site_id
        and s.participant_id = em.participant_id
        and s.month = em.month
    left join custody_months as cm
        on s.site_id = cm.site_id
        and s.participant_id = cm.participant_id
        and s.month = cm.month
)

select * from final
