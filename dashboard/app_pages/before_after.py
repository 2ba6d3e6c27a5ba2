"""Before and after referral: arrests, bookings, jail days and felony charges of the same people in
the months before and after referral, and the longer baseline that shows what a drop can mean."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboard import access, cache, choices
from dashboard.charts.before_after import baseline_chart, comparison_chart
from dashboard.formatting import md_text
from dashboard.page import release_page, show_chart
from dashboard.queries import before_after
from dashboard.queries.before_after import (
    REFERRAL_TYPE_LABELS,
    WINDOW_LENGTHS,
    measure_title,
    window_label,
)
from dashboard.queries.release import Release
from dashboard.scope import scope_of
from dashboard.small_numbers import SMALL_NOTE
from pipelines.evaluate import estimate
from pipelines.evaluate.estimate import ALL, MEASURES, Evaluation, Measure
from pipelines.evaluate.windows import Sites

PAGE = "before-after"
CAVEAT = (
    "**Read this first.** Without a comparison group these numbers cannot show what the program did. "
    "People are often referred just after a run of arrests, and a drop after referral can simply be "
    "the return from that spike to their usual level (regression to the mean): compare the months "
    "after referral with the longer baseline below, not only with the months just before. A "
    "comparison with similar people who were not referred is the answer: see the Impact page."
)
ESTIMATING = "Counting arrests, bookings and days at risk…"


def comparison_config(measure: Measure) -> dict[str, object]:
    """Column labels and formats of the chosen measure's table."""
    count = {"format": "localized"}
    if measure.is_share:
        numerator, denominator, value, diff = "Arrested", "People", "%.1f%%", "%+.1f"
        denominator_format = {"format": "localized"}
    else:
        days = "alive" if measure.days == "days_alive" else "at risk"
        numerator, denominator, value, diff = measure.label, f"Person-years {days}", "%.2f", "%+.2f"
        denominator_format = {"format": "%.1f"}
    config: dict[str, object] = {
        "referral_type": st.column_config.TextColumn("Referral type", pinned=True),
        "people": st.column_config.NumberColumn("People", help="People compared in both windows", **count),
        "difference": st.column_config.NumberColumn(
            "Difference",
            help="After minus before" + (" (percentage points)" if measure.is_share else ""),
            format=diff,
        ),
        "low": st.column_config.NumberColumn("95% CI low", format=diff),
        "high": st.column_config.NumberColumn("95% CI high", format=diff),
        "flag": st.column_config.TextColumn("Small numbers"),
    }
    for side in ("before", "after"):
        config[f"{side}_numerator"] = st.column_config.NumberColumn(f"{numerator} {side}", **count)
        config[f"{side}_denominator"] = st.column_config.NumberColumn(
            f"{denominator} {side}", **denominator_format
        )
        config[f"{side}_value"] = st.column_config.NumberColumn(
            f"{'Share' if measure.is_share else 'Rate'} {side}", format=value
        )
    return config


def measures_config() -> dict[str, object]:
    """Column labels of the table of every measure."""
    return {
        "measure": st.column_config.TextColumn("Measure", pinned=True),
        "people": st.column_config.NumberColumn("People", format="localized"),
        "before": st.column_config.TextColumn("Before"),
        "after": st.column_config.TextColumn("After"),
        "difference": st.column_config.TextColumn("Difference", help="After minus before"),
        "interval": st.column_config.TextColumn("95% CI"),
        "flag": st.column_config.TextColumn("Small numbers"),
    }


def baseline_config() -> dict[str, object]:
    """Column labels and formats of the longer baseline's table."""
    count = {"format": "localized"}
    return {
        "window": st.column_config.TextColumn("Months around referral", pinned=True),
        "people": st.column_config.NumberColumn("People", **count),
        "arrested": st.column_config.NumberColumn(
            "Arrested", help="People with at least one arrest", **count
        ),
        "share": st.column_config.NumberColumn("Share arrested", format="%.1f%%"),
        "share_low": st.column_config.NumberColumn("Share CI low", format="%.1f%%"),
        "share_high": st.column_config.NumberColumn("Share CI high", format="%.1f%%"),
        "arrests": st.column_config.NumberColumn("Arrests", **count),
        "person_years_at_risk": st.column_config.NumberColumn("Person-years at risk", format="%.1f"),
        "rate": st.column_config.NumberColumn("Arrests per person-year at risk", format="%.2f"),
        "rate_low": st.column_config.NumberColumn("Rate CI low", format="%.2f"),
        "rate_high": st.column_config.NumberColumn("Rate CI high", format="%.2f"),
        "flag": st.column_config.TextColumn("Small numbers"),
    }


