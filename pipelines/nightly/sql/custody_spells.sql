-- Time in custody (DESIGN s.9), one row per spell: the bookings of a participant merged where
-- they overlap or touch. A booking holds its person in custody every calendar day from its
-- event_date through its release_date, both included (a same-day release is one day); a blank
-- release_date means in custody through the as-of date. Overlapping bookings count each day once.
-- `days` is the spell's length in days; every custody measure (jail_days, time at risk) reads
-- these spells. Only sites whose justice export carries the release_date column (contract v2)
-- report custody: a v1 export's bookings, with no such column, have no spell (not a spell
-- running to the as-of date).
with

release as (
    select as_of from release
),

bookings as (
    select
        j.site_id,
        j.participant_id,
        j.event_date as start_date,
        least(coalesce(j.release_date, r.as_of), r.as_of) as end_date
    from justice as j
    cross join release as r
    where j.event_type = 'booking'
      and j.site_id in (
          select site_id from export_columns
          where table_name = 'justice' and column_name = 'release_date'
      )
),

ordered as (
    select
        *,
        max(end_date) over (
            partition by site_id, participant_id
            order by start_date, end_date
            rows between unbounded preceding and 1 preceding
        ) as previous_end
    from bookings
),

islands as (
    select
        *,
        sum(case when previous_end is null or start_date > previous_end + 1 then 1 else 0 end) over (
            partition by site_id, participant_id
            order by start_date, end_date
            rows unbounded preceding
        ) as spell
    from ordered
),

final as (
    select
        site_id,
        participant_id,
        min(start_date) as start_date,
        max(end_date) as end_date,
        (max(end_date) - min(start_date) + 1)::bigint as days
    from islands
    group by site_id, participant_id, spell
)

select * from final
