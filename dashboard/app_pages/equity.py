"""Equity: each race group's rate of a metric in a month, its rate ratio against a reference group
with a 95% CI, and its share of referrals; then who is diverted, against the eligible pool
(dashboard/sections/diversion.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import streamlit as st

from dashboard import access, cache, choices
from dashboard.charts.equity import forest_chart
from dashboard.findings import plain_definition
from dashboard.formatting import md_text, month_label
from dashboard.page import release_page, show_chart
from dashboard.queries import equity
from dashboard.queries.equity import (
    ALL_OTHERS,
    REFERENCES,
    REFERRAL_WINDOW_MONTHS,
    WHITE,
    rate_metrics,
    reference_name,
)
from dashboard.queries.release import Release
from dashboard.scope import scope_of
from dashboard.sections.diversion import Diversion, prepare_diversion, show_diversion
from dashboard.small_numbers import SMALL_FLAG, SMALL_NOTE
from dashboard.stats import LOG, SCORE, SCORE_BELOW
from pipelines.core.metrics import METRICS, SMALL_COUNT
from pipelines.core.periods import add_months, latest_complete_month
from pipelines.core.scope import Scope

REFERENCE_LABELS = {WHITE: "White participants", ALL_OTHERS: "All other groups"}
STANDARD, SMALL_COUNTS = equity.INTERVAL_NAMES[LOG], equity.INTERVAL_NAMES[SCORE]
METHOD = f"""
**Rate ratio.** A group's rate divided by the reference group's rate: 1 means the same rate, 2 twice
the reference's, 0.5 half. Against all other groups, the reference pools every other group's
participants (multiracial and unknown included).

**The 95% confidence interval** is the range of ratios the month's numbers are consistent with.
When it includes 1, the numbers cannot tell the group's rate from the reference's: the gap is
within the uncertainty. The table's Interval column says which of two ways worked it out:

- **{STANDARD}**: the usual way, when enough people are counted on both sides.
- **{SMALL_COUNTS}**: whenever fewer than {SCORE_BELOW} people are counted in either group. It
  stays honest with few people, and still gives an interval when no one in the group is counted (a
  ratio of 0, drawn as a triangle at the left edge).

With no one counted in the reference group there is no ratio (it would mean dividing by 0): the
table's note says so.

**The sentence at the top** names the group whose rate is furthest from the reference's (groups of
fewer than {SMALL_COUNT} people are passed over when another has a ratio), and says whether the gap
is beyond the uncertainty.

**Small numbers.** {SMALL_NOTE} Here a ratio is hollow when the group's rate or the reference's
rests on fewer than {SMALL_COUNT} people; its interval shows how wide the uncertainty is.

**Share of referrals.** Each group's share of the participants referred in the
{REFERRAL_WINDOW_MONTHS} months up to the chosen month. Race as the metrics count it: the single
race given, multiracial for several, unknown when none is known.

