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

from checks.labels import label
from dashboard.findings import share_change
from dashboard.formatting import month_label
from dashboard.queries.sql import load
from dashboard.small_numbers import is_small, small_flag
from pipelines.core.export import csv_bytes
from pipelines.core.metrics import DIMENSION_LABELS, DIMENSIONS, METRICS, SMALL_COUNT, Kind
from pipelines.core.periods import add_months
from pipelines.core.scope import Scope

# The splits the page offers, in metric_values' order: every dimension a program-wide page
# names (DIMENSION_LABELS leaves out case managers). 'all' is no split.
SPLITS = tuple(name for name in DIMENSIONS if name in DIMENSION_LABELS)
DEFAULT_MONTHS = 24
TABLE_COLUMNS = ["month", "group", "numerator", "denominator", "value", "flag"]
# The splits whose groups are codes of a vocabulary of the label registry (the others, sites and
# cohorts, are named as the release holds them: a site's ID, a quarter like 2024-Q1).
SPLIT_VOCABULARIES = {
    "referral_type": "referral_type",
    "race": "race",
    "gender": "gender",
    "age_band": "age_band",
}
# The CSV's headers: the table's, as people read them, with each group's code beside its label.
CSV_HEADERS = {
    "month": "Month",
    "group": "Group",
    "group_code": "Group code",
    "numerator": "Numerator",
    "denominator": "Denominator",
    "flag": "Small numbers",
}
VALUE_HEADERS = {Kind.COUNT: "Participants", Kind.SHARE: "Percent", Kind.DAYS: "Days per participant"}

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


def complete_months(months: Sequence[date], latest_complete: date) -> tuple[date, ...]:
    """The months a trend may show: those up to the latest complete month (a partial month is
    never drawn as a whole one)."""
    return tuple(month for month in months if month <= latest_complete)


def default_range(months: Sequence[date], latest_complete: date) -> tuple[date, date] | None:
    """The last 24 complete months the release holds (or fewer), as (first, last) of `months`;
    None when the release has no complete month yet."""
    complete = complete_months(months, latest_complete)
    if not complete:
        return None
    end = complete[-1]
    first_wanted = add_months(end, -(DEFAULT_MONTHS - 1))
    start = next(month for month in complete if month >= first_wanted)
    return start, end


def group_label(split: str, group: str) -> str:
    """A group as the page names it: a label, never a code (`arrest_diversion` is `Arrest diversion`)."""
    if split == "all":
        return label("dimension", "all")
    if split in SPLIT_VOCABULARIES:
        return label(SPLIT_VOCABULARIES[split], group)
    return group


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


def trend_table(values: pl.DataFrame, metric: str, split: str = "all") -> pl.DataFrame:
    """The numbers as the page's table and CSV show them: newest month first, rates in percent.

    Columns: month, group (its label), numerator, denominator, value (a percent for a rate, the
    count for active_participants, days per participant for jail_days) and flag
    (small_numbers.SMALL_FLAG where a rate's denominator is under SMALL_COUNT, else empty; a count
    is never flagged).
    """
    is_count = METRICS[metric].is_count
    scale = 100 if METRICS[metric].kind is Kind.SHARE else 1
    return values.sort(["month", "group"], descending=[True, False]).select(
        "month",
        pl.col("group").map_elements(lambda group: group_label(split, group), return_dtype=pl.String),
        "numerator",
        "denominator",
        (pl.col("value") * scale).alias("value"),
        small_flag(is_count=is_count),
    )


def table_csv(values: pl.DataFrame, metric: str, split: str = "all") -> bytes:
    """The page's table as a CSV download, safe to open in a spreadsheet: the table's columns under
    the headers people read, and beside each group's label its code, for analysts to join on."""
    codes = values.sort(["month", "group"], descending=[True, False]).select(
        pl.col("group").alias("group_code")
    )
    table = trend_table(values, metric, split).insert_column(2, codes["group_code"])
    headers = CSV_HEADERS | {"value": VALUE_HEADERS[METRICS[metric].kind]}
    return csv_bytes(table.rename(headers))


def csv_name(metric: str, split: str, start: date, end: date) -> str:
    """The CSV's file name: what it holds, in words a file name can carry."""
    return f"trends-{metric}-{split}-{start:%Y-%m}-{end:%Y-%m}.csv".replace("_", "-")


