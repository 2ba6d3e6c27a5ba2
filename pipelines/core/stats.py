"""Intervals of proportions that every part of the product computes: plain functions of counts.

- `wilson_interval`: Wilson's score interval for one proportion.
- `newcombe_paired_difference`: the difference of two paired proportions (the same people
  measured twice) with Newcombe's hybrid score interval, method 10 of Newcombe (1998),
  "Improved confidence intervals for the difference between binomial proportions based on
  paired data", Statistics in Medicine 17:2635-50.

- `proportion_difference`: the difference of two independent proportions with Newcombe's hybrid
  score interval (statsmodels' "newcomb"); `is_clear_change`: whether such a difference's
  interval leaves out 0, the one rule for saying a share rose or fell (pages and funder reports).

No library we use provides Newcombe's paired interval (statsmodels has the independent one);
the dashboard's pages and `outcomes evaluate` (pipelines/evaluate) share this one.
"""

from __future__ import annotations

from math import sqrt
from statistics import NormalDist

from statsmodels.stats.proportion import confint_proportions_2indep


def z_value(confidence: float = 0.95) -> float:
    """The two-sided standard normal quantile for a confidence level: 1.959964 for 0.95."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


Z95 = z_value(0.95)


def wilson_interval(x: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for x successes out of n: (low, high), always within [0, 1]."""
    if n <= 0 or not 0 <= x <= n:
        raise ValueError(f"need 0 <= x <= n and n > 0, not x={x}, n={n}")
    z2 = z * z
    centre = x + z2 / 2
    half = z * sqrt(x * (n - x) / n + z2 / 4)
    # At x = 0 (or x = n) the limit is exactly 0 (or 1); rounding must not push it past.
    low = 0.0 if x == 0 else max(0.0, (centre - half) / (n + z2))
    high = 1.0 if x == n else min(1.0, (centre + half) / (n + z2))
    return low, high


def paired_phi(both: int, before_only: int, after_only: int, neither: int) -> float:
    """The correlation of the two paired outcomes as Newcombe's method 10 uses it.

    phi = (ad - bc) / sqrt of the product of the four margins, where a = both and d = neither;
    when ad > bc, ad - bc is reduced by n/2 but not below 0 (Newcombe's correction). A margin
    of 0 leaves nothing to correlate: phi is 0.
    """
    n = both + before_only + after_only + neither
    margins = (both + before_only) * (after_only + neither) * (both + after_only) * (before_only + neither)
    if margins == 0:
        return 0.0
    cross = both * neither - before_only * after_only
    if cross > 0:
        cross = max(cross - n / 2, 0.0)
    return cross / sqrt(margins)


def newcombe_paired_difference(
    both: int, before_only: int, after_only: int, neither: int, confidence: float = 0.95
) -> tuple[float, float, float]:
    """The share after minus the share before, with Newcombe's method-10 interval.

    The arguments are the paired (McNemar) counts of one group: people with the outcome in
    both periods, only before, only after, in neither. Returns (difference, low, high); a
    fall reads as a negative difference.
    """
    counts = (both, before_only, after_only, neither)
    if min(counts) < 0:
        raise ValueError(f"counts cannot be negative: {counts}")
    n = sum(counts)
    if n == 0:
        raise ValueError("no pairs: the difference is not defined")
    z = z_value(confidence)
    after, before = both + after_only, both + before_only
    p_after, p_before = after / n, before / n
    low_after, high_after = wilson_interval(after, n, z)
    low_before, high_before = wilson_interval(before, n, z)
    phi = paired_phi(*counts)
    difference = p_after - p_before
    # Square and add the distances from each share to its own Wilson limits, less the
    # covariance the pairing brings (Newcombe 1998, method 10).
    down_after, up_before = p_after - low_after, high_before - p_before
    up_after, down_before = high_after - p_after, p_before - low_before
    below = down_after**2 - 2 * phi * down_after * up_before + up_before**2
    above = up_after**2 - 2 * phi * up_after * down_before + down_before**2
    low = max(-1.0, difference - sqrt(max(below, 0.0)))
    high = min(1.0, difference + sqrt(max(above, 0.0)))
    return difference, low, high


def proportion_difference(
    x1: int, n1: int, x0: int, n0: int, confidence: float = 0.95
) -> tuple[float, float, float]:
    """x1 / n1 minus x0 / n0 with Newcombe's hybrid score interval: (difference, low, high).

    statsmodels' `confint_proportions_2indep(compare="diff", method="newcomb")`, Newcombe (1998)
    method 10 for independent samples: Wilson intervals of each share, combined.
    """
    if n1 <= 0 or n0 <= 0 or not (0 <= x1 <= n1 and 0 <= x0 <= n0):
        raise ValueError(f"need 0 <= x <= n and n > 0, not {x1}/{n1}, {x0}/{n0}")
    low, high = confint_proportions_2indep(
        x1, n1, x0, n0, compare="diff", method="newcomb", alpha=1 - confidence
    )
    # A share of 100% against one of 0% can give 1 + 1e-16: a difference of shares stays in [-1, 1].
    return x1 / n1 - x0 / n0, max(-1.0, float(low)), min(1.0, float(high))


def is_clear_change(x1: int, n1: int, x0: int, n0: int) -> bool:
    """Whether x1 / n1 differs from x0 / n0 beyond the uncertainty: the 95% interval of the
    difference leaves out 0. Only then is a share said to have risen or fallen."""
    _, low, high = proportion_difference(x1, n1, x0, n0)
    return low > 0 or high < 0
