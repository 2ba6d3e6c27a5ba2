"""Who is diverted: LEAD participants against the eligible pool, LEAD participants plus the
comparison group (people eligible for LEAD but not referred, contract v2), at the sites that send
a comparison export (issue 14, item 8).

`pool_counts` is the one query: counts by site, index year, group, race, gender and age band, its
SQL filtered on the Scope's site. The rest are plain functions of those counts: `coverage` (which
sites and years make the pool), `mix_table` (each group's race, gender or age-band mix),
`referral_table` (each race group's referral rate, with Wilson's interval, and its rate ratio
against a reference group, with the interval dashboard/stats.py chooses), `finding` (the opening
sentence). Small numbers follow the one rule (dashboard/small_numbers.py): flagged, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from checks.labels import AGE_BAND, label, label_expr
from checks.vocab import GENDERS
from dashboard import stats
from dashboard.queries.equity import (
    ALL_OTHERS,
    INTERVAL_NAMES,
    WHITE,
    race_order,
    reference_counts,
    size_flag,
)
from dashboard.queries.sql import load
from dashboard.small_numbers import SMALL_FLAG, is_small
from pipelines.core.metrics import SMALL_COUNT
from pipelines.core.release import table_names
from pipelines.core.scope import Scope, ScopeError

LEAD, COMPARISON, POOL = "lead", "comparison", "pool"
GROUPS = (LEAD, COMPARISON, POOL)
GROUP_LABELS = {LEAD: "LEAD participants", COMPARISON: "Comparison group", POOL: "Eligible pool"}
MIX_DIMENSIONS = ("race", "gender", "age_band")
MIX_LABELS = {"race": "Race", "gender": "Gender", "age_band": "Age at index"}
AGE_BANDS = tuple(AGE_BAND)
COUNT_SCHEMA = {
    "site_id": pl.String,
    "index_year": pl.Int64,
    "arm": pl.String,
    "race": pl.String,
    "gender": pl.String,
    "age_band": pl.String,
    "covered": pl.Boolean,
    "people": pl.Int64,
}
POOL_SQL = load("diversion_pool")


def pool_counts(con: duckdb.DuckDBPyConnection, scope: Scope) -> pl.DataFrame:
    """People by site, index year, arm ('lead' or 'comparison'), race, gender and age band, in
    scope; `covered` says whether the site's comparison export covers that index year.

    A caseload's scope is refused: comparison-group people belong to no caseload. A release built
    before contract v2 has no comparison table, and so no rows here.
    """
    if scope.case_manager_id is not None:
        raise ScopeError("the eligible pool is a site's, not a caseload's")
    if "comparison" not in table_names(con):
        return pl.DataFrame(schema=COUNT_SCHEMA)
    return con.sql(POOL_SQL, params=scope.site_params()).pl().cast(COUNT_SCHEMA)


@dataclass(frozen=True)
class Coverage:
    """Which sites send a comparison group, the index years it covers, and who is left out."""

    sites: tuple[str, ...]  # sites whose comparison export holds anyone
    sites_without: tuple[str, ...]  # sites with participants but no comparison group
    years: tuple[int, ...]  # index years of the pool, oldest first
    participants_outside: int  # participants at those sites in years their comparison leaves out


def coverage(counts: pl.DataFrame) -> Coverage:
    """What `counts` makes of the pool: the pool is the site-years a comparison export covers."""
    sites = sorted(set(counts.filter(pl.col("arm") == COMPARISON)["site_id"]))
    outside = counts.filter(pl.col("site_id").is_in(sites) & ~pl.col("covered"))
    return Coverage(
        sites=tuple(sites),
        sites_without=tuple(sorted(set(counts["site_id"]) - set(sites))),
        years=tuple(sorted(set(counts.filter(pl.col("covered"))["index_year"]))),
        participants_outside=int(outside["people"].sum()),
    )


def pool(counts: pl.DataFrame, year: int | None = None) -> pl.DataFrame:
    """The eligible pool's counts (covered site-years), of one index year or of all."""
    covered = counts.filter(pl.col("covered"))
    return covered if year is None else covered.filter(pl.col("index_year") == year)


def category_order(dimension: str, category: str) -> tuple[int, str]:
    """A category's place in tables and charts: the contract's order (age bands by age)."""
    order = {"race": None, "gender": GENDERS, "age_band": AGE_BANDS}[dimension]
    if order is None:
        return race_order(category), category
    return (order.index(category) if category in order else len(order)), category


def category_label(dimension: str, category: str) -> str:
    """A race, gender or age band as the page names it: a label, never a code."""
    return label(dimension, category)


