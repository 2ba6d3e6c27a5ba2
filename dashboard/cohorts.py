"""The Cohorts page's queries and charts: metrics by months since referral, and time to housing."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import plotly.graph_objects as go
import polars as pl

from checks.vocab import REFERRAL_TYPES
from dashboard.survival import DAYS_PER_MONTH
from pipelines.core.metrics import METRICS, Metric
from pipelines.core.palette import FONT_FAMILY, OKABE_ITO

LAST_MONTH = 24
DEFAULT_COHORTS = 8
# Seven colours (yellow is hard to see on white), then the same colours dashed, then dotted.
LINE_COLOURS = OKABE_ITO[:7]
LINE_DASHES = ("solid", "dash", "dot", "dashdot")
REFERRAL_COLOURS = dict(zip(REFERRAL_TYPES, OKABE_ITO, strict=False))
CURVES_SCHEMA = {
    "cohort": pl.String,
    "months_since_referral": pl.Int64,
    "numerator": pl.Int64,
    "denominator": pl.Int64,
    "value": pl.Float64,
}


def definition_line(metric: Metric) -> str:
    """The line under every chart that says what is counted."""
    return f"Numerator: {metric.numerator}; denominator: {metric.denominator}."


def referral_label(referral_type: str) -> str:
    """A referral door as staff say it: `arrest_diversion` is `Arrest diversion`."""
    return referral_type.replace("_", " ").capitalize()


def filter_options(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str]]:
    """The referral types (contract order) and sites the release's participants have."""
    rows = con.sql("select distinct referral_type, site_id from participants").fetchall()
    types = {t for t, _ in rows if t is not None}
    ordered = [t for t in REFERRAL_TYPES if t in types] + sorted(types - set(REFERRAL_TYPES))
    return ordered, sorted({s for _, s in rows if s is not None})


