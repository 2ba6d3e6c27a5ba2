"""Confidence intervals the pages show: plain functions of counts, no data access, no drawing.

- `wilson_interval`, `newcombe_paired_difference` (and `z_value`, `paired_phi`): from
  pipelines/core/stats.py, which `outcomes evaluate` shares (pipelines never import dashboard/).
- `rate_ratio`: the ratio of two independent proportions (a group's rate against a reference
  group's) with Koopman's score interval when either numerator is under SCORE_BELOW, else the log
  (Katz) interval; both from statsmodels.
- `proportion_difference`: the difference of two independent proportions with Newcombe's hybrid
  score interval (statsmodels' "newcomb"), from pipelines/core/stats.py (funder reports share it).
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

from scipy import optimize
from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

from pipelines.core.stats import (
    Z95,
    newcombe_paired_difference,
    paired_phi,
    proportion_difference,
    wilson_interval,
    z_value,
)

__all__ = [
    "LOG",
    "SCORE",
    "Z95",
    "RateRatio",
    "katz_ratio",
    "newcombe_paired_difference",
    "paired_phi",
    "proportion_difference",
    "rate_ratio",
    "score_ratio",
    "wilson_interval",
    "z_value",
]

# A numerator under this in either group: the log (Katz) interval is unreliable (it has no width
# to give at 0 and is too narrow near it), so the ratio takes the score interval instead.
SCORE_BELOW = 10
SCORE, LOG = "score interval", "log interval"


class RateRatio(NamedTuple):
    """A rate ratio, its 95% (or other) interval, and which interval it is (SCORE or LOG)."""

    ratio: float
    low: float
    high: float
    method: str


def _check_counts(a: int, n1: int, c: int, n2: int) -> None:
    if min(a, n1, c, n2) < 0 or a > n1 or c > n2:
        raise ValueError(f"need 0 <= a <= n1 and 0 <= c <= n2, not {a}/{n1}, {c}/{n2}")


def katz_ratio(
    a: int, n1: int, c: int, n2: int, confidence: float = 0.95
) -> tuple[float, float, float] | None:
    """(a / n1) / (c / n2) with the log (Katz) interval: (ratio, low, high).

    statsmodels' `confint_proportions_2indep(compare="ratio", method="log")`: log ratio ± z·SE,
    SE = sqrt(1/a - 1/n1 + 1/c - 1/n2). None with a zero count in a numerator or denominator.
    """
    _check_counts(a, n1, c, n2)
    if a == 0 or c == 0:
        return None
    low, high = confint_proportions_2indep(a, n1, c, n2, compare="ratio", method="log", alpha=1 - confidence)
    return (a / n1) / (c / n2), float(low), float(high)


def _score_pvalue(a: int, n1: int, c: int, n2: int, ratio: float) -> float:
    """The two-sided p-value of Koopman's score test that the true ratio is `ratio` (statsmodels)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = test_proportions_2indep(
            a, n1, c, n2, value=ratio, compare="ratio", method="score", correction=False
        )
    # At the estimate itself the statistic is 0/0 when a group is at 100%: nothing is rejected there.
    return 1.0 if math.isnan(result.pvalue) else float(result.pvalue)


def _inverted_score_interval(a: int, n1: int, c: int, n2: int, alpha: float) -> tuple[float, float]:
    """The ratios Koopman's score test does not reject at `alpha`: its interval, by definition.

    The limits are where the test's p-value falls to alpha, found by scipy's brentq on each side
    of the estimate (the p-value is 1 there and falls away on both sides).
    """
    ratio = (a / n1) / (c / n2)

    def above_alpha(value: float) -> float:
        return _score_pvalue(a, n1, c, n2, value) - alpha

    low = 0.0
    if a > 0:
        bracket = ratio / 2
        while above_alpha(bracket) > 0:
            bracket /= 2
        low = optimize.brentq(above_alpha, bracket, ratio, xtol=1e-12, rtol=1e-10)
    start = ratio if ratio > 0 else 1e-12
    bracket = max(ratio, 1.0) * 2
    while above_alpha(bracket) > 0:
        bracket *= 2
    high = optimize.brentq(above_alpha, start, bracket, xtol=1e-12, rtol=1e-10)
    return low, high


def score_ratio(
    a: int, n1: int, c: int, n2: int, confidence: float = 0.95
) -> tuple[float, float, float] | None:
    """(a / n1) / (c / n2) with Koopman's (1984) score interval: (ratio, low, high).

    statsmodels' `confint_proportions_2indep(compare="ratio", method="score", correction=False)`.
    A zero numerator in the group gives a ratio of 0 and an interval from 0. None when the
    reference's numerator is 0 (the ratio is infinite). statsmodels' closed form picks the wrong
    roots when either group is at 100% (a = n1 or c = n2); there the same interval is found by
    inverting statsmodels' score test (`_inverted_score_interval`).
    """
    _check_counts(a, n1, c, n2)
    if c == 0 or n1 == 0:
        return None
    alpha = 1 - confidence
    if a == n1 or c == n2:
        low, high = _inverted_score_interval(a, n1, c, n2, alpha)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            low, high = confint_proportions_2indep(
                a, n1, c, n2, compare="ratio", method="score", alpha=alpha, correction=False
            )
        # At a = 0 the lower root is 0 up to rounding (it can come out as -3e-15).
        low = 0.0 if a == 0 else float(low)
    return (a / n1) / (c / n2), low, float(high)


def rate_ratio(a: int, n1: int, c: int, n2: int, confidence: float = 0.95) -> RateRatio | None:
    """A group's rate a / n1 against a reference's c / n2, with the interval that suits the counts.

    Either numerator under SCORE_BELOW: Koopman's score interval (which also covers a = 0, where
    the log interval has none); otherwise the log (Katz) interval. None when there is no ratio:
    a zero denominator, or a zero numerator in the reference.
    """
    _check_counts(a, n1, c, n2)
    if n1 == 0 or n2 == 0 or c == 0:
        return None
    if min(a, c) < SCORE_BELOW:
        result, method = score_ratio(a, n1, c, n2, confidence), SCORE
    else:
        result, method = katz_ratio(a, n1, c, n2, confidence), LOG
    assert result is not None  # every zero count was answered above
    return RateRatio(*result, method)
