"""Equity: each race group's rate of a metric in one month, its rate ratio against a reference
group with a 95% CI, and the group's share of referrals.

Program-wide aggregates: every query refuses a narrower scope. `equity_table` puts the numbers
together (the interval of each ratio from dashboard/stats.py: a score interval when a numerator
is under 10, else the log interval); `table_view` shapes them for the page's table; `finding`
says in a sentence which groups differ clearly from the reference.
"""

from __future__ import annotations

import math
from datetime import date

import duckdb
import polars as pl

from checks.labels import label, label_expr
from checks.vocab import RACES
from dashboard import stats
from dashboard.formatting import month_label
from dashboard.queries.sql import load
from dashboard.small_numbers import SMALL_FLAG, is_small
from pipelines.core.metrics import METRICS, SMALL_COUNT, Kind
from pipelines.core.periods import add_months
from pipelines.core.scope import Scope

# The table's names for the two intervals (stats.LOG and stats.SCORE), in a director's words.
INTERVAL_NAMES = {stats.LOG: "Standard", stats.SCORE: "For small counts"}
WHITE = "white"
ALL_OTHERS = "all others"
REFERENCES = (WHITE, ALL_OTHERS)
REFERENCE_SHORT = {WHITE: "White", ALL_OTHERS: "all others"}
REFERRAL_WINDOW_MONTHS = 12
# Rates are flagged, never hidden (the one small-numbers rule, dashboard/small_numbers.py): a rate
# on fewer than SMALL_COUNT people, the group's own or the reference's, is flagged and its ratio
# drawn hollow. How wide a ratio's uncertainty is, its interval shows.
REFERENCE_SMALL_FLAG = f"Reference: fewer than {SMALL_COUNT} people"
# The groups participant_months gives (DESIGN s.5), in the contract's order.
RACE_GROUPS = (*(race for race in RACES if race != "unknown"), "multiracial", "unknown")

MONTHS_SQL = load("equity_months")

RATES_SQL = load("equity_rates")

REFERRALS_SQL = load("equity_referrals")


def rate_metrics() -> list[str]:
    """The metrics a rate ratio makes sense for: shares of people, not the count of active
    participants, nor days per participant (jail_days), whose ratio needs another interval."""
    return [name for name, metric in METRICS.items() if metric.kind is Kind.SHARE]


def race_order(race: str) -> int:
    """A group's place in tables and charts: the contract's order, anything else last."""
    return RACE_GROUPS.index(race) if race in RACE_GROUPS else len(RACE_GROUPS)


def race_months(con: duckdb.DuckDBPyConnection, scope: Scope, metric: str, through: date) -> list[date]:
    """The months, newest first and no later than `through`, with race rows for a metric."""
    scope.require_program()
    rows = con.sql(MONTHS_SQL, params={"metric": metric, "through": through}).fetchall()
    return [month for (month,) in rows]


def race_rates(con: duckdb.DuckDBPyConnection, scope: Scope, metric: str, month: date) -> pl.DataFrame:
    """One metric's rate per race group in one month: race, numerator, denominator, value."""
    scope.require_program()
    return con.sql(RATES_SQL, params={"metric": metric, "month": month}).pl()


def referrals_by_race(
    con: duckdb.DuckDBPyConnection, scope: Scope, month: date, months: int = REFERRAL_WINDOW_MONTHS
) -> pl.DataFrame:
    """Participants referred in the `months` months up to and including `month`, by race.

    Counted from each participant's referral month in participant_months, so a participant's
    race follows the same rule as the metrics (the single race given, 'multiracial' for
    several, 'unknown' when none is known). Columns: race, referred.
    """
    scope.require_program()
    return con.sql(REFERRALS_SQL, params={"start": add_months(month, -months), "month": month}).pl()


def size_flag(denominator: int | None, reference_denominator: int | None = None) -> str | None:
    """Which of a row's rates rests on fewer than SMALL_COUNT people, in words; None when neither.

    A group with no one in its denominator has no rate to flag (its note says so).
    """
    flags = []
    if denominator and is_small(denominator):
        flags.append(SMALL_FLAG)
    if reference_denominator and is_small(reference_denominator):
        flags.append(REFERENCE_SMALL_FLAG)
    return "; ".join(flags) or None