def sites_caption(sites: Sites) -> str:
    """Which sites are counted, and which of them report custody (site ids shown as text)."""

    def names(ids: tuple[str, ...]) -> str:
        return ", ".join(md_text(i) for i in ids)

    text = f"Sites counted (they send justice records): {names(sites.with_justice)}."
    if sites.without_justice:
        total = len(sites.with_justice) + len(sites.without_justice)
        text += (
            f" Left out: {len(sites.without_justice)} of {total} sites send no justice records "
            f"({names(sites.without_justice)}), so no arrest could be counted there."
        )
    if sites.custody_reported:
        text += f" Custody (jail release dates) reported by: {names(sites.custody_reported)}."
    if sites.custody_not_reported:
        text += (
            f" Not reported by: {names(sites.custody_not_reported)}: there every day alive counts as at "
            "risk and no jail days are counted."
        )
    return text


def methods(result: Evaluation, months: int) -> str:
    """How this is calculated, in words for a program director (markdown)."""
    rows = "\n".join(f"| {measure_title(m)} | {m.numerator} | {m.denominator} |" for m in MEASURES.values())
    return f"""
**Who is compared.** Participants at sites that send justice records, referred on or before
{result.referred_by[months]:%Y-%m-%d}, so that {months} months after their referral have passed by the
release's as-of date ({result.as_of:%Y-%m-%d}). Each person is counted in both windows, so the
comparison is of the same people. Follow-up is by calendar, whether or not the person is still in
the program: justice records keep coming after an exit.

**The windows.** "{months} months before" runs from the day {months} months before the referral date
to the day before it; "{months} months after" from the day after the referral date to the day
{months} months after it. The referral date itself is in neither window: the arrest or contact that
led to the referral is not an outcome. The longer baseline cuts the same people's time the same way
into 6-month windows, from 18 months before referral to {months} months after.

**Time at risk.** The days a person could have been arrested: the window's days, less days in jail
(every day from a booking through its release, both included; a booking not yet released runs to
the as-of date; overlapping bookings count once), less days on or after a death (exit reason
deceased, from the exit date), less days after an exit to incarceration (from the exit date to the
as-of date or, when a booking holds the exit date, to its release). A person-year is 365.25 days.
Jail days are known only where a site's justice export carries release dates; elsewhere every day
alive counts as at risk and no jail days are counted.

**What is counted.** Every event dated in the window, including those on a day in jail: an arrest
usually leads to a booking the same day, which starts a jail stay. Arrests of unknown level count as
arrests, but neither as new-offense nor as warrant arrests.

| measure | numerator (in each window) | denominator |
|---|---|---|
{rows}

**Intervals (95%).** Each difference comes with the range of differences the numbers are
consistent with. Because the same people are counted before and after, the range takes into
account that a person arrested before is more likely to be arrested after. For a rate, the range
comes from recounting many random redraws of the same people. The same release always gives the
same ranges. A rate's range is left out for a group so small that a redraw can hold no day at risk.
{SMALL_NOTE}

**Why a drop is not yet an effect.** People tend to be referred when their arrests are at a peak.
Peaks do not last: the same people would, on average, have been arrested less afterwards even
without the program. The longer baseline shows how high the months before referral were against the
year before them. Only a comparison with similar people who were not referred (the Impact page) can
separate the program's part from this return to the usual level.

For analysts: share arrested: {estimate.SHARE_METHOD} Rates: {estimate.RATE_METHOD}
"""


def show_release(path: Path, release: Release) -> None:
    """The before-and-after comparison of one release file."""
    scope = scope_of(access.viewer())
    missing = cache.fetch(path, before_after.missing_tables, scope)
    if missing:
        access.audit("page_view", PAGE, rows=0)
        st.info(
            "This release was built by an older version, without the custody records this page needs. "
            "Run `outcomes nightly` to rebuild it.",
            icon=":material/info:",
        )
        return
    sites = cache.fetch(path, before_after.justice_sites, scope)
    if not sites.with_justice:
        access.audit("page_view", PAGE, rows=0)
        st.info(
            "No site has sent justice records yet, so arrests before and after referral cannot be "
            "counted. Add a `justice` export to a site's inbox and run `outcomes nightly`.",
            icon=":material/info:",
        )
        return
    found = st.container()
    months = st.radio(
        "Months before and after referral",
        WINDOW_LENGTHS,
        format_func=lambda m: f"{m} months",
        horizontal=True,
        key="before-after-months",
    )
    with st.spinner(ESTIMATING):
        result = cache.fetch(path, before_after.evaluation, scope, release.as_of, months)
    if result.comparisons.is_empty():
        access.audit("page_view", PAGE, filters={"months": months}, rows=0)
        st.info(
            f"No participant at a site with justice records was referred {months} or more months before "
            f"{release.as_of:%Y-%m-%d}, so there is no one to compare yet.",
            icon=":material/info:",
        )
        return
    show_comparison(result, months, sites, found)


