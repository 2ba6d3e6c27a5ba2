"""Equity: each race group's rate of a metric in a month, its rate ratio against a reference group
with a 95% CI, and its share of referrals."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import streamlit as st

from dashboard import access, cache
from dashboard.equity import (
    ALL_OTHERS,
    REFERENCES,
    REFERRAL_WINDOW_MONTHS,
    SMALL_DENOMINATOR,
    VERY_SMALL_DENOMINATOR,
    WHITE,
    equity_table,
    forest_chart,
    race_label,
    race_months,
    race_rates,
    rate_metrics,
    reference_name,
    referrals_by_race,
)
from dashboard.formatting import month_label
from dashboard.page import release_page
from dashboard.queries.release import Release
from pipelines.core.metrics import METRICS
from pipelines.core.periods import add_months, latest_complete_month

REFERENCE_LABELS = {WHITE: "White participants", ALL_OTHERS: "All other groups"}
METHOD = (
    "Rate ratio: the group's rate divided by the reference group's rate. 95% confidence interval on "
    "the log scale (Katz): log ratio ± 1.96 × SE, SE = √(1/a − 1/n₁ + 1/c − 1/n₂), with a of n₁ counted "
    "in the group and c of n₂ in the reference. With a 0 in either numerator there is no ratio; the "
    "table says so. Against all other groups, the reference pools every other group's numerator and "
    "denominator (multiracial and unknown included)."
)


# Cached per release file like dashboard/cache.py: a cursor per call, sessions run in threads.
@st.cache_data(ttl=cache.DATA_TTL, max_entries=64, show_spinner=False)
def cached_months(path: str, metric: str, through: date) -> list[date]:
    """Cached `race_months` for one release file."""
    with cache.connection(path).cursor() as cursor:
        return race_months(cursor, metric, through)


@st.cache_data(ttl=cache.DATA_TTL, max_entries=256, show_spinner=False)
def cached_rates(path: str, metric: str, month: date) -> pl.DataFrame:
    """Cached `race_rates` for one release file."""
    with cache.connection(path).cursor() as cursor:
        return race_rates(cursor, metric, month)


@st.cache_data(ttl=cache.DATA_TTL, max_entries=64, show_spinner=False)
def cached_referrals(path: str, month: date) -> pl.DataFrame:
    """Cached `referrals_by_race` for one release file."""
    with cache.connection(path).cursor() as cursor:
        return referrals_by_race(cursor, month)


def ratio_text(row: dict) -> str:
    """A ratio and its CI as the table shows them: `1.09 (0.54 to 2.23)`."""
    if row["is_reference"]:
        return "1 (reference)"
    if row["ratio"] is None:
        return "no ratio: see note"
    return f"{row['ratio']:.2f} ({row['low']:.2f} to {row['high']:.2f})"


def table_view(table: pl.DataFrame) -> pl.DataFrame:
    """The chart's numbers as the table shows them: rates and shares in percent."""
    return table.select(
        pl.col("race").map_elements(race_label, return_dtype=pl.String),
        pl.struct("ratio", "low", "high", "is_reference")
        .map_elements(ratio_text, return_dtype=pl.String)
        .alias("ratio"),
        pl.col("rate") * 100,
        "numerator",
        "denominator",
        "flag",
        pl.col("referral_share") * 100,
        "referred",
        pl.col("reference_rate") * 100,
        "reference_numerator",
        "reference_denominator",
        "note",
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


def controls(path: Path, latest: date) -> tuple[str, date, str] | None:
    """The metric, month and reference group the user picks; None when there is nothing to pick."""
    metric_column, month_column, reference_column = st.columns([2, 1, 2])
    with metric_column:
        metric = st.selectbox(
            "Metric",
            rate_metrics(),
            format_func=lambda name: METRICS[name].label,
            key="equity-metric",
        )
    months = cached_months(str(path), metric, latest)
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
    latest = latest_complete_month(release.as_of)
    chosen = controls(path, latest)
    if chosen is None:
        return
    metric_name, month, reference = chosen
    metric = METRICS[metric_name]
    first = add_months(month, 1 - REFERRAL_WINDOW_MONTHS)
    st.subheader(f"{metric.label} by race, {month_label(month)}")
    st.caption(f"Numerator: {metric.numerator}; denominator: {metric.denominator}.")
    st.caption(METHOD)
    st.caption(
        f"Share of referrals: each group's share of the participants referred from {month_label(first)} "
        f"to {month_label(month)}. Race as the metrics count it: the single race given, multiracial for "
        f"several, unknown when none is known. Small numbers: a denominator under {SMALL_DENOMINATOR} "
        f"is flagged and drawn with an open marker; under {VERY_SMALL_DENOMINATOR}, the rate rests on "
        "very few people. Nothing is hidden."
    )
    rates = cached_rates(str(path), metric_name, month)
    filters = {"metric": metric_name, "month": month, "reference": reference}
    access.audit("page_view", "equity", filters=filters, rows=rates.height)
    if rates.is_empty():
        st.info(f"No race group has a denominator in {month_label(month)}.", icon=":material/info:")
        return
    table = equity_table(rates, cached_referrals(str(path), month), reference)
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
            table_view(table),
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
