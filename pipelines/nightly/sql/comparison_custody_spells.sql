-- The comparison group's time in custody, one row per spell, by the participants' definition
-- (the table macro custody, custody.sql). Only sites whose comparison_justice export carries
-- release_date report custody. The impact evaluation (pipelines/evaluate/impact.py) reads these
-- spells for the comparison group's jail days and time at risk.
with

comparison_events as (
    select site_id, comparison_id as person_id, event_date, event_type, release_date
    from comparison_justice
),

spells as (
    select * from custody('comparison_events', 'comparison_justice')
),

final as (
    select site_id, person_id as comparison_id, start_date, end_date, days from spells
)

select * from final
