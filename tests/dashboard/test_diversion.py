"""Who is diverted (the Equity page's eligible-pool section): its query, scope, mix, referral
rates and ratios, and charts, on the pool of tests/diversion_pool.py (whose docstring tabulates
it): every expected number is counted by hand from that table."""

from __future__ import annotations

from math import exp, sqrt

import duckdb
import polars as pl
import pytest
from statsmodels.stats import proportion
from statsmodels.stats.contingency_tables import Table2x2

from dashboard.charts.diversion import mix_chart, referral_chart
from dashboard.queries import diversion
from dashboard.queries.diversion import (
    COMPARISON,
    LEAD,
    POOL,
    coverage,
    finding,
    mix_table,
    pool,
    pool_counts,
    referral_table,
)
from dashboard.queries.equity import ALL_OTHERS, REFERENCE_SMALL_FLAG, WHITE
from dashboard.small_numbers import SMALL_FLAG
from dashboard.stats import LOG, SCORE
from pipelines.core.scope import PROGRAM, Scope, ScopeError
from pipelines.core.settings import Home
from tests.diversion_pool import ORDER, PEOPLE, RATES, publish

Z = 1.959964


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Home:
    return publish(tmp_path_factory.mktemp("diversion") / "home")


def katz(a: int, n1: int, c: int, n2: int) -> tuple[float, float, float]:
    """The ratio and its log interval, written out: (a/n1)/(c/n2) × exp(± z·SE)."""
    ratio = (a / n1) / (c / n2)
    se = sqrt(1 / a - 1 / n1 + 1 / c - 1 / n2)
    return ratio, ratio * exp(-Z * se), ratio * exp(Z * se)


def rows_by(table: pl.DataFrame, key: str = "race") -> dict[str, dict]:
    return {row[key]: row for row in table.iter_rows(named=True)}


# --- the query and its scope ---------------------------------------------------------------


def test_pool_counts_every_person_once(con: duckdb.DuckDBPyConnection) -> None:
    counts = pool_counts(con, PROGRAM)
    assert counts["people"].sum() == sum(row[-1] for row in PEOPLE)
    covered = coverage(counts)
    assert covered.sites == ("a", "b") and covered.sites_without == ("c",)
    assert covered.years == (2023, 2024)
    assert covered.participants_outside == 2  # a's 2021 referrals: its comparison starts in 2023
    # c's participants and a's 2021 ones are outside the pool.
    assert pool(counts)["people"].sum() == 101
    assert pool(counts, 2024)["people"].sum() == 5


def test_a_site_scope_sees_only_that_sites_pool(con: duckdb.DuckDBPyConnection) -> None:
    # Fails when the query's `$scope_site` filter is removed: b's people would be counted in a's.
    counts = pool_counts(con, Scope("a"))
    assert set(counts["site_id"]) == {"a"}
    assert counts["people"].sum() == sum(row[-1] for row in PEOPLE if row[0] == "a")
    table, reference = referral_table(pool(counts))
    rates = {race: (row["numerator"], row["denominator"]) for race, row in rows_by(table).items()}
    assert rates["white"] == (12, 45) and rates["black"] == (20, 40)  # without b's 5 and 5
    assert coverage(counts).sites_without == ()
    assert pool(pool_counts(con, Scope("c"))).is_empty()


def test_a_caseload_scope_is_refused(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ScopeError):
        pool_counts(con, Scope("a", "CM1"))


def test_race_gender_and_age_follow_participant_months(con: duckdb.DuckDBPyConnection) -> None:
    # The participants' side counts each person as the metrics do (race, gender, age band).
    ours = (
        pool_counts(con, PROGRAM)
        .filter(pl.col("arm") == LEAD)
        .group_by("site_id", "race", "gender", "age_band")
        .agg(pl.col("people").sum())
    )
    theirs = con.sql(
        "select site_id, race, gender, age_band, count(*) as people from participant_months "
        "where months_since_referral = 0 group by all"
    ).pl()
    assert sorted(ours.rows()) == sorted(theirs.rows())


