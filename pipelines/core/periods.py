"""Calendar periods: months (their first day) and quarters ('YYYY-Qn')."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def month_start(day: dt.date) -> dt.date:
    """The first day of the month holding `day`."""
    return day.replace(day=1)


def add_months(month: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after (or before, if negative) `month`."""
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def latest_complete_month(as_of: dt.date) -> dt.date:
    """The last whole month the release covers: the as-of date's own month when the as-of date is
    its last day, else the month before (a partial month is never read as a whole one)."""
    if (as_of + dt.timedelta(days=1)).day == 1:
        return month_start(as_of)
    return add_months(month_start(as_of), -1)


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter: its label 'YYYY-Qn' and first and last days."""

    label: str
    start: dt.date
    end: dt.date

    @property
    def months(self) -> list[dt.date]:
        return [self.start.replace(month=self.start.month + i) for i in range(3)]


def parse_quarter(text: str) -> Quarter:
    """'YYYY-Qn' as a Quarter, or ValueError."""
    match = QUARTER.match(text)
    if not match:
        raise ValueError(f"'{text}' is not a quarter YYYY-Qn (e.g. 2024-Q1)")
    year, q = int(match[1]), int(match[2])
    start = dt.date(year, 3 * q - 2, 1)
    after = dt.date(year + 1, 1, 1) if q == 4 else dt.date(year, 3 * q + 1, 1)
    return Quarter(text, start, after - dt.timedelta(days=1))


def quarter_label(day: dt.date) -> str:
    """The quarter holding a day, as 'YYYY-Qn'."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
