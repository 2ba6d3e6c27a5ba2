"""Confidence intervals the pages show: plain functions of counts, no data access, no drawing.

- `wilson_interval`, `newcombe_paired_difference` (and `z_value`, `paired_phi`): from
  pipelines/core/stats.py, which `outcomes evaluate` shares (pipelines never import dashboard/).
- `rate_ratio`: the ratio of two independent proportions with the log (Katz) interval.
"""

from __future__ import annotations

from math import exp, log, sqrt

from pipelines.core.stats import Z95, newcombe_paired_difference, paired_phi, wilson_interval, z_value

__all__ = ["Z95", "newcombe_paired_difference", "paired_phi", "rate_ratio", "wilson_interval", "z_value"]


def rate_ratio(
    a: int, n1: int, c: int, n2: int, confidence: float = 0.95
) -> tuple[float, float, float] | None:
    """(a / n1) / (c / n2) with the log (Katz) interval: (ratio, low, high).

    SE(log ratio) = sqrt(1/a - 1/n1 + 1/c - 1/n2). None when the ratio or its interval is not
    defined: a zero denominator, or a zero numerator in either group (the caller says why).
    """
    if min(a, n1, c, n2) < 0 or a > n1 or c > n2:
        raise ValueError(f"need 0 <= a <= n1 and 0 <= c <= n2, not {a}/{n1}, {c}/{n2}")
    if a == 0 or c == 0:
        return None
    ratio = (a / n1) / (c / n2)
    se = sqrt(max(1 / a - 1 / n1 + 1 / c - 1 / n2, 0.0))
    spread = z_value(confidence) * se
    return ratio, exp(log(ratio) - spread), exp(log(ratio) + spread)
