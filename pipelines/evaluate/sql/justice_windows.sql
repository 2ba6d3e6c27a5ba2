-- The body of the table macro justice_windows(people, windows, events, spells, as_of): each
-- person's justice events and time at risk in windows around their own index date (DESIGN s.9).
-- Participants use it with their referral date (participant_windows.sql); a comparison group
-- can use it with its own index dates, events and custody spells.
--
-- Each argument but as_of names a relation of the caller (a table, view or CTE):
--   people:  site_id, person_id, index_date, died_on (exit to death, else null),
--            incarcerated_on (exit to incarceration, else null); one row per person
--   windows: from_month, to_month: a window of whole months, wholly before (to_month <= 0) or
--            wholly after (from_month >= 0) the index date
--   events:  site_id, person_id, event_date, event_type (arrest, booking, charge), level
--   spells:  site_id, person_id, start_date, end_date: custody spells, disjoint per person, only
--            from sources that report custody (custody_spells.sql)
--
-- The index date belongs to no window. A window before it runs from index + from_month months to
-- the day before index + to_month months ("6 months before": [index - 6 months, index - 1 day]);
-- a window after it from the day after index + from_month months to index + to_month months
-- ("6 months after": [index + 1 day, index + 6 months]). Consecutive windows share no day.
--
-- Days alive: the window's days before the death date. Days at risk: days alive that are not
-- custody days, and not days after an exit to incarceration: from the exit date through the
-- as-of date, or, when a custody spell holds the exit date, through that spell's end. Every
-- event dated in the window is counted, whatever the custody that day (a booking's own day is a
-- custody day).
with

person_rows as (
    select site_id, person_id, index_date, died_on, incarcerated_on from query_table(people)
),

window_rows as (
    select distinct from_month, to_month from query_table(windows)
),

event_rows as (
    select site_id, person_id, event_date, event_type, level from query_table(events)
),

spell_rows as (
    select site_id, person_id, start_date, end_date from query_table(spells)
),

person_windows as (
    select
        p.site_id,
        p.person_id,
        w.from_month,
        w.to_month,
        case
            when w.to_month <= 0 then (p.index_date + to_months(w.from_month))::date
            else (p.index_date + to_months(w.from_month))::date + 1
        end as start_date,
        case
            when w.to_month <= 0 then (p.index_date + to_months(w.to_month))::date - 1
            else (p.index_date + to_months(w.to_month))::date
        end as end_date,
        p.died_on,
    from person_rows as p
    cross join window_rows as w
),

-- The window's last day alive: the day before a death inside it (before its start if earlier).
alive as (
    select
        *,
        case when died_on is null then end_date else least(end_date, died_on - 1) end as alive_end
    from person_windows
),

-- An exit to incarceration inside a custody spell is covered by that spell; otherwise the person
-- is away from the exit date through the as-of date.
incarcerations as (
    select
        p.site_id,
        p.person_id,
        p.incarcerated_on,
        count(s.start_date) > 0 as in_spell
    from person_rows as p
    left join spell_rows as s
        on s.site_id = p.site_id
        and s.person_id = p.person_id
        and p.incarcerated_on between s.start_date and s.end_date
    where p.incarcerated_on is not null
    group by p.site_id, p.person_id, p.incarcerated_on
),

-- Days out of reach, as disjoint intervals: custody spells (those after an open-ended
-- incarceration lie inside it), and the open-ended incarceration itself.
away as (
    select s.site_id, s.person_id, s.start_date, s.end_date
    from spell_rows as s
    left join incarcerations as i
        on i.site_id = s.site_id
        and i.person_id = s.person_id
        and not i.in_spell
    where i.incarcerated_on is null or s.start_date < i.incarcerated_on
    union all
    select site_id, person_id, incarcerated_on as start_date, as_of as end_date
    from incarcerations
    where not in_spell
      and incarcerated_on <= as_of
),

away_days as (
    select
        a.site_id,
        a.person_id,
        a.from_month,
        a.to_month,
        sum(least(x.end_date, a.alive_end) - greatest(x.start_date, a.start_date) + 1) as days
    from alive as a
    inner join away as x
        on x.site_id = a.site_id
        and x.person_id = a.person_id
        and a.alive_end >= a.start_date
        and x.start_date <= a.alive_end
        and x.end_date >= a.start_date
    group by all
),

custody_days as (
    select
        a.site_id,
        a.person_id,
        a.from_month,
        a.to_month,
        sum(least(s.end_date, a.alive_end) - greatest(s.start_date, a.start_date) + 1) as days
    from alive as a
    inner join spell_rows as s
        on s.site_id = a.site_id
        and s.person_id = a.person_id
        and a.alive_end >= a.start_date
        and s.start_date <= a.alive_end
        and s.end_date >= a.start_date
    group by all
),

events_counted as (
    select
        a.site_id,
        a.person_id,
        a.from_month,
        a.to_month,
        count_if(e.event_type = 'arrest') as arrests,
        count_if(e.event_type = 'arrest' and e.level in ('felony', 'misdemeanor')) as new_offense_arrests,
        count_if(e.event_type = 'arrest' and e.level = 'warrant') as warrant_arrests,
        count_if(e.event_type = 'booking') as bookings,
        count_if(e.event_type = 'charge' and e.level = 'felony') as felony_charges,
    from alive as a
    inner join event_rows as e
        on e.site_id = a.site_id
        and e.person_id = a.person_id
        and e.event_date between a.start_date and a.end_date
    group by all
),

final as (
    select
        a.site_id,
        a.person_id,
        a.from_month,
        a.to_month,
        a.start_date,
        a.end_date,
        a.end_date <= as_of as complete,
        greatest(a.alive_end - a.start_date + 1, 0)::bigint as days_alive,
        coalesce(c.days, 0)::bigint as custody_days,
        (greatest(a.alive_end - a.start_date + 1, 0) - coalesce(x.days, 0))::bigint as days_at_risk,
        coalesce(e.arrests, 0)::bigint as arrests,
        coalesce(e.new_offense_arrests, 0)::bigint as new_offense_arrests,
        coalesce(e.warrant_arrests, 0)::bigint as warrant_arrests,
        coalesce(e.bookings, 0)::bigint as bookings,
        coalesce(e.felony_charges, 0)::bigint as felony_charges,
    from alive as a
    left join away_days as x using (site_id, person_id, from_month, to_month)
    left join custody_days as c using (site_id, person_id, from_month, to_month)
    left join events_counted as e using (site_id, person_id, from_month, to_month)
)

select * from final