def _amount(metric: str, numerator: int, denominator: int) -> str:
    if METRICS[metric].is_count:
        return f"{numerator:,}"
    if METRICS[metric].kind is Kind.DAYS:
        per_person = numerator / denominator
        return f"{per_person:.1f} days per participant ({numerator:,} days, {denominator:,} people)"
    return f"{numerator / denominator:.0%} ({numerator:,} of {denominator:,})"


def finding(values: pl.DataFrame, metric: str, split: str = "all") -> str | None:
    """What the chart shows, in a sentence: for one line, its last month against its first (a
    rate's change said as a rise or fall only beyond its 95% interval); for a split, the range
    across the groups in the last month, leaving out rates on fewer than SMALL_COUNT people.
    None when there is nothing to say."""
    if values.is_empty():
        return None
    definition = METRICS[metric]
    last = values["month"].max()
    if split == "all":
        first = values["month"].min()
        now = values.filter(pl.col("month") == last).row(0, named=True)
        then = values.filter(pl.col("month") == first).row(0, named=True)
        amount = _amount(metric, now["numerator"], now["denominator"])
        text = f"{definition.label}: {amount} in {month_label(last)}"
        if first == last:
            return text + "."
        if definition.is_count:
            return text + f", against {then['numerator']:,} in {month_label(first)}."
        if definition.kind is Kind.DAYS:
            # Days per person have no interval here: say both, not a rise or a fall.
            then_amount = _amount(metric, then["numerator"], then["denominator"])
            return text + f", against {then_amount} in {month_label(first)}."
        change = share_change(
            f"From {month_label(first)} to {month_label(last)} it",
            (now["numerator"], now["denominator"]),
            (then["numerator"], then["denominator"]),
        )
        return f"{text}. {change}."
    return _split_finding(values, metric, split)


def _group_change(metric: str, now: dict, then: dict, subject: str) -> str:
    """One group's change from its first month to its last, in words."""
    definition = METRICS[metric]
    if definition.kind is Kind.SHARE and not definition.is_count:
        return share_change(
            subject, (now["numerator"], now["denominator"]), (then["numerator"], then["denominator"])
        )
    return (
        f"{subject} went from {_amount(metric, then['numerator'], then['denominator'])} to "
        f"{_amount(metric, now['numerator'], now['denominator'])}"
    )


def _split_finding(values: pl.DataFrame, metric: str, split: str, largest: int = 2) -> str:
    """For a split: the change from the first month to the last in the `largest` groups (most
    people in the last month), leaving out groups on fewer than SMALL_COUNT people then."""
    definition = METRICS[metric]
    first, last = values["month"].min(), values["month"].max()
    latest = values.filter(pl.col("month") == last)
    readable = latest.filter(
        ~pl.col("denominator").map_elements(
            lambda d: is_small(d, is_count=definition.is_count), return_dtype=pl.Boolean
        )
    )
    left_out = latest.height - readable.height
    note = (
        f" {left_out} group{'s' if left_out > 1 else ''} on fewer than {SMALL_COUNT} people left out."
        if left_out
        else ""
    )
    if readable.is_empty():
        return f"In {month_label(last)}, no group has {SMALL_COUNT} or more people to read.{note}"
    dimension = DIMENSION_LABELS[split].lower()
    biggest = readable.sort(["denominator", "group"], descending=[True, False]).head(largest)
    parts = []
    for now in biggest.iter_rows(named=True):
        name = group_label(split, now["group"])
        start = values.filter((pl.col("group") == now["group"]) & (pl.col("month") < last))
        if first == last or start.is_empty():
            parts.append(f"{name}: {_amount(metric, now['numerator'], now['denominator'])}")
            continue
        then = start.sort("month").row(0, named=True)
        since = "" if then["month"] == first else f" (from {month_label(then['month'])})"
        parts.append(_group_change(metric, now, then, name) + since)
    span = f"in {month_label(last)}" if first == last else f"from {month_label(first)} to {month_label(last)}"
    which = "the largest group" if len(parts) == 1 else f"the {len(parts)} largest groups"
    return f"{definition.label} by {dimension}, {span}, in {which}: {'; '.join(parts)}.{note}"
