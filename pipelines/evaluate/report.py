"""The estimates as `outcomes evaluate` prints them: JSON with stable keys, or a short summary."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import duckdb
import polars as pl

from pipelines.core.release import live_release, open_release, table_names
from pipelines.core.settings import Home
from pipelines.evaluate import estimate
from pipelines.evaluate.costs import CostsError, costs_file, read_costs
from pipelines.evaluate.estimate import ALL, MEASURES, Evaluation
from pipelines.evaluate.impact import IMPACT_TABLES, Impact, impact
from pipelines.evaluate.impact_report import impact_json, impact_summary
from pipelines.evaluate.windows import DAYS_PER_YEAR, missing_tables

CAVEAT = (
    "Without a comparison group, a drop after referral can be the return from the spike in arrests "
    "that led to the referral (regression to the mean), not an effect of the program."
)
DIGITS = 6


def number(value: Any) -> Any:  # noqa: ANN401 - a count, a float or None
    """A JSON number: floats rounded to DIGITS, NaN as null, whole counts as integers."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, float):
        return round(value, DIGITS)
    return value


def side(row: dict[str, Any], prefix: str, is_share: bool) -> dict[str, Any]:
    """One window of a comparison: for a share, people arrested of people; for a rate, the count
    (events, or jail days) over person-years."""
    numerator, denominator, value = (
        row[f"{prefix}_{part}"] for part in ("numerator", "denominator", "value")
    )
    if is_share:
        return {"arrested": int(numerator), "people": int(denominator), "share": number(value)}
    return {"count": int(numerator), "person_years": number(denominator), "rate": number(value)}


def as_json(
    evaluation: Evaluation, run_id: str | None = None, impact_result: Impact | None = None
) -> dict[str, Any]:
    """The evaluation as `outcomes evaluate --json` prints it (README: "What evaluate prints"),
    with the impact evaluation under `impact` (null without a comparison group)."""
    sites = evaluation.sites
    comparisons = []
    for (months, referral_type), rows in evaluation.comparisons.group_by(
        "window_months", "referral_type", maintain_order=True
    ):
        measures = {}
        for row in rows.iter_rows(named=True):
            measure = MEASURES[row["measure"]]
            measures[measure.name] = {
                "before": side(row, "before", measure.is_share),
                "after": side(row, "after", measure.is_share),
                "difference": number(row["difference"]),
                "low": number(row["low"]),
                "high": number(row["high"]),
                "method": "newcombe_paired" if measure.is_share else "paired_bootstrap",
            }
        comparisons.append(
            {
                "window_months": months,
                "referred_on_or_before": evaluation.referred_by[months].isoformat(),
                "referral_type": referral_type,
                "people": int(rows["people"][0]),
                "measures": measures,
            }
        )
    baseline = [
        {
            "window_months": months,
            "referral_type": referral_type,
            "people": int(rows["people"][0]),
            "windows": [
                {k: number(v) for k, v in row.items()}
                for row in rows.drop("window_months", "referral_type", "people").iter_rows(named=True)
            ],
        }
        for (months, referral_type), rows in evaluation.baseline.group_by(
            "window_months", "referral_type", maintain_order=True
        )
    ]
    return {
        "as_of": evaluation.as_of.isoformat(),
        "run_id": run_id,
        "sites": {
            "counted": list(sites.with_justice),
            "left_out": list(sites.without_justice),
            "custody_reported": list(sites.custody_reported),
            "custody_not_reported": list(sites.custody_not_reported),
        },
        "method": {
            "confidence": estimate.CONFIDENCE,
            "share": estimate.SHARE_METHOD,
            "rates": estimate.RATE_METHOD,
            "baseline": estimate.WINDOW_METHOD,
            "resamples": estimate.RESAMPLES,
            "seed": estimate.SEED,
            "days_per_year": DAYS_PER_YEAR,
            "caveat": CAVEAT,
        },
        "measures": {
            m.name: {
                "label": m.label,
                "numerator": m.numerator,
                "denominator": m.denominator,
                "unit": "share"
                if m.is_share
                else f"per_person_year_{'alive' if m.days == 'days_alive' else 'at_risk'}",
            }
            for m in MEASURES.values()
        },
        "comparisons": comparisons,
        "baseline": baseline,
        "impact": impact_json(impact_result),
    }


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def interval(row: dict[str, Any], scale: float, unit: str) -> str:
    """`-22.2 points (95% CI -27.6 to -16.7)`, or the difference alone without an interval."""
    if row["difference"] is None:
        return "no difference (no time at risk)"
    text = f"{row['difference'] * scale:+.{1 if scale == 100 else 2}f}{unit}"
    if row["low"] is None or row["high"] is None:
        return text + " (no interval)"
    digits = 1 if scale == 100 else 2
    return text + f" (95% CI {row['low'] * scale:+.{digits}f} to {row['high'] * scale:+.{digits}f})"