def mix_table(people: pl.DataFrame, dimension: str) -> pl.DataFrame:
    """Each group's mix by `dimension` (race, gender or age_band): one row per group and category.

    Columns: arm (lead, comparison, pool), category, people (numerator), total (the group's
    people: the denominator), share, small (the group has fewer than SMALL_COUNT people), flag.
    Every category any group has is listed for every group, with 0 where it has no one.
    """
    if dimension not in MIX_DIMENSIONS:
        raise ValueError(f"unknown dimension: {dimension!r}")
    by_arm = people.group_by("arm", dimension).agg(pl.col("people").sum())
    counted = {(arm, category): int(n) for arm, category, n in by_arm.iter_rows()}
    categories = sorted({category for _, category in counted}, key=lambda c: category_order(dimension, c))
    rows = []
    for arm in GROUPS:
        arms = (LEAD, COMPARISON) if arm == POOL else (arm,)
        counts = {c: sum(counted.get((a, c), 0) for a in arms) for c in categories}
        total = sum(counts.values())
        for category in categories:
            rows.append(
                {
                    "arm": arm,
                    "category": category,
                    "people": counts[category],
                    "total": total,
                    "share": counts[category] / total if total else None,
                    "small": is_small(total),
                    "flag": SMALL_FLAG if is_small(total) else None,
                }
            )
    schema = {
        "arm": pl.String,
        "category": pl.String,
        "people": pl.Int64,
        "total": pl.Int64,
        "share": pl.Float64,
        "small": pl.Boolean,
        "flag": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def choose_reference(rates: pl.DataFrame) -> str:
    """White when at least SMALL_COUNT White people are in the pool and some were referred; else
    all other groups pooled (`rates`: race, numerator = referred, denominator = pool)."""
    white = rates.filter(pl.col("race") == WHITE)
    if white.is_empty():
        return ALL_OTHERS
    referred, eligible = int(white["numerator"][0]), int(white["denominator"][0])
    return WHITE if eligible >= SMALL_COUNT and referred > 0 else ALL_OTHERS


def race_rates(people: pl.DataFrame) -> pl.DataFrame:
    """Per race group: referred (numerator: LEAD participants) and eligible (denominator: the pool)."""
    return (
        people.group_by("race")
        .agg(
            pl.col("people").filter(pl.col("arm") == LEAD).sum().alias("numerator"),
            pl.col("people").sum().alias("denominator"),
        )
        .cast({"numerator": pl.Int64, "denominator": pl.Int64})
        .sort(pl.col("race").map_elements(race_order, return_dtype=pl.Int64), "race")
    )


def ratio_columns(
    referred: int, eligible: int, counts: tuple[int, int], confidence: float
) -> dict[str, object]:
    """One group's referral rate ratio, its interval and method; the reason when there is none."""
    empty = {"ratio": None, "low": None, "high": None, "method": None}
    reference_referred, reference_eligible = counts
    if reference_eligible == 0:
        return {**empty, "note": "no one else is in the pool: no ratio"}
    if reference_referred == 0:
        return {**empty, "note": "no one in the reference group was referred: no ratio (division by zero)"}
    result = stats.rate_ratio(referred, eligible, reference_referred, reference_eligible, confidence)
    assert result is not None  # every zero count was answered above; eligible > 0 for every row
    return {**result._asdict(), "note": None}


def referral_table(people: pl.DataFrame, confidence: float = 0.95) -> tuple[pl.DataFrame, str]:
    """Each race group's referral rate (referred / eligible pool) with Wilson's interval, and its
    rate ratio against the reference (White, or all others pooled: `choose_reference`) with the
    interval dashboard/stats.py chooses (Koopman's score interval under 10 referred on either
    side, else the log interval). Returns the table and the reference.

    Columns: race, numerator (referred), denominator (eligible), rate, rate_low, rate_high,
    reference_numerator, reference_denominator, reference_rate, ratio, low, high, method,
    is_reference, small (either rate on fewer than SMALL_COUNT people), flag, note.
    """
    rates = race_rates(people)
    reference = choose_reference(rates)
    z = stats.z_value(confidence)
    rows = []
    for race, referred, eligible in rates.select("race", "numerator", "denominator").iter_rows():
        is_reference = reference == WHITE and race == WHITE
        counts = reference_counts(rates, race, reference)
        assert counts is not None  # White is the reference only when it has a row
        if is_reference:
            ratio: dict[str, object] = {"ratio": 1.0, "low": None, "high": None, "method": None}
            ratio["note"] = "reference group"
        else:
            ratio = ratio_columns(referred, eligible, counts, confidence)
        low, high = stats.wilson_interval(referred, eligible, z)
        flag = size_flag(eligible, None if is_reference else counts[1])
        rows.append(
            {
                "race": race,
                "numerator": referred,
                "denominator": eligible,
                "rate": referred / eligible,
                "rate_low": low,
                "rate_high": high,
                "reference_numerator": counts[0],
                "reference_denominator": counts[1],
                "reference_rate": counts[0] / counts[1] if counts[1] else None,
                **ratio,
                "is_reference": is_reference,
                "small": flag is not None,
                "flag": flag,
            }
        )
    schema = {
        "race": pl.String,
        "numerator": pl.Int64,
        "denominator": pl.Int64,
        "rate": pl.Float64,
        "rate_low": pl.Float64,
        "rate_high": pl.Float64,
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
        "flag": pl.String,
    }
    return pl.DataFrame(rows, schema=schema), reference


def people_of(race: str) -> str:
    """A race group as a sentence names its people: 'Black people', 'people of unknown race'."""
    if race == "unknown":
        return "people of unknown race"
    if race == "multiracial":
        return "multiracial people"
    return f"{label('race', race)} people"


def reference_people(reference: str) -> str:
    """The reference group as a sentence names it."""
    return "White people" if reference == WHITE else "everyone else in the pool"


def finding(table: pl.DataFrame, reference: str) -> str | None:
    """The section's opening sentence: how many in the pool were referred, and which groups were
    referred clearly more or less often than the reference (the ratio's 95% interval leaves out 1);
    a ratio on fewer than SMALL_COUNT people says so. None for an empty pool."""
    eligible = int(table["denominator"].sum())
    if eligible == 0:
        return None
    referred = int(table["numerator"].sum())
    opening = (
        f"Of the {eligible:,} people in the eligible pool, {referred:,} ({referred / eligible:.0%}) "
        "were referred to LEAD"
    )
    ratios = table.filter(pl.col("ratio").is_not_null() & ~pl.col("is_reference"))
    if ratios.is_empty():
        return f"{opening}; no group has a referral rate ratio (the table's notes say why)."
    clear = ratios.filter((pl.col("low") > 1) | (pl.col("high") < 1)).sort("ratio", descending=True)
    if clear.is_empty():
        return (
            f"{opening}; no group was referred clearly more or less often than "
            f"{reference_people(reference)} (every 95% interval includes 1)."
        )
    return f"{opening}: {'; '.join(clear_difference(row, reference) for row in clear.iter_rows(named=True))}."


def clear_difference(row: dict, reference: str) -> str:
    """One group's clear difference from the reference, as the opening sentence says it."""
    few = f"; fewer than {SMALL_COUNT} people" if row["small"] else ""
    if row["ratio"] == 0:
        return (
            f"none of the {row['denominator']:,} {people_of(row['race'])} in the pool were referred "
            f"(rate ratio 0, 95% CI 0 to {row['high']:.2f}{few})"
        )
    return (
        f"{people_of(row['race'])} were {row['ratio']:.2f} times as likely as {reference_people(reference)} "
        f"to be referred (95% CI {row['low']:.2f} to {row['high']:.2f}{few})"
    )


def ratio_text(row: dict) -> str:
    """A ratio and its CI as the table shows them: `1.40 (1.20 to 1.70)`."""
    if row["is_reference"]:
        return "1 (reference)"
    if row["ratio"] is None:
        return "no ratio: see note"
    return f"{row['ratio']:.2f} ({row['low']:.2f} to {row['high']:.2f})"


def mix_view(mix: pl.DataFrame, dimension: str) -> pl.DataFrame:
    """The mix as the page's table shows it: labels, shares in percent."""
    return mix.select(
        pl.col("arm").replace_strict(GROUP_LABELS, return_dtype=pl.String),
        pl.col("category").map_elements(lambda c: category_label(dimension, c), return_dtype=pl.String),
        "people",
        "total",
        pl.col("share") * 100,
        "flag",
    )


def referral_view(table: pl.DataFrame) -> pl.DataFrame:
    """The referral rates and ratios as the page's table shows them: labels, rates in percent."""
    return table.select(
        label_expr("race", "race"),
        "numerator",
        "denominator",
        pl.col("rate") * 100,
        pl.format(
            "{}% to {}%", (pl.col("rate_low") * 100).round(1), (pl.col("rate_high") * 100).round(1)
        ).alias("rate_interval"),
        pl.struct("ratio", "low", "high", "is_reference")
        .map_elements(ratio_text, return_dtype=pl.String)
        .alias("ratio"),
        pl.col("method").replace_strict(INTERVAL_NAMES, default=None),
        "reference_numerator",
        "reference_denominator",
        "flag",
        "note",
    )
