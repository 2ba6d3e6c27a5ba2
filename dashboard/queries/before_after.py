"""Before and after referral: the paired comparison of pipelines/evaluate, for the whole program.

The estimates are `pipelines.evaluate.estimate.evaluate`'s (what `outcomes evaluate` prints);
these queries refuse a narrower scope and shape the numbers into the page's tables, with labels.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from checks.labels import label
from checks.vocab import REFERRAL_TYPES
from dashboard.formatting import MISSING
from dashboard.small_numbers import small_flag
from pipelines.core.scope import Scope
from pipelines.evaluate import estimate, windows
from pipelines.evaluate.estimate import ALL, MEASURES, Evaluation, Measure
from pipelines.evaluate.windows import Sites

WINDOW_LENGTHS = estimate.WINDOW_LENGTHS
REFERRAL_TYPE_LABELS = {ALL: "All referral types", **{t: label("referral_type", t) for t in REFERRAL_TYPES}}
SHARE = "arrested"
MEASURES_COLUMNS = ("measure", "people", "before", "after", "difference", "interval")


def missing_tables(con: duckdb.DuckDBPyConnection, scope: Scope) -> frozenset[str]:
    """The tables the comparison reads that this release lacks (built by an older version)."""
    scope.require_program()
    return windows.missing_tables(con)


def justice_sites(con: duckdb.DuckDBPyConnection, scope: Scope) -> Sites:
    """Which sites send justice records, and which of them report custody (release dates)."""
    scope.require_program()
    return windows.justice_sites(con)


def evaluation(con: duckdb.DuckDBPyConnection, scope: Scope, as_of: date, months: int) -> Evaluation:
    """The comparison of the `months` months before and after referral, and the longer baseline."""
    scope.require_program()
    return estimate.evaluate(con, as_of, (months,))


def measure_title(measure: Measure) -> str:
    """A measure as the page names it: `Arrests per person-year at risk`."""
    if measure.is_share:
        return measure.label
    per = "per person-year" if measure.days == "days_alive" else "per person-year at risk"
    return f"{measure.label} {per}"


def window_label(start: int, end: int) -> str:
    """A window of months around referral in words: `18 to 12 months before`, `6 months after`."""
    if end <= 0:
        return f"{-start} months before" if end == 0 else f"{-start} to {-end} months before"
    return f"{end} months after" if start == 0 else f"{start} to {end} months after"


def type_label(referral_type: str) -> pl.Expr:
    return pl.col(referral_type).replace_strict(REFERRAL_TYPE_LABELS, default=pl.col(referral_type))


def comparison_view(result: Evaluation, measure: str) -> pl.DataFrame:
    """One measure, before and after, each referral type a row: the chart's numbers, labelled.

    A share in percent (numerators and denominators in people); a rate per person-year
    (numerators in events or days, denominators in person-years).
    """
    scale = 100.0 if MEASURES[measure].is_share else 1.0
    rows = result.comparisons.filter(pl.col("measure") == measure)
    return rows.select(
        type_label("referral_type").alias("referral_type"),
        "people",
        pl.col("before_numerator").cast(pl.Int64),
        "before_denominator",
        pl.col("before_value") * scale,
        pl.col("after_numerator").cast(pl.Int64),
        "after_denominator",
        pl.col("after_value") * scale,
        pl.col("difference") * scale,
        pl.col("low") * scale,
        pl.col("high") * scale,
        small_flag("people"),
    )


def measure_text(measure: str, value: float | None, signed: bool = False, unit: bool = True) -> str:
    """A share as `62.8%` (a difference as `-22.2 points`), a rate as `2.92`; a dash for none."""
    if value is None:
        return MISSING
    sign = "+" if signed else ""
    if not MEASURES[measure].is_share:
        return f"{value:{sign}.2f}"
    return f"{value * 100:{sign}.1f}" + ((" points" if signed else "%") if unit else "")


def interval_text(measure: str, low: float | None, high: float | None) -> str:
    """`-27.6 to -16.7 points`, `-1.76 to -1.17`; a dash when there is no interval."""
    if low is None or high is None:
        return MISSING
    text = (
        f"{measure_text(measure, low, signed=True, unit=False)} to {measure_text(measure, high, signed=True)}"
    )
    return text


def measures_view(result: Evaluation, referral_type: str = ALL) -> pl.DataFrame:
    """Every measure of one referral type, before and after, as text in each measure's own unit:
    the page's summary table."""
    rows = result.comparisons.filter(pl.col("referral_type") == referral_type)
    return pl.DataFrame(
        [
            {
                "measure": measure_title(MEASURES[row["measure"]]),
                "people": row["people"],
                "before": measure_text(row["measure"], row["before_value"]),
                "after": measure_text(row["measure"], row["after_value"]),
                "difference": measure_text(row["measure"], row["difference"], signed=True),
                "interval": interval_text(row["measure"], row["low"], row["high"]),
            }
            for row in rows.iter_rows(named=True)
        ],
        schema={n: pl.Int64 if n == "people" else pl.String for n in MEASURES_COLUMNS},
    ).with_columns(small_flag("people"))


