"""Cohorts: each metric by months since referral, one line per referral cohort; time to housing."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import access, cache, survival
from dashboard.charts import cohorts as charts
from dashboard.formatting import definition_line, referral_label
from dashboard.page import release_page
from dashboard.queries import cohorts
from dashboard.queries.release import Release
from dashboard.scope import scope_of
from pipelines.core.metrics import METRICS
from pipelines.core.scope import Scope

DEFAULT_METRIC = "permanent_housing"
NO_PARTICIPANTS = "No participants match these filters. Choose other referral types or sites."
ESTIMATING = "Estimating time to permanent housing…"
HOUSING_METHOD = (
    "Method: Kaplan-Meier (product-limit) estimate by referral type, drawn as the share permanently "
    "housed (1 minus the share not yet housed), with a 95% band by the exponential Greenwood "
    "(log-log) formula, as lifelines computes it. Time runs from the referral date. The event is the "
    "first assessment in a permanent living situation (HMIS 4xx) dated on or after 30 days before "
    "referral; one already permanent in those 30 days counts as day 0. Participants not yet housed "
    "are censored (counted while followed, then set aside) at their exit date or the release's as-of "
    "date, whichever comes first; a first permanent assessment after exit is censored at exit. "
    "The median's 95% interval is where the band crosses 50%; a month is 365.25 / 12 days."
)


def filters(path: Path, scope: Scope) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The referral types and sites chosen; empty means all."""
    types, sites = cache.fetch(path, cohorts.filter_options, scope)
    left, right = st.columns(2)
    with left:
        chosen_types = st.multiselect(
            "Referral type",
            types,
            format_func=referral_label,
            placeholder="All referral types",
            key="cohorts-referral-types",
        )
    with right:
        chosen_sites = st.multiselect("Site", sites, placeholder="All sites", key="cohorts-sites")
    # Sorted: the same choice in another click order is the same cached query.
    return tuple(sorted(chosen_types)), tuple(sorted(chosen_sites))


def cohort_section(
    path: Path,
    scope: Scope,
    referral_types: tuple[str, ...],
    sites: tuple[str, ...],
    fit: survival.HousingCurves,
) -> None:
    """A metric by months since referral, one line per chosen cohort, and the table under it."""
    st.header("By months since referral")
    # Counts and shares of people: the chart draws no days per participant (jail_days) yet.
    names = [n for n, m in METRICS.items() if m.counts_people]
    name = st.selectbox(
        "Metric",
        names,
        format_func=lambda n: METRICS[n].label,
        index=names.index(DEFAULT_METRIC),
        key="cohorts-metric",
    )
    metric = METRICS[name]
    st.caption(
        f"{metric.label}: {definition_line(metric)} Cohorts are the quarter of referral; month 0 is "
        f"the referral month, through month {cohorts.LAST_MONTH}. A cohort's latest months count only "
        "those referred early enough in the quarter to reach them, and the as-of month is still in "
        "progress: read them with their denominators."
    )
    curves = cache.fetch(path, cohorts.cohort_curves, scope, name, referral_types, sites)
    # Both sections' data is in hand: the audit entry comes before any of it is shown.
    access.audit(
        "page_view",
        "cohorts",
        filters={"metric": name, "referral_types": referral_types, "sites": sites},
        rows=curves.height + fit.summary.height + fit.milestones.height,
    )
    if curves.is_empty():
        st.info(
            f"No participant-months match these filters for {metric.label.lower()}. "
            "Choose other referral types or sites.",
            icon=":material/info:",
        )
        return
    options = sorted(curves["cohort"].unique().to_list())
    chosen = st.multiselect(
        "Referral cohorts",
        options,
        default=cohorts.recent_cohorts(curves),
        help=f"The {cohorts.DEFAULT_COHORTS} most recent cohorts with data are shown at first.",
        key="cohorts-cohorts",
    )
    if not chosen:
        st.info("Choose at least one referral cohort to draw.", icon=":material/info:")
        return
    chosen = [c for c in options if c in chosen]  # oldest first, whatever the order of picking
    st.plotly_chart(
        charts.cohort_chart(curves, name, chosen),
        width="stretch",
        key="cohorts-chart",
        config={"displaylogo": False},
    )
    table = cohorts.cohort_table(curves, name, chosen)
    value = (
        st.column_config.NumberColumn("Participants", format="localized")
        if metric.is_count
        else st.column_config.NumberColumn("Value", format="%.1f%%")
    )
    st.dataframe(
        table,
        width="stretch",
        height=320,
        hide_index=True,
        key="cohorts-table",
        column_config={
            "cohort": st.column_config.TextColumn("Cohort"),
            "months_since_referral": st.column_config.NumberColumn("Months since referral"),
            "numerator": st.column_config.NumberColumn("Numerator", format="localized"),
            "denominator": st.column_config.NumberColumn("Denominator", format="localized"),
            "value": value,
        },
    )