For analysts: the standard interval is Katz's log interval for a ratio of two independent
proportions; the small-count one is Koopman's score interval (statsmodels'
confint_proportions_2indep, method "score", no correction), used when either numerator is under
{SCORE_BELOW}.
"""


def table_config(month: date) -> dict[str, object]:
    """Column labels and formats for the table."""
    count = {"format": "localized"}
    first = add_months(month, 1 - REFERRAL_WINDOW_MONTHS)
    return {
        "race": st.column_config.TextColumn("Race", pinned=True),
        "rate": st.column_config.NumberColumn("Rate", format="%.1f%%"),
        "numerator": st.column_config.NumberColumn("Numerator", **count),
        "denominator": st.column_config.NumberColumn("Denominator", **count),
        "ratio": st.column_config.TextColumn(
            "Rate ratio (95% CI)", help="The group's rate divided by the reference's, with its 95% interval"
        ),
        "method": st.column_config.TextColumn(
            "Interval",
            help=f"{SMALL_COUNTS}: fewer than {SCORE_BELOW} counted on either side; {STANDARD} otherwise",
        ),
        "reference_rate": st.column_config.NumberColumn(
            "Ref. rate", help="The reference's rate", format="%.1f%%"
        ),
        "reference_numerator": st.column_config.NumberColumn(
            "Ref. numerator", help="The reference's numerator", **count
        ),
        "reference_denominator": st.column_config.NumberColumn(
            "Ref. denominator", help="The reference's denominator", **count
        ),
        "referral_share": st.column_config.NumberColumn(
            "Referrals %",
            help=f"Share of participants referred {month_label(first)} to {month_label(month)}",
            format="%.1f%%",
        ),
        "referred": st.column_config.NumberColumn(
            "Referred", help=f"Participants referred {month_label(first)} to {month_label(month)}", **count
        ),
        "flag": st.column_config.TextColumn(
            "Small numbers", help=f"{SMALL_FLAG}: a rate on fewer than {SMALL_COUNT} people"
        ),
        "note": st.column_config.TextColumn("Note"),
    }


def controls(path: Path, scope: Scope, latest: date) -> tuple[str, date, str] | None:
    """The metric, month and reference group the user picks; None when there is nothing to pick."""
    metric_column, month_column, reference_column = st.columns([2, 1, 2])
    with metric_column:
        names = list(rate_metrics())
        choices.seed("equity-metric", choices.METRIC, names[0], choices.one_of(names))
        metric = st.selectbox(
            "Metric",
            names,
            format_func=lambda name: METRICS[name].label,
            key="equity-metric",
            on_change=choices.remember("equity-metric", choices.METRIC),
        )
    months = cache.fetch(path, equity.race_months, scope, metric, latest)
    if not months:
        st.info(
            f"This release has no race breakdown of {METRICS[metric].label.lower()} for a complete month "
            f"(through {month_label(latest)}).",
            icon=":material/info:",
        )
        return None
    with month_column:
        month = st.selectbox(
            "Month",
            months,
            index=months.index(latest) if latest in months else 0,
            format_func=month_label,
            key="equity-month",
        )
    with reference_column:
        reference = st.radio(
            "Reference group",
            REFERENCES,
            format_func=REFERENCE_LABELS.__getitem__,
            horizontal=True,
            key="equity-reference",
        )
    return metric, month, reference


def show_release(path: Path, release: Release) -> None:
    """The equity view of one release file: outcome rate ratios by race, then who is diverted."""
    scope = scope_of(access.viewer())
    pool = prepare_diversion(path, scope)  # its numbers, so that one audit entry covers both sections
    if not show_outcome_ratios(path, release, scope, pool):
        access.audit("page_view", "equity", filters=pool.filters, rows=pool.rows)
    show_diversion(pool)


def show_outcome_ratios(path: Path, release: Release, scope: Scope, pool: Diversion) -> bool:
    """Each race group's rate of a metric in a month against a reference group's; whether it wrote
    the page's audit entry (with the diversion section's filters and rows), as it does before
    showing any rate."""
    latest = latest_complete_month(release.as_of)
    opening = st.container()  # what the page found, once the controls have said what to show
    chosen = controls(path, scope, latest)
    if chosen is None:
        return False
    metric_name, month, reference = chosen
    metric = METRICS[metric_name]
    first = add_months(month, 1 - REFERRAL_WINDOW_MONTHS)
    st.subheader(f"{metric.label} by race, {month_label(month)}")
    st.caption(plain_definition(metric))
    st.caption(
        f"Share of referrals: each group's share of the participants referred from {month_label(first)} "
        f"to {month_label(month)}. Nothing is hidden: a rate on fewer than {SMALL_COUNT} people is "
        "flagged and its ratio drawn hollow."
    )
    with st.expander("How this is calculated"):
        st.markdown(METHOD)
    rates = cache.fetch(path, equity.race_rates, scope, metric_name, month)
    filters = {"metric": metric_name, "month": month, "reference": reference, **pool.filters}
    access.audit("page_view", "equity", filters=filters, rows=rates.height + pool.rows)
    if rates.is_empty():
        st.info(f"No race group has a denominator in {month_label(month)}.", icon=":material/info:")
        return True
    referrals = cache.fetch(path, equity.referrals_by_race, scope, month)
    table = equity.equity_table(rates, referrals, reference)
    found = equity.finding(table, metric_name, month, reference)
    if found:
        opening.markdown(md_text(found))
    if reference == WHITE and not (table["is_reference"] & (table["denominator"] > 0)).any():
        st.info(
            f"No White participant is in this month's denominator, so there is no rate to compare "
            f"against. Choose {REFERENCE_LABELS[ALL_OTHERS].lower()} as the reference group.",
            icon=":material/info:",
        )
    chart, numbers = st.columns([1, 1])
    with chart:
        show_chart(forest_chart(table, metric_name, reference), key="equity-chart")
    with numbers:
        st.dataframe(
            equity.table_view(table),
            width="stretch",
            hide_index=True,
            column_config=table_config(month),
            placeholder="",
            key="equity-table",
        )
    st.caption(
        f"A ratio above 1: the group's rate is higher than that of the reference "
        f"({reference_name(reference)}); below 1, lower. An interval that crosses 1 is consistent with "
        "no difference."
    )
    return True


release_page("Equity", show_release)
