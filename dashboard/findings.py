"""The opening sentences pages compute from their own numbers (what a page found, in words).

A change between two shares is said to rise or fall only when its 95% interval leaves out 0
(dashboard/stats.py); otherwise the sentence says the change is within the uncertainty, as the
Overview's tiles do.
"""

from __future__ import annotations

import re

from dashboard import stats
from dashboard.formatting import definition_line
from pipelines.core.metrics import Metric


def is_clear(low: float | None, high: float | None) -> bool:
    """Whether a change's interval leaves out 0: a rise or fall beyond the uncertainty."""
    return low is not None and high is not None and (low > 0 or high < 0)


def share_change(subject: str, now: tuple[int, int], then: tuple[int, int]) -> str:
    """'the share unsheltered fell from 31% to 25%', or that it went from one to the other within
    the uncertainty. `now` and `then` are (numerator, denominator) with denominators above 0."""
    before, after = then[0] / then[1], now[0] / now[1]
    _, low, high = stats.proportion_difference(*now, *then)
    shares = f"{before:.0%} to {after:.0%}"
    if is_clear(low, high):
        return f"{subject} {'rose' if after > before else 'fell'} from {shares}"
    return f"{subject} went from {shares}, a change within the uncertainty"


# A metric's definition names the HMIS codes it reads; a page says the words, and its expander the
# codes ("HMIS 4xx" is for analysts).
_CODES = re.compile(r" \(HMIS [^)]*\)")


def plain_definition(metric: Metric) -> str:
    """A metric's definition line as a page shows it outside its method notes: no HMIS codes."""
    return _CODES.sub("", definition_line(metric))
