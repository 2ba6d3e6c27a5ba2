"""The impact evaluation recovers the demo's planted program effect, end to end (issue 14, item 9).

The demo plants its effect by keeping each participant's arrest after referral with probability
`effect` (pipelines/demo/justice.py); with the same seed and effect 1.0 it writes the same
records with every arrest kept: the participants' outcomes had the program done nothing. So the
true effect on the participants is measured, not assumed: the ratio of their odds (or rates) in
the two demos, counted by the window SQL the estimator does not own. Each demo goes through the
nightly into a release, and `impact` estimates from that release as the page and CLI do.

Seeds are fixed and chosen before the first run: a 95% interval may miss by chance, so a seed is
never swapped for one that passes.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from pipelines.core.settings import Home
from pipelines.demo import write_demo
from pipelines.evaluate.design import impact_sites, load_people
from pipelines.evaluate.estimate import key
from pipelines.evaluate.impact import Impact, impact
from tests import apptest
from tests.conftest import run

AS_OF = date(2026, 6, 30)
SEEDS = (11, 12, 13)
PLANTED = 0.6
MONTHS = 12


def demo_release(root: Path, seed: int, effect: float) -> Home:
    home = Home(root / f"seed{seed}-effect{effect}")
    write_demo(home.inbox, participants=1500, sites=3, months=36, seed=seed, as_of=AS_OF, effect=effect)
    assert run(home, AS_OF.isoformat()).published
    return home


def estimated(home: Home) -> tuple[Impact, pl.DataFrame]:
    """The release's impact, and its participants followed MONTHS months (for the truth)."""
    with apptest.release_connection(home) as con:
        result = impact(con, AS_OF)
        assert result is not None
        people = load_people(con, AS_OF, impact_sites(con).used, (MONTHS,))
    followed = people.filter(pl.col("treated") & pl.col(key("complete", 0, MONTHS)))
    return result, followed.sort("site_id", "person_id")


def odds(share: float) -> float:
    return share / (1 - share)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[float, tuple[Impact, pl.DataFrame]]]:
    root = tmp_path_factory.mktemp("impact-demo")
    return {seed: {e: estimated(demo_release(root, seed, e)) for e in (PLANTED, 1.0)} for seed in SEEDS}


@pytest.mark.parametrize("seed", SEEDS)
def test_weighted_estimates_recover_the_planted_effect(runs, seed: int) -> None:
    (planted, lead), (_, untreated) = runs[seed][PLANTED], runs[seed][1.0]
    # The same participants, followed the same months, in both demos: only their arrests differ.
    assert lead["person_id"].to_list() == untreated["person_id"].to_list() and lead.height > 300
    arrests, at_risk = key("arrests", 0, MONTHS), key("days_at_risk", 0, MONTHS)
    true_or = odds((lead[arrests] > 0).mean()) / odds((untreated[arrests] > 0).mean())
    true_rr = (lead[arrests].sum() / lead[at_risk].sum()) / (
        untreated[arrests].sum() / untreated[at_risk].sum()
    )
    assert 0.4 < true_or < 0.8 and 0.5 < true_rr < 0.7  # the demo planted a real effect

    window = planted.windows[MONTHS]
    assert window.problem is None
    any_arrest = window.effects["any_arrest"]
    assert any_arrest.estimate.covers(true_or), (any_arrest.estimate, true_or)
    assert window.effects["arrests"].estimate.covers(true_rr), (window.effects["arrests"].estimate, true_rr)
    # The unweighted comparison is biased towards no effect (LEAD took people with more prior
    # arrests): the weights move the estimate towards the truth.
    assert abs(np.log(any_arrest.unweighted.estimate / true_or)) > abs(
        np.log(any_arrest.estimate.estimate / true_or)
    )
    assert any_arrest.unweighted.estimate > any_arrest.estimate.estimate


@pytest.mark.parametrize("seed", SEEDS)
def test_no_effect_planted_intervals_cover_one(runs, seed: int) -> None:
    window = runs[seed][1.0][0].windows[MONTHS]
    for measure in ("any_arrest", "new_offense_arrest", "arrests"):
        assert window.effects[measure].estimate.covers(1.0), (measure, window.effects[measure].estimate)


@pytest.mark.parametrize("seed", SEEDS)
def test_weighting_balances_every_covariate(runs, seed: int) -> None:
    balance = runs[seed][PLANTED][0].windows[MONTHS].balance
    before = balance.filter(pl.col("code") == "prior_arrests_12")["smd_unweighted"].item()
    assert before > 0.1  # the groups differ before weighting: LEAD took more prior arrests
    assert balance["smd_weighted"].abs().max() < 0.1, balance.filter(pl.col("imbalanced"))


def test_the_naive_before_and_after_overstates_the_effect(runs) -> None:
    """Regression to the mean: the participants' own drop from the months before referral is far
    larger than the program's effect, in both demos, even with no effect at all."""
    for seed in SEEDS:
        for effect in (PLANTED, 1.0):
            lead = runs[seed][effect][1]
            before = lead[key("arrests", -MONTHS, 0)].sum() / lead[key("days_at_risk", -MONTHS, 0)].sum()
            after = lead[key("arrests", 0, MONTHS)].sum() / lead[key("days_at_risk", 0, MONTHS)].sum()
            assert after / before < effect * 0.8
