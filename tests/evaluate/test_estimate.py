"""The paired before-and-after estimates: worked by hand on tests/evaluate/conftest.py's release,
and recovered from synthetic people with a planted rate before and after referral."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from pipelines.core.settings import Home
from pipelines.core.stats import newcombe_paired_difference
from pipelines.evaluate.estimate import asked_windows, baseline_windows, estimates, evaluate
from pipelines.evaluate.windows import DAYS, EVENTS, participant_windows
from tests import apptest
from tests.evaluate.conftest import AS_OF

YEAR = 365.25


@pytest.fixture(scope="module")
def windows(release: Home) -> pl.DataFrame:
    with apptest.release_connection(release) as con:
        return participant_windows(con, date.fromisoformat(AS_OF), asked_windows((6, 12)))


def measure(comparisons: pl.DataFrame, name: str, referral_type: str = "all") -> dict:
    rows = comparisons.filter((pl.col("measure") == name) & (pl.col("referral_type") == referral_type))
    (row,) = rows.rows(named=True)
    return row


# --- by hand ------------------------------------------------------------------------------


def test_one_person_jailed_most_of_the_after_window(windows: pl.DataFrame) -> None:
    comparisons, _ = estimates(windows.filter(pl.col("person_id") == "J"), 6)
    arrests = measure(comparisons, "arrests")
    # 2 arrests in 19 days at risk (182 days less 163 in custody).
    assert (arrests["after_numerator"], arrests["after_denominator"]) == (2, pytest.approx(19 / YEAR))
    assert arrests["after_value"] == pytest.approx(2 * YEAR / 19)  # 38.45 per person-year at risk
    assert (arrests["before_value"], arrests["difference"]) == (0, pytest.approx(2 * YEAR / 19))
    jail = measure(comparisons, "jail_days")
    assert jail["after_value"] == pytest.approx(163 * YEAR / 182)  # per person-year alive
    assert jail["people"] == 1 and jail["low"] is None and jail["high"] is None  # one person: no interval


def test_the_release_by_hand(windows: pl.DataFrame) -> None:
    """J, D, R, I, I2 and V have 6 months after referral by the as-of date; N does not; Q's site
    sends no justice records."""
    comparisons, baseline = estimates(windows, 6)
    assert set(comparisons["people"]) == {6}
    arrests = measure(comparisons, "arrests")
    # Before: R's arrest of 2023-12-01 in 6 x 184 days. After: J 2, D 1, V 1 in 19 + 50 + 180 + 163
    # + 111 + 182 = 705 days at risk. R's arrest on the referral date is in neither.
    assert (arrests["before_numerator"], arrests["before_denominator"]) == (1, pytest.approx(6 * 184 / YEAR))
    assert (arrests["after_numerator"], arrests["after_denominator"]) == (4, pytest.approx(705 / YEAR))
    assert arrests["before_value"] == pytest.approx(YEAR / 1104)  # 0.33 per person-year at risk
    assert arrests["after_value"] == pytest.approx(4 * YEAR / 705)  # 2.07
    assert arrests["difference"] == pytest.approx(4 * YEAR / 705 - YEAR / 1104)
    assert arrests["low"] <= arrests["difference"] <= arrests["high"]
    # Bookings after: J, I and V (R's, on the referral date, is in neither window).
    assert measure(comparisons, "bookings")["after_value"] == pytest.approx(3 * YEAR / 705)
    # Warrant arrests: D's; new-offense arrests: J's two and V's.
    assert measure(comparisons, "warrant_arrests")["after_numerator"] == 1
    assert measure(comparisons, "new_offense_arrests")["after_numerator"] == 3
    assert measure(comparisons, "felony_charges")["before_numerator"] == 0  # R's is on the referral date
    # Jail days: J 163, R 2, I 19 in 5 x 182 + 50 days alive.
    jail = measure(comparisons, "jail_days")
    assert (jail["after_numerator"], jail["after_value"]) == (184, pytest.approx(184 * YEAR / 960))
    # Arrested before: R only; after: J, D and V (McNemar: 0 both, 1 before only, 3 after only).
    share = measure(comparisons, "arrested")
    assert (share["before_value"], share["after_value"]) == (pytest.approx(1 / 6), pytest.approx(3 / 6))
    expected = newcombe_paired_difference(0, 1, 3, 2)
    assert (share["difference"], share["low"], share["high"]) == pytest.approx(expected)
    # The longer baseline: the same six people in each 6-month window.
    everyone = baseline.filter(pl.col("referral_type") == "all")
    assert everyone.select("from_month", "to_month").rows() == [(-18, -12), (-12, -6), (-6, 0), (0, 6)]
    assert everyone["arrested"].to_list() == [0, 0, 1, 3]
    assert everyone["arrests"].to_list() == [0, 0, 1, 4]


def test_twelve_months(windows: pl.DataFrame) -> None:
    comparisons, baseline = estimates(windows, 12)
    arrests = measure(comparisons, "arrests")
    # After: 366 days for V; J 203 at risk, D 50 alive, R 364, I 347 and I2 111.
    assert arrests["after_denominator"] == pytest.approx((366 + 203 + 50 + 364 + 347 + 111) / YEAR)
    assert arrests["after_numerator"] == 4
    everyone = baseline.filter(pl.col("referral_type") == "all")
    assert everyone.select("from_month", "to_month").rows() == baseline_windows(12)
    # Months 6 to 12 (2024-07-11 to 2025-01-10): 184 days at risk for J, R, I and V; D is dead and
    # I2 away all along.
    assert everyone["person_years_at_risk"][-1] == pytest.approx(4 * 184 / YEAR)
    assert baseline_windows(12)[-1] == (6, 12)


def test_evaluate_gives_both_lengths(release: Home) -> None:
    with apptest.release_connection(release) as con:
        result = evaluate(con, date.fromisoformat(AS_OF))
    assert result.referred_by == {6: date(2024, 12, 31), 12: date(2024, 6, 30)}
    assert sorted(set(result.comparisons["window_months"])) == [6, 12]
    assert set(result.comparisons["referral_type"]) == {"all", "social_contact"}
    assert result.sites.without_justice == ("none",)


# --- planted effects ------------------------------------------------------------------------

SPANS = [(-18, -12), (-12, -6), (-6, 0), (0, 6)]


def synthetic(
    seed: int, people: int = 300, before: float = 3.0, after: float = 1.5, spread: float = 1.0
) -> pl.DataFrame:
    """participant_windows' rows for people with arrests planted at `before` per person-year at
    risk in each window before referral and `after` in the 6 months after, each person's rates
    scaled by one gamma-distributed propensity (mean 1, variance `spread`) shared by all their
    windows: the same people measured twice, as in real data. Some days are spent in custody."""
    rng = np.random.default_rng(seed)
    propensity = rng.gamma(1 / spread, spread, people)
    rows = []
    for start, end in SPANS:
        custody = rng.binomial(1, 0.3, people) * rng.integers(1, 120, people)
        at_risk = 182 - custody
        rate = after if start >= 0 else before
        arrests = rng.poisson(propensity * rate * at_risk / YEAR)
        rows.append(
            pl.DataFrame(
                {
                    "site_id": "s",
                    "person_id": [f"P{i:04d}" for i in range(people)],
                    "from_month": start,
                    "to_month": end,
                    "complete": True,
                    "referral_type": "social_contact",
                    **{name: [0] * people for name in EVENTS},
                    "arrests": arrests,
                    "new_offense_arrests": arrests,
                    "days_alive": 182,
                    "custody_days": custody,
                    "days_at_risk": at_risk,
                }
            )
        )
    return pl.concat(rows).select(
        "site_id", "person_id", "from_month", "to_month", "complete", *EVENTS, *DAYS, "referral_type"
    )


def test_a_planted_rate_is_recovered() -> None:
    comparisons, baseline = estimates(synthetic(seed=1, people=2000), 6)
    arrests = measure(comparisons, "arrests")
    assert arrests["before_value"] == pytest.approx(3.0, rel=0.1)
    assert arrests["after_value"] == pytest.approx(1.5, rel=0.1)
    assert arrests["low"] < -1.5 < arrests["high"]
    assert arrests["high"] < 0  # a real fall of 1.5 per person-year is told from none
    # The baseline's windows before referral all carry the planted 3 per person-year.
    for row in baseline.filter(pl.col("to_month") <= 0).rows(named=True):
        assert row["rate_low"] < 3.0 < row["rate_high"]


def test_the_interval_covers_the_truth_in_about_95_percent_of_samples() -> None:
    covered = 0
    seeds = range(100, 200)
    for seed in seeds:
        arrests = measure(estimates(synthetic(seed=seed, people=150), 6)[0], "arrests")
        covered += arrests["low"] <= -1.5 <= arrests["high"]
    # 95% expected; with 100 samples, fewer than 88 would be far outside chance (p < 0.01).
    assert covered >= 88


def test_no_change_is_not_called_a_change() -> None:
    outside = 0
    for seed in range(300, 340):
        arrests = measure(estimates(synthetic(seed=seed, people=150, after=3.0), 6)[0], "arrests")
        outside += not arrests["low"] <= 0 <= arrests["high"]
    assert outside <= 6  # about 2 of 40 expected


def test_the_interval_keeps_the_pairs() -> None:
    """Broken pairs (each person's after window given to someone else) lose the shared propensity:
    the paired interval is narrower, as it should be for the same people measured twice."""
    paired = synthetic(seed=7, people=400, spread=2.0)
    after = paired.filter(pl.col("from_month") == 0)
    shuffled = after.with_columns(pl.col("person_id").shuffle(seed=7))
    broken = pl.concat([paired.filter(pl.col("from_month") < 0), shuffled])
    width = {}
    for name, frame in (("paired", paired), ("broken", broken)):
        arrests = measure(estimates(frame, 6)[0], "arrests")
        width[name] = arrests["high"] - arrests["low"]
    assert width["paired"] < 0.85 * width["broken"]


def test_the_same_data_gives_the_same_intervals() -> None:
    frame = synthetic(seed=3)
    first, second = estimates(frame, 6), estimates(frame.reverse(), 6)
    assert first[0].equals(second[0]) and first[1].equals(second[1])


def test_share_arrested_is_newcombes_paired_difference() -> None:
    frame = synthetic(seed=5)
    arrested = frame.filter(pl.col("from_month").is_in([-6, 0])).pivot(
        "from_month", index="person_id", values="arrests"
    )
    before, after = arrested["-6"] > 0, arrested["0"] > 0
    counts = [int(x.sum()) for x in (before & after, before & ~after, ~before & after, ~before & ~after)]
    share = measure(estimates(frame, 6)[0], "arrested")
    expected = newcombe_paired_difference(*counts)
    assert (share["difference"], share["low"], share["high"]) == pytest.approx(expected)