def reference_counts(rates: pl.DataFrame, race: str, reference: str) -> tuple[int, int] | None:
    """The reference group's numerator and denominator for one group's ratio.

    'white': the White row (None when the month has none). 'all others': every other group's
    numerator and denominator pooled.
    """
    if reference == WHITE:
        white = rates.filter(pl.col("race") == WHITE)
        if white.is_empty():
            return None
        return int(white["numerator"][0]), int(white["denominator"][0])
    if reference == ALL_OTHERS:
        others = rates.filter(pl.col("race") != race)
        return int(others["numerator"].sum()), int(others["denominator"].sum())
    raise ValueError(f"unknown reference group: {reference!r}")


def ratio_row(numerator: int, denominator: int, counts: tuple[int, int] | None, confidence: float) -> dict:
    """One group's ratio, CI and the interval's method; when there is no ratio, the reason why."""
    empty = {"ratio": None, "low": None, "high": None, "method": None}
    if denominator == 0:
        return {**empty, "note": "no one in this group's denominator this month: no rate, no ratio"}
    if counts is None:
        return {**empty, "note": "no White participants in this month's denominator: no reference rate"}
    reference_numerator, reference_denominator = counts
    if reference_denominator == 0:
        return {**empty, "note": "the reference group is empty this month: no ratio"}
    if reference_numerator == 0:
        return {**empty, "note": "0 counted in the reference group's numerator: no ratio (division by zero)"}
    result = stats.rate_ratio(numerator, denominator, reference_numerator, reference_denominator, confidence)
    assert result is not None  # every zero count was answered above
    return {**result._asdict(), "note": None}


def equity_table(
    rates: pl.DataFrame, referrals: pl.DataFrame, reference: str, confidence: float = 0.95
) -> pl.DataFrame:
    """Every race group with a rate or a referral: its rate, its ratio to the reference, the
    ratio's CI, its share of referrals, a size flag and a note when there is no ratio.

    Columns: race, numerator, denominator, rate, reference_numerator, reference_denominator,
    reference_rate, ratio, low, high, method (stats.SCORE or stats.LOG), is_reference, small (a
    rate behind the row rests on fewer than SMALL_COUNT people: drawn hollow), referred,
    referral_share, flag, note.
    A group with referrals but no rate row has a denominator of 0 and a note; a group with a
    rate but no referrals in the window has 0 referred. No group is dropped.
    """
    if reference not in REFERENCES:
        raise ValueError(f"unknown reference group: {reference!r}")
    races = sorted(set(rates["race"].to_list()) | set(referrals["race"].to_list()), key=race_order)
    counted = {row["race"]: row for row in rates.iter_rows(named=True)}
    referred = {row["race"]: row["referred"] for row in referrals.iter_rows(named=True)}
    total_referred = sum(referred.values())
    rows = []
    for race in races:
        numerator = int(counted[race]["numerator"]) if race in counted else 0
        denominator = int(counted[race]["denominator"]) if race in counted else 0
        is_reference = reference == WHITE and race == WHITE
        counts = reference_counts(rates, race, reference)
        if is_reference:
            ratio = {"ratio": 1.0, "low": None, "high": None, "method": None, "note": "reference group"}
            counts = (numerator, denominator)
        else:
            ratio = ratio_row(numerator, denominator, counts, confidence)
        reference_numerator, reference_denominator = counts if counts is not None else (None, None)
        flag = size_flag(denominator, None if is_reference else reference_denominator)
        rows.append(
            {
                "race": race,
                "numerator": numerator,
                "denominator": denominator,
                "rate": numerator / denominator if denominator else None,
                "reference_numerator": reference_numerator,
                "reference_denominator": reference_denominator,
                "reference_rate": (
                    reference_numerator / reference_denominator if reference_denominator else None
                ),
                **ratio,
                "is_reference": is_reference,
                "referred": referred.get(race, 0),
                "referral_share": referred.get(race, 0) / total_referred if total_referred else None,
                "small": flag is not None,
                "flag": flag,
            }
        )
    schema = {
        "race": pl.String,
        "numerator": pl.Int64,
        "denominator": pl.Int64,
        "rate": pl.Float64,
        "reference_numerator": pl.Int64,
        "reference_denominator": pl.Int64,
        "reference_rate": pl.Float64,
        "ratio": pl.Float64,
        "low": pl.Float64,
        "high": pl.Float64,
        "method": pl.String,
        "note": pl.String,
        "is_reference": pl.Boolean,
        "small": pl.Boolean,
        "referred": pl.Int64,
        "referral_share": pl.Float64,
        "flag": pl.String,
    }
    columns = [
        "race",
        "numerator",
        "denominator",
        "rate",
        "reference_numerator",
        "reference_denominator",
        "reference_rate",
        "ratio",
        "low",
        "high",
        "method",
        "is_reference",
        "small",
        "referred",
        "referral_share",
        "flag",
        "note",
    ]
    return pl.DataFrame(rows, schema=schema).select(columns)


