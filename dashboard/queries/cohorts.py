"""Cohorts: each metric by months since referral per referral cohort, and time to permanent housing.

`filter_options` and `cohort_curves` read program-wide aggregates and refuse a narrower scope;
`housing_durations` returns one row per participant, so it filters on its scope in SQL.
The rest shapes those frames into the page's tables and words, by dashboard/small_numbers.py's
rule: a rate on few people is flagged, a survival number on too few at risk is not shown.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import polars as pl

from checks.labels import label
from checks.vocab import REFERRAL_TYPES
from dashboard.formatting import MISSING
from dashboard.queries.release import release_info
from dashboard.queries.sql import load
from dashboard.small_numbers import TOO_FEW_AT_RISK, small_flag, too_few_at_risk
from dashboard.survival import DAYS_PER_MONTH, HousingCurves, kaplan_meier
from pipelines.core.metrics import METRICS
from pipelines.core.periods import latest_complete_month
from pipelines.core.scope import Scope

LAST_MONTH = 24
DEFAULT_COHORTS = 8
# The group of housing_overall's fit, and the milestone the page's opening sentence reads.
EVERYONE = "everyone"
FINDING_MONTHS = 12
FINDING_MILESTONES = (6, FINDING_MONTHS)
CURVES_SCHEMA = {
    "cohort": pl.String,
    "months_since_referral": pl.Int64,
    "numerator": pl.Int64,
    "denominator": pl.Int64,
    "value": pl.Float64,
}
DURATIONS_SCHEMA = {
    "site_id": pl.String,
    "participant_id": pl.String,
    "referral_type": pl.String,
    "referral_date": pl.Date,
    "status_at_referral": pl.String,
    "housed_at_referral": pl.Boolean,
    "housed_on": pl.Date,
    "followed_until": pl.Date,
    "days": pl.Int64,
    "housed": pl.Boolean,
}

OPTIONS_SQL = load("cohort_options")

# The metric's flags are bound by name (from METRICS only) and read with struct_extract.
CURVES_SQL = load("cohort_curves")

DURATIONS_SQL = load("housing_durations")


def filter_options(con: duckdb.DuckDBPyConnection, scope: Scope) -> tuple[list[str], list[str]]:
    """The referral types (contract order) and sites the release's participants have."""
    scope.require_program()
    rows = con.sql(OPTIONS_SQL).fetchall()
    types = {t for t, _ in rows if t is not None}
    ordered = [t for t in REFERRAL_TYPES if t in types] + sorted(types - set(REFERRAL_TYPES))
    return ordered, sorted({s for _, s in rows if s is not None})


def cohort_curves(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    metric: str,
    referral_types: Sequence[str] = (),
    sites: Sequence[str] = (),
    last_month: int = LAST_MONTH,
) -> pl.DataFrame:
    """A metric by referral cohort and months since referral (0 to `last_month`).

    Columns cohort, months_since_referral, numerator, denominator, value; only cells with a
    denominator above zero, and only calendar months up to the release's last complete month
    (a partial as-of month is not read as a whole one). Empty filters mean every referral type
    or site.
    """
    scope.require_program()
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}")
    definition = METRICS[metric]
    release = release_info(con)
    if release is None:
        return pl.DataFrame(schema=CURVES_SCHEMA)
    return con.sql(
        CURVES_SQL,
        params={
            "numerator_flag": definition.numerator_flag,
            "denominator_flag": definition.denominator_flag,
            "is_count": definition.is_count,
            "last_month": last_month,
            "last_complete_month": latest_complete_month(release.as_of),
            "referral_types": list(referral_types),
            "sites": list(sites),
        },
    ).pl()


def housing_durations(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    referral_types: Sequence[str] = (),
    sites: Sequence[str] = (),
) -> pl.DataFrame:
    """One row per participant in scope: days from referral to a move into permanent housing, or to censoring.

    The rule is pipelines/nightly/sql/time_to_housing.sql's. `housed_at_referral` marks those
    already in permanent housing at referral (their `days` and `housed` are null: not in the
    curve); `housed` is the event flag; `housed_on` is the first permanent assessment after
    referral (even after exit); `followed_until` is exit or the as-of date. Empty filters mean
    every referral type or site.
    """
    return con.sql(
        DURATIONS_SQL, params={"types": list(referral_types), "sites": list(sites), **scope.params()}
    ).pl()


