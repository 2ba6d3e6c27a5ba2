"""The Equity page's section on who is diverted: LEAD participants against the eligible pool (LEAD
participants plus the comparison group), by race, gender and age, and the referral rate ratio by
race. `prepare_diversion(path, scope)` works out its numbers (the viewer's scope reaches the SQL,
and a site picked here narrows it, never widens it); the page audits them, then
`show_diversion(pool)` lays them out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import streamlit as st

from dashboard import cache
from dashboard.charts.diversion import mix_chart, referral_chart
from dashboard.formatting import md_text
from dashboard.page import show_chart
from dashboard.queries import diversion
from dashboard.queries.diversion import MIX_DIMENSIONS, MIX_LABELS, Coverage
from dashboard.queries.equity import INTERVAL_NAMES, WHITE
from dashboard.small_numbers import SMALL_FLAG, SMALL_NOTE
from dashboard.stats import LOG, SCORE, SCORE_BELOW
from pipelines.core.metrics import SMALL_COUNT
from pipelines.core.scope import Scope

MIX_NOUNS = {"race": "race", "gender": "gender", "age_band": "age band"}
SITE_KEY, YEAR_KEY, BY_KEY = "diversion-site", "diversion-year", "diversion-by"
ALL_SITES = "All sites with a comparison group"
ALL_YEARS = "All index years"
NO_COMPARISON = (
    "No site here sends a comparison group, so there is no eligible pool to compare referrals with: "
    "a site that exports the optional `comparison` table (people eligible for LEAD who were not "
    "referred, one row each; its columns are on the Data contract page) gets this section."
)
METHOD = f"""
**The eligible pool.** LEAD participants plus the comparison group: the people a site lists as
eligible for LEAD who were not referred (its `comparison` export). Only the sites that send one
count, and only the index years it covers: a participant counts in the year of their referral, a
comparison-group person in the year of the eligible contact or arrest. Participants referred in
a year their site's comparison export does not cover are left out (the caption says how many).

**Who is in each group.** Race as the rest of this page counts it: the single race given,
more than one race for several, unknown when none is known. Age is the index year less the birth year,
in the age bands of the metrics. Each share: the people of a category in a group (numerator) over
everyone in that group (denominator).

**Referral rate.** A race group's LEAD participants (numerator) over its eligible pool
(denominator), with the range of rates the numbers are consistent with (a 95% interval).

**Referral rate ratio.** A group's referral rate divided by the reference group's: above 1, the
group was referred more often than the reference; below 1, less often; 1, as often. The reference
is White people when at least {SMALL_COUNT} White people are in the pool and some were referred;
otherwise all other groups pooled (more than one race and unknown included). An interval that
includes 1 cannot tell the group's rate from the reference's. When fewer than {SCORE_BELOW} people
were referred on either side the interval is one made for small counts (the table's Interval
column says which).

**Small numbers.** {SMALL_NOTE} Here a share or rate on fewer than {SMALL_COUNT} people is flagged
in the table and drawn hollow (or hatched); so is a ratio that rests on one.

**What this cannot say.** The pool is only as complete as the comparison export: people a site
never lists as eligible are in neither group. A difference in referral rates says who is
diverted, not why.

**For analysts:** referral rates with Wilson's score interval; rate ratios with Koopman's score
interval under {SCORE_BELOW} referred on either side, else the log (Katz) interval, both from
statsmodels.
"""


def mix_config(dimension: str) -> dict[str, object]:
    """Column labels and formats of the mix table."""
    count = {"format": "localized"}
    return {
        "arm": st.column_config.TextColumn("Group", pinned=True),
        "category": st.column_config.TextColumn(MIX_LABELS[dimension]),
        "people": st.column_config.NumberColumn(
            "People", help="Numerator: the group's people in this row", **count
        ),
        "total": st.column_config.NumberColumn(
            "Group total", help="Denominator: everyone in the group", **count
        ),
        "share": st.column_config.NumberColumn("Share", format="%.1f%%"),
        "flag": st.column_config.TextColumn("Small numbers", help=f"{SMALL_FLAG} in the group"),
    }


def referral_config() -> dict[str, object]:
    """Column labels and formats of the referral table."""
    count = {"format": "localized"}
    return {
        "race": st.column_config.TextColumn("Race", pinned=True),
        "numerator": st.column_config.NumberColumn(
            "Referred", help="Numerator: LEAD participants of the group", **count
        ),
        "denominator": st.column_config.NumberColumn(
            "Eligible pool", help="Denominator: LEAD participants plus comparison group", **count
        ),
        "rate": st.column_config.NumberColumn("Referral rate", format="%.1f%%"),
        "rate_interval": st.column_config.TextColumn(
            "Rate 95% CI", help="The range of rates the numbers are consistent with"
        ),
        "ratio": st.column_config.TextColumn(
            "Rate ratio (95% CI)", help="The group's referral rate divided by the reference's"
        ),
        "method": st.column_config.TextColumn(
            "Interval",
            help=f"{INTERVAL_NAMES[SCORE]}: fewer than {SCORE_BELOW} referred on either side; "
            f"{INTERVAL_NAMES[LOG].lower()} otherwise",
        ),
        "reference_numerator": st.column_config.NumberColumn("Ref. referred", **count),
        "reference_denominator": st.column_config.NumberColumn("Ref. eligible pool", **count),
        "flag": st.column_config.TextColumn("Small numbers"),
        "note": st.column_config.TextColumn("Note"),
    }


def coverage_caption(covered: Coverage) -> str:
    """Which sites and years make the pool, and who is left out, in words."""
    years = f"{covered.years[0]}" if len(covered.years) == 1 else f"{covered.years[0]} to {covered.years[-1]}"
    text = f"Sites with a comparison group: {', '.join(covered.sites)}; index years {years}."
    if covered.sites_without:
        text += f" Left out, no comparison group: {', '.join(covered.sites_without)}."
    if covered.participants_outside:
        text += (
            f" {covered.participants_outside:,} participants at these sites were referred in years "
            "their comparison export does not cover, and are left out."
        )
    return md_text(text)


@dataclass(frozen=True)
class Diversion:
    """The section's numbers for this run, worked out before the page shows anything (so that the
    page's one audit entry can name them), from what its widgets hold (their defaults at first)."""

    sites: tuple[str, ...]  # the sites in scope with a comparison group: the site widget's options
    covered: Coverage  # of the chosen site, or of every site in scope
    site: str | None
    year: int | None
    dimension: str
    mix: pl.DataFrame
    table: pl.DataFrame
    reference: str

    @property
    def filters(self) -> dict[str, object]:
        """What the section shows, for the audit entry."""
        return {"diversion_site": self.site, "diversion_year": self.year, "diversion_by": self.dimension}

    @property
    def rows(self) -> int:
        """How many rows of numbers the section shows."""
        return self.mix.height + self.table.height


