"""Cohorts: each metric by months since referral, one line per referral cohort; time to housing."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import streamlit as st

from checks.labels import label
from dashboard import access, cache, choices, survival
from dashboard.charts import cohorts as charts
from dashboard.findings import plain_definition
from dashboard.formatting import month_label
from dashboard.page import release_page, show_chart
from dashboard.queries import cohorts
from dashboard.queries.release import Release
from dashboard.scope import scope_of
from dashboard.small_numbers import SMALL_NOTE, TOO_FEW_AT_RISK, TOO_FEW_NOTE
from pipelines.core.metrics import METRICS, MIN_AT_RISK, SMALL_COUNT, STATUS_WINDOW_DAYS
from pipelines.core.periods import latest_complete_month
from pipelines.core.scope import Scope

DEFAULT_METRIC = "permanent_housing"
NO_PARTICIPANTS = "No participants match these filters. Choose other referral types or sites."
# The section's own empty state: the page's opening already says no participant matches.
NO_CURVE = "No one to follow to permanent housing under these filters."
ESTIMATING = "Estimating time to permanent housing…"
METHOD_LABEL = "How this is calculated"
COHORT_METHOD = (
    "**Cohorts.** A cohort is everyone referred in one calendar quarter (2024-Q1 is January to "
    "March 2024). Month 0 is the calendar month of each participant's referral, month 1 the next, "
    f"and so on to month {cohorts.LAST_MONTH}.\n\n"
    "**Each point** is the metric among the cohort's participants active in that month: the "
    "numerator out of the denominator named above the chart. A participant's housing or employment "
    f"status in a month is their latest assessment on or before the month's end, if it is no more "
    f"than {STATUS_WINDOW_DAYS} days old; otherwise it is unknown.\n\n"
    "**Where the lines stop.** Only complete calendar months are drawn: the month of the release's "
    "as-of date is still in progress, so it is left out unless the as-of date is its last day. A "
    "cohort's latest months count only those referred early enough in the quarter to reach them, "
    f"so their denominators shrink: a point on fewer than {SMALL_COUNT} people is drawn hollow and "
    "flagged in the table."
)
HOUSING_METHOD = (
    "**Who is in the curve.** Everyone referred up to the as-of date who was not already in "
    "permanent housing at referral. Housing status at referral is the latest housing assessment "
    f"dated on or before the referral date, no more than {STATUS_WINDOW_DAYS} days before it. Those "
    "already in permanent housing at referral are counted apart (a column of the median table), "
    "not in the curve: they had nothing to move into.\n\n"
    "**Moving into permanent housing.** The first housing assessment dated after the referral date "
    "that records a permanent living situation: renting, owning, or living permanently with family "
    "or friends.\n\n"
    "**People not yet housed** are counted while they are followed, until they exit the program or "
    "until the release's as-of date, whichever comes first, and then set aside: they count among "
    "those still waiting while they are followed, not after. A move first recorded after exit is "
    "not counted.\n\n"
    "**The share housed** by each month since referral is the share one would expect to have moved "
    "in had everyone been followed that long: each month's moves are counted against the people "
    "still followed and not yet housed then. The shaded band is its 95% range: the shares the "
    "numbers are consistent with. The median is the time by which half have moved in, with the "
    "range where the band crosses one half. A month is 365.25 / 12 days.\n\n"
    f"**Too few at risk.** A median or a share at a given month is shown only where at least "
    f"{MIN_AT_RISK} people are still followed and not yet housed; otherwise the tables say "
    f'"{TOO_FEW_AT_RISK}", and the curve is dashed, without its band, from that point on. The '
    "sentence at the top says one referral type was housed faster than another only when their "
    "shares' ranges do not overlap (the share housed within 12 months, or 6 when too few have been "
    "followed 12).\n\n"
    "For analysts: the curve is a Kaplan-Meier (product-limit) estimate of 1 - S(t) computed with "
    "lifelines, people not yet housed right-censored at exit or the as-of date; the band is the "
    "exponential Greenwood (log-log) interval; the median's interval is where the band crosses 0.5. "
    "Permanent destinations are the HUD HMIS living situations numbered 4xx."
)


def filters(path: Path, scope: Scope) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The referral types and sites chosen; empty means all. The referral types stay chosen on
    the other leadership pages (dashboard/choices.py)."""
    types, sites = cache.fetch(path, cohorts.filter_options, scope)
    left, right = st.columns(2)
    with left:
        choices.seed("cohorts-referral-types", choices.REFERRAL_TYPES, [], choices.some_of(types))
        chosen_types = st.multiselect(
            "Referral type",
            types,
            format_func=lambda code: label("referral_type", code),
            placeholder="All referral types",
            key="cohorts-referral-types",
            on_change=choices.remember("cohorts-referral-types", choices.REFERRAL_TYPES),
        )
    with right:
        chosen_sites = st.multiselect("Site", sites, placeholder="All sites", key="cohorts-sites")
    # Sorted: the same choice in another click order is the same cached query.
    return tuple(sorted(chosen_types)), tuple(sorted(chosen_sites))


def metric_choice() -> str:
    """The metric the cohort curves show (its selectbox, under the section's header)."""
    st.header("By months since referral")
    # Counts and shares of people: the chart draws no days per participant (jail_days) yet.
    names = [n for n, m in METRICS.items() if m.counts_people]
    choices.seed("cohorts-metric", choices.METRIC, DEFAULT_METRIC, choices.one_of(names))
    return st.selectbox(
        "Metric",
        names,
        format_func=lambda n: METRICS[n].label,
        key="cohorts-metric",
        on_change=choices.remember("cohorts-metric", choices.METRIC),
    )