# --- the mix ------------------------------------------------------------------------------


def test_race_mix_of_each_group(con: duckdb.DuckDBPyConnection) -> None:
    mix = mix_table(pool(pool_counts(con, PROGRAM)), "race")
    expected = {
        LEAD: {"asian": 1, "black": 25, "white": 12, "multiracial": 1, "unknown": 0},
        COMPARISON: {"asian": 2, "black": 20, "white": 38, "multiracial": 1, "unknown": 1},
        POOL: {"asian": 3, "black": 45, "white": 50, "multiracial": 2, "unknown": 1},
    }
    totals = {LEAD: 39, COMPARISON: 62, POOL: 101}
    for arm, counts in expected.items():
        part = mix.filter(pl.col("arm") == arm)
        assert part["category"].to_list() == ORDER  # every group lists every category, 0 included
        assert dict(part.select("category", "people").rows()) == counts
        assert set(part["total"]) == {totals[arm]}
        assert part["share"].to_list() == pytest.approx([counts[r] / totals[arm] for r in ORDER])
    assert not mix["small"].any() and mix["flag"].is_null().all()


def test_gender_and_age_mix(con: duckdb.DuckDBPyConnection) -> None:
    people = pool(pool_counts(con, PROGRAM))
    gender = mix_table(people, "gender")
    assert {(a, c): n for a, c, n in gender.select("arm", "category", "people").rows()} == {
        (LEAD, "woman"): 13,
        (LEAD, "man"): 26,
        (LEAD, "non_binary"): 0,
        (LEAD, "unknown"): 0,
        (COMPARISON, "woman"): 14,
        (COMPARISON, "man"): 42,
        (COMPARISON, "non_binary"): 5,
        (COMPARISON, "unknown"): 1,
        (POOL, "woman"): 27,
        (POOL, "man"): 68,
        (POOL, "non_binary"): 5,
        (POOL, "unknown"): 1,
    }
    # Age at index: 2023 less the birth year (a's 2024 people born 1990 are 34).
    age = mix_table(people, "age_band")
    assert gender.filter(pl.col("arm") == LEAD)["category"].to_list() == [
        "woman",
        "man",
        "non_binary",
        "unknown",
    ]
    lead = dict(age.filter(pl.col("arm") == LEAD).select("category", "people").rows())
    comparison = dict(age.filter(pl.col("arm") == COMPARISON).select("category", "people").rows())
    assert lead == {"18-24": 9, "25-34": 25, "35-44": 5, "55+": 0}
    assert comparison == {"18-24": 10, "25-34": 31, "35-44": 16, "55+": 5}
    view = diversion.mix_view(gender, "gender")
    assert "Non-binary" in view["category"].to_list() and "LEAD participants" in view["arm"].to_list()


def test_a_small_group_is_flagged_not_dropped(con: duckdb.DuckDBPyConnection) -> None:
    # 2024: 2 LEAD participants and 3 comparison people, all White.
    mix = mix_table(pool(pool_counts(con, PROGRAM), 2024), "race")
    assert dict(mix.select("arm", "people").rows()) == {LEAD: 2, COMPARISON: 3, POOL: 5}
    assert mix["small"].all() and set(mix["flag"]) == {SMALL_FLAG}
    figure = mix_chart(mix, "race")
    (bars,) = figure.data
    assert list(bars.marker.pattern.shape) == ["/", "/", "/"]  # hatched: fewer than 11 people
    assert all("fewer than 11 people" in name for name in bars.y)


# --- referral rates and ratios -------------------------------------------------------------