def requested(key: str, options: Sequence[object], default: object) -> object:
    """A widget's value this run, as it holds it; back to `default` when no longer an option (a
    year the newly chosen site does not cover), set before the widget is drawn."""
    value = st.session_state.get(key, default)
    if value not in options:
        value = st.session_state[key] = default
    return value


def prepare_diversion(path: Path, scope: Scope) -> Diversion:
    """The pool in scope, narrowed to the site the user picks (in SQL), of the year they pick."""
    counts = cache.fetch(path, diversion.pool_counts, scope)
    sites = diversion.coverage(counts).sites
    site = requested(SITE_KEY, [ALL_SITES, *sites], ALL_SITES)
    if site != ALL_SITES:
        counts = cache.fetch(path, diversion.pool_counts, scope.narrow(site_id=str(site)))
    covered = diversion.coverage(counts)
    year = requested(YEAR_KEY, [ALL_YEARS, *covered.years], ALL_YEARS)
    dimension = str(requested(BY_KEY, MIX_DIMENSIONS, MIX_DIMENSIONS[0]))
    people = diversion.pool(counts, None if year == ALL_YEARS else int(year))
    table, reference = diversion.referral_table(people)
    return Diversion(
        sites=sites,
        covered=covered,
        site=None if site == ALL_SITES else str(site),
        year=None if year == ALL_YEARS else int(year),
        dimension=dimension,
        mix=diversion.mix_table(people, dimension),
        table=table,
        reference=reference,
    )


def controls(pool: Diversion) -> None:
    """The site, index year and breakdown widgets (their values were read by `prepare_diversion`)."""
    site_column, year_column, dimension_column = st.columns([2, 1, 2])
    site_column.selectbox("Site", [ALL_SITES, *pool.sites], key=SITE_KEY)
    year_column.selectbox(
        "Index year",
        [ALL_YEARS, *reversed(pool.covered.years)],
        key=YEAR_KEY,
        format_func=str,
        help="A participant's referral year; a comparison-group person's year of the eligible contact",
    )
    dimension_column.radio(
        "Mix by", MIX_DIMENSIONS, format_func=MIX_LABELS.__getitem__, horizontal=True, key=BY_KEY
    )


def show_diversion(pool: Diversion) -> None:
    """The section: what it found, the mix of each group, and referral rates and ratios by race."""
    st.divider()
    st.subheader("Who is diverted: LEAD participants and the eligible pool")
    if not pool.sites:
        st.info(NO_COMPARISON, icon=":material/info:")
        return
    found = diversion.finding(pool.table, pool.reference)
    if found:
        st.markdown(md_text(found))
    st.caption(coverage_caption(pool.covered))
    controls(pool)
    with st.expander("How the eligible pool is compared"):
        st.markdown(METHOD)
    mix, table, reference, dimension = pool.mix, pool.table, pool.reference, pool.dimension
    st.markdown(f"**{MIX_LABELS[dimension]} of each group**")
    chart, numbers = st.columns([1, 1])
    show_chart(mix_chart(mix, dimension), key="diversion-mix-chart", where=chart)
    numbers.dataframe(
        diversion.mix_view(mix, dimension),
        width="stretch",
        hide_index=True,
        column_config=mix_config(dimension),
        placeholder="",
        key="diversion-mix-table",
    )
    st.caption(
        f"Numerator: the people of each {MIX_NOUNS[dimension]} in a group; denominator: everyone "
        "in that group (LEAD participants, comparison group or eligible pool). A group of fewer than "
        f"{SMALL_COUNT} people is hatched and flagged."
    )
    st.markdown("**Referral rate by race**")
    # Two panels side by side need the page's width: the table goes under the chart.
    show_chart(referral_chart(table, reference), key="diversion-rate-chart")
    st.dataframe(
        diversion.referral_view(table),
        width="stretch",
        hide_index=True,
        column_config=referral_config(),
        placeholder="",
        key="diversion-rate-table",
    )
    against = "White people"
    if reference != WHITE:
        against = (
            f"all other groups pooled, as fewer than {SMALL_COUNT} White people (or none referred) "
            "are in the pool"
        )
    st.caption(
        "Numerator: LEAD participants of the group; denominator: the group's eligible pool (LEAD "
        f"participants plus comparison group). Each rate ratio is against {against}; above 1, the "
        "group was referred more often. An interval that crosses 1 is consistent with no difference."
    )