def housing_curves(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    referral_types: Sequence[str] = (),
    sites: Sequence[str] = (),
) -> HousingCurves:
    """The Kaplan-Meier fit, by referral type, of the participants in scope and under the filters."""
    return kaplan_meier(housing_durations(con, scope, referral_types, sites))


def housing_overall(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    referral_types: Sequence[str] = (),
    sites: Sequence[str] = (),
) -> HousingCurves:
    """One Kaplan-Meier fit of everyone in scope and under the filters (the group EVERYONE)."""
    durations = housing_durations(con, scope, referral_types, sites)
    return kaplan_meier(durations.with_columns(referral_type=pl.lit(EVERYONE)))


def recent_cohorts(curves: pl.DataFrame, count: int = DEFAULT_COHORTS) -> list[str]:
    """The `count` most recent cohorts with data ('YYYY-Qn' sorts by time), oldest first."""
    cohorts = sorted(curves["cohort"].unique().to_list())
    return cohorts[-count:] if count > 0 else []


def median_text(days: float | None, at_risk: int | None) -> str:
    """A median time in days; "not reached" when the curve does not cross 50%; "too few at risk"
    when it crosses where fewer than MIN_AT_RISK are still followed."""
    if days is None:
        return "not reached"
    if too_few_at_risk(at_risk):
        return TOO_FEW_AT_RISK
    return f"{days:,.0f} days ({days / DAYS_PER_MONTH:.1f} months)"


def interval_end(days: float | None, at_risk: int | None) -> str:
    """One end of a median's interval: days, "not reached", or "too few at risk"."""
    if days is None:
        return "not reached"
    return TOO_FEW_AT_RISK if too_few_at_risk(at_risk) else f"{days:,.0f} days"


def interval_text(
    lower: float | None, upper: float | None, lower_at_risk: int | None, upper_at_risk: int | None
) -> str:
    """A median's 95% confidence interval; an end the band never reaches is "not reached", an end
    read where too few are at risk is "too few at risk"."""
    low, high = interval_end(lower, lower_at_risk), interval_end(upper, upper_at_risk)
    if low == high:
        return low
    if low.endswith(" days") and high.endswith(" days"):
        return f"{lower:,.0f} to {upper:,.0f} days"
    return f"{low} to {high}"


def cohort_table(curves: pl.DataFrame, metric: str, cohorts: Sequence[str]) -> pl.DataFrame:
    """The chart's numbers: cohort, months since referral, numerator, denominator, value in percent,
    and a flag where the denominator is small (the chart's hollow points).

    A count (active participants) is its own numerator and denominator: one column, value, says it.
    """
    shown = curves.filter(pl.col("cohort").is_in(list(cohorts))).sort("cohort", "months_since_referral")
    if METRICS[metric].is_count:
        return shown.select("cohort", "months_since_referral", "value")
    return shown.with_columns(pl.col("value") * 100, small_flag())


def housing_summary_table(summary: pl.DataFrame) -> pl.DataFrame:
    """The fit per referral type as the page shows it: counts, and the median with its 95% CI as text
    ("too few at risk" where fewer than MIN_AT_RISK are still followed)."""
    rows = list(summary.iter_rows(named=True))
    return pl.DataFrame(
        {
            "referral_type": [label("referral_type", r["referral_type"]) for r in rows],
            "housed_at_referral": [r["housed_at_referral"] for r in rows],
            "participants": [r["participants"] for r in rows],
            "events": [r["events"] for r in rows],
            "censored": [r["censored"] for r in rows],
            "median": [
                median_text(r["median_days"], r["median_at_risk"]) if r["participants"] else MISSING
                for r in rows
            ],
            "median_interval": [
                interval_text(r["median_lower"], r["median_upper"], r["lower_at_risk"], r["upper_at_risk"])
                if r["participants"]
                else MISSING
                for r in rows
            ],
        },
        schema={
            "referral_type": pl.String,
            "housed_at_referral": pl.Int64,
            "participants": pl.Int64,
            "events": pl.Int64,
            "censored": pl.Int64,
            "median": pl.String,
            "median_interval": pl.String,
        },
    )


def share_text(share: float | None, at_risk: int | None) -> str:
    """A share housed read off the curve, or "too few at risk"."""
    if too_few_at_risk(at_risk) or share is None:
        return TOO_FEW_AT_RISK
    return f"{share * 100:.1f}%"