def show_comparison(result: Evaluation, months: int, sites: Sites, found: DeltaGenerator) -> None:
    """The findings, the chosen measure by referral type, every measure, and the longer baseline.

    The choices are laid out first and the audit entry written before any number is shown; the
    numbers then fill the places kept for them.
    """
    name = st.selectbox(
        "Measure",
        list(MEASURES),
        format_func=lambda m: measure_title(MEASURES[m]),
        key="before-after-measure",
    )
    numbers = st.container()
    st.subheader("The longer baseline")
    group = baseline_type(before_after.referral_types(result))
    longer = st.container()
    measure = MEASURES[name]
    comparison = before_after.comparison_view(result, name)
    everything = before_after.measures_view(result)
    baseline = before_after.baseline_view(result, group)
    access.audit(
        "page_view",
        PAGE,
        filters={"months": months, "measure": name, "baseline_referral_type": group},
        rows=comparison.height + everything.height + baseline.height,
    )
    found.markdown(before_after.findings(result, months))
    with numbers:
        show_measure(comparison, everything, measure, months)
    with longer:
        show_baseline(baseline, months)
    st.caption(sites_caption(sites))
    with st.expander("How this is calculated"):
        st.markdown(methods(result, months))


def baseline_type(groups: list[str]) -> str:
    """The longer baseline's referral type: the one chosen on another leadership page when exactly
    one was (dashboard/choices.py), else all referral types; a choice here is kept for the others."""
    key = "before-after-baseline-type"
    shared = st.session_state.get(choices.REFERRAL_TYPES)
    if isinstance(shared, list) and len(shared) == 1 and shared[0] in groups:
        st.session_state[key] = shared[0]
    elif key not in st.session_state or st.session_state[key] not in groups:
        st.session_state[key] = groups[0]

    def keep() -> None:
        chosen = st.session_state[key]
        st.session_state[choices.REFERRAL_TYPES] = [] if chosen == ALL else [chosen]

    return st.selectbox(
        "Referral type", groups, format_func=REFERRAL_TYPE_LABELS.__getitem__, key=key, on_change=keep
    )


def show_measure(comparison: pl.DataFrame, everything: pl.DataFrame, measure: Measure, months: int) -> None:
    """The caveat, then the chosen measure by referral type (chart and table) and every measure."""
    st.info(CAVEAT, icon=":material/info:")
    show_chart(comparison_chart(comparison, measure, months), key="before-after-chart")
    st.dataframe(
        comparison,
        width="stretch",
        hide_index=True,
        column_config=comparison_config(measure),
        placeholder="",
        key="before-after-table",
    )
    small = f" {SMALL_NOTE}" if (comparison["flag"] != "").any() else ""
    st.caption(
        f"{measure_title(measure)}. Numerator: {measure.numerator}; "
        f"denominator: {measure.denominator}.{small}"
    )
    st.subheader("Every measure, all referral types")
    st.dataframe(
        everything,
        width="stretch",
        hide_index=True,
        column_config=measures_config(),
        placeholder="",
        key="before-after-measures",
    )
    st.caption(
        "Share arrested in percent (difference in percentage points); every other measure per person-year "
        "(at risk, or alive for jail days). Difference: after minus before, with its 95% CI."
    )


def show_baseline(baseline: pl.DataFrame, months: int) -> None:
    """The longer baseline of one referral type: chart and table."""
    first = window_label(*estimate.baseline_windows(months)[0])
    show_chart(baseline_chart(baseline), key="before-after-baseline")
    st.dataframe(
        baseline,
        width="stretch",
        hide_index=True,
        column_config=baseline_config(),
        placeholder="",
        key="before-after-baseline-table",
    )
    st.caption(
        f"The same {baseline['people'][0]:,} people in each 6-month window, from {first} referral to "
        f"{months} months after it. Share arrested: people with at least one arrest in the window, of the "
        "people compared. Arrests per person-year at risk: arrests in the window over the window's days at "
        "risk / 365.25." + (f" {SMALL_NOTE}" if (baseline["flag"] != "").any() else "")
    )


release_page("Before and after referral", show_release)
