"""Trends: any metric over months, split by one dimension, filtered by site, referral type and cohort.

The metric_values table holds one dimension at a time; a split under filters combines two or
more, so the numbers are counted here from metric_flags, the participant-months that
metric_values itself counts (pipelines/nightly/sql/metric_flags.sql). Program-wide only: every
query refuses a narrower scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from dashboard.queries.sql import load
from pipelines.core.export import csv_bytes
from pipelines.core.metrics import DIMENSION_LABELS, DIMENSIONS, METRICS, SMALL_COUNT
from pipelines.core.periods import add_months
from pipelines.core.scope import Scope

# The splits the page offers, in metric_values' order: every dimension a program-wide page
# names (DIMENSION_LABELS leaves out case managers). 'all' is no split.
SPLITS = tuple(name for name in DIMENSIONS if name in DIMENSION_LABELS)
DEFAULT_MONTHS = 24
# Leadership sees a rate on fewer than SMALL_COUNT people, flagged.
SMALL_FLAG = f"n < {SMALL_COUNT}"
TABLE_COLUMNS = ["month", "group", "numerator", "denominator", "value", "flag"]

# Everything the user picks is bound: the split's column and the metric's flags by name (from
# DIMENSIONS and METRICS only), the filters as lists (an empty list means every value).
TREND_SQL = load("trend_values")

OPTIONS_SQL = load("trend_options")


@dataclass(frozen=True)
class TrendOptions:
    """What a release holds to filter on: its sites, referral types, cohorts and months."""

    sites: tuple[str, ...]
    referral_types: tuple[str, ...]
    cohorts: tuple[str, ...]
    months: tuple[date, ...]


def trend_options(con: duckdb.DuckDBPyConnection, scope: Scope) -> TrendOptions:
    """The values the page's filters and month range offer, read from the release."""
    scope.require_program()
    sites, referral_types, cohorts, months = con.sql(OPTIONS_SQL).fetchall()[0]
    return TrendOptions(
        sites=tuple(sites or ()),
        referral_types=tuple(referral_types or ()),
        cohorts=tuple(cohorts or ()),
        months=tuple(months or ()),
    )


def default_range(months: Sequence[date], latest_complete: date) -> tuple[date, date] | None:
    """The last 24 complete months the release holds (or fewer), as (first, last) of `months`.

    When the release has no complete month yet, its last month stands in for the end.
    """
    if not months:
        return None
    complete = [month for month in months if month <= latest_complete]
    end = complete[-1] if complete else months[-1]
    first_wanted = add_months(end, -(DEFAULT_MONTHS - 1))
    start = next(month for month in months if month >= first_wanted)
    return start, end


def trend_values(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    metric: str,
    split: str = "all",
    *,
    sites: Sequence[str] = (),
    referral_types: Sequence[str] = (),
    cohorts: Sequence[str] = (),
    start: date | None = None,
    end: date | None = None,
) -> pl.DataFrame:
    """A metric by month and group: month, group, numerator, denominator, value.

    `split` is one of SPLITS ('all' gives the one group 'all'). An empty filter keeps
    every value; `start` and `end` bound the months, both included. A group whose
    denominator is 0 in a month has no row for that month. For active_participants the
    value is the count; for a rate it is numerator / denominator.
    """
    scope.require_program()
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: one of {', '.join(SPLITS)}")
    definition = METRICS[metric]
    return con.sql(
        TREND_SQL,
        params={
            "split_column": DIMENSIONS[split],
            "numerator_flag": definition.numerator_flag,
            "denominator_flag": definition.denominator_flag,
            "is_count": definition.is_count,
            "sites": list(sites),
            "referral_types": list(referral_types),
            "cohorts": list(cohorts),
            "start": start,
            "end": end,
        },
    ).pl()


def trend_table(values: pl.DataFrame, metric: str) -> pl.DataFrame:
    """The numbers as the page's table and CSV show them: newest month first, rates in percent.

    Columns: month, group, numerator, denominator, value (a percent for a rate, the count
    for active_participants) and flag ("n < 11" where the denominator is under SMALL_COUNT,
    else empty).
    """
    scale = 1 if METRICS[metric].is_count else 100
    return values.sort(["month", "group"], descending=[True, False]).select(
        "month",
        "group",
        "numerator",
        "denominator",
        (pl.col("value") * scale).alias("value"),
        pl.when(pl.col("denominator") < SMALL_COUNT)
        .then(pl.lit(SMALL_FLAG))
        .otherwise(pl.lit(""))
        .alias("flag"),
    )


def table_csv(values: pl.DataFrame, metric: str) -> bytes:
    """The page's table as a CSV download, safe to open in a spreadsheet."""
    return csv_bytes(trend_table(values, metric))
