"""Propensity scores, weights for the average effect on the treated (ATT), and covariate balance.

- `fit_propensity(design)`: a logistic regression of being a LEAD participant on the design's
  columns (statsmodels GLM, binomial family, IRLS: no optimiser of our own). The scores are
  truncated at the 1st and 99th percentiles of both groups' scores together; participants weigh
  1 and comparison people ps / (1 - ps), normalised so that the comparison group's weights sum
  to the number of participants. A model that cannot be fitted (the covariates separate the
  groups, or IRLS does not converge) raises `PropensityError` with a plain reason.
- `balance(design, weights)`: the standardised mean difference of every column before and after
  weighting, as a frame (BALANCE_SCHEMA) a love plot and a table can show directly.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import polars as pl
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import PerfectSeparationError, PerfectSeparationWarning

from pipelines.evaluate.design import Column, Design

PERCENTILES = (1.0, 99.0)
SMD_LIMIT = 0.1  # a weighted |SMD| at or above this is flagged: the groups still differ
EXTREME = 1e-8  # a fitted score this close to 0 or 1 means the covariates separate the groups
PROPENSITY_METHOD = (
    "Propensity score: a logistic regression of being a LEAD participant on the covariates "
    "(statsmodels GLM, binomial family), fitted separately for the people of each window; scores "
    f"truncated at the {PERCENTILES[0]:g}st and {PERCENTILES[1]:g}th percentiles of both groups' scores. "
    "Weights for the average effect on the participants (ATT): each participant 1, each comparison "
    "person ps / (1 - ps), normalised to sum to the number of participants."
)
BALANCE_METHOD = (
    "Standardised mean difference: participants' mean minus the comparison group's (unweighted, "
    "then weighted), over the pooled unweighted standard deviation sqrt((var_lead + var_comparison) "
    f"/ 2); |SMD| of {SMD_LIMIT} or more after weighting is flagged."
)
BALANCE_SCHEMA = {
    "covariate": pl.String,  # plain words: "Arrests in the 12 months before", "Race: Black"
    "code": pl.String,  # for analysts: "prior_arrests_12", "race=black"
    "mean_lead": pl.Float64,  # for a level: the share of people at that level
    "mean_comparison": pl.Float64,
    "mean_comparison_weighted": pl.Float64,
    "smd_unweighted": pl.Float64,
    "smd_weighted": pl.Float64,
    "imbalanced": pl.Boolean,  # |smd_weighted| >= SMD_LIMIT
}


class PropensityError(Exception):
    """The propensity model cannot be fitted; the message says why in plain words."""


@dataclass(frozen=True, eq=False)
class Propensity:
    """A fitted propensity model's scores and the ATT weights made from them."""

    scores: np.ndarray  # as fitted, one per person (the design's order)
    truncated: np.ndarray  # after truncation at the percentiles
    weights: np.ndarray  # participants 1; comparison ps/(1-ps), summing to the participants' count
    low: float  # the truncation's cut points: the 1st and 99th percentiles of all scores
    high: float
    below: int  # people whose score was raised to `low`
    above: int  # people whose score was lowered to `high`
    effective_comparison: float  # Kish's effective size of the weighted comparison group

    @property
    def truncated_people(self) -> int:
        return self.below + self.above

    def sentence(self) -> str:
        """The truncation in plain words."""
        return (
            f"Propensity scores were truncated to between {self.low:.3f} and {self.high:.3f} (the "
            f"{PERCENTILES[0]:g}st and {PERCENTILES[1]:g}th percentiles of all scores): "
            f"{self.below:,} raised and {self.above:,} lowered. The weighted comparison group counts "
            f"as {self.effective_comparison:,.0f} people (effective sample size)."
        )


def model_matrix(columns: list[Column]) -> np.ndarray:
    """A constant, then each column; numbers standardised (the fitted scores do not change, the
    fit is better conditioned)."""
    parts = [np.ones(len(columns[0].values))] if columns else []
    for column in columns:
        values = column.values
        if "=" not in column.code:
            values = (values - values.mean()) / values.std()
        parts.append(values)
    return np.column_stack(parts)


