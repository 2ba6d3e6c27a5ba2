"""Intervals of proportions that every part of the product computes: plain functions of counts.

- `wilson_interval`: Wilson's score interval for one proportion.
- `newcombe_paired_difference`: the difference of two paired proportions (the same people
  measured twice) with Newcombe's hybrid score interval, method 10 of Newcombe (1998),
  "Improved confidence intervals for the difference between binomial proportions based on
  paired data", Statistics in Medicine 17:2635-50.

No library we use provides Newcombe's paired interval (statsmodels has the independent one);
the dashboard's pages and `outcomes evaluate` (pipelines/evaluate) share this one.
"""

from __future__ import annotations

from math import sqrt
from statistics import NormalDist


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
