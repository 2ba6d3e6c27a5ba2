"""The impact estimators recover effects planted in synthetic people frames
(tests/evaluate/synthetic_people.py: selection on prior arrests, which also drive later arrests).

Truth comes from the data-generating process: the planted rate ratio, and the participants'
marginal odds ratio from their potential outcomes. A 95% interval misses now and then by
design, so each check runs on ten fixed seeds and asks for at least nine covered.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from pipelines.evaluate.estimate import key
from pipelines.evaluate.first_arrest import COMPARISON_UNWEIGHTED, COMPARISON_WEIGHTED, first_arrest
from pipelines.evaluate.impact import MIN_GROUP, estimate_impact, estimate_window
from pipelines.evaluate.measures import MEASURES, MIN_SUBGROUP
from tests.evaluate.synthetic_people import AS_OF, SITES, base_rate, people_frame

SEEDS = range(10)
RATE_RATIO = 0.5


@pytest.fixture(scope="module")
def planted() -> list[tuple[dict[int, float], object]]:
    """Per seed: the true odds ratios and the 12-month window's estimates, the program halving arrests."""
    results = []
    for seed in SEEDS:
        people, truth = people_frame(seed, rate_ratio=RATE_RATIO)
        results.append((truth, estimate_window(people, 12)))
    return results


def test_the_unweighted_odds_ratio_is_biased_and_the_weighted_one_covers_the_truth(planted) -> None:
    covered = 0
    for truth, window in planted:
        effect = window.effects["any_arrest"]
        # Participants had more prior arrests, which raise arrests afterwards: the unweighted
        # comparison makes the program look worse than it is (its interval misses the truth, above).
        assert effect.unweighted.ci_low > truth[12]
        assert abs(np.log(effect.estimate.estimate / truth[12])) < abs(
            np.log(effect.unweighted.estimate / truth[12])
        )
        covered += effect.estimate.covers(truth[12])
    assert covered >= 9


def test_the_difference_in_differences_recovers_the_planted_rate_ratio(planted) -> None:
    covered = [window.effects["arrests"].estimate.covers(RATE_RATIO) for _, window in planted]
    assert sum(covered) >= 9
    estimates = [window.effects["arrests"].estimate.estimate for _, window in planted]
    assert np.mean(estimates) == pytest.approx(RATE_RATIO, rel=0.1)


def test_with_no_effect_the_intervals_cover_one() -> None:
    odds, rates = 0, 0
    for seed in SEEDS:
        people, truth = people_frame(100 + seed, rate_ratio=1.0)
        assert truth[12] == pytest.approx(1.0)
        window = estimate_window(people, 12)
        odds += window.effects["any_arrest"].estimate.covers(1.0)
        rates += window.effects["arrests"].estimate.covers(1.0)
    assert odds >= 9 and rates >= 9


def test_weighting_balances_every_covariate(planted) -> None:
    for _, window in planted:
        assert window.problem is None
        weighted = window.balance["smd_weighted"].abs()
        assert weighted.max() < 0.1, window.balance.filter(pl.col("smd_weighted").abs() >= 0.1)
        assert not window.imbalanced()
        # Prior arrests drive selection: clearly unbalanced before weighting.
        prior = window.balance.filter(pl.col("code") == "prior_arrests_24").row(0, named=True)
        assert prior["smd_unweighted"] > 0.3 and abs(prior["smd_weighted"]) < 0.1
        assert prior["covariate"] == "Arrests in the 24 months before"


def test_the_truncation_is_reported(planted) -> None:
    _, window = planted[0]
    p = window.propensity
    n = window.n_lead + window.n_comparison
    low, high = np.percentile(p.scores, [1, 99])
    assert (p.low, p.high) == pytest.approx((low, high))
    assert p.below == int((p.scores < low).sum()) and p.above == int((p.scores > high).sum())
    assert 0 < p.truncated_people <= 0.03 * n
    assert "truncated" in p.sentence() and f"{p.below:,} raised" in p.sentence()


