"""The weighted effect estimators of the impact evaluation: plain functions of arrays, one value
per person (or per person-window), each returning an `Estimate` with its 95% interval.

- `odds_ratio`: a weighted logistic regression of the outcome on the group (statsmodels GLM,
  binomial, the weights as variance weights), robust sandwich (HC0) standard error.
- `rate_ratio`: a weighted Poisson regression of a count on the group with log(person-years) as
  offset: its ratio is exactly the ratio of the groups' weighted rates; sandwich (HC0) interval,
  which holds under overdispersion (jail days, repeated charges).
- `did_rate_ratio`: the difference-in-differences rate ratio: a Poisson GLM on person-window
  rows (before and after the index date) with offset log(person-years at risk), the group, the
  period and their interaction; the interaction is the ratio of the participants' change to the
  comparison group's. Standard errors cluster-robust by person. Rows with no time at risk are
  left out and counted.

The sandwich treats the weights as known (the propensity model's own uncertainty is not added).
An estimate that is not defined (no event in a group, every person with one) is null with a note.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

from pipelines.core.stats import Z95
from pipelines.evaluate.windows import DAYS_PER_YEAR

ODDS_METHOD = (
    "Weighted logistic regression of the outcome on the group (statsmodels GLM, binomial, weights as "
    "variance weights); 95% interval from the robust sandwich (HC0) standard error, weights taken as known."
)
RATE_METHOD = (
    "Weighted Poisson regression of the count on the group with log(person-years) as offset (statsmodels "
    "GLM): the ratio of the groups' weighted rates; 95% interval from the robust sandwich (HC0) standard "
    "error, which allows overdispersion."
)
DID_METHOD = (
    "Difference-in-differences: weighted Poisson regression on person-window rows (each group's own 12 "
    "months before the index date, and the window after) with offset log(person-years at risk), group, "
    "period and their interaction (statsmodels GLM); the interaction's rate ratio, 95% interval from "
    "standard errors cluster-robust by person. Windows with no time at risk are left out."
)


@dataclass(frozen=True)
class Estimate:
    """A ratio and its 95% interval; all null, with a note, when it cannot be estimated."""

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    note: str | None = None

    @staticmethod
    def missing(note: str) -> Estimate:
        return Estimate(None, None, None, note)

    def covers(self, value: float) -> bool:
        """Whether the interval holds `value` (False without an interval)."""
        return self.ci_low is not None and self.ci_high is not None and self.ci_low <= value <= self.ci_high


def ratio_from(coefficient: float, se: float) -> Estimate:
    """exp of a log-ratio and of its Wald limits."""
    if not (np.isfinite(coefficient) and np.isfinite(se)):
        return Estimate.missing("the model gave no finite estimate")
    return Estimate(
        float(np.exp(coefficient)),
        float(np.exp(coefficient - Z95 * se)),
        float(np.exp(coefficient + Z95 * se)),
    )


def fit(model: sm.GLM, **options: object) -> sm.GLM | None:
    """The fitted model, or None when it does not converge or separates."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = model.fit(maxiter=100, **options)
        except (np.linalg.LinAlgError, ValueError):
            return None
    if any(issubclass(w.category, PerfectSeparationWarning) for w in caught) or not result.converged:
        return None
    return result


def weighted_share(outcome: np.ndarray, weights: np.ndarray) -> float | None:
    """The weighted share of people with the outcome."""
    total = weights.sum()
    return float((weights * outcome).sum() / total) if total > 0 else None


def weighted_rate(count: np.ndarray, days: np.ndarray, weights: np.ndarray) -> float | None:
    """Events per person-year: the weighted sum of counts over the weighted sum of years."""
    years = (weights * days).sum() / DAYS_PER_YEAR
    return float((weights * count).sum() / years) if years > 0 else None


def odds_ratio(outcome: np.ndarray, treated: np.ndarray, weights: np.ndarray) -> Estimate:
    """The participants' odds of the outcome over the weighted comparison group's."""
    outcome = outcome.astype(float)
    for group, name in ((treated, "participants"), (~treated, "comparison people")):
        if not group.any():
            return Estimate.missing(f"no {name}")
        share = outcome[group].mean()
        if share in (0.0, 1.0):
            return Estimate.missing(f"{'none' if share == 0 else 'all'} of the {name} had it: no odds ratio")
    exog = np.column_stack([np.ones(len(outcome)), treated.astype(float)])
    result = fit(sm.GLM(outcome, exog, family=sm.families.Binomial(), var_weights=weights), cov_type="HC0")
    if result is None:
        return Estimate.missing("the model did not converge")
    return ratio_from(result.params[1], result.bse[1])


def rate_ratio(count: np.ndarray, days: np.ndarray, treated: np.ndarray, weights: np.ndarray) -> Estimate:
    """The participants' weighted rate over the comparison group's, people with no days left out."""
    keep = days > 0
    count, days, treated, weights = count[keep], days[keep], treated[keep], weights[keep]
    for group, name in ((treated, "participants"), (~treated, "comparison people")):
        if not group.any():
            return Estimate.missing(f"no {name} with time to count")
        if (weights[group] * count[group]).sum() == 0:
            return Estimate.missing(f"none among the {name}: no rate ratio")
    exog = np.column_stack([np.ones(len(count)), treated.astype(float)])
    offset = np.log(days / DAYS_PER_YEAR)
    model = sm.GLM(
        count.astype(float), exog, family=sm.families.Poisson(), offset=offset, var_weights=weights
    )
    result = fit(model, cov_type="HC0")
    if result is None:
        return Estimate.missing("the model did not converge")
    return ratio_from(result.params[1], result.bse[1])


def did_rate_ratio(
    before: tuple[np.ndarray, np.ndarray],
    after: tuple[np.ndarray, np.ndarray],
    treated: np.ndarray,
    weights: np.ndarray,
) -> tuple[Estimate, int]:
    """The difference-in-differences rate ratio: (participants' rate after / before) over the
    weighted comparison group's, and the number of person-windows left out for no time at risk.

    `before` and `after` are (counts, days at risk), one value per person."""
    people = np.arange(len(treated))
    count = np.concatenate([before[0], after[0]]).astype(float)
    days = np.concatenate([before[1], after[1]]).astype(float)
    period = np.concatenate([np.zeros(len(people)), np.ones(len(people))])
    group = np.concatenate([treated, treated]).astype(float)
    person = np.concatenate([people, people])
    weight = np.concatenate([weights, weights])
    keep = days > 0
    dropped = int((~keep).sum())
    count, days, period, group, person, weight = (
        a[keep] for a in (count, days, period, group, person, weight)
    )
    for g in (1.0, 0.0):
        for p in (0.0, 1.0):
            cell = (group == g) & (period == p)
            if (weight[cell] * count[cell]).sum() == 0:
                who = "participants" if g else "comparison people"
                when = "after" if p else "before"
                return Estimate.missing(f"no arrests among the {who} {when} the index date"), dropped
    exog = np.column_stack([np.ones(len(count)), group, period, group * period])
    model = sm.GLM(
        count, exog, family=sm.families.Poisson(), offset=np.log(days / DAYS_PER_YEAR), var_weights=weight
    )
    result = fit(model, cov_type="cluster", cov_kwds={"groups": person})
    if result is None:
        return Estimate.missing("the model did not converge"), dropped
    return ratio_from(result.params[3], result.bse[3]), dropped