def no_overlap(design: Design, columns: list[Column]) -> list[str]:
    """The columns whose values in one group all lie beyond those of the other."""
    treated = design.treated
    return [
        c.label
        for c in columns
        if c.values[treated].max() < c.values[~treated].min()
        or c.values[~treated].max() < c.values[treated].min()
    ]


def fit_propensity(design: Design) -> Propensity:
    """The propensity scores and ATT weights of a design (PropensityError when it cannot be fitted)."""
    treated = design.treated
    if treated.all() or not treated.any():
        raise PropensityError("both groups are needed to fit a propensity model")
    columns = design.model_columns()
    exog = model_matrix(columns) if columns else np.ones((len(treated), 1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = sm.GLM(treated.astype(float), exog, family=sm.families.Binomial()).fit(maxiter=100)
        except (PerfectSeparationError, np.linalg.LinAlgError, ValueError) as error:
            raise PropensityError(f"the propensity model could not be fitted ({error})") from None
    scores = np.asarray(result.fittedvalues, dtype=float)
    separated = any(issubclass(w.category, PerfectSeparationWarning) for w in caught)
    extreme = bool(((scores < EXTREME) | (scores > 1 - EXTREME)).any())
    if separated or extreme or not np.isfinite(scores).all():
        apart = no_overlap(design, columns)
        raise PropensityError(
            "the covariates tell the two groups apart (almost) exactly, so no weighting can make them "
            "comparable"
            + (f": no overlap in {', '.join(apart)}" if apart else "")
            + ". More comparison people like the participants (or fewer covariates) are needed."
        )
    if not result.converged:
        raise PropensityError("the propensity model did not converge in 100 iterations")
    return att_weights(scores, treated)


def att_weights(scores: np.ndarray, treated: np.ndarray) -> Propensity:
    """Scores truncated at the pooled percentiles, and the ATT weights from them."""
    low, high = (float(v) for v in np.percentile(scores, PERCENTILES))
    truncated = np.clip(scores, low, high)
    odds = truncated / (1 - truncated)
    weights = np.ones(len(scores))
    comparison = ~treated
    weights[comparison] = odds[comparison] * treated.sum() / odds[comparison].sum()
    w = weights[comparison]
    return Propensity(
        scores=scores,
        truncated=truncated,
        weights=weights,
        low=low,
        high=high,
        below=int((scores < low).sum()),
        above=int((scores > high).sum()),
        effective_comparison=float(w.sum() ** 2 / (w**2).sum()),
    )


def smd(values: np.ndarray, treated: np.ndarray, weights: np.ndarray | None) -> tuple[float, float | None]:
    """(mean difference over the pooled unweighted SD) without and with the weights; 0 when the
    column never varies in either group and the means agree."""
    t, c = values[treated], values[~treated]
    sd = np.sqrt((t.var(ddof=1) + c.var(ddof=1)) / 2) if len(t) > 1 and len(c) > 1 else 0.0

    def standardised(difference: float) -> float:
        if sd > 0:
            return difference / sd
        return 0.0 if abs(difference) < 1e-12 else float("nan")

    unweighted = standardised(t.mean() - c.mean())
    if weights is None:
        return unweighted, None
    return unweighted, standardised(t.mean() - np.average(c, weights=weights[~treated]))


def balance(design: Design, weights: np.ndarray | None) -> pl.DataFrame:
    """BALANCE_SCHEMA: one row per column of the design (each number, each level), in its order;
    without weights (the model failed) the weighted columns are null."""
    treated = design.treated
    rows = []
    for column in design.columns:
        before, after = smd(column.values, treated, weights)
        comparison = column.values[~treated]
        rows.append(
            {
                "covariate": column.label,
                "code": column.code,
                "mean_lead": float(column.values[treated].mean()),
                "mean_comparison": float(comparison.mean()),
                "mean_comparison_weighted": None
                if weights is None
                else float(np.average(comparison, weights=weights[~treated])),
                "smd_unweighted": None if np.isnan(before) else float(before),
                "smd_weighted": None if after is None or np.isnan(after) else float(after),
                "imbalanced": None if after is None else bool(np.isnan(after) or abs(after) >= SMD_LIMIT),
            }
        )
    return pl.DataFrame(rows, schema=BALANCE_SCHEMA)