def band_text(lower: float | None, upper: float | None, at_risk: int | None) -> str:
    """A share's 95% confidence interval, or a dash where the share is not shown or has no band."""
    if too_few_at_risk(at_risk) or lower is None or upper is None:
        return MISSING
    return f"{lower * 100:.1f}% to {upper * 100:.1f}%"


def milestone_table(milestones: pl.DataFrame) -> pl.DataFrame:
    """The curve at set months as the page shows it: the share housed and its 95% CI as text, the
    number at risk; "too few at risk" where fewer than MIN_AT_RISK are still followed."""
    rows = list(milestones.iter_rows(named=True))
    return pl.DataFrame(
        {
            "referral_type": [label("referral_type", r["referral_type"]) for r in rows],
            "months": [r["months"] for r in rows],
            "share_housed": [share_text(r["share_housed"], r["at_risk"]) for r in rows],
            "interval": [band_text(r["lower"], r["upper"], r["at_risk"]) for r in rows],
            "at_risk": [r["at_risk"] for r in rows],
        },
        schema={
            "referral_type": pl.String,
            "months": pl.Int64,
            "share_housed": pl.String,
            "interval": pl.String,
            "at_risk": pl.Int64,
        },
    )


def _housed_by(overall: HousingCurves, months: int) -> dict | None:
    """The overall curve at `months` since referral, or None when too few are followed that long."""
    at = overall.milestones.filter(pl.col("months") == months)
    if at.is_empty() or too_few_at_risk(at["at_risk"][0]) or at["share_housed"][0] is None:
        return None
    return at.row(0, named=True)


def housing_finding(overall: HousingCurves, months: Sequence[int] = FINDING_MILESTONES) -> str | None:
    """The page's opening sentences, from the fit of everyone: the share housed within each of
    `months` of referral among those not housed at referral (where enough are still followed), and
    how many were housed already; None if nobody."""
    if overall.summary.is_empty():
        return None
    summary = overall.summary.row(0, named=True)
    already, followed = summary["housed_at_referral"], summary["participants"]
    apart = f"Already in permanent housing at referral: {already:,} (counted apart, not in the curve)."
    if not followed:
        return f"Every participant here was already in permanent housing at referral. {apart}"
    read = [(m, row) for m in months if (row := _housed_by(overall, m)) is not None]
    if not read:
        return (
            f"Of the {followed:,} participants not in permanent housing at referral, too few have been "
            f"followed {months[0]} months to say what share moved into permanent housing by then "
            f"({TOO_FEW_AT_RISK}). {apart}"
        )
    parts = []
    for index, (m, row) in enumerate(read):
        interval = (
            f" (95% CI {row['lower']:.0%} to {row['upper']:.0%})"
            if row["lower"] is not None and row["upper"] is not None
            else ""
        )
        if index == 0:
            parts.append(
                f"{row['share_housed']:.0%} had moved into permanent housing within {m} months of "
                f"referral{interval}"
            )
        else:
            parts.append(f"{row['share_housed']:.0%} within {m} months{interval}")
    unread = [m for m in months if m not in dict(read)]
    later = f" Too few have been followed {unread[0]} months to say more." if unread else ""
    return (
        f"Of the {followed:,} participants not in permanent housing at referral, an estimated "
        f"{', and '.join(parts)}.{later} {apart}"
    )


def fastest_finding(fit: HousingCurves, months: Sequence[int] = FINDING_MILESTONES[::-1]) -> str | None:
    """Which referral type was housed fastest: the highest share housed within the first of
    `months` (12, else 6) at which two or more referral types have enough people still followed,
    against the lowest; said to differ only when their 95% intervals do not overlap. None when
    fewer than two referral types can be read at any of them."""
    for m in months:
        rows = [
            r
            for r in fit.milestones.filter(pl.col("months") == m).iter_rows(named=True)
            if r["share_housed"] is not None and not too_few_at_risk(r["at_risk"])
        ]
        if len(rows) >= 2:
            break
    else:
        return None
    rows.sort(key=lambda r: (-r["share_housed"], r["referral_type"]))
    fast, slow = rows[0], rows[-1]
    clear = fast["lower"] is not None and slow["upper"] is not None and fast["lower"] > slow["upper"]
    text = (
        f"{label('referral_type', fast['referral_type'])} referrals were housed fastest: "
        f"{fast['share_housed']:.0%} within {m} months, against {slow['share_housed']:.0%} of "
        f"{label('referral_type', slow['referral_type']).lower()} referrals"
    )
    return text + ("." if clear else ", a difference within the uncertainty.")
