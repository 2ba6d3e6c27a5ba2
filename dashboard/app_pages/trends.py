"""Trends: any metric over months, split by one dimension, under site, referral type and cohort filters."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import streamlit as st

from checks.labels import label
from dashboard import access, cache, choices
from dashboard.charts import trends as charts
from dashboard.findings import plain_definition
from dashboard.formatting import md_text, month_label
from dashboard.page import release_page, show_chart
from dashboard.queries import trends
from dashboard.queries.release import Release
from dashboard.scope import scope_of
from dashboard.small_numbers import SMALL_FLAG, SMALL_NOTE
from pipelines.core.metrics import DIMENSION_LABELS, METRICS, SMALL_COUNT, Kind
from pipelines.core.periods import latest_complete_month
from pipelines.core.scope import Scope

NO_MONTHS = "This release has no participant-months yet, so there is no trend to show."
NO_COMPLETE_MONTH = (
    "This release has no complete month yet (release as of {as_of}), so there is no trend to show: "
    "a month is shown once the release's as-of date reaches its last day."
)
METHOD = f"""
**Each point** is one month: the number of participants counted for the measure out of the
participants it applies to (both named above the chart), among those who match the filters (every
site, referral type and cohort when a filter is empty). Split by a breakdown, each group gets its
own line.

**Small numbers.** {SMALL_NOTE} A count of active participants is exact, not an estimate, and is
never flagged.

**Complete months only.** The months stop at the latest complete month: a month counts once the
release's as-of date reaches its last day, so a month still under way never looks like a drop. The
period picker counts back from that month; the fiscal year starts in
{choices.FISCAL_YEAR_START}.

**The sentence at the top** compares the last month shown with the first: for a split, in the
largest groups (those with the most people in the last month, leaving out groups of fewer than
{SMALL_COUNT}). A share is said to have risen or fallen only when the change is larger than chance
alone could make it, given how many people each month rests on; otherwise the sentence says the
change is within the uncertainty.

For analysts: a change is called a rise or fall when its 95% confidence interval (Newcombe's
hybrid score method for the difference of two independent proportions) leaves out 0.
"""
# The split choice that is no split at all.
NO_SPLIT = "No breakdown (all participants)"
NO_DATA = "No participants match these filters in the chosen months. Clear a filter or widen the month range."


@dataclass(frozen=True)
class Choice:
    """What the user picked: a metric, a split, the filters (empty = all) and the months."""

    metric: str
    split: str
    sites: tuple[str, ...]
    referral_types: tuple[str, ...]
    cohorts: tuple[str, ...]
    start: date
    end: date


def split_label(split: str) -> str:
    """A split as the picker names it: the dimension's label, or that there is none."""
    return NO_SPLIT if split == "all" else DIMENSION_LABELS[split]


PERIODS = (
    choices.LAST_12,
    choices.LAST_24,
    choices.YEAR_TO_DATE,
    choices.FISCAL_YEAR,
    choices.ALL_MONTHS,
    choices.CUSTOM,
)
DEFAULT_PERIOD = choices.LAST_24  # trends.DEFAULT_MONTHS: what the page showed before presets
NO_MONTHS_IN_PERIOD = (
    "This release has no complete month in the period chosen ({period}). Choose another period."
)


def to_custom() -> None:
    """The month slider moved: the period is the months chosen, no longer a preset."""
    st.session_state["trends-period"] = choices.CUSTOM
    choices.remember("trends-period", choices.PERIOD)()


def choose_months(options: trends.TrendOptions, release: Release) -> tuple[date, date] | None:
    """The period preset and the month slider it sets; None when the preset covers no month."""
    latest = latest_complete_month(release.as_of)
    months = trends.complete_months(options.months, latest)
    period = choices.period_choice("trends-period", DEFAULT_PERIOD, PERIODS)
    if period != choices.CUSTOM:
        chosen = choices.preset_range(period, months, latest)
        if chosen is None:
            return None
        st.session_state["trends-months"] = chosen  # the slider shows the preset's months
    else:
        chosen = st.session_state.get("trends-months") or trends.default_range(months, latest)
    if len(months) < 2:
        return chosen
    # `value` makes it a range slider; the state set above (or the user's move) is what it shows.
    start, end = st.select_slider(
        "Months",
        options=months,
        value=chosen,
        format_func=month_label,
        key="trends-months",
        on_change=to_custom,
    )
    return start, end


def choose(options: trends.TrendOptions, release: Release) -> Choice | None:
    """The page's controls: metric and split, the three filters, and the months (None when the
    period chosen holds no month)."""
    metric_column, split_column = st.columns(2)
    names = list(METRICS)
    choices.seed("trends-metric", choices.METRIC, names[0], choices.one_of(names))
    metric = metric_column.selectbox(
        "Metric",
        names,
        format_func=lambda name: METRICS[name].label,
        key="trends-metric",
        on_change=choices.remember("trends-metric", choices.METRIC),
    )
    split = split_column.selectbox("Split by", trends.SPLITS, format_func=split_label, key="trends-split")
    sites_column, referrals_column, cohorts_column = st.columns(3)
    sites = sites_column.multiselect("Sites", options.sites, placeholder="All sites", key="trends-sites")
    choices.seed("trends-referral-types", choices.REFERRAL_TYPES, [], choices.some_of(options.referral_types))
    referral_types = referrals_column.multiselect(
        "Referral types",
        options.referral_types,
        format_func=lambda code: label("referral_type", code),
        placeholder="All referral types",
        key="trends-referral-types",
        on_change=choices.remember("trends-referral-types", choices.REFERRAL_TYPES),
    )
    cohorts = cohorts_column.multiselect(
        "Cohorts (referral quarter)", options.cohorts, placeholder="All cohorts", key="trends-cohorts"
    )
    months = choose_months(options, release)
    if months is None:
        return None
    start, end = months
    return Choice(metric, split, tuple(sites), tuple(referral_types), tuple(cohorts), start, end)