def test_referral_rates_and_ratios_against_white(con: duckdb.DuckDBPyConnection) -> None:
    table, reference = referral_table(pool(pool_counts(con, PROGRAM)))
    assert reference == WHITE  # 50 White people, 12 referred
    assert table["race"].to_list() == ORDER
    rows = rows_by(table)
    for race, (referred, eligible) in RATES.items():
        row = rows[race]
        assert (row["numerator"], row["denominator"]) == (referred, eligible)
        assert row["rate"] == pytest.approx(referred / eligible)
        # Wilson's interval, as statsmodels gives it.
        low, high = proportion.proportion_confint(referred, eligible, method="wilson")
        assert (row["rate_low"], row["rate_high"]) == pytest.approx((low, high))
    black = rows["black"]
    # 25 and 12 referred: the log interval, which is statsmodels' risk-ratio interval of the 2x2
    # table and the formula written out.
    assert black["method"] == LOG
    assert black["ratio"] == pytest.approx((25 / 45) / (12 / 50))
    two_by_two = Table2x2([[25, 45 - 25], [12, 50 - 12]])
    assert two_by_two.riskratio == pytest.approx(black["ratio"])
    assert (black["low"], black["high"]) == pytest.approx(tuple(two_by_two.riskratio_confint()))
    assert (black["ratio"], black["low"], black["high"]) == pytest.approx(katz(25, 45, 12, 50), rel=1e-6)
    assert black["low"] > 1 and black["flag"] is None
    white = rows["white"]
    assert white["is_reference"] and white["ratio"] == 1 and white["low"] is None
    # Asian: 1 of 3 referred, the score interval: its limits are where the score test's p-value is 0.05.
    asian = rows["asian"]
    assert asian["method"] == SCORE and asian["ratio"] == pytest.approx((1 / 3) / (12 / 50))
    for limit in (asian["low"], asian["high"]):
        test = proportion.test_proportions_2indep(
            1, 3, 12, 50, value=limit, compare="ratio", method="score", correction=False
        )
        assert test.pvalue == pytest.approx(0.05, abs=1e-4)
    assert rows["unknown"]["ratio"] == 0 and rows["unknown"]["low"] == 0
    for race in ("asian", "multiracial", "unknown"):  # fewer than 11 people in the pool
        assert rows[race]["flag"] == SMALL_FLAG and rows[race]["small"]


def test_opening_sentence_names_the_clear_difference(con: duckdb.DuckDBPyConnection) -> None:
    table, reference = referral_table(pool(pool_counts(con, PROGRAM)))
    ratio, low, high = katz(25, 45, 12, 50)
    assert finding(table, reference) == (
        "Of the 101 people in the eligible pool, 39 (39%) were referred to LEAD: Black people were "
        f"{ratio:.2f} times as likely as White people to be referred (95% CI {low:.2f} to {high:.2f})."
    )


def test_too_few_white_people_compares_with_all_others(con: duckdb.DuckDBPyConnection) -> None:
    # Site b: 5 White people (none referred), 5 Black (all referred). White is too few to be the
    # reference; against all others, the others' referral rate is 0: no ratio, and it says so.
    table, reference = referral_table(pool(pool_counts(con, Scope("b"))))
    assert reference == ALL_OTHERS
    rows = rows_by(table)
    assert rows["black"]["ratio"] is None and "division by zero" in rows["black"]["note"]
    assert rows["white"]["ratio"] == 0 and rows["white"]["method"] == SCORE
    assert (rows["white"]["reference_numerator"], rows["white"]["reference_denominator"]) == (5, 5)
    assert rows["white"]["flag"] == f"{SMALL_FLAG}; {REFERENCE_SMALL_FLAG}"
    # None of b's White people referred, against all 5 others: clearly lower, and said in words.
    # The upper limit is where the score test of that ratio gives p = 0.05.
    high = rows["white"]["high"]
    test = proportion.test_proportions_2indep(
        0, 5, 5, 5, value=high, compare="ratio", method="score", correction=False
    )
    assert test.pvalue == pytest.approx(0.05, abs=1e-4) and high < 1
    assert finding(table, reference) == (
        "Of the 10 people in the eligible pool, 5 (50%) were referred to LEAD: none of the 5 White "
        f"people in the pool were referred (rate ratio 0, 95% CI 0 to {high:.2f}; fewer than 11 people)."
    )
    # 2024 alone: one group, no one else to compare with.
    alone, _ = referral_table(pool(pool_counts(con, PROGRAM), 2024))
    assert alone["note"].to_list() == ["no one else is in the pool: no ratio"]
    assert finding(alone, ALL_OTHERS) == (
        "Of the 5 people in the eligible pool, 2 (40%) were referred to LEAD; no group has a referral "
        "rate ratio (the table's notes say why)."
    )


