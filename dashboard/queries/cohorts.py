"""Cohorts: each metric by months since referral per referral cohort, and time to permanent housing.

`filter_options` and `cohort_curves` read program-wide aggregates and refuse a narrower scope;
`housing_durations` returns one row per participant, so it filters on its scope in SQL.
The rest shapes those frames into the page's tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import polars as pl

from checks.vocab import REFERRAL_TYPES
from dashboard.formatting import referral_label
from dashboard.queries.release import release_info
from dashboard.queries.sql import load
from dashboard.small_numbers import small_flag
from dashboard.survival import DAYS_PER_MONTH, HousingCurves, kaplan_meier
from pipelines.core.metrics import METRICS
from pipelines.core.periods import latest_complete_month
from pipelines.core.scope import Scope

LAST_MONTH = 24
DEFAULT_COHORTS = 8
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
    """One row per participant in scope: days from referral to first permanent housing, or to censoring.

    The rule is pipelines/nightly/sql/time_to_housing.sql's. `housed` is the event flag;
    `housed_on` is the first permanent assessment (even after exit); `followed_until` is exit
    or the as-of date. Empty filters mean every referral type or site.
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


def recent_cohorts(curves: pl.DataFrame, count: int = DEFAULT_COHORTS) -> list[str]:
    """The `count` most recent cohorts with data ('YYYY-Qn' sorts by time), oldest first."""
    cohorts = sorted(curves["cohort"].unique().to_list())
    return cohorts[-count:] if count > 0 else []


def median_text(days: float | None) -> str:
    """A median time in days, or "not reached" when the curve does not cross 50%."""
    return "not reached" if days is None else f"{days:,.0f} days ({days / DAYS_PER_MONTH:.1f} months)"


def interval_text(lower: float | None, upper: float | None) -> str:
    """A median's 95% confidence interval; an end the band never reaches is "not reached"."""
    if lower is None and upper is None:
        return "not reached"
    if upper is None:
        return f"{lower:,.0f} days to not reached"
    if lower is None:  # the lower band always crosses first; kept for completeness
        return f"not reached to {upper:,.0f} days"
    return f"{lower:,.0f} to {upper:,.0f} days"


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
    """The fit per referral type as the page shows it: counts, and the median with its 95% CI as text."""
    return pl.DataFrame(
        {
            "referral_type": [referral_label(t) for t in summary["referral_type"]],
            "participants": summary["participants"],
            "events": summary["events"],
            "censored": summary["censored"],
            "median": [median_text(d) for d in summary["median_days"]],
            "median_interval": [
                interval_text(lo, hi)
                for lo, hi in zip(summary["median_lower"], summary["median_upper"], strict=True)
            ],
        },
        schema={
            "referral_type": pl.String,
            "participants": pl.Int64,
            "events": pl.Int64,
            "censored": pl.Int64,
            "median": pl.String,
            "median_interval": pl.String,
        },
    )


def milestone_table(milestones: pl.DataFrame) -> pl.DataFrame:
    """The curve at set months as the page shows it: shares in percent, the number at risk.

    A month nobody of a referral type was followed to (the share is unknown) is left out.
    """
    return milestones.filter(pl.col("share_housed").is_not_null()).select(
        pl.col("referral_type").replace_strict(
            {t: referral_label(t) for t in milestones["referral_type"].unique()}, return_dtype=pl.String
        ),
        "months",
        *(pl.col(c) * 100 for c in ("share_housed", "lower", "upper")),
        "at_risk",
    )