def describe(choice: Choice, release: Release) -> str:
    """A line that says which months and filters the numbers cover."""
    parts = [f"{month_label(choice.start)} to {month_label(choice.end)}"]
    for name, picked in (
        ("sites", choice.sites),
        ("referral types", tuple(label("referral_type", t) for t in choice.referral_types)),
        ("cohorts", choice.cohorts),
    ):
        parts.append(f"{name}: {', '.join(picked) if picked else 'all'}")
    return "; ".join(parts) + f" (complete months; release as of {release.as_of:%Y-%m-%d})."


def table_config(kind: Kind) -> dict[str, object]:
    """Column labels and formats of the table; the numbers stay as the CSV has them."""
    formats = {Kind.COUNT: "localized", Kind.SHARE: "%.1f%%", Kind.DAYS: "%.2f"}
    headers = trends.CSV_HEADERS  # the table's headers are the CSV's
    return {
        "month": st.column_config.DateColumn(headers["month"], format="MMM YYYY"),
        "group": st.column_config.TextColumn(headers["group"]),
        "numerator": st.column_config.NumberColumn(headers["numerator"], format="localized"),
        "denominator": st.column_config.NumberColumn(headers["denominator"], format="localized"),
        "value": st.column_config.NumberColumn(trends.VALUE_HEADERS[kind], format=formats[kind]),
        "flag": st.column_config.TextColumn(
            headers["flag"], help=f"{SMALL_FLAG}: fewer than {SMALL_COUNT} in the denominator"
        ),
    }


def show(path: Path, release: Release, scope: Scope, options: trends.TrendOptions) -> None:
    """What the chart shows in a sentence, the controls, then the chart, its table and its CSV."""
    opening = st.container()  # filled once the controls have said what to show
    choice = choose(options, release)
    if choice is None:
        period = choices.PRESET_LABELS[st.session_state["trends-period"]].lower()
        opening.info(NO_MONTHS_IN_PERIOD.format(period=period), icon=":material/event_busy:")
        access.audit("page_view", "trends", rows=0)
        return
    metric = METRICS[choice.metric]
    values = cache.fetch(
        path,
        trends.trend_values,
        scope,
        choice.metric,
        choice.split,
        sites=choice.sites,
        referral_types=choice.referral_types,
        cohorts=choice.cohorts,
        start=choice.start,
        end=choice.end,
    )
    filters = dataclasses.asdict(choice)
    access.audit("page_view", "trends", filters=filters, rows=values.height)
    st.subheader(
        metric.label
        if choice.split == "all"
        else f"{metric.label} by {DIMENSION_LABELS[choice.split].lower()}"
    )
    if values.is_empty():
        opening.info(NO_DATA, icon=":material/filter_alt_off:")
        return
    found = trends.finding(values, choice.metric, choice.split)
    if found:
        opening.markdown(md_text(found))
    st.caption(plain_definition(metric))
    st.caption(describe(choice, release))
    with st.expander("How this is calculated"):
        st.markdown(METHOD)
    show_chart(charts.trend_chart(values, choice.metric, choice.split), key="trends-chart")
    table = trends.trend_table(values, choice.metric, choice.split)
    small = table.filter(pl.col("flag") != "").height
    if small:
        st.caption(
            f"{small:,} of {table.height:,} rows are rates on fewer than {SMALL_COUNT} people "
            f"(hollow points, flagged “{SMALL_FLAG}”): read them with care."
        )
    st.dataframe(
        table,
        width="stretch",
        height=360,
        hide_index=True,
        column_config=table_config(metric.kind),
        placeholder="",
        key="trends-table",
    )
    access.downloads(
        "Download",
        data=lambda: trends.table_csv(values, choice.metric, choice.split),
        per_hundred=("Percent",),
        file_name=trends.csv_name(choice.metric, choice.split, choice.start, choice.end),
        mime="text/csv",
        page="trends",
        rows=values.height,
        filters=filters,
        icon=":material/download:",
        key="trends-csv",
    )


def show_release(path: Path, release: Release) -> None:
    """The page on one release file, or what stands in the way."""
    scope = scope_of(access.viewer())
    options = cache.fetch(path, trends.trend_options, scope)
    if not options.months:
        st.info(NO_MONTHS, icon=":material/info:")
        return
    if trends.default_range(options.months, latest_complete_month(release.as_of)) is None:
        st.info(NO_COMPLETE_MONTH.format(as_of=f"{release.as_of:%Y-%m-%d}"), icon=":material/info:")
        return
    show(path, release, scope, options)


release_page("Trends", show_release)