def baseline_view(result: Evaluation, referral_type: str = ALL) -> pl.DataFrame:
    """The longer baseline of one referral type: each 6-month window, share arrested and arrests
    per person-year at risk, each with its 95% CI (shares in percent)."""
    rows = result.baseline.filter(pl.col("referral_type") == referral_type)
    return rows.select(
        pl.struct("from_month", "to_month")
        .map_elements(lambda w: window_label(w["from_month"], w["to_month"]), return_dtype=pl.String)
        .alias("window"),
        "people",
        "arrested",
        pl.col("share") * 100,
        pl.col("share_low") * 100,
        pl.col("share_high") * 100,
        "arrests",
        "person_years_at_risk",
        "rate",
        "rate_low",
        "rate_high",
        small_flag("people"),
    )


def referral_types(result: Evaluation) -> list[str]:
    """The groups compared: all referral types first, then each type with anyone in it."""
    return list(dict.fromkeys(result.comparisons["referral_type"]))


def percent(share: float) -> str:
    return f"{share * 100:.1f}%"


def findings(result: Evaluation, months: int) -> str:
    """What the comparison found, in one or two plain sentences computed from its numbers."""
    everyone = result.comparisons.filter(pl.col("referral_type") == ALL)
    share = everyone.filter(pl.col("measure") == SHARE).row(0, named=True)
    arrests = everyone.filter(pl.col("measure") == "arrests").row(0, named=True)
    text = (
        f"Of the {share['people']:,} participants followed for {months} months after referral, "
        f"{percent(share['after_value'])} were arrested in the {months} months after it, against "
        f"{percent(share['before_value'])} in the {months} months before "
        f"({share['difference'] * 100:+.1f} percentage points, 95% CI {share['low'] * 100:+.1f} to "
        f"{share['high'] * 100:+.1f})"
    )
    if arrests["before_value"] is not None and arrests["after_value"] is not None:
        text += (
            f"; arrests per person-year at risk went from {arrests['before_value']:.2f} to "
            f"{arrests['after_value']:.2f}"
        )
    text += "."
    windows = result.baseline.filter(pl.col("referral_type") == ALL).sort("from_month")
    earliest, latest = windows.row(0, named=True), windows.filter(pl.col("to_month") == 0).row(0, named=True)
    text += (
        f" A year earlier, {window_label(earliest['from_month'], earliest['to_month'])} referral, "
        f"{percent(earliest['share'])} of the same people were arrested in six months"
    )
    # Words only where the intervals bear them out: a rise before referral, a fall back after.
    if latest["share_low"] > earliest["share_high"]:
        text += f", fewer than the {percent(latest['share'])} of the six months just before referral"
        first_after = windows.filter(pl.col("from_month") == 0).row(0, named=True)
        if earliest["share_low"] <= first_after["share"] <= earliest["share_high"]:
            text += ": after referral, the share fell back to about where it had been"
    return text + "."