def test_against_all_others_pools_every_other_group() -> None:
    # Hand-made counts: 8 White people (too few), so each group is against the rest pooled.
    people = pl.DataFrame(
        [
            ("a", 2023, LEAD, "white", "man", "25-34", True, 4),
            ("a", 2023, COMPARISON, "white", "man", "25-34", True, 4),
            ("a", 2023, LEAD, "black", "man", "25-34", True, 30),
            ("a", 2023, COMPARISON, "black", "man", "25-34", True, 10),
            ("a", 2023, LEAD, "asian", "man", "25-34", True, 10),
            ("a", 2023, COMPARISON, "asian", "man", "25-34", True, 40),
        ],
        schema=diversion.COUNT_SCHEMA,
        orient="row",
    )
    table, reference = referral_table(people)
    rows = rows_by(table)
    assert reference == ALL_OTHERS and not table["is_reference"].any()
    # Black 30/40 against (4 + 10) / (8 + 50); Asian 10/50 against (4 + 30) / (8 + 40).
    assert (rows["black"]["reference_numerator"], rows["black"]["reference_denominator"]) == (14, 58)
    assert rows["black"]["ratio"] == pytest.approx((30 / 40) / (14 / 58))
    assert rows["asian"]["ratio"] == pytest.approx((10 / 50) / (34 / 48))
    assert (rows["asian"]["low"], rows["asian"]["high"]) == pytest.approx(katz(10, 50, 34, 48)[1:], rel=1e-6)


def test_referral_chart_draws_the_table(con: duckdb.DuckDBPyConnection) -> None:
    table, reference = referral_table(pool(pool_counts(con, PROGRAM)))
    figure = referral_chart(table, reference)
    rates = {t.name: t for t in figure.data if t.xaxis == "x"}  # the left panel
    ratios = {t.name: t for t in figure.data if t.xaxis == "x2"}  # the right panel
    rate = rates["Estimate (95% CI)"]
    assert list(rate.y) == ["Black", "White"]  # the groups of 11 or more
    assert list(rate.x) == pytest.approx([100 * 25 / 45, 100 * 12 / 50])
    low, high = proportion.proportion_confint(25, 45, method="wilson")
    assert (rate.error_x.arrayminus[0], rate.error_x.array[0]) == pytest.approx(
        (100 * (25 / 45 - low), 100 * (high - 25 / 45))
    )
    hollow = rates["Rests on fewer than 11 people (hollow)"]
    assert list(hollow.y) == ["Asian", "More than one race", "Unknown"]
    assert all(symbol.endswith("-open") for symbol in hollow.marker.symbol)
    ratio = ratios["Estimate (95% CI)"]
    assert list(ratio.y) == ["Black"] and ratio.x[0] == pytest.approx(katz(25, 45, 12, 50)[0])
    assert not ratio.showlegend  # one legend entry for both panels
    small = ratios["Rests on fewer than 11 people (hollow)"]
    assert list(small.y) == ["Asian", "More than one race", "Unknown"]
    assert list(small.marker.symbol) == ["circle-open", "circle-open", "triangle-left-open"]  # 0: the edge
    assert list(ratios["Reference group"].y) == ["White"]
    assert figure.layout.xaxis2.type == "log"