def cohort_section(curves: pl.DataFrame, name: str, release: Release) -> None:
    """A metric by months since referral, one line per chosen cohort, and the table under it."""
    metric = METRICS[name]
    st.caption(
        f"{metric.label}: {plain_definition(metric)} Cohorts are the quarter of referral; month 0 is "
        f"the referral month. Drawn through {month_label(latest_complete_month(release.as_of))}, the "
        "last complete month."
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
    show_chart(charts.cohort_chart(curves, name, chosen), key="cohorts-chart")
    if not metric.is_count:
        st.caption(SMALL_NOTE)
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
        placeholder="",
        key="cohorts-table",
        column_config={
            "cohort": st.column_config.TextColumn("Cohort"),
            "months_since_referral": st.column_config.NumberColumn("Months since referral"),
            "numerator": st.column_config.NumberColumn("Numerator", format="localized"),
            "denominator": st.column_config.NumberColumn("Denominator", format="localized"),
            "value": value,
            "flag": st.column_config.TextColumn("Flag"),
        },
    )
    with st.expander(METHOD_LABEL):
        st.markdown(COHORT_METHOD)


def housing_section(fit: survival.HousingCurves) -> None:
    """The time-to-permanent-housing curves, their medians, and the curve at set months."""
    st.header("Time to permanent housing")
    if fit.summary.is_empty():
        st.info(NO_CURVE, icon=":material/info:")
        return
    st.caption(
        "Share housed: of participants not in permanent housing at referral, the estimated share who "
        "had moved into permanent housing by each month since referral (participants followed for "
        "less time are counted while they are followed)."
    )
    if not fit.curve.is_empty():
        show_chart(charts.housing_chart(fit.curve), key="housing-chart")
        st.caption(
            f"Shaded: the 95% confidence band. Dashed, without a band: fewer than {MIN_AT_RISK} "
            "participants still followed and not yet housed, too few to read the curve there. Drawn to "
            f"{cohorts.LAST_MONTH} months since referral; the medians use all follow-up."
        )
    summary = cohorts.housing_summary_table(fit.summary)
    st.subheader("Median time to permanent housing")
    st.dataframe(
        summary,
        width="stretch",
        height="content",
        hide_index=True,
        placeholder="",
        key="housing-summary",
        column_config={
            "referral_type": st.column_config.TextColumn("Referral type"),
            "housed_at_referral": st.column_config.NumberColumn(
                "Already in permanent housing at referral",
                format="localized",
                help="Counted apart: not in the curve",
            ),
            "participants": st.column_config.NumberColumn(
                "Not housed at referral (in the curve)", format="localized"
            ),
            "events": st.column_config.NumberColumn("Moved into permanent housing", format="localized"),
            "censored": st.column_config.NumberColumn("Not yet housed (followed so far)", format="localized"),
            "median": st.column_config.TextColumn("Median time to permanent housing"),
            "median_interval": st.column_config.TextColumn("95% CI of the median"),
        },
    )
    st.subheader("Share permanently housed by months since referral")
    st.dataframe(
        cohorts.milestone_table(fit.milestones),
        width="stretch",
        height="content",
        hide_index=True,
        placeholder="",
        key="housing-milestones",
        column_config={
            "referral_type": st.column_config.TextColumn("Referral type"),
            "months": st.column_config.NumberColumn("Months since referral"),
            "share_housed": st.column_config.TextColumn("Share housed"),
            "interval": st.column_config.TextColumn("95% CI"),
            "at_risk": st.column_config.NumberColumn("Followed, not yet housed", format="localized"),
        },
    )
    st.caption(
        "Followed, not yet housed: participants still followed at that point who had not yet moved into "
        f"permanent housing (the number at risk). {TOO_FEW_NOTE}"
    )
    with st.expander(METHOD_LABEL):
        st.markdown(HOUSING_METHOD)


def show_release(path: Path, release: Release) -> None:
    """What the page found, then the cohort curves and the time to housing of one release file."""
    finding = st.container()  # filled once the data is in hand and the audit entry written
    st.caption(
        f"All participants referred up to the release's as-of date, {release.as_of:%Y-%m-%d}, grouped by "
        "the quarter of their referral (cohort) and followed month by month from referral."
    )
    scope = scope_of(access.viewer())
    referral_types, sites = filters(path, scope)
    with st.spinner(ESTIMATING):
        fit = cache.fetch(path, cohorts.housing_curves, scope, referral_types, sites)
        overall = cache.fetch(path, cohorts.housing_overall, scope, referral_types, sites)
    name = metric_choice()
    curves = cache.fetch(path, cohorts.cohort_curves, scope, name, referral_types, sites)
    # Both sections' data is in hand: the audit entry comes before any of it is shown.
    access.audit(
        "page_view",
        "cohorts",
        filters={"metric": name, "referral_types": referral_types, "sites": sites},
        rows=curves.height + fit.summary.height + fit.milestones.height,
    )
    text = cohorts.housing_finding(overall)
    if text is None:
        finding.info(NO_PARTICIPANTS, icon=":material/info:")
    else:
        fastest = cohorts.fastest_finding(fit)
        finding.markdown(text if fastest is None else f"{text} {fastest}")
    cohort_section(curves, name, release)
    housing_section(fit)


release_page("Cohorts", show_release)
