-- Both groups of the impact evaluation in windows around their own index dates, through the one
-- macro justice_windows (justice_windows.sql): participants of $sites with their referral date,
-- their justice records and custody_spells; the comparison group of $sites with its index date,
-- comparison_justice and comparison_custody_spells (no exit is known of a comparison person: no
-- death or incarceration leaves days out of its windows). $windows lists the windows as
-- [from_month, to_month] pairs. One row per person and window: treated, then the macro's columns.
with

site_rows as (
    select unnest($sites::varchar[]) as site_id
),

asked_windows as (
    select w[1]::integer as from_month, w[2]::integer as to_month
    from unnest($windows::integer[][]) as t(w)
),

participant_people as (
    select
        site_id,
        participant_id as person_id,
        referral_date as index_date,
        case when exit_reason = 'deceased' then exit_date end as died_on,
        case when exit_reason = 'incarcerated' then exit_date end as incarcerated_on,
    from participants
    where site_id in (select site_id from site_rows)
),

participant_events as (
    select site_id, participant_id as person_id, event_date, event_type, level from justice
),

participant_custody as (
    select site_id, participant_id as person_id, start_date, end_date from custody_spells
),

comparison_people as (
    select
        site_id,
        comparison_id as person_id,
        index_date,
        null::date as died_on,
        null::date as incarcerated_on,
    from comparison
    where site_id in (select site_id from site_rows)
),

comparison_events as (
    select site_id, comparison_id as person_id, event_date, event_type, level from comparison_justice
),

comparison_custody as (
    select site_id, comparison_id as person_id, start_date, end_date from comparison_custody_spells
),

final as (
    select true as treated, *
    from justice_windows(
        'participant_people', 'asked_windows', 'participant_events', 'participant_custody', $as_of::date
    )
    union all
    select false as treated, *
    from justice_windows(
        'comparison_people', 'asked_windows', 'comparison_events', 'comparison_custody', $as_of::date
    )
)

select * from final
order by treated desc, site_id, person_id, from_month, to_month