def housing_section(fit: survival.HousingCurves) -> None:
    """The time-to-permanent-housing curves, their medians, and the curve at set months."""
    st.header("Time to permanent housing")
    st.caption(HOUSING_METHOD)
    if fit.summary.is_empty():
        st.info(NO_PARTICIPANTS, icon=":material/info:")
        return
    st.plotly_chart(
        charts.housing_chart(fit.curve),
        width="stretch",
        key="housing-chart",
        config={"displaylogo": False},
    )
    st.caption(
        f"Shaded: the 95% confidence band. Curves drawn to {cohorts.LAST_MONTH} months since referral; "
        "the medians use all follow-up."
    )
    summary = cohorts.housing_summary_table(fit.summary)
    st.subheader("Median time to permanent housing")
    st.dataframe(
        summary,
        width="stretch",
        height="content",
        hide_index=True,
        key="housing-summary",
        column_config={
            "referral_type": st.column_config.TextColumn("Referral type"),
            "participants": st.column_config.NumberColumn("Participants", format="localized"),
            "events": st.column_config.NumberColumn("Permanently housed", format="localized"),
            "censored": st.column_config.NumberColumn("Censored (not yet housed)", format="localized"),
            "median": st.column_config.TextColumn("Median time to permanent housing"),
            "median_interval": st.column_config.TextColumn("95% CI of the median"),
        },
    )
    st.subheader("Share permanently housed by months since referral")
    milestones = cohorts.milestone_table(fit.milestones)
    percent = "%.1f%%"
    st.dataframe(
        milestones,
        width="stretch",
        height="content",
        hide_index=True,
        key="housing-milestones",
        column_config={
            "referral_type": st.column_config.TextColumn("Referral type"),
            "months": st.column_config.NumberColumn("Months since referral"),
            "share_housed": st.column_config.NumberColumn("Share housed", format=percent),
            "lower": st.column_config.NumberColumn("95% CI lower", format=percent),
            "upper": st.column_config.NumberColumn("95% CI upper", format=percent),
            "at_risk": st.column_config.NumberColumn("Followed, not yet housed", format="localized"),
        },
    )
    st.caption(
        "Followed, not yet housed: participants still followed at that point who had not yet been "
        "permanently housed (the number at risk). A month is left out for a referral type when "
        "nobody was followed that long."
    )


def show_release(path: Path, release: Release) -> None:
    """The cohort curves and the time to housing of one release file."""
    st.caption(
        f"All participants referred up to the release's as-of date, {release.as_of:%Y-%m-%d}, grouped by "
        "the quarter of their referral (cohort) and followed month by month from referral."
    )
    scope = scope_of(access.viewer())
    referral_types, sites = filters(path, scope)
    with st.spinner(ESTIMATING):
        fit = cache.fetch(path, cohorts.housing_curves, scope, referral_types, sites)
    cohort_section(path, scope, referral_types, sites, fit)
    housing_section(fit)


release_page("Cohorts", show_release)