def cohort_curves(
    con: duckdb.DuckDBPyConnection,
    metric: str,
    referral_types: Sequence[str] = (),
    sites: Sequence[str] = (),
    last_month: int = LAST_MONTH,
) -> pl.DataFrame:
    """A metric by referral cohort and months since referral (0 to `last_month`).

    Columns cohort, months_since_referral, numerator, denominator, value; only cells with a
    denominator above zero. Empty filters mean every referral type or site.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}")
    definition = METRICS[metric]
    # Identifiers come only from METRICS (an allowlist); every value is bound.
    numerator, denominator = definition.numerator_flag, definition.denominator_flag
    value = "numerator::double" if definition.is_count else "numerator / denominator"
    return con.sql(
        f"""
        with
        flags as (
            select cohort, months_since_referral, {numerator} as numerator_flag,
                {denominator} as denominator_flag
            from metric_flags
            where months_since_referral between 0 and $last_month
                and (
                    len($referral_types::varchar[]) = 0
                    or list_contains($referral_types::varchar[], referral_type)
                )
                and (len($sites::varchar[]) = 0 or list_contains($sites::varchar[], site_id))
        ),
        grouped as (
            select
                cohort,
                months_since_referral::bigint as months_since_referral,
                count_if(numerator_flag)::bigint as numerator,
                count_if(denominator_flag)::bigint as denominator
            from flags
            group by cohort, months_since_referral
        ),
        final as (
            select cohort, months_since_referral, numerator, denominator, {value} as value
            from grouped
            where denominator > 0
        )
        select * from final
        order by cohort, months_since_referral
        """,  # noqa: S608 - identifiers from METRICS only
        params={"last_month": last_month, "referral_types": list(referral_types), "sites": list(sites)},
    ).pl()


def recent_cohorts(curves: pl.DataFrame, count: int = DEFAULT_COHORTS) -> list[str]:
    """The `count` most recent cohorts with data ('YYYY-Qn' sorts by time), oldest first."""
    cohorts = sorted(curves["cohort"].unique().to_list())
    return cohorts[-count:] if count > 0 else []


def line_style(index: int) -> dict[str, object]:
    """The nth line's colour and dash: seven Okabe-Ito colours, then dashed, then dotted."""
    return {
        "color": LINE_COLOURS[index % len(LINE_COLOURS)],
        "dash": LINE_DASHES[(index // len(LINE_COLOURS)) % len(LINE_DASHES)],
        "width": 2,
    }


def cohort_chart(curves: pl.DataFrame, metric: str, cohorts: Sequence[str]) -> go.Figure:
    """One line per cohort: the metric's value by months since referral."""
    definition = METRICS[metric]
    if definition.is_count:
        y_title, tickformat = "Participants", ",d"
        hover = "%{fullData.name}, month %{x}<br>%{y:,.0f} participants<extra></extra>"
    else:
        y_title, tickformat = "Percent of denominator", ".0%"
        hover = (
            "%{fullData.name}, month %{x}<br>%{y:.1%} "
            "(%{customdata[0]:,} of %{customdata[1]:,})<extra></extra>"
        )
    figure = go.Figure()
    for index, cohort in enumerate(cohorts):
        rows = curves.filter(pl.col("cohort") == cohort).sort("months_since_referral")
        figure.add_trace(
            go.Scatter(
                x=rows["months_since_referral"].to_list(),
                y=rows["value"].to_list(),
                customdata=rows.select("numerator", "denominator").rows(),
                mode="lines+markers",
                name=cohort,
                line=line_style(index),
                marker={"size": 5},
                hovertemplate=hover,
            )
        )
    figure.update_layout(
        colorway=list(LINE_COLOURS),
        font={"family": FONT_FAMILY},
        legend={"title": {"text": "Referral cohort"}},
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        height=420,
    )
    figure.update_xaxes(
        title_text="Months since referral (0 = referral month)",
        range=[-0.5, LAST_MONTH + 0.5],
        tickmode="linear",
        tick0=0,
        dtick=3,
    )
    figure.update_yaxes(title_text=y_title, tickformat=tickformat, rangemode="tozero")
    return figure


def rgba(colour: str, alpha: float) -> str:
    """A '#rrggbb' colour as a CSS rgba() with the given opacity."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def clipped_curve(rows: pl.DataFrame, last_months: float) -> pl.DataFrame:
    """A group's step curve up to `last_months`, extended flat to it when followed that long."""
    shown = rows.filter(pl.col("months") <= last_months)
    if rows["months"].max() > last_months and not shown.is_empty():
        end = shown.tail(1).with_columns(
            pl.lit(float(last_months), dtype=pl.Float64).alias("months"),
            pl.lit(last_months * DAYS_PER_MONTH, dtype=pl.Float64).alias("days"),
        )
        shown = pl.concat([shown, end])
    return shown


def housing_chart(curve: pl.DataFrame, last_months: float = LAST_MONTH) -> go.Figure:
    """Share permanently housed (1 - Kaplan-Meier survival) by months since referral, with its band."""
    figure = go.Figure()
    groups = list(dict.fromkeys(curve["referral_type"].to_list()))
    others = iter(OKABE_ITO[len(REFERRAL_TYPES) : 7])
    for group in groups:
        colour = REFERRAL_COLOURS.get(group) or next(others, OKABE_ITO[6])
        rows = clipped_curve(curve.filter(pl.col("referral_type") == group), last_months)
        label = referral_label(group)
        x = rows["months"].to_list()
        band = {
            "x": x,
            "mode": "lines",
            "line": {"width": 0, "shape": "hv"},
            "hoverinfo": "skip",
            "legendgroup": group,
            "showlegend": False,
        }
        figure.add_trace(go.Scatter(y=rows["upper"].to_list(), name=f"{label} upper 95% limit", **band))
        figure.add_trace(
            go.Scatter(
                y=rows["lower"].to_list(),
                name=f"{label} lower 95% limit",
                fill="tonexty",
                fillcolor=rgba(colour, 0.15),
                **band,
            )
        )
        figure.add_trace(
            go.Scatter(
                x=x,
                y=rows["share_housed"].to_list(),
                customdata=rows.select("lower", "upper", "at_risk").rows(),
                mode="lines",
                name=label,
                legendgroup=group,
                line={"color": colour, "width": 2, "shape": "hv"},
                hovertemplate=(
                    f"{label}, %{{x:.1f}} months<br>%{{y:.1%}} housed "
                    "(95% CI %{customdata[0]:.1%} to %{customdata[1]:.1%})<br>"
                    "%{customdata[2]:,} still followed and not yet housed<extra></extra>"
                ),
            )
        )
    figure.update_layout(
        font={"family": FONT_FAMILY},
        legend={"title": {"text": "Referral type"}},
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        height=420,
    )
    figure.update_xaxes(
        title_text="Months since referral", range=[0, last_months], tickmode="linear", tick0=0, dtick=3
    )
    figure.update_yaxes(title_text="Share permanently housed", tickformat=".0%", range=[0, 1])
    return figure


def median_text(days: float | None) -> str:
    """A median time in days, or "not reached" when the curve does not cross 50%."""
    return "not reached" if days is None else f"{days:,.0f} days ({days / DAYS_PER_MONTH:.1f} months)"


def interval_text(lower: float | None, upper: float | None) -> str:
    """A median's 95% confidence interval; an end the band never reaches is "not reached"."""
    if lower is None and upper is None:
        return "not reached"
    if upper is None:
        return f"{lower:,.0f} days to not reached"
    if lower is None:  # the lower band always crosses first; kept for completeness
        return f"not reached to {upper:,.0f} days"
    return f"{lower:,.0f} to {upper:,.0f} days"


def cohort_table(curves: pl.DataFrame, metric: str, cohorts: Sequence[str]) -> pl.DataFrame:
    """The chart's numbers: cohort, months since referral, numerator, denominator, value in percent.

    A count (active participants) is its own numerator and denominator: one column, value, says it.
    """
    shown = curves.filter(pl.col("cohort").is_in(list(cohorts))).sort("cohort", "months_since_referral")
    if METRICS[metric].is_count:
        return shown.select("cohort", "months_since_referral", "value")
    return shown.with_columns(pl.col("value") * 100)


def housing_summary_table(summary: pl.DataFrame) -> pl.DataFrame:
    """The fit per referral type as the page shows it: counts, and the median with its 95% CI as text."""
    return pl.DataFrame(
        {
            "referral_type": [referral_label(t) for t in summary["referral_type"]],
            "participants": summary["participants"],
            "events": summary["events"],
            "censored": summary["censored"],
            "median": [median_text(d) for d in summary["median_days"]],
            "median_interval": [
                interval_text(lo, hi)
                for lo, hi in zip(summary["median_lower"], summary["median_upper"], strict=True)
            ],
        },
        schema={
            "referral_type": pl.String,
            "participants": pl.Int64,
            "events": pl.Int64,
            "censored": pl.Int64,
            "median": pl.String,
            "median_interval": pl.String,
        },
    )


def milestone_table(milestones: pl.DataFrame) -> pl.DataFrame:
    """The curve at set months as the page shows it: shares in percent, the number at risk.

    A month nobody of a referral type was followed to (the share is unknown) is left out.
    """
    return milestones.filter(pl.col("share_housed").is_not_null()).select(
        pl.col("referral_type").replace_strict(
            {t: referral_label(t) for t in milestones["referral_type"].unique()}, return_dtype=pl.String
        ),
        "months",
        *(pl.col(c) * 100 for c in ("share_housed", "lower", "upper")),
        "at_risk",
    )
