-- The body of the table macro metric_cells(units) (DESIGN s.5): the one definition of how the
-- metrics are counted, by period, dimension and group, for metric_values (each month) and for
-- funder snapshots (each month of a quarter, and the quarter).
--
-- `units` names a relation (a table, view or CTE of the caller) with the columns: period, the
-- dimension columns below, and the metric columns of metric_flags.sql, one row per unit counted
-- (a participant-month, or a participant over a quarter). A metric column is a flag (true counts
-- as 1, so its sum is a count of units) or a number (custody_days: its sum is days). Each metric
-- is the sum of its numerator column over the sum of its denominator column as the
-- metric_definitions table pairs them, loaded from pipelines/core/metrics.py. A row is kept when
-- its denominator is above zero; for a count (active_participants) the value is the count itself.
with

unit_rows as (
    select * from query_table(units)
),

metric_definitions as (
    select * from metric_definitions
),

-- The dimensions are the grouping sets: pipelines/core/metrics.py DIMENSIONS names the same.
counted as (
    select
        period,
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
        -- Every other column is a metric column: one sum per column, named after it.
        sum(columns(* exclude (period, cohort, referral_type, site_id, race, gender, age_band, case_manager)))
    from unit_rows
    group by grouping sets (
        (period),
        (period, cohort),
        (period, referral_type),
        (period, site_id),
        (period, race),
        (period, gender),
        (period, age_band),
        (period, case_manager)
    )
),

-- Each group's sums as a map from column name to sum, so a metric can look its columns up by name.
flag_counts as (
    select
        period,
        dimension,
        grp,
        struct_pack(*columns(* exclude (period, dimension, grp)))::map(varchar, bigint) as counts
    from counted
),

paired as (
    select
        d.metric,
        d.is_count,
        c.period,
        c.dimension,
        c.grp,
        c.counts[d.numerator_flag] as numerator,
        c.counts[d.denominator_flag] as denominator
    from flag_counts as c
    cross join metric_definitions as d
),

final as (
    select
        metric,
        period,
        dimension,
        grp,
        numerator::bigint as numerator,
        denominator::bigint as denominator,
        case when is_count then numerator::double else numerator / denominator end as value
    from paired
    where denominator > 0
)

select * from final
