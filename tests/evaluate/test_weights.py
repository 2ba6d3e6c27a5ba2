"""Propensity scores, ATT weights, balance and the pooling of rare levels (weights.py, design.py)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from pipelines.evaluate.design import COVARIATES, Column, Covariate, Design, build_design
from pipelines.evaluate.impact import estimate_window
from pipelines.evaluate.weights import PropensityError, att_weights, balance, fit_propensity, smd
from tests.evaluate.synthetic_people import people_frame


def test_the_standardised_mean_difference_worked_by_hand() -> None:
    values = np.array([0, 1, 1, 1, 0, 0, 1, 1], dtype=float)
    treated = np.array([True] * 4 + [False] * 4)
    # Means 0.75 and 0.5; sample variances 0.25 and 1/3: pooled SD sqrt(7/24).
    sd = np.sqrt((0.25 + 1 / 3) / 2)
    weights = np.array([1, 1, 1, 1, 3, 1, 1, 1], dtype=float)  # the first comparison person (a 0) counts 3
    before, after = smd(values, treated, weights)
    assert before == pytest.approx(0.25 / sd)
    assert after == pytest.approx((0.75 - 2 / 6) / sd)  # weighted comparison mean 2/6
    # A column that never varies and agrees: 0; one that never varies but differs: not defined.
    assert smd(np.ones(8), treated, weights) == (0.0, 0.0)
    assert np.isnan(smd(treated.astype(float), treated, None)[0])


def test_att_weights() -> None:
    rng = np.random.default_rng(1)
    scores = rng.uniform(0.05, 0.95, 500)
    treated = rng.random(500) < scores
    p = att_weights(scores, treated)
    assert (p.weights[treated] == 1).all()
    assert p.weights[~treated].sum() == pytest.approx(treated.sum())
    # Each comparison person weighs the odds of their truncated score, up to one common factor.
    odds = np.clip(scores, p.low, p.high) / (1 - np.clip(scores, p.low, p.high))
    ratio = p.weights[~treated] / odds[~treated]
    assert ratio == pytest.approx(np.full(len(ratio), ratio[0]))
    assert p.below == 5 and p.above == 5  # 1% of 500 at each end, no ties
    assert p.effective_comparison < (~treated).sum()


def frame(n: int, seed: int = 0) -> pl.DataFrame:
    people, _ = people_frame(seed, n=n)
    return people


RACE = next(c for c in COVARIATES if c.code == "race")


def test_a_level_still_rare_when_pooled_is_merged_into_the_most_common() -> None:
    people = frame(3000)
    treated = people["treated"].to_numpy()
    # 5 participants and 5 comparison people Native Hawaiian or Pacific Islander: the only rare
    # level, and still under 10 per group on its own: counted with the most common race.
    index = np.arange(people.height)
    races = people["race"].to_numpy().astype(object)
    races[np.concatenate([index[treated][:5], index[~treated][:5]])] = "native_hawaiian_pacific_islander"
    people = people.with_columns(race=pl.Series(races))
    most_common = people.filter(pl.col("race") != "native_hawaiian_pacific_islander")["race"].mode()[0]
    design = build_design(people, (RACE,))
    (pooling,) = design.pooled
    assert pooling.levels == ("Native Hawaiian or Pacific Islander",)
    assert pooling.into == {"black": "Black", "white": "White"}[most_common]
    labels = [c.label for c in design.columns]
    assert "Race: Native Hawaiian or Pacific Islander" not in labels and "Race: Asian" in labels
    assert pooling.sentence() == (
        "Race: Native Hawaiian or Pacific Islander had fewer than 10 people in a group, so the propensity "
        f"model counts it with {pooling.into}."
    )


def test_rare_levels_pooled_together_when_that_is_enough() -> None:
    rng = np.random.default_rng(2)
    n = 400
    treated = np.arange(n) < 200
    values = rng.choice(["a", "b"], n).astype(object)
    values[[0, 1, 2, 3, 4, 5, 200, 201, 202, 203, 204, 205]] = "c"  # 6 and 6
    values[[10, 11, 12, 13, 14, 210, 211, 212, 213, 214]] = "d"  # 5 and 5
    people = pl.DataFrame({"treated": treated, "kind": values})
    design = build_design(
        people, (Covariate("kind", "Kind", {"a": "A", "b": "B", "c": "C", "d": "D"}, True),)
    )
    (pooling,) = design.pooled
    assert pooling.levels == ("C", "D") and pooling.into is None
    assert "Kind: other (C, D)" in [c.label for c in design.columns]
    assert pooling.sentence() == (
        "Kind: C and D had fewer than 10 people in a group, so the propensity model counts them as one level."
    )
    # The most common level is the reference: in the balance table, not the model.
    references = [c.code for c in design.columns if c.reference]
    assert len(references) == 1 and references[0] in ("kind=a", "kind=b")
    assert all(not c.reference for c in design.model_columns())


def test_separation_is_a_plain_message_not_a_crash() -> None:
    treated = np.arange(200) < 100
    apart = np.where(treated, 5.0, 0.0) + np.random.default_rng(3).random(200)  # no overlap at all
    design = Design(treated=treated, columns=(Column("x", "Arrests in the 12 months before", apart),))
    with pytest.raises(PropensityError, match="no overlap in Arrests in the 12 months before"):
        fit_propensity(design)


def test_a_window_whose_model_fails_reports_why_and_unweighted_balance() -> None:
    people = frame(1500, seed=4)
    # Every participant far older than every comparison person: the groups do not overlap.
    people = people.with_columns(
        age=pl.when(pl.col("treated")).then(pl.col("age") + 100).otherwise(pl.col("age"))
    )
    window = estimate_window(people, 12)
    assert window.problem and "no overlap in Age at index" in window.problem
    assert not window.effects and window.propensity is None
    assert window.balance["smd_unweighted"].is_not_null().all()
    assert window.balance["smd_weighted"].is_null().all()


def test_balance_lists_every_level_with_words() -> None:
    people = frame(2000, seed=6)
    design = build_design(people)
    table = balance(design, fit_propensity(design).weights)
    assert table.height == len(design.columns)
    assert {"Gender: Man", "Race: Black", "Index offense: Sex work", "Site: north", "Age at index"} <= set(
        table["covariate"]
    )
    assert {"gender=man", "race=black", "prior_jail_days_24"} <= set(table["code"])
    assert not table["covariate"].str.contains("_").any()
