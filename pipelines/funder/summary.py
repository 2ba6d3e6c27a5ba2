"""What a funder snapshot found, in plain sentences: the quarter's headline measures, program-wide,
beside the quarter before and the same quarter a year earlier (issue 15).

Everything here is read from a snapshot's metrics.csv (as text, as catalog.load_metrics and the
report read it), so a sentence can say no more than metrics.csv shows: a hidden cell is never
turned back into a number. A status (housing, work, income) is read at the end of the quarter, its
last month's row (status at the month's end, as the dashboard counts it); what can happen at any
time (being active, engaged in treatment, arrested) is read over the whole quarter, its quarter row
(distinct participants over its three months).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from pipelines.core.metrics import METRICS
from pipelines.core.periods import add_months, parse_quarter, quarter_label
from pipelines.core.stats import is_clear_change
from pipelines.funder import names

# The headline measures, in the order the summary gives them.
HEADLINES = (
    "active_participants",
    "permanent_housing",
    "unsheltered",
    "treatment_engaged",
    "employed",
    "income_or_benefits",
    "arrested",
)
# Statuses at a month's end: read at the quarter's end (its last month).
AT_QUARTER_END = frozenset(
    {
        "permanent_housing",
        "sheltered",
        "unsheltered",
        "employed",
        "employment_continuum",
        "income_or_benefits",
    }
)
# What each share says, after its percentage.
PHRASES = {
    "permanent_housing": "of participants with a known housing status were in permanent housing",
    "sheltered": "of participants with a known housing status were sheltered",
    "unsheltered": "of participants with a known housing status were unsheltered",
    "treatment_engaged": "of active participants were engaged in treatment",
    "employed": "of participants with a known employment status were working",
    "employment_continuum": (
        "of participants with a known employment status were working, in training or education, or retired"
    ),
    "income_or_benefits": "of participants whose income is known had earned income or cash benefits",
    "arrested": "of active participants were arrested at least once",
}


@dataclass(frozen=True)
class Cell:
    """One published number of metrics.csv: its counts, or hidden."""

    period: str
    numerator: int | None
    denominator: int | None
    hidden: bool

    @property
    def share(self) -> float | None:
        if self.hidden or self.numerator is None or not self.denominator:
            return None
        return self.numerator / self.denominator

    def percent(self) -> str:
        share = self.share
        return names.HIDDEN if share is None else f"{share:.0%}"


@dataclass(frozen=True)
class Headline:
    """One headline measure: this quarter, the quarter before, a year earlier (None: no row)."""

    metric: str
    label: str
    now: Cell | None
    before: Cell | None
    year_ago: Cell | None

    @property
    def at_quarter_end(self) -> bool:
        return self.metric in AT_QUARTER_END

    @property
    def is_count(self) -> bool:
        return self.metric in METRICS and METRICS[self.metric].is_count

    def sentence(self) -> str | None:
        """The headline in a plain sentence; None when the quarter has no row for it."""
        if self.now is None:
            return None
        if self.is_count:
            return _count_sentence(self)
        return _share_sentence(self)


def previous_quarter(period: str) -> str:
    return quarter_label(add_months(parse_quarter(period).start, -3))


def year_earlier(period: str) -> str:
    return quarter_label(add_months(parse_quarter(period).start, -12))


def basis(metric: str, quarter: str) -> str:
    """The period a headline of `quarter` is read from: its last month for a status, else itself."""
    if metric in AT_QUARTER_END:
        return parse_quarter(quarter).months[-1].strftime("%Y-%m")
    return quarter


def headlines(table: pl.DataFrame, quarter: str, recorded: Mapping | None = None) -> list[Headline]:
    """The headline measures of `quarter` from metrics.csv read as text (program-wide rows)."""
    cells = {
        (r["metric"], r["period"]): _cell(r)
        for r in table.filter(pl.col("dimension") == "all").iter_rows(named=True)
    }
    found = []
    for metric in HEADLINES:
        if not any(m == metric for m, _ in cells):
            continue
        found.append(
            Headline(
                metric,
                names.measure_label(metric, dict(recorded or {})),
                cells.get((metric, basis(metric, quarter))),
                cells.get((metric, basis(metric, previous_quarter(quarter)))),
                cells.get((metric, basis(metric, year_earlier(quarter)))),
            )
        )
    return found


def _cell(row: Mapping[str, str]) -> Cell:
    def number(text: str | None) -> int | None:
        return int(text) if text not in (None, "") else None

    return Cell(
        row["period"], number(row["numerator"]), number(row["denominator"]), row["suppressed"] == "true"
    )


def when(cell: Cell, at_end: bool) -> str:
    """When a headline's number was counted: 'at the end of June 2024' or 'in Q2 2024'."""
    if at_end:
        return f"at the end of {names.month_name(cell.period)}"
    return f"in {names.period_label(cell.period)}"


def _change(now: float | int, then: float | int, then_text: str, when_then: str) -> str:
    """'up from 27% at the end of June 2024', 'down from', or 'the same as'."""
    if now > then:
        return f"up from {then_text} {when_then}"
    if now < then:
        return f"down from {then_text} {when_then}"
    return f"the same as {when_then}"


def _count_sentence(h: Headline) -> str:
    now = h.now
    assert now is not None
    if now.hidden or now.numerator is None:
        return f"The number of {h.label.lower()} {when(now, False)} is not shown ({names.HIDDEN})."
    text = f"{now.numerator:,} participants were active {when(now, False)}"
    before = h.before
    if before is not None and not before.hidden and before.numerator is not None:
        text += ", " + _change(now.numerator, before.numerator, f"{before.numerator:,}", "the quarter before")
    year = h.year_ago
    if year is not None and not year.hidden and year.numerator is not None:
        text += f"; a year earlier, {year.numerator:,} were"
    return text + "."


def _share_sentence(h: Headline) -> str:
    now = h.now
    assert now is not None
    phrase = PHRASES.get(h.metric, f"were counted in {h.label.lower()}")
    at_end = h.at_quarter_end
    moment = when(now, at_end) if at_end else "in the quarter"
    share = now.share
    if share is None:
        return f"{h.label} {moment}: not shown ({names.HIDDEN})."
    rounded = round(share * 100)
    text = f"{now.percent()} {phrase} {moment} ({now.numerator:,} of {now.denominator:,})"
    before, year = h.before, h.year_ago
    if before is not None and before.share is not None:
        before_when = when(before, True) if at_end else "the quarter before"
        assert now.numerator is not None and now.denominator and before.numerator is not None
        if is_clear_change(now.numerator, now.denominator, before.numerator, before.denominator or 0):
            text += ", " + _change(rounded, round(before.share * 100), before.percent(), before_when)
        else:  # the one rule for rises and falls (pipelines/core/stats.py), as the pages say it
            text += f", against {before.percent()} {before_when} (a change within the uncertainty)"
    if year is not None and year.share is not None:
        text += f"; a year earlier ({when(year, at_end).removeprefix('in ')}), {year.percent()}"
    return text[0].upper() + text[1:] + "."
