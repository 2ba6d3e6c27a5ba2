"""Before and after: the share of participants arrested in the 6 months before and after referral."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import streamlit as st

from dashboard import access, cache
from dashboard.charts.before_after import before_after_chart
from dashboard.page import release_page
from dashboard.queries import before_after
from dashboard.queries.before_after import WINDOW_MONTHS, Coverage
from dashboard.queries.release import Release
from dashboard.scope import scope_of

METHOD = (
    "95% confidence interval for the difference of these paired shares (the same people before "
    "and after): Newcombe's hybrid score method for paired data (Newcombe 1998, method 10), "
    "Wilson score limits for each share combined with the phi correlation of the pairs."
)


def table_config() -> dict[str, object]:
    """Column labels, formats and explanations for the table."""
    count = {"format": "localized"}
    before, after = (
        f"in the {WINDOW_MONTHS} months before referral",
        f"in the {WINDOW_MONTHS} months after referral",
    )
    return {
        "referral_type": st.column_config.TextColumn("Referral type"),
        "participants": st.column_config.NumberColumn(
            "People", help=f"Participants with {WINDOW_MONTHS} months of follow-up", **count
        ),
        "arrested_before": st.column_config.NumberColumn("Before", help=f"Arrested {before}", **count),
        "before": st.column_config.NumberColumn("Before %", help=f"Share arrested {before}", format="%.1f%%"),
        "arrested_after": st.column_config.NumberColumn("After", help=f"Arrested {after}", **count),
        "after": st.column_config.NumberColumn("After %", help=f"Share arrested {after}", format="%.1f%%"),
        "difference": st.column_config.NumberColumn(
            "Diff. (pp)", help="After % minus before %, in percentage points", format="%+.1f"
        ),
        "low": st.column_config.NumberColumn(
            "CI low", help="95% CI, Newcombe method 10 (pp)", format="%+.1f"
        ),
        "high": st.column_config.NumberColumn(
            "CI high", help="95% CI, Newcombe method 10 (pp)", format="%+.1f"
        ),
        "before_only": st.column_config.NumberColumn(
            "Before only", help="Arrested before referral and not after (McNemar)", **count
        ),
        "after_only": st.column_config.NumberColumn(
            "After only", help="Arrested after referral and not before (McNemar)", **count
        ),
        "both": st.column_config.NumberColumn("Both", help="Arrested before and after referral", **count),
        "neither": st.column_config.NumberColumn(
            "Neither", help="Not arrested before or after referral", **count
        ),
    }


def scope_caption(counted: Coverage, as_of: date) -> str:
    """Who is counted, in one paragraph."""
    text = (
        f"Participants referred on or before {counted.referred_by:%Y-%m-%d}, so that {WINDOW_MONTHS} months "
        f"after referral have passed by the release's as-of date ({as_of:%Y-%m-%d}). Follow-up is by "
        "calendar, whether or not the participant is still in the program: justice records keep coming "
        "after a program exit."
    )
    if counted.sites_without_justice:
        text += (
            f" Left out: {len(counted.sites_without_justice)} of {counted.sites} sites send no justice "
            f"records ({', '.join(counted.sites_without_justice)}), so no arrest could be counted there."
        )
    return text


def show_release(path: Path, release: Release) -> None:
    """The before-and-after comparison of one release file."""
    scope = scope_of(access.viewer())
    counted = cache.fetch(path, before_after.coverage, scope, release.as_of)
    table = (
        cache.fetch(path, before_after.arrest_table, scope, release.as_of)
        if counted.sites_with_justice
        else None
    )
    access.audit("page_view", "before-after", rows=0 if table is None else table.height)
    st.caption(scope_caption(counted, release.as_of))
    st.caption(
        f"Numerator: participants with at least one arrest (a justice record of type arrest) in the "
        f"{WINDOW_MONTHS} months before referral (from referral minus {WINDOW_MONTHS} months up to the "
        f"day before referral), or in the {WINDOW_MONTHS} months after (from the referral day up to "
        f"the day before referral plus {WINDOW_MONTHS} months); denominator: those participants, "
        "all of them counted in both periods."
    )
    if table is None:
        st.info(
            "No site has sent justice records yet, so arrests before and after referral cannot be "
            "counted. Add a `justice` export to a site's inbox and run `outcomes nightly`.",
            icon=":material/info:",
        )
        return
    if table.is_empty():
        st.info(
            f"No participant at a site with justice records was referred {WINDOW_MONTHS} or more "
            f"months before {release.as_of:%Y-%m-%d}, so there is no one to compare yet.",
            icon=":material/info:",
        )
        return
    st.caption(METHOD)
    st.plotly_chart(
        before_after_chart(table),
        width="stretch",
        key="before-after-chart",
        config={"displaylogo": False},
    )
    st.dataframe(
        before_after.table_view(table),
        width="stretch",
        hide_index=True,
        column_config=table_config(),
        key="before-after-table",
    )
    st.caption(
        "Before and after: participants arrested in each period, and their share. Diff.: after minus "
        "before, in percentage points (pp), with its 95% CI. "
        "A negative difference means fewer participants were arrested after referral than before. "
        "Before only, after only, both and neither are McNemar's counts of the same people; the "
        "difference is (after only minus before only) divided by participants."
    )


release_page("Before and after referral", show_release)