def test_each_group_s_share_beside_the_estimate(planted) -> None:
    _, window = planted[0]
    frame = window.effects_frame()
    assert frame["measure_code"].to_list() == [m.code for m in MEASURES]
    arrest = frame.row(0, named=True)
    # Weighting moves the comparison group towards the participants' higher-risk mix.
    assert arrest["comparison_after"] > arrest["comparison_after_unweighted"]
    assert arrest["before_months"] == 12 and arrest["lead_before"] is not None
    for row in frame.iter_rows(named=True):
        assert row["ci_low"] <= row["estimate"] <= row["ci_high"], row["measure"]


def test_a_window_counts_only_the_people_followed_through_it() -> None:
    people, _ = people_frame(3, n=1500, all_followed=False)
    window = estimate_window(people, 6)
    followed = people.filter(pl.col(key("complete", 0, 6)))
    assert (window.n_lead, window.n_comparison) == (
        followed["treated"].sum(),
        followed.height - followed["treated"].sum(),
    )
    assert followed.height < people.height


def test_too_few_people_say_so() -> None:
    people, _ = people_frame(4, n=400)
    few = pl.concat([people.filter(pl.col("treated")).head(MIN_GROUP - 1), people.filter(~pl.col("treated"))])
    window = estimate_window(few, 12)
    assert window.problem and "Too few people" in window.problem
    assert not window.effects and window.propensity is None


def test_subgroups_need_thirty_in_each_group() -> None:
    people, _ = people_frame(5, n=1500)
    window = estimate_window(people, 12)
    groups = window.subgroups
    assert set(groups["dimension"]) == {"Referral type", "Race"}
    for row in groups.iter_rows(named=True):
        enough = min(row["n_lead"], row["n_comparison"]) >= MIN_SUBGROUP
        assert (row["estimate"] is not None) == enough, row
        if not enough:
            assert "fewer than 30" in row["note"]
    # Asian people are 3% of 1,500: too few; Black people are not.
    assert groups.filter(pl.col("group") == "Asian")["estimate"].is_null().all()
    assert groups.filter(pl.col("group") == "Black")["estimate"].is_not_null().all()


def test_weighted_time_to_first_arrest_matches_the_potential_outcomes() -> None:
    people, _ = people_frame(7, n=4000)
    curves = first_arrest(people, 24)
    treated = people["treated"].to_numpy()
    rate = base_rate(people["prior_arrests_24"].to_numpy()[treated]) * 1.2  # trend 1.2

    def read(group: str, day: int) -> float:
        steps = curves.curves.filter((pl.col("group") == group) & (pl.col("day") <= day))
        return steps["share_not_arrested"][-1]

    for day in (91, 182, 365):
        # What the participants' curve would be without the program: the weighted comparison's target.
        truth = np.exp(-rate * day / 365.25).mean()
        weighted, unweighted = read(COMPARISON_WEIGHTED, day), read(COMPARISON_UNWEIGHTED, day)
        assert abs(weighted - truth) < 0.045
        assert abs(unweighted - truth) > abs(weighted - truth)
    at_risk = curves.at_risk
    assert at_risk["month"].unique().sort().to_list() == list(range(0, 25, 3))
    days = people["followed_days"].to_numpy()
    for row in at_risk.iter_rows(named=True):
        members = treated if row["group"] == "LEAD participants" else ~treated
        assert row["at_risk"] == int((days[members] >= row["day"]).sum())


def test_the_whole_evaluation_on_a_people_frame() -> None:
    people, _ = people_frame(8, n=2000)
    result = estimate_impact(people, AS_OF, SITES)
    assert list(result.windows) == [6, 12, 24]
    assert all(w.problem is None for w in result.windows.values())
    assert result.first_arrest.problem is None and result.costs is None
