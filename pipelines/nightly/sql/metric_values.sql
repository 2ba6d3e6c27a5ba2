-- The monthly metrics (DESIGN s.5), one row per metric, month, dimension and group with a
-- denominator above zero: the macro metric_cells (metric_cells.sql) over the participant-months.
-- For active_participants the value is the count itself.
with

monthly_units as (
    select
        month as period,
        * exclude (month, participant_id, months_since_referral)
    from metric_flags
),

cells as (
    select * from metric_cells('monthly_units')
),

final as (
    select
        metric,
        period as month,
        dimension,
        grp,
        numerator,
        denominator,
        value
    from cells
)

select * from final
order by metric, month, dimension, grp
