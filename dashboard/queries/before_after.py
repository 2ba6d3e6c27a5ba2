"""Before and after referral: who was arrested in the 6 months before and the 6 months after.

Program-wide counts: every query refuses a narrower scope. `with_intervals` adds the Newcombe
interval of each paired difference; `table_view` shapes the table the page shows.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from checks.vocab import REFERRAL_TYPES
from dashboard import stats
from dashboard.formatting import referral_label
from dashboard.queries.sql import load
from pipelines.core.periods import add_months, month_start
from pipelines.core.scope import Scope

WINDOW_MONTHS = 6
ALL = "all"
REFERRAL_TYPE_LABELS = {ALL: "All referral types", **{t: referral_label(t) for t in REFERRAL_TYPES}}
COUNT_COLUMNS = ("participants", "both", "before_only", "after_only", "neither")

COVERAGE_SQL = load("before_after_coverage")

PAIRS_SQL = load("before_after_pairs")


@dataclass(frozen=True)
class Coverage:
    """Who the comparison can count: sites with justice records, people with follow-up."""

    referred_by: date  # referred on or before this day: 6 months of follow-up by the as-of date
    sites: int
    sites_with_justice: tuple[str, ...]
    sites_without_justice: tuple[str, ...]
    followed: int  # participants of sites with justice records and 6 months of follow-up


def followed_since(as_of: date, months: int = WINDOW_MONTHS) -> date:
    """The last referral date with `months` of follow-up by the as-of date.

    As DuckDB adds months: 31 August plus 6 months is the last day of February, so when the
    as-of date ends its month, every later day of the earlier month qualifies too.
    """
    month = add_months(month_start(as_of), -months)
    last_day = monthrange(month.year, month.month)[1]
    if as_of.day == monthrange(as_of.year, as_of.month)[1]:
        return month.replace(day=last_day)
    return month.replace(day=min(as_of.day, last_day))


def coverage(
    con: duckdb.DuckDBPyConnection, scope: Scope, as_of: date, months: int = WINDOW_MONTHS
) -> Coverage:
    """Which sites send justice records, and how many of their participants have follow-up."""
    scope.require_program()
    sites = con.sql(COVERAGE_SQL, params={"as_of": as_of, "months": months}).fetchall()
    return Coverage(
        referred_by=followed_since(as_of, months),
        sites=len(sites),
        sites_with_justice=tuple(site for site, has, _ in sites if has),
        sites_without_justice=tuple(site for site, has, _ in sites if not has),
        followed=sites[0][2] if sites else 0,
    )


def arrest_pairs(
    con: duckdb.DuckDBPyConnection, scope: Scope, as_of: date, months: int = WINDOW_MONTHS
) -> pl.DataFrame:
    """McNemar's counts overall and per referral type, one row each ('all' first).

    Participants referred at least `months` months before the as-of date, at sites that send
    justice records (elsewhere no arrest could be counted), each counted once by whether they
    had at least one arrest in [referral - months, referral) and in [referral, referral +
    months). Follow-up is by calendar, exits included: justice records keep coming after an
    exit. Columns: referral_type, participants, both, before_only, after_only, neither.
    """
    scope.require_program()
    counts = con.sql(PAIRS_SQL, params={"as_of": as_of, "months": months}).pl()
    order = {name: index for index, name in enumerate((ALL, *REFERRAL_TYPES))}
    return (
        counts.with_columns(pl.col(COUNT_COLUMNS).cast(pl.Int64))
        # Grouping by () gives a row of zeros when no one has follow-up: no one to show.
        .filter(pl.col("participants") > 0)
        .sort(pl.col("referral_type").replace_strict(order, default=len(order), return_dtype=pl.Int64))
        .select("referral_type", *COUNT_COLUMNS)
    )


def with_intervals(pairs: pl.DataFrame, confidence: float = 0.95) -> pl.DataFrame:
    """Each row's shares before and after, and the difference (after minus before) with CI.

    Adds: arrested_before, arrested_after (counts), before, after (shares), difference, low,
    high (Newcombe 1998, method 10). A row of no participants gets nulls, never an error.
    """
    rows = []
    for row in pairs.iter_rows(named=True):
        n = row["participants"]
        before = row["both"] + row["before_only"]
        after = row["both"] + row["after_only"]
        if n > 0:
            difference, low, high = stats.newcombe_paired_difference(
                row["both"], row["before_only"], row["after_only"], row["neither"], confidence
            )
            shares = (before / n, after / n)
        else:
            difference = low = high = None
            shares = (None, None)
        rows.append(
            {
                "arrested_before": before,
                "arrested_after": after,
                "before": shares[0],
                "after": shares[1],
                "difference": difference,
                "low": low,
                "high": high,
            }
        )
    extra = pl.DataFrame(
        rows,
        schema={
            "arrested_before": pl.Int64,
            "arrested_after": pl.Int64,
            "before": pl.Float64,
            "after": pl.Float64,
            "difference": pl.Float64,
            "low": pl.Float64,
            "high": pl.Float64,
        },
    )
    return pl.concat([pairs, extra], how="horizontal")


def arrest_table(
    con: duckdb.DuckDBPyConnection, scope: Scope, as_of: date, months: int = WINDOW_MONTHS
) -> pl.DataFrame:
    """`arrest_pairs` with their intervals (`with_intervals`): what the page's chart and table show."""
    return with_intervals(arrest_pairs(con, scope, as_of, months))


def table_view(table: pl.DataFrame) -> pl.DataFrame:
    """The chart's numbers as the table shows them: shares and differences in percent."""
    return table.select(
        pl.col("referral_type").replace_strict(REFERRAL_TYPE_LABELS, default=pl.col("referral_type")),
        "participants",
        "arrested_before",
        pl.col("before") * 100,
        "arrested_after",
        pl.col("after") * 100,
        pl.col("difference") * 100,
        pl.col("low") * 100,
        pl.col("high") * 100,
        "before_only",
        "after_only",
        "both",
        "neither",
    )
