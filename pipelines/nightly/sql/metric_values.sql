-- The monthly metrics (DESIGN s.5), one row per metric, month, dimension and group with a
-- denominator above zero. For active_participants the value is the count itself.
with

metric_flags as (
    select * from metric_flags
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
        -- From grouping() too, not coalesce(): a group's own value is never taken for another's.
        case
            when grouping(cohort) = 0 then cohort
            when grouping(referral_type) = 0 then referral_type
            when grouping(site_id) = 0 then site_id
            when grouping(race) = 0 then race
            when grouping(gender) = 0 then gender
            when grouping(age_band) = 0 then age_band
            when grouping(case_manager) = 0 then case_manager
            else 'all'
        end as grp,
        count_if(active) as active,
        count_if(housing_known) as housing_known,
        count_if(permanent_housing) as permanent_housing,
        count_if(sheltered) as sheltered,
        count_if(unsheltered) as unsheltered,
        count_if(treatment_engaged) as treatment_engaged,
        count_if(employment_known) as employment_known,
        count_if(employed) as employed,
        count_if(employment_continuum) as employment_continuum,
        count_if(income_known) as income_known,
        count_if(income_or_benefits) as income_or_benefits,
        count_if(arrested) as arrested
    from metric_flags
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

-- Each metric's numerator and denominator flags, as pipelines/core/metrics.py pairs them.
unpivoted as (
    select month, dimension, grp, 'active_participants' as metric, active as numerator, active as denominator
    from grouped
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
