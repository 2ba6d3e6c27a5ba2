"""How a funder snapshot names what metrics.csv holds as codes: periods, breakdowns, groups, measures
and the mark of a hidden cell, for every file and page meant for people (report.html, the PDF,
metrics.xlsx, the Snapshots page).

Codes of the export contract are read through the one label registry, checks/labels.py; the rest
(periods, cohorts, age bands, sites) have a fixed form of their own here. metrics.csv keeps the codes.
"""

from __future__ import annotations

import datetime as dt
import re

from checks.labels import VOCABULARIES, label
from pipelines.core.metrics import DIMENSION_LABELS, METRICS, SMALL_COUNT
from pipelines.core.periods import QUARTER, parse_quarter

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
AGE_BAND = re.compile(r"^(\d+)-(\d+)$")
# The contract vocabularies behind the breakdowns that hold contract codes.
VOCABULARY = {"referral_type": "referral_type", "race": "race", "gender": "gender"}
# A hidden cell everywhere people read one. The footnote says what it stands for: the count is
# under SMALL_COUNT, or it was hidden so that such a count cannot be worked out (the reason is not
# published).
HIDDEN = f"fewer than {SMALL_COUNT}*"
HIDDEN_NOTE = (
    f"* Not shown, to protect privacy: fewer than {SMALL_COUNT} people, or a number from which such "
    "a small count could be worked out."
)
NO_ROW = "none counted"
RULE_IN_ONE_SENTENCE = (
    f"To protect participants' privacy, no number of people from 1 to {SMALL_COUNT - 1} is shown, nor "
    f"a percentage of fewer than {SMALL_COUNT} people, nor any number from which one of those could be "
    "worked out."
)


def month_date(period: str) -> dt.date | None:
    """The first day of a month period 'YYYY-MM'; None for anything else."""
    match = MONTH.match(period)
    return dt.date(int(match[1]), int(match[2]), 1) if match else None


def is_quarter(period: str) -> bool:
    return bool(QUARTER.match(period))


def period_bounds(period: str) -> tuple[dt.date, dt.date] | None:
    """A month's or a quarter's first and last days; None for a period of neither form."""
    if is_quarter(period):
        quarter = parse_quarter(period)
        return quarter.start, quarter.end
    first = month_date(period)
    if first is None:
        return None
    after = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, after - dt.timedelta(days=1)


def period_label(period: str) -> str:
    """'2024-07' is 'Jul 2024'; the quarter '2024-Q3' is 'Q3 2024'."""
    if is_quarter(period):
        year, q = period.split("-")
        return f"{q} {year}"
    first = month_date(period)
    return first.strftime("%b %Y") if first else period


def month_name(period: str) -> str:
    """'2024-09' is 'September 2024'."""
    first = month_date(period)
    return first.strftime("%B %Y") if first else period_label(period)


def quarter_span(period: str) -> str:
    """'2024-Q3' is 'July to September 2024'."""
    quarter = parse_quarter(period)
    return f"{quarter.start.strftime('%B')} to {quarter.end.strftime('%B %Y')}"


def dimension_label(dimension: str) -> str:
    """A breakdown as a report names it."""
    return DIMENSION_LABELS.get(dimension) or dimension.replace("_", " ").capitalize()


def site_label(site_id: str) -> str:
    """A site id as people read it: 'king-south' is 'King South'."""
    words = [w for w in re.split(r"[-_\s]+", site_id) if w]
    return " ".join(w[:1].upper() + w[1:] for w in words) or site_id


def group_label(dimension: str, group: str) -> str:
    """A group of a breakdown as people read it, never its code."""
    if dimension == "all":
        return DIMENSION_LABELS["all"]
    if dimension in VOCABULARY:
        return label(VOCABULARY[dimension], group)
    if dimension == "cohort":
        return f"Referred {period_label(group)}" if is_quarter(group) else group
    if dimension == "site":
        return site_label(group)
    if dimension == "age_band":
        match = AGE_BAND.match(group)
        if match:
            return f"{match[1]} to {match[2]}"
        if group.endswith("+"):
            return f"{group[:-1]} and over"
    return group.replace("_", " ")


def measure_label(metric: str, recorded: dict | None = None) -> str:
    """A measure's label as the snapshot recorded it, else today's, else its name in words."""
    found = (recorded or {}).get(metric, {}).get("label")
    if found:
        return str(found)
    return METRICS[metric].label if metric in METRICS else metric.replace("_", " ").capitalize()


def table_label(table: str) -> str:
    """An export table as people read it."""
    return label("table", table)


def group_order(dimension: str, groups: list[str]) -> list[str]:
    """A breakdown's groups (each once) in the order people expect: a vocabulary's own order with
    'unknown' last, else sorted (cohorts and age bands by time and age, sites by name)."""
    unique = sorted(set(groups))
    if dimension not in VOCABULARY:
        return unique
    codes = [c for c in VOCABULARIES[VOCABULARY[dimension]] if c != "unknown"]
    return sorted(unique, key=lambda g: (g == "unknown", codes.index(g) if g in codes else len(codes), g))
