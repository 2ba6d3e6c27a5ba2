"""The one small-numbers rule every page follows (DESIGN s.9), in one place.

- A rate on a denominator under SMALL_COUNT (11) is drawn hollow and flagged in the table beside
  its chart; nothing is hidden (funder snapshots suppress instead: pipelines/funder). A count (active
  participants) is exact, not an estimate: it is never flagged.
- A Kaplan-Meier median or milestone read where fewer than MIN_AT_RISK (20) are still at risk is
  shown as TOO_FEW_AT_RISK, not as a number.
- Curves by month stop at the last complete month (pipelines.core.periods.latest_complete_month).
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from pipelines.core.metrics import MIN_AT_RISK, SMALL_COUNT

SMALL_FLAG = f"Fewer than {SMALL_COUNT} people"
SMALL_NOTE = (
    f"A hollow point is a rate on fewer than {SMALL_COUNT} people (flagged in the table): "
    "one person more or less moves it a lot; read it with care."
)
TOO_FEW_AT_RISK = "too few at risk"
TOO_FEW_NOTE = (
    f"A median or milestone is shown only while at least {MIN_AT_RISK} people are still followed "
    f'("{TOO_FEW_AT_RISK}" otherwise).'
)


def is_small(denominator: int | None, *, is_count: bool = False) -> bool:
    """Whether a rate on this denominator rests on too few people to read without a flag."""
    return not is_count and denominator is not None and denominator < SMALL_COUNT


def marker_symbols(
    denominators: Iterable[int | None], symbol: str = "circle", *, is_count: bool = False
) -> list[str]:
    """Plotly marker symbols: `symbol` for each point, its open form where the denominator is small."""
    return [f"{symbol}-open" if is_small(d, is_count=is_count) else symbol for d in denominators]


def small_flag(denominator: str = "denominator", *, is_count: bool = False) -> pl.Expr:
    """The table's flag column: SMALL_FLAG where the denominator is small, else blank."""
    return (
        pl.when((pl.col(denominator) < SMALL_COUNT) & pl.lit(not is_count))
        .then(pl.lit(SMALL_FLAG))
        .otherwise(pl.lit(""))
        .alias("flag")
    )


def too_few_at_risk(at_risk: int | None) -> bool:
    """Whether a survival estimate read at this number at risk is shown as TOO_FEW_AT_RISK."""
    return at_risk is None or at_risk < MIN_AT_RISK
