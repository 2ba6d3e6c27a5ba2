"""Overview: the program's headline measures, the change over a quarter, and a trend for each."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import streamlit as st

from dashboard import access, cache, choices
from dashboard.charts import overview as charts
from dashboard.findings import plain_definition
from dashboard.formatting import (
    format_change,
    format_value,
    is_zero_change,
    month_label,
)
from dashboard.page import release_page, show_chart
from dashboard.queries import overview
from dashboard.queries.overview import KPI_LOOKBACK_MONTHS
from dashboard.queries.release import Release
from dashboard.scope import scope_of
from dashboard.small_numbers import SMALL_FLAG, SMALL_NOTE
from pipelines.core.metrics import METRICS, SMALL_COUNT, Metric
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
# The periods the trends can cover; by default every month, as the page showed before presets.
PERIODS = (choices.LAST_12, choices.LAST_24, choices.YEAR_TO_DATE, choices.FISCAL_YEAR, choices.ALL_MONTHS)
DEFAULT_PERIOD = choices.ALL_MONTHS
KPI_COLUMNS = 3
# A fall is the program's aim for these; the size of the caseload is neither good nor bad.
DELTA_COLOURS = {"active_participants": "off", "unsheltered": "inverse", "arrested": "inverse"}
WITHIN = "within the uncertainty"
METHOD = f"""
**Change from {KPI_LOOKBACK_MONTHS} months earlier.** Each tile compares the latest complete month with
the month {KPI_LOOKBACK_MONTHS} months before it. For a share (a percentage), the change is in
percentage points (pp), with a 95% confidence interval: the range of changes the two months' numbers
are consistent with, given how many people each share rests on. The change is coloured, green for
better and red for worse, only when that range leaves out 0; otherwise it is grey and says it is
{WITHIN}: the numbers cannot tell it from no change at all.

The two months count largely the same people, and the interval treats them as two separate
groups. That makes it wider than it needs to be (cautious): a change it calls clear is clear, and a
few real changes may be shown as {WITHIN}.

Active participants is a count of everyone, not an estimate: it has no interval, and its change
is shown in grey (a larger caseload is neither good nor bad in itself).

**Small numbers.** {SMALL_NOTE} The program's first months usually rest on few people, so their
points swing widely.

**Complete months.** Tiles and trends stop at the latest complete month: a month counts once the
release's as-of date reaches its last day.

**Period.** The period picker chooses the months the trends and the sentence at the top cover,
counting back from the latest complete month (the fiscal year starts in {choices.FISCAL_YEAR_START});
the tiles always compare the latest complete month with {KPI_LOOKBACK_MONTHS} months before it. With
every month shown, the sentence covers the last 12.

For analysts: the interval of a change is Newcombe's hybrid score interval for the difference of
two independent proportions; the sentence at the top uses the same interval.
"""


def interval_text(low: float, high: float) -> str:
    """A change's 95% interval as the tiles say it: `95% CI -1.2 to +5.0 pp`."""
    return f"95% CI {low * 100:+.1f} to {high * 100:+.1f} pp"


def tile_delta(row: dict, metric: Metric) -> dict[str, object]:
    """The delta arguments of a tile: coloured only when a rate's interval leaves out 0."""
    change = row["change"]
    if change is None:
        return {"delta": None}
    coloured = row["clear"] and not is_zero_change(change, metric.is_count)
    return {
        "delta": format_change(change, metric.is_count),
        "delta_color": DELTA_COLOURS.get(metric.name, "normal") if coloured else "off",
        "delta_arrow": "auto" if coloured else "off",
        "delta_description": f"vs. {month_label(row['prior_month'])}",
    }


def tile_note(row: dict, metric: Metric) -> str:
    """The line under a tile's change: its 95% interval and whether the change is beyond it."""
    if row["value"] is None:
        return f"No value in {month_label(row['month'])}."
    if row["change"] is None:
        return f"No value in {month_label(row['prior_month'])} to compare with."
    if metric.is_count:
        return "A count of everyone: no interval."
    interval = interval_text(row["change_low"], row["change_high"])
    if row["clear"]:
        return f"Beyond the uncertainty ({interval})."
    return f"{WITHIN.capitalize()} ({interval})."


