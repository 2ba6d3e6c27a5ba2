"""How a metric's value and its change read, by the metric's kind (dashboard/formatting.py)."""

from __future__ import annotations

import pytest

from dashboard.formatting import format_change, format_value, is_zero_change
from pipelines.core.metrics import METRICS, Kind


@pytest.mark.parametrize(
    ("value", "kind", "shown"),
    [
        (1.4, Kind.DAYS, "1.4 days per participant"),
        (21 / 5, Kind.DAYS, "4.2 days per participant"),
        (0.0, Kind.DAYS, "0.0 days per participant"),
        (1234.5, Kind.DAYS, "1,234.5 days per participant"),
        (0.357, Kind.SHARE, "35.7%"),
        (1234.0, Kind.COUNT, "1,234"),
        (None, Kind.DAYS, "—"),
    ],
)
def test_format_value_by_kind(value: float | None, kind: Kind, shown: str) -> None:
    assert format_value(value, kind) == shown


@pytest.mark.parametrize(
    ("change", "kind", "shown"),
    [
        (0.31, Kind.DAYS, "+0.3 days"),
        (-1.26, Kind.DAYS, "-1.3 days"),
        (-0.04, Kind.DAYS, "0.0 days"),  # rounds to nothing: no sign
        (0.0254, Kind.SHARE, "+2.5 pp"),
        (-3.0, Kind.COUNT, "-3"),
    ],
)
def test_format_change_by_kind(change: float, kind: Kind, shown: str) -> None:
    assert format_change(change, kind) == shown
    assert is_zero_change(change, kind) == (shown in ("0", "0.0 pp", "0.0 days"))


def test_days_in_jail_never_reads_as_a_percentage() -> None:
    days = METRICS["jail_days"]
    assert days.kind is Kind.DAYS and not days.is_count and not days.counts_people
    assert "%" not in format_value(0.83, days.kind)
    assert "pp" not in (format_change(0.12, days.kind) or "")


def test_is_count_still_reads_as_count_or_share() -> None:
    # Pages that pass a metric's is_count keep reading as before.
    assert format_value(0.5, False) == format_value(0.5, Kind.SHARE) == "50.0%"
    assert format_value(12.0, True) == format_value(12.0, Kind.COUNT) == "12"
