"""The Impact page's sentences, on estimates made by hand: a ratio below 1 reads "lower" by 1 - ratio,
above 1 "higher" by ratio - 1, and an interval through 1 is no clear difference; the balance warning
names every covariate still at |SMD| >= 0.1."""

from __future__ import annotations

import polars as pl
import pytest

from dashboard.impact_findings import balance_warning, costs_sentence, headline
from pipelines.evaluate.costs import CostComparison
from pipelines.evaluate.effects import Estimate
from pipelines.evaluate.weights import BALANCE_SCHEMA


def whole(fraction: float) -> str:
    """A fraction as the whole percentage a reader would work out by hand."""
    return f"{round(fraction * 100)}%"


def test_a_clear_reduction_reads_as_lower_odds_with_its_interval() -> None:
    odds = Estimate(0.59, 0.45, 0.78)
    text = headline("any_arrest", odds, 12)
    assert text == (
        f"In the 12 months after referral, LEAD participants had {whole(1 - 0.59)} lower odds of arrest "
        f"than comparable people who were not diverted (95% CI {whole(1 - 0.78)} to {whole(1 - 0.45)})."
    )
    assert "41% lower odds of arrest" in text and "(95% CI 22% to 55%)" in text


def test_a_clear_increase_reads_as_higher() -> None:
    text = headline("any_booking", Estimate(1.3, 1.1, 1.6), 6)
    assert text.startswith(
        "In the 6 months after referral, LEAD participants had 30% higher odds of being booked"
    )
    assert "(95% CI 10% to 60%)" in text
    assert "lower" not in text and "no clear" not in text


def test_an_interval_through_one_is_no_clear_difference() -> None:
    text = headline("new_offense_arrest", Estimate(0.88, 0.65, 1.2), 24)
    assert text.startswith(
        "In the 24 months after referral, there was no clear difference in the odds of an arrest"
    )
    assert "the estimate (12% lower odds" in text
    assert "95% CI from 35% lower to 20% higher" in text and text.endswith("could be chance.")


def test_an_estimate_above_one_through_one_is_no_clear_difference_either() -> None:
    text = headline("any_arrest", Estimate(1.15, 0.9, 1.47), 12)
    assert "no clear difference" in text and "(15% higher odds of arrest)" in text
    assert "from 10% lower to 47% higher" in text


@pytest.mark.parametrize(
    ("code", "estimate", "words"),
    [
        ("jail_days", Estimate(0.7, 0.5, 0.9), "LEAD participants spent 30% fewer days in jail per year"),
        ("jail_days", Estimate(1.25, 1.05, 1.5), "LEAD participants spent 25% more days in jail per year"),
        (
            "felony_charges",
            Estimate(0.6, 0.4, 0.9),
            "LEAD participants had 40% fewer felony charges per year",
        ),
        (
            "arrests",
            Estimate(0.62, 0.48, 0.8),
            "LEAD participants' arrest rate (arrests per year out of jail) was 38% lower",
        ),
    ],
)
def test_rates_read_as_fewer_or_more(code: str, estimate: Estimate, words: str) -> None:
    text = headline(code, estimate, 12)
    assert words in text
    low, high = sorted((abs(1 - estimate.ci_low), abs(1 - estimate.ci_high)))
    assert f"(95% CI {whole(low)} to {whole(high)})" in text


def test_the_rate_ratio_says_each_group_is_set_against_its_own_year_before() -> None:
    text = headline("arrests", Estimate(0.62, 0.48, 0.8), 12)
    assert "each group set against its own 12 months before" in text


def test_without_an_estimate_or_an_interval() -> None:
    missing = headline("any_booking", Estimate.missing("none of the participants had it: no odds ratio"), 12)
    assert missing == (
        "In the 12 months after referral, the odds of being booked into jail could not be compared: "
        "none of the participants had it: no odds ratio."
    )
    bare = headline("any_arrest", Estimate(0.8, None, None), 12)
    assert "20% lower odds of arrest" in bare and "cannot be told from chance" in bare


def test_without_the_opening_for_the_list() -> None:
    text = headline("any_arrest", Estimate(0.88, 0.65, 1.2), 12, opening=False)
    assert text.startswith("There was no clear difference") and "12 months" not in text


def balance(rows: list[tuple[str, float | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "covariate": label,
                "code": label.lower(),
                "mean_lead": 0.5,
                "mean_comparison": 0.4,
                "mean_comparison_weighted": 0.5,
                "smd_unweighted": 0.3,
                "smd_weighted": smd,
                "imbalanced": None if smd is None else abs(smd) >= 0.1,
            }
            for label, smd in rows
        ],
        schema=BALANCE_SCHEMA,
    )


def test_the_balance_warning_names_each_covariate_still_apart() -> None:
    frame = balance(
        [("Age at index", 0.02), ("Race: Black", -0.14), ("Arrests in the 12 months before", 0.1)]
    )
    text = balance_warning(frame)
    assert text is not None and "still differ after weighting" in text
    assert "on 2 covariates" in text
    assert "Race: Black (-0.14)" in text and "Arrests in the 12 months before (+0.10)" in text
    assert "Age at index" not in text


def test_no_warning_when_every_covariate_is_balanced() -> None:
    assert balance_warning(balance([("Age at index", 0.02), ("Race: Black", -0.099)])) is None
    assert balance_warning(balance([("Age at index", None)])) is None  # no weights: nothing to flag


def costs(difference: Estimate) -> CostComparison:
    return CostComparison(
        currency="USD",
        illustrative=True,
        lead=3000.0,
        comparison=4000.0,
        comparison_unweighted=3500.0,
        difference=difference,
        program_per_participant_year=10800.0,
    )


def test_costs_in_words() -> None:
    clear = costs_sentence(costs(Estimate(-1000.0, -1500.0, -400.0)), 12)
    assert "USD 3,000 per participant-year, against USD 4,000" in clear
    assert "USD 1,000 less (95% CI USD 400 to 1,500 less)" in clear
    assert clear.endswith("The program costs USD 10,800 per participant-year.")
    unclear = costs_sentence(costs(Estimate(-1000.0, -2200.0, 240.0)), 12)
    assert "(95% CI USD 2,200 less to USD 240 more: no clear difference)" in unclear