def tile_help(row: dict, metric: Metric) -> str:
    """A tile's tooltip: the counts behind both months, then the definition."""
    counts = ""
    if row["value"] is not None and not metric.is_count:
        counts = f"{row['numerator']:,} of {row['denominator']:,} in {month_label(row['month'])}"
        if row["prior_value"] is not None:
            counts += (
                f"; {row['prior_numerator']:,} of {row['prior_denominator']:,} in "
                f"{month_label(row['prior_month'])}"
            )
        counts += ". "
    return counts + plain_definition(metric)


def kpi_tiles(table: pl.DataFrame) -> None:
    """One st.metric per headline measure, with the change against three months earlier."""
    columns = st.columns(KPI_COLUMNS)
    for index, row in enumerate(table.iter_rows(named=True)):
        metric = METRICS[row["metric"]]
        # The interval sits under the change, inside the tile's border: a delta's own description is
        # cut short at this width.
        with columns[index % KPI_COLUMNS], st.container(border=True):
            st.metric(
                metric.label,
                format_value(row["value"], metric.is_count),
                help=tile_help(row, metric),
                **tile_delta(row, metric),
            )
            st.caption(tile_note(row, metric))


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
        "flag": st.column_config.TextColumn(
            "Small numbers", help=f"{SMALL_FLAG}: fewer than {SMALL_COUNT} in the denominator"
        ),
    }


def trend(name: str, series: pl.DataFrame, period: str) -> None:
    """A metric's trend line, its definition, and the same numbers as a table beside it."""
    metric = METRICS[name]
    st.subheader(metric.label)
    st.caption(plain_definition(metric))
    if series.is_empty():
        st.info(
            f"This release has no monthly values for {metric.label.lower()} in the period chosen "
            f"({choices.PRESET_LABELS[period].lower()}). Choose another period above.",
            icon=":material/info:",
        )
        return
    chart, table = st.columns([3, 2])
    with chart:
        show_chart(charts.trend_chart(series, name, titled=False), key=f"trend-{name}")
    with table:
        st.dataframe(
            overview.trend_table(series, name),
            width="stretch",
            height=320,
            hide_index=True,
            column_config=metric_table_config(metric),
            placeholder="",
            key=f"table-{name}",
        )


def show_release(path: Path, release: Release) -> None:
    """The KPIs and trends of one release file."""
    latest = latest_complete_month(release.as_of)
    scope = scope_of(access.viewer())
    opening = st.container()  # what the page found, once the period is chosen
    period = choices.period_choice("overview-period", DEFAULT_PERIOD, PERIODS)
    bounds = choices.preset_bounds(period, latest)
    assert bounds is not None  # every period offered here is a preset
    since, month = bounds
    tiles = cache.fetch(path, overview.kpis, scope, OVERVIEW_METRICS, release.as_of)
    series = {
        name: cache.fetch(path, overview.metric_series, scope, name, month, since)
        for name in OVERVIEW_METRICS
    }
    access.audit(
        "page_view",
        "overview",
        filters={"period": period},
        rows=tiles.height + sum(s.height for s in series.values()),
    )
    found = overview.headline(series, month, since)
    if found:
        opening.markdown(found)
    else:
        opening.info(
            f"This release has no monthly values in the period chosen "
            f"({choices.PRESET_LABELS[period].lower()}). Choose another period.",
            icon=":material/info:",
        )
    st.caption(
        f"All sites, latest complete month: {month_label(latest)} (release as of "
        f"{release.as_of:%Y-%m-%d}). Changes are against {KPI_LOOKBACK_MONTHS} months earlier; "
        f"rates change in percentage points (pp), coloured only when the change is beyond its "
        "95% interval."
    )
    kpi_tiles(tiles)
    with st.expander("How this is calculated"):
        st.markdown(METHOD)
    st.header("Trends")
    shown = "every complete month" if since is None else f"{month_label(since)} to {month_label(month)}"
    st.caption(f"{choices.PRESET_LABELS[period]}: {shown}. {SMALL_NOTE}")
    for name in OVERVIEW_METRICS:
        trend(name, series[name], period)


release_page("Overview", show_release)
