"""The metric definitions (pipelines/core/metrics.py): kinds, nesting, and the README's table."""

from __future__ import annotations

from pathlib import Path

from pipelines.core.metrics import EXCLUSIVE_FLAGS, METRICS, METRICS_VERSION, NESTED_FLAGS, Kind

README = Path(__file__).parents[2] / "README.md"


def test_each_metric_has_a_kind_and_only_days_are_not_people():
    assert METRICS_VERSION == "v2"
    kinds = {name: m.kind for name, m in METRICS.items()}
    assert kinds["active_participants"] is Kind.COUNT
    assert kinds["jail_days"] is Kind.DAYS
    assert {n for n, k in kinds.items() if k is Kind.SHARE} == set(METRICS) - {
        "active_participants",
        "jail_days",
    }
    assert [n for n, m in METRICS.items() if not m.counts_people] == ["jail_days"]
    assert [n for n, m in METRICS.items() if m.is_count] == ["active_participants"]


def test_the_justice_measures_nest_as_design_says():
    nested = set(NESTED_FLAGS)
    for flag in ("booked", "felony_charged", "new_offense_arrest"):
        assert (flag, "active") in nested
    assert ("new_offense_arrest", "arrested") in nested
    # Suppression reasons about counts of people: a day count is in no relation.
    flags = {f for pair in NESTED_FLAGS for f in pair} | {
        f for (a, b), c in EXCLUSIVE_FLAGS for f in (a, b, c)
    }
    assert "custody_days" not in flags


def test_the_readme_defines_every_metric():
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## What the metrics count") :]
    section = section[: section.index("\n## ", 1)]
    rows = [
        line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| metric")
    ]
    assert [row.split(" | ")[0].removeprefix("| ") for row in rows] == [m.label for m in METRICS.values()]
    assert "days per participant" in section and "never a percentage" in section
