-- Participants' time in custody, one row per spell, through the table macro custody
-- (custody.sql: the one definition of a spell, which the comparison group's spells share). Only
-- sites whose justice export carries release_date report custody. Every custody measure of the
-- participants (jail_days, time at risk) reads these spells.
with

justice_events as (
    select site_id, participant_id as person_id, event_date, event_type, release_date from justice
),

spells as (
    select * from custody('justice_events', 'justice')
),

final as (
    select site_id, person_id as participant_id, start_date, end_date, days from spells
)

select * from final