def reference_name(reference: str) -> str:
    """The reference group as the axis and captions say it."""
    return "White participants" if reference == WHITE else "all other groups"


def ratio_text(row: dict) -> str:
    """A ratio and its CI as the table shows them: `1.09 (0.54 to 2.23)`."""
    if row["is_reference"]:
        return "1 (reference)"
    if row["ratio"] is None:
        return "no ratio: see note"
    return f"{row['ratio']:.2f} ({row['low']:.2f} to {row['high']:.2f})"


def table_view(table: pl.DataFrame) -> pl.DataFrame:
    """The chart's numbers as the table shows them: rates and shares in percent."""
    return table.select(
        label_expr("race", "race"),
        pl.struct("ratio", "low", "high", "is_reference")
        .map_elements(ratio_text, return_dtype=pl.String)
        .alias("ratio"),
        pl.col("method").replace_strict(INTERVAL_NAMES, default=None),
        pl.col("rate") * 100,
        "numerator",
        "denominator",
        "flag",
        pl.col("referral_share") * 100,
        "referred",
        pl.col("reference_rate") * 100,
        "reference_numerator",
        "reference_denominator",
        "note",
    )


def _gap(ratio: float) -> float:
    """How far a ratio is from 1, either way (a ratio of 0 is the largest gap of all)."""
    return math.inf if ratio <= 0 else abs(math.log(ratio))


def finding(table: pl.DataFrame, metric: str, month: date, reference: str) -> str | None:
    """The largest gap against the reference group, in a sentence: the group's rate against the
    reference's, the ratio and whether it is beyond the uncertainty (its 95% interval leaves out 1),
    then how many other groups differ clearly. Groups on fewer than SMALL_COUNT people are passed
    over when another has a ratio. None when no group has a ratio."""
    ratios = table.filter(pl.col("ratio").is_not_null() & ~pl.col("is_reference"))
    if ratios.is_empty():
        return None
    readable = ratios.filter(pl.col("denominator") >= SMALL_COUNT)
    pool = ratios if readable.is_empty() else readable
    top = max(pool.iter_rows(named=True), key=lambda row: (_gap(row["ratio"]), row["race"]))
    clear = ratios.filter((pl.col("low") > 1) | (pl.col("high") < 1))
    beyond = (top["low"] is not None and top["low"] > 1) or (top["high"] is not None and top["high"] < 1)
    interval = (
        f", 95% CI {top['low']:.2f} to {top['high']:.2f}"
        if top["low"] is not None and top["high"] is not None
        else ""
    )
    small = f" (on fewer than {SMALL_COUNT} people)" if top["denominator"] < SMALL_COUNT else ""
    text = (
        f"{METRICS[metric].label}, {month_label(month)}: the largest gap against "
        f"{reference_name(reference)} is for the {label('race', top['race'])} group{small}, "
        f"{top['rate']:.0%} against {top['reference_rate']:.0%} ({top['ratio']:.2f} times their "
        f"rate{interval}), "
        + ("beyond the uncertainty." if beyond else "within the uncertainty (the interval includes 1).")
    )
    others = clear.height - (1 if beyond else 0)
    if others:
        groups, verb = ("groups", "differ") if others > 1 else ("group", "differs")
        text += f" {others} other {groups} also {verb} clearly."
    return text
