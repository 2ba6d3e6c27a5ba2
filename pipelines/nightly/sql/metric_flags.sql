-- Each participant-month with the conditions the metrics count (DESIGN s.5, s.9): a metric is the
-- sum of its numerator column over the sum of its denominator column; pipelines/core/metrics.py
-- names the pair of each metric. Every column but the dimensions is a flag (true counts 1) or,
-- for custody_days, a number of days. metric_values and the dashboard both sum these columns.
with

participant_months as (
    select * from participant_months
),

final as (
    select
        site_id,
        participant_id,
        month,
        months_since_referral,
        cohort,
        referral_type,
        race,
        gender,
        age_band,
        case_manager,
        true as active,
        coalesce(housing_category in ('homeless', 'institutional', 'temporary', 'permanent'), false) as housing_known,
        coalesce(housing_category = 'permanent', false) as permanent_housing,
        coalesce(
            living_situation in ('emergency_shelter', 'safe_haven')
            or housing_category in ('temporary', 'permanent'),
            false
        ) as sheltered,
        coalesce(living_situation = 'unsheltered', false) as unsheltered,
        treatment_engaged,
        coalesce(employment_status <> 'unknown', false) as employment_known,
        coalesce(employment_status in ('full_time', 'part_time', 'seasonal_sporadic'), false) as employed,
        coalesce(
            employment_status in (
                'training_education', 'full_time', 'part_time', 'seasonal_sporadic', 'retired'
            ),
            false
        ) as employment_continuum,
        coalesce(has_income in ('yes', 'no'), false) as income_known,
        coalesce(has_income = 'yes', false) as income_or_benefits,
        arrested,
        new_offense_arrest,
        booked,
        felony_charged,
        custody_days
    from participant_months
)

select * from final
