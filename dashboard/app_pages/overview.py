"""Overview: the program's headline measures, the change over a quarter, and a trend for each."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import streamlit as st

from dashboard import access, cache
from dashboard.charts import overview as charts
from dashboard.formatting import (
    definition_line,
    format_change,
    format_value,
    is_zero_change,
    month_label,
)
from dashboard.page import release_page
from dashboard.queries import overview
from dashboard.queries.overview import KPI_LOOKBACK_MONTHS
from dashboard.queries.release import Release
from dashboard.scope import scope_of
from pipelines.core.metrics import METRICS, Metric
from pipelines.core.periods import latest_complete_month

OVERVIEW_METRICS = (
    "active_participants",
    "permanent_housing",
    "sheltered",
    "unsheltered",
    "treatment_engaged",
    "employed",
    "employment_continuum",
    "income_or_benefits",
    "arrested",
)
KPI_COLUMNS = 3
# A fall is the program's aim for these; the size of the caseload is neither good nor bad.
DELTA_COLOURS = {"active_participants": "off", "unsheltered": "inverse", "arrested": "inverse"}


def kpi_tiles(table: pl.DataFrame) -> None:
    """One st.metric per headline measure, with the change against three months earlier."""
    columns = st.columns(KPI_COLUMNS)
    for index, row in enumerate(table.iter_rows(named=True)):
        metric = METRICS[row["metric"]]
        change = row["change"]
        zero = is_zero_change(change, metric.is_count)
        counts = (
            f"{row['numerator']:,} of {row['denominator']:,} in {month_label(row['month'])}. "
            if row["value"] is not None and not metric.is_count
            else ""
        )
        with columns[index % KPI_COLUMNS]:
            st.metric(
                metric.label,
                format_value(row["value"], metric.is_count),
                delta=format_change(change, metric.is_count),
                delta_color="off" if zero else DELTA_COLOURS.get(metric.name, "normal"),
                delta_arrow="off" if zero else "auto",
                delta_description=(f"vs. {month_label(row['prior_month'])}" if change is not None else None),
                help=counts + definition_line(metric),
                border=True,
            )


def metric_table_config(metric: Metric) -> dict[str, object]:
    """Column labels and formats for a metric's table; the numbers stay as stored."""
    if metric.is_count:
        value = st.column_config.NumberColumn("Participants", format="localized")
    else:
        # One decimal everywhere, as on the KPI tiles (the stored value keeps full precision).
        value = st.column_config.NumberColumn("Value", format="%.1f%%")
    return {
        "month": st.column_config.DateColumn("Month", format="MMM YYYY"),
        "numerator": st.column_config.NumberColumn("Numerator", format="localized"),
        "denominator": st.column_config.NumberColumn("Denominator", format="localized"),
        "value": value,
    }


def trend(name: str, series: pl.DataFrame) -> None:
    """A metric's trend line, its definition, and the same numbers as a table beside it."""
    metric = METRICS[name]
    st.subheader(metric.label)
    st.caption(definition_line(metric))
    if series.is_empty():
        st.info(f"This release has no monthly values for {metric.label.lower()}.")
        return
    chart, table = st.columns([3, 2])
    with chart:
        st.plotly_chart(
            charts.trend_chart(series, name, titled=False),
            width="stretch",
            key=f"trend-{name}",
            config={"displaylogo": False},
        )
    with table:
        # Newest first: the months staff ask about first are visible without scrolling.
        shown = series.sort("month", descending=True)
        # A count's numerator and denominator are the count itself: one column says it.
        columns = ["month", "value"] if metric.is_count else ["month", "numerator", "denominator", "value"]
        if not metric.is_count:
            shown = shown.with_columns(pl.col("value") * 100)
        st.dataframe(
            shown.select(columns),
            width="stretch",
            height=320,
            hide_index=True,
            column_config=metric_table_config(metric),
            key=f"table-{name}",
        )


def show_release(path: Path, release: Release) -> None:
    """The KPIs and trends of one release file."""
    month = latest_complete_month(release.as_of)
    st.caption(
        f"All sites, latest complete month: {month_label(month)} (release as of "
        f"{release.as_of:%Y-%m-%d}). Changes are against {KPI_LOOKBACK_MONTHS} months earlier; "
        "rates change in percentage points (pp)."
    )
    scope = scope_of(access.viewer())
    tiles = cache.fetch(path, overview.kpis, scope, OVERVIEW_METRICS, release.as_of)
    series = {
        name: cache.fetch(path, overview.metric_series, scope, name, month) for name in OVERVIEW_METRICS
    }
    access.audit("page_view", "overview", rows=tiles.height + sum(s.height for s in series.values()))
    kpi_tiles(tiles)
    st.header("Trends")
    st.caption(f"Complete months through {month_label(month)}.")
    for name in OVERVIEW_METRICS:
        trend(name, series[name])


release_page("Overview", show_release)
