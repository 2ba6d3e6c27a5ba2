-- The body of the table macro custody(events, export_table): time in custody (DESIGN s.9), one
-- row per spell, the one definition for participants (custody_spells.sql) and the comparison
-- group (comparison_custody_spells.sql). A booking holds its person in custody every calendar day
-- from its event_date through its release_date, both included (a same-day release is one day); a
-- blank release_date means in custody through the as-of date. Bookings of a person that overlap
-- or touch are merged into one spell, so no day counts twice; `days` is the spell's length.
--
-- `events` names a relation of the caller: site_id, person_id, event_date, event_type,
-- release_date (a justice export's rows, its person ID renamed). `export_table` is the export they
-- come from ('justice', 'comparison_justice'): only sites whose export of that table carries the
-- release_date column (contract v2) report custody; a v1 export's bookings, with no such column,
-- have no spell (not a spell running to the as-of date).
with

release as (
    select as_of from release
),

custody_sites as (
    select site_id
    from export_columns
    where table_name = export_table and column_name = 'release_date'
),

bookings as (
    select
        e.site_id,
        e.person_id,
        e.event_date as start_date,
        least(coalesce(e.release_date, r.as_of), r.as_of) as end_date
    from query_table(events) as e
    cross join release as r
    where e.event_type = 'booking'
      and e.site_id in (select site_id from custody_sites)
),

ordered as (
    select
        *,
        max(end_date) over (
            partition by site_id, person_id
            order by start_date, end_date
            rows between unbounded preceding and 1 preceding
        ) as previous_end
    from bookings
),

islands as (
    select
        *,
        sum(case when previous_end is null or start_date > previous_end + 1 then 1 else 0 end) over (
            partition by site_id, person_id
            order by start_date, end_date
            rows unbounded preceding
        ) as spell
    from ordered
),

final as (
    select
        site_id,
        person_id,
        min(start_date) as start_date,
        max(end_date) as end_date,
        (max(end_date) - min(start_date) + 1)::bigint as days
    from islands
    group by site_id, person_id, spell
)

select * from final
