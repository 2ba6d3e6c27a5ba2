-- The people of the impact evaluation (issue 14), one row per person: the participants of
-- $sites (index date: the referral date) and their comparison group (index date: the eligible
-- contact that did not lead to a referral), each with what the propensity model and the
-- subgroups read, and their time to a first arrest after the index date.
--
-- treated: true for a participant. race: the person's one race, 'more_than_one' for several,
-- 'unknown' for none known. index_arrest: an arrest dated on the index date in the person's own
-- justice records (the same rule for both groups). followed_to: the last day the person is
-- followed for a first arrest: the as-of date, $months months after the index date, the day
-- before a death, or the day of an exit to incarceration (participants), whichever comes first.
-- first_arrest: the first arrest after the index date, through followed_to (else null).
-- Community referrals are left out: the comparison group is people who came to the program's
-- notice through a police contact or arrest, and a community referral has no counterpart there.
with

site_rows as (
    select unnest($sites::varchar[]) as site_id
),

participant_people as (
    select
        true as treated,
        site_id,
        participant_id as person_id,
        referral_date as index_date,
        referral_type,
        referral_offense as index_offense,
        birth_year,
        gender,
        race_ethnicity,
        case when exit_reason = 'deceased' then exit_date end as died_on,
        case when exit_reason = 'incarcerated' then exit_date end as incarcerated_on,
    from participants
    where site_id in (select site_id from site_rows)
      and referral_type <> 'community'
),

comparison_people as (
    select
        false as treated,
        site_id,
        comparison_id as person_id,
        index_date,
        null::varchar as referral_type,
        index_offense,
        birth_year,
        gender,
        race_ethnicity,
        null::date as died_on,
        null::date as incarcerated_on,
    from comparison
    where site_id in (select site_id from site_rows)
),

people as (
    select * from participant_people
    union all
    select * from comparison_people
),

arrests as (
    select true as treated, site_id, participant_id as person_id, event_date
    from justice
    where event_type = 'arrest'
    union all
    select false as treated, site_id, comparison_id as person_id, event_date
    from comparison_justice
    where event_type = 'arrest'
),

followed as (
    select
        *,
        least(
            $as_of::date,
            (index_date + to_months($months))::date,
            died_on - 1,
            incarcerated_on
        ) as followed_to,
        list_filter(string_split(race_ethnicity, ';'), lambda r: r <> 'unknown') as races,
    from people
),

index_arrests as (
    select distinct p.treated, p.site_id, p.person_id
    from followed as p
    inner join arrests as a
        on a.treated = p.treated
        and a.site_id = p.site_id
        and a.person_id = p.person_id
        and a.event_date = p.index_date
),

first_arrests as (
    select p.treated, p.site_id, p.person_id, min(a.event_date) as first_arrest
    from followed as p
    inner join arrests as a
        on a.treated = p.treated
        and a.site_id = p.site_id
        and a.person_id = p.person_id
        and a.event_date > p.index_date
        and a.event_date <= p.followed_to
    group by all
),

final as (
    select
        p.treated,
        p.site_id,
        p.person_id,
        p.index_date,
        p.referral_type,
        coalesce(p.index_offense, 'not_recorded') as index_offense,
        year(p.index_date) - p.birth_year as age,
        year(p.index_date)::varchar as index_year,
        p.gender,
        case len(p.races)
            when 0 then 'unknown'
            when 1 then p.races[1]
            else 'more_than_one'
        end as race,
        i.person_id is not null as index_arrest,
        p.died_on,
        p.incarcerated_on,
        p.followed_to,
        f.first_arrest,
    from followed as p
    left join index_arrests as i using (treated, site_id, person_id)
    left join first_arrests as f using (treated, site_id, person_id)
)

select * from final
order by treated desc, site_id, person_id
