"""Equity: each race group's rate of a metric in a month, its rate ratio against a reference group
with a 95% CI, and its share of referrals."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import streamlit as st

from dashboard import access, cache
from dashboard.charts.equity import forest_chart
from dashboard.formatting import definition_line, month_label
from dashboard.page import release_page
from dashboard.queries import equity
from dashboard.queries.equity import (
    ALL_OTHERS,
    REFERENCES,
    REFERRAL_WINDOW_MONTHS,
    WHITE,
    WIDE_INTERVAL_DENOMINATOR,
    rate_metrics,
    reference_name,
)
from dashboard.queries.release import Release
from dashboard.scope import scope_of
from pipelines.core.metrics import METRICS, SMALL_COUNT
from pipelines.core.periods import add_months, latest_complete_month
from pipelines.core.scope import Scope

REFERENCE_LABELS = {WHITE: "White participants", ALL_OTHERS: "All other groups"}
METHOD = (
    "Rate ratio: the group's rate divided by the reference group's rate. 95% confidence interval on "
    "the log scale (Katz): log ratio ± 1.96 × SE, SE = √(1/a − 1/n₁ + 1/c − 1/n₂), with a of n₁ counted "
    "in the group and c of n₂ in the reference. With a 0 in either numerator there is no ratio; the "
    "table says so. Against all other groups, the reference pools every other group's numerator and "
    "denominator (multiracial and unknown included)."
)


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
            "Rate ratio (95% CI)", help="The group's rate divided by the reference's; CI by Katz's log method"
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
        "flag": st.column_config.TextColumn("Small numbers"),
        "note": st.column_config.TextColumn("Note"),
    }


def controls(path: Path, scope: Scope, latest: date) -> tuple[str, date, str] | None:
    """The metric, month and reference group the user picks; None when there is nothing to pick."""
    metric_column, month_column, reference_column = st.columns([2, 1, 2])
    with metric_column:
        metric = st.selectbox(
            "Metric",
            rate_metrics(),
            format_func=lambda name: METRICS[name].label,
            key="equity-metric",
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
    """The equity view of one release file."""
    scope = scope_of(access.viewer())
    latest = latest_complete_month(release.as_of)
    chosen = controls(path, scope, latest)
    if chosen is None:
        return
    metric_name, month, reference = chosen
    metric = METRICS[metric_name]
    first = add_months(month, 1 - REFERRAL_WINDOW_MONTHS)
    st.subheader(f"{metric.label} by race, {month_label(month)}")
    st.caption(definition_line(metric))
    st.caption(METHOD)
    st.caption(
        f"Share of referrals: each group's share of the participants referred from {month_label(first)} "
        f"to {month_label(month)}. Race as the metrics count it: the single race given, multiracial for "
        f"several, unknown when none is known. Small numbers: a denominator under "
        f"{WIDE_INTERVAL_DENOMINATOR} is flagged and drawn with an open marker; under {SMALL_COUNT}, "
        "the rate rests on very few people. Nothing is hidden."
    )
    rates = cache.fetch(path, equity.race_rates, scope, metric_name, month)
    filters = {"metric": metric_name, "month": month, "reference": reference}
    access.audit("page_view", "equity", filters=filters, rows=rates.height)
    if rates.is_empty():
        st.info(f"No race group has a denominator in {month_label(month)}.", icon=":material/info:")
        return
    referrals = cache.fetch(path, equity.referrals_by_race, scope, month)
    table = equity.equity_table(rates, referrals, reference)
    if reference == WHITE and not (table["is_reference"] & (table["denominator"] > 0)).any():
        st.info(
            f"No White participant is in this month's denominator, so there is no rate to compare "
            f"against. Choose {REFERENCE_LABELS[ALL_OTHERS].lower()} as the reference group.",
            icon=":material/info:",
        )
    chart, numbers = st.columns([1, 1])
    with chart:
        st.plotly_chart(
            forest_chart(table, metric_name, reference),
            width="stretch",
            key="equity-chart",
            config={"displaylogo": False},
        )
    with numbers:
        st.dataframe(
            equity.table_view(table),
            width="stretch",
            hide_index=True,
            column_config=table_config(month),
            key="equity-table",
        )
    st.caption(
        f"A ratio above 1: the group's rate is higher than that of the reference "
        f"({reference_name(reference)}); below 1, lower. An interval that crosses 1 is consistent with "
        "no difference."
    )


release_page("Equity", show_release)
