"""Unit costs from costs.toml and the groups' justice costs per person-year (costs.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from pipelines.evaluate.costs import Costs, CostsError, compare_costs, read_costs
from pipelines.evaluate.impact import estimate_window
from tests.evaluate.synthetic_people import (
    BOOKED,
    FELONY_CHARGED,
    IN_CUSTODY,
    NEW_OFFENSE,
    TREND,
    base_rate,
    people_frame,
)

UNITS = Costs(
    per_booking=400.0, per_jail_day=100.0, per_felony_charge=2000.0, program_per_participant_month=900.0
)


def test_a_missing_file_means_no_costs(tmp_path: Path) -> None:
    assert read_costs(tmp_path / "costs.toml") is None


def test_a_good_file(tmp_path: Path) -> None:
    path = tmp_path / "costs.toml"
    path.write_text(
        "per_booking = 450\nper_jail_day = 150.5\nper_felony_charge = 5000.0\n"
        "program_per_participant_month = 900\n",
        encoding="utf-8",
    )
    costs = read_costs(path)
    assert costs == Costs(450.0, 150.5, 5000.0, 900.0, currency="USD", illustrative=False)
    assert costs.program_per_participant_year == 10_800.0


GOOD = "per_booking = 1\nper_jail_day = 1\nper_felony_charge = 1\nprogram_per_participant_month = 1\n"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (GOOD.replace("per_booking = 1", "per_booking = true"), "per_booking must be a number"),
        (GOOD.replace("per_booking = 1", "per_booking = nan"), "per_booking must be a finite number"),
        (GOOD + 'currency = ""\n', "currency must be a short text"),
        (GOOD + "colour = 1\n", "unknown key 'colour'"),
        (GOOD.encode() + b"# \xff\n", "not UTF-8"),
    ],
)
def test_a_bad_value_names_the_file_and_the_key(tmp_path: Path, content: str | bytes, words: str) -> None:
    path = tmp_path / "costs.toml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(CostsError, match=words) as raised:
        read_costs(path)
    assert str(path) in str(raised.value)


def test_costs_per_person_year_worked_by_hand() -> None:
    # Two participants and two comparison people, one year (365.25 days) alive each except the
    # second comparison person (half a year). The second comparison person weighs 3.
    events = {
        "bookings": np.array([1, 0, 2, 1]),
        "custody_days": np.array([10, 0, 5, 0]),
        "felony_charges": np.array([0, 1, 1, 0]),
        "days_alive": np.array([365.25, 365.25, 365.25, 182.625]),
    }
    treated = np.array([True, True, False, False])
    weights = np.array([1.0, 1.0, 1.0, 3.0])
    result = compare_costs(UNITS, events, treated, weights)
    lead = (400 + 10 * 100) + 2000  # over 2 person-years
    assert result.lead == pytest.approx(lead / 2)
    # Comparison: 2 x 400 + 5 x 100 + 2000 = 3300 (weight 1, 1 year) and 400 (weight 3, 1.5 years).
    assert result.comparison == pytest.approx((3300 + 3 * 400) / (1 + 1.5))
    assert result.comparison_unweighted == pytest.approx((3300 + 400) / 1.5)
    assert result.difference.estimate == pytest.approx(result.lead - result.comparison)
    assert result.program_per_participant_year == 10_800 and result.currency == "USD"


def true_difference(people: pl.DataFrame, rate_ratio: float) -> float:
    """The participants' justice cost per person-year with the program minus without it, from the
    generating process (synthetic_people): arrests at lam x TREND (x rate_ratio with the program) a
    year at risk, a share IN_CUSTODY of days in custody (the same either way), bookings and felony
    charges thinning the arrests."""
    treated = people["treated"].to_numpy()
    lam = base_rate(people["prior_arrests_24"].to_numpy()[treated])
    per_arrest = BOOKED * UNITS.per_booking + NEW_OFFENSE * FELONY_CHARGED * UNITS.per_felony_charge
    return float((lam * TREND * (rate_ratio - 1) * (1 - IN_CUSTODY) * per_arrest).mean())


def test_the_cost_difference_interval_covers_the_planted_difference() -> None:
    covered, biased = 0, 0
    for seed in range(10):
        people, _ = people_frame(200 + seed, n=2500, rate_ratio=0.5)
        truth = true_difference(people, 0.5)
        assert truth < 0  # the program halves arrests: a saving
        costs = estimate_window(people, 12, costs=UNITS).costs
        covered += costs.difference.covers(truth)
        # Unweighted, the comparison group has fewer prior arrests and costs less: the saving looks smaller.
        assert costs.comparison_unweighted < costs.comparison
        biased += costs.lead - costs.comparison_unweighted > truth
    assert covered >= 9 and biased == 10


def test_costs_carry_the_illustrative_label() -> None:
    people, _ = people_frame(11, n=1000)
    window = estimate_window(people, 6, costs=Costs(1.0, 1.0, 1.0, 100.0, currency="EUR", illustrative=True))
    assert window.costs.illustrative and window.costs.currency == "EUR"
    assert window.costs.program_per_participant_year == 1200.0
    assert "bootstrap" in window.costs.method
