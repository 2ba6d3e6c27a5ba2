-- Participants' justice events and time at risk in windows around their referral date, through
-- the macro justice_windows (justice_windows.sql), with the referral date as the index date.
-- Only sites that send justice records are counted (elsewhere no arrest could be seen); custody
-- spells come from custody_spells, which holds only sites whose justice export carries
-- release_date. $windows lists the windows as [from_month, to_month] pairs.
-- One row per participant and window: the macro's columns and the participant's referral type.
with

participant_rows as (
    select * from participants
),

justice_sites as (
    select site_id from export_columns where table_name = 'justice'
    union
    select site_id from justice
),

referred as (
    select
        site_id,
        participant_id as person_id,
        referral_date as index_date,
        case when exit_reason = 'deceased' then exit_date end as died_on,
        case when exit_reason = 'incarcerated' then exit_date end as incarcerated_on,
    from participant_rows
    where site_id in (select site_id from justice_sites)
),

asked_windows as (
    select w[1]::integer as from_month, w[2]::integer as to_month
    from unnest($windows::integer[][]) as t(w)
),

justice_events as (
    select site_id, participant_id as person_id, event_date, event_type, level from justice
),

custody as (
    select site_id, participant_id as person_id, start_date, end_date from custody_spells
),

counted as (
    select *
    from justice_windows('referred', 'asked_windows', 'justice_events', 'custody', $as_of::date)
),

final as (
    select
        c.*,
        p.referral_type,
    from counted as c
    inner join participant_rows as p
        on p.site_id = c.site_id
        and p.participant_id = c.person_id
)

select * from final
order by site_id, person_id, from_month, to_month
