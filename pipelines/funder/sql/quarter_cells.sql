-- A quarter's cells for a funder snapshot (DESIGN s.7), unsuppressed: the macro metric_cells
-- (pipelines/nightly/sql/metric_cells.sql, the definitions metric_values counts with) over
-- each month of the quarter, counted by participant-month as metric_values counts it, and over
-- the quarter, counted by participant: a participant holds a flag in the quarter when it holds
-- in at least one month of it.
-- Only metrics that count people reach a snapshot ($metrics): custody_days is a sum of days,
-- which small-count suppression does not protect, so jail_days is left out of the quarter too.
-- Parameters: $start and $end (the quarter's first and last month), $label (the quarter,
-- 'YYYY-Qn'), $dimensions and $metrics (the dimensions and metrics a snapshot shows).
with

metric_flags as (
    select * from metric_flags
    where month between $start and $end
),

months as (
    select
        strftime(month, '%Y-%m') as period,
        * exclude (month, participant_id, months_since_referral)
    from metric_flags
),

-- max() of a flag is true when it holds in any month; of a dimension column (an attribute of
-- the participant: referral, demographics, case manager) it is the participant's one value.
quarter as (
    select
        $label as period,
        site_id,
        max(columns(* exclude (site_id, participant_id, month, months_since_referral, custody_days)))
    from metric_flags
    group by site_id, participant_id
),

quarter_units as (
    select * from months
    union all by name
    select * from quarter
),

cells as (
    select * from metric_cells('quarter_units')
),

final as (
    select
        metric,
        period,
        dimension,
        grp as "group",
        numerator,
        denominator,
        value
    from cells
    where list_contains($dimensions, dimension)
      and list_contains($metrics, metric)
)

select * from final
order by metric, period, dimension, "group"