def window_name(start: int, end: int) -> str:
    """`-18..-12`, `0..+6`: months from referral."""
    return f"{start:+d}..{end:+d}".replace("+0..", "0..").replace("..+0", "..0")


def summary(evaluation: Evaluation, run_id: str | None = None, impact_result: Impact | None = None) -> str:
    """A short readable summary: each window length, all referral types, and the longer baseline;
    then the impact against a comparison group, in plain words."""
    sites = evaluation.sites
    lines = [
        f"Before and after referral, as of {evaluation.as_of}" + (f" (release {run_id})" if run_id else "")
    ]
    lines.append(
        f"  sites counted: {', '.join(sites.with_justice) or 'none'}"
        + (
            f"; left out (no justice records): {', '.join(sites.without_justice)}"
            if sites.without_justice
            else ""
        )
    )
    lines.append(
        f"  custody (release dates) reported by: {', '.join(sites.custody_reported) or 'none'}"
        + (
            f"; not reported (every day alive counted at risk): {', '.join(sites.custody_not_reported)}"
            if sites.custody_not_reported
            else ""
        )
    )
    if evaluation.comparisons.is_empty():
        lines.append("  no participant has the follow-up to compare yet")
    for months, referred_by in evaluation.referred_by.items():
        rows = evaluation.comparisons.filter(
            (pl.col("window_months") == months) & (pl.col("referral_type") == ALL)
        ).rows(named=True)
        if not rows:
            continue
        lines.append(
            f"{months} months before vs after: {rows[0]['people']:,} people, referred on or before "
            f"{referred_by}"
        )
        for row in rows:
            measure = MEASURES[row["measure"]]
            if measure.is_share:
                values = f"{percent(row['before_value'])} -> {percent(row['after_value'])}"
                lines.append(f"  {measure.label.lower():<44} {values:<17} {interval(row, 100, ' points')}")
            else:
                per = "per person-year alive" if measure.days == "days_alive" else "per person-year at risk"
                values = f"{rate(row['before_value'])} -> {rate(row['after_value'])}"
                lines.append(
                    f"  {(measure.label + ' ' + per).lower():<44} {values:<17} {interval(row, 1, '')}"
                )
        windows = evaluation.baseline.filter(
            (pl.col("window_months") == months) & (pl.col("referral_type") == ALL)
        )
        steps = ", ".join(
            f"{window_name(w['from_month'], w['to_month'])}: {percent(w['share'])} ({rate(w['rate'])})"
            for w in windows.iter_rows(named=True)
        )
        lines.append(f"  share arrested (arrests per person-year at risk) by 6-month window: {steps}")
    lines.append(f"  {CAVEAT}")
    lines.append(f"  intervals: {estimate.SHARE_METHOD} {estimate.RATE_METHOD}")
    lines += impact_summary(impact_result)
    return "\n".join(lines)


def command(home: Home, json_output: bool) -> int:
    """`outcomes evaluate [--json]` on the live release: 0 with the estimates printed, 1 without a
    release (or with one built before custody spells: the next nightly rebuilds it), 2 when the
    home's costs.toml cannot be used (the message names the file and the key)."""
    try:
        costs = read_costs(costs_file(home))
    except CostsError as error:
        print(f"outcomes evaluate: {error}", file=sys.stderr)
        return 2
    release = live_release(home.current)
    if release is None:
        print("outcomes evaluate: no release yet: run `outcomes nightly` first", file=sys.stderr)
        return 1
    con = open_release(release)
    try:
        missing = missing_tables(con)
        if missing:
            print(
                f"outcomes evaluate: the live release has no {', '.join(sorted(missing))} (an older "
                "version built it): run `outcomes nightly` to rebuild it",
                file=sys.stderr,
            )
            return 1
        [(run_id, as_of)] = con.sql("select run_id, as_of from release").fetchall()
        result = estimate.evaluate(con, as_of)
        if outdated_comparison(con):
            print(
                "outcomes evaluate: the live release was built before the comparison group's custody "
                "spells: run `outcomes nightly` to see the impact estimates",
                file=sys.stderr,
            )
        impact_result = impact(con, as_of, costs=costs)
    finally:
        con.close()
    if json_output:
        print(json.dumps(as_json(result, run_id, impact_result), indent=2))
    else:
        print(summary(result, run_id, impact_result))
    return 0


def outdated_comparison(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the release holds comparison people but was built before their custody spells."""
    tables = table_names(con)
    if IMPACT_TABLES <= tables or "comparison" not in tables:
        return False
    return con.sql("select count(*) > 0 from comparison").fetchone()[0]
