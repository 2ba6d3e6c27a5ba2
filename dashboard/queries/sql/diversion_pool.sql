-- Who is diverted (issue 14, item 8): LEAD participants (indexed at their referral) and the
-- comparison group (people eligible but not referred, indexed at the eligible contact), counted
-- by site, index year, race, gender and age band at index. Race and age band follow
-- participant_months.sql: the single race given, 'multiracial' for several, 'unknown' when none
-- is known; the age band of the index year less the birth year. `covered`: the site's comparison
-- export holds someone indexed in that year (only those site-years make the eligible pool).
-- Scope: $scope_site (null: every site); the pool is a site's, never a caseload's.
with

participants as (
    select * from participants
),

comparison as (
    select * from comparison
),

people as (
    select site_id, 'lead' as arm, referral_date as index_date, birth_year, gender, race_ethnicity
    from participants
    union all
    select site_id, 'comparison' as arm, index_date, birth_year, gender, race_ethnicity
    from comparison
),

scoped as (
    select
        site_id,
        arm,
        year(index_date) as index_year,
        gender,
        list_filter(string_split(race_ethnicity, ';'), lambda r: r <> 'unknown') as races,
        year(index_date) - birth_year as age_at_index
    from people
    where $scope_site is null or site_id = $scope_site
),

covered as (
    select distinct site_id, index_year
    from scoped
    where arm = 'comparison'
),

final as (
    select
        s.site_id,
        s.index_year,
        s.arm,
        case len(s.races)
            when 0 then 'unknown'
            when 1 then s.races[1]
            else 'multiracial'
        end as race,
        s.gender,
        case
            when s.age_at_index < 25 then '18-24'
            when s.age_at_index < 35 then '25-34'
            when s.age_at_index < 45 then '35-44'
            when s.age_at_index < 55 then '45-54'
            else '55+'
        end as age_band,
        c.site_id is not null as covered,
        count(*) as people
    from scoped as s
    left join covered as c
        on s.site_id = c.site_id
        and s.index_year = c.index_year
    group by all
)

select * from final
order by site_id, index_year, arm, race, gender, age_band
