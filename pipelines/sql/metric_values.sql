-- The monthly metrics (DESIGN s.5), one row per metric, month, dimension and group with a
-- denominator above zero. For active_participants the value is the count itself.
with

participant_months as (
    select * from participant_months
),

grouped as (
    select
        month,
        case
            when grouping(cohort) = 0 then 'cohort'
            when grouping(referral_type) = 0 then 'referral_type'
            when grouping(site_id) = 0 then 'site'
            when grouping(race) = 0 then 'race'
            when grouping(gender) = 0 then 'gender'
            when grouping(age_band) = 0 then 'age_band'
            when grouping(case_manager) = 0 then 'case_manager'
            else 'all'
        end as dimension,
        coalesce(cohort, referral_type, site_id, race, gender, age_band, case_manager, 'all') as grp,
        count(*) as active,
        count(*) filter (where housing_category in ('homeless', 'institutional', 'temporary', 'permanent')) as housing_known,
        count(*) filter (where housing_category = 'permanent') as permanent_housing,
        count(*) filter (
            where living_situation in ('emergency_shelter', 'safe_haven')
            or housing_category in ('temporary', 'permanent')
        ) as sheltered,
        count(*) filter (where living_situation = 'unsheltered') as unsheltered,
        count(*) filter (where treatment_engaged) as treatment_engaged,
        count(*) filter (where employment_status <> 'unknown') as employment_known,
        count(*) filter (where employment_status in ('full_time', 'part_time', 'seasonal_sporadic')) as employed,
        count(*) filter (
            where employment_status in (
                'training_education', 'full_time', 'part_time', 'seasonal_sporadic', 'retired'
            )
        ) as employment_continuum,
        count(*) filter (where has_income in ('yes', 'no')) as income_known,
        count(*) filter (where has_income = 'yes') as income_or_benefits,
        count(*) filter (where arrested) as arrested
    from participant_months
    group by grouping sets (
        (month),
        (month, cohort),
        (month, referral_type),
        (month, site_id),
        (month, race),
        (month, gender),
        (month, age_band),
        (month, case_manager)
    )
),

unpivoted as (
    select month, dimension, grp, 'active_participants' as metric, active as numerator, active as denominator from grouped
    union all
    select month, dimension, grp, 'permanent_housing', permanent_housing, housing_known from grouped
    union all
    select month, dimension, grp, 'sheltered', sheltered, housing_known from grouped
    union all
    select month, dimension, grp, 'unsheltered', unsheltered, housing_known from grouped
    union all
    select month, dimension, grp, 'treatment_engaged', treatment_engaged, active from grouped
    union all
    select month, dimension, grp, 'employed', employed, employment_known from grouped
    union all
    select month, dimension, grp, 'employment_continuum', employment_continuum, employment_known from grouped
    union all
    select month, dimension, grp, 'income_or_benefits', income_or_benefits, income_known from grouped
    union all
    select month, dimension, grp, 'arrested', arrested, active from grouped
),

final as (
    select
        metric,
        month,
        dimension,
        grp,
        numerator::bigint as numerator,
        denominator::bigint as denominator,
        case
            when metric = 'active_participants' then numerator::double
            else numerator / denominator
        end as value
    from unpivoted
    where denominator > 0
)

select * from final
order by metric, month, dimension, grp
