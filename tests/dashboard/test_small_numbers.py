"""The one small-numbers rule (dashboard/small_numbers.py): 10 is small, 11 is not; a count never is."""

from __future__ import annotations

import polars as pl

from dashboard.small_numbers import SMALL_FLAG, is_small, marker_symbols, small_flag, too_few_at_risk
from pipelines.core.metrics import MIN_AT_RISK, SMALL_COUNT


def test_the_threshold_is_eleven() -> None:
    assert SMALL_COUNT == 11
    assert is_small(10) and not is_small(11)
    assert is_small(1) and not is_small(None)
    assert not is_small(3, is_count=True)  # a count is exact, not an estimate


def test_marker_symbols() -> None:
    assert marker_symbols([10, 11, None, 0]) == ["circle-open", "circle", "circle", "circle-open"]
    assert marker_symbols([10, 11], "diamond") == ["diamond-open", "diamond"]
    assert marker_symbols([10, 11], is_count=True) == ["circle", "circle"]


def test_small_flag() -> None:
    frame = pl.DataFrame({"denominator": [10, 11, 400], "people": [3, 30, 1]})
    assert frame.select(small_flag())["flag"].to_list() == [SMALL_FLAG, "", ""]
    assert frame.select(small_flag("people"))["flag"].to_list() == [SMALL_FLAG, "", SMALL_FLAG]
    assert frame.select(small_flag(is_count=True))["flag"].to_list() == ["", "", ""]
    assert SMALL_FLAG == "Fewer than 11 people"


def test_too_few_at_risk() -> None:
    assert too_few_at_risk(MIN_AT_RISK - 1) and not too_few_at_risk(MIN_AT_RISK)
    assert too_few_at_risk(None)
