"""How numbers read on the pages: shares as percentages (their changes in percentage points),
counts of participants as whole numbers, days per participant with one decimal."""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from pipelines.core.metrics import Kind, Metric
from pipelines.core.problems import HEADERS, VOCABULARIES, for_people, readable

MISSING = "—"


def month_label(month: date) -> str:
    """A month as staff say it: `May 2024`."""
    return month.strftime("%b %Y")


def definition_line(metric: Metric) -> str:
    """The line under every chart of a metric that says what is counted."""
    return f"Numerator: {metric.numerator}; denominator: {metric.denominator}."


def metric_kind(kind: Kind | bool) -> Kind:
    """A metric's Kind; True and False (a metric's is_count, as older callers pass it) stand for
    a count and a share."""
    if isinstance(kind, Kind):
        return kind
    return Kind.COUNT if kind else Kind.SHARE


def format_value(value: float | None, kind: Kind | bool) -> str:
    """A count with thousands separators, a share as a percentage with one decimal, or days per
    participant with one decimal ("1.4 days per participant")."""
    if value is None:
        return MISSING
    kind = metric_kind(kind)
    if kind is Kind.COUNT:
        return f"{round(value):,}"
    if kind is Kind.DAYS:
        return f"{value:,.1f} days per participant"
    return f"{value * 100:.1f}%"


def format_change(change: float | None, kind: Kind | bool) -> str | None:
    """A signed change: whole participants for counts, percentage points for shares, days for
    days per participant."""
    if change is None:
        return None
    kind = metric_kind(kind)
    # A change that rounds to zero carries no sign: "-0.0 pp" would read as a fall.
    if is_zero_change(change, kind):
        return {Kind.COUNT: "0", Kind.SHARE: "0.0 pp", Kind.DAYS: "0.0 days"}[kind]
    if kind is Kind.COUNT:
        return f"{round(change):+,}"
    if kind is Kind.DAYS:
        return f"{change:+,.1f} days"
    return f"{change * 100:+.1f} pp"


def is_zero_change(change: float | None, kind: Kind | bool) -> bool:
    """Whether a change rounds to nothing at the precision shown."""
    if change is None:
        return False
    kind = metric_kind(kind)
    if kind is Kind.COUNT:
        return round(change) == 0
    if kind is Kind.DAYS:
        return round(change, 1) == 0
    return round(change * 100, 1) == 0


MARKDOWN_SPECIALS = frozenset("\\`*_{}[]()#+-.!|<>~$&:")


def md_text(text: object) -> str:
    """A data-derived string for Markdown (st.markdown, captions, labels) shown as itself.

    Every character Markdown or HTML would act on is escaped, so an ID from an export can
    never become a link, an image, formatting or a tag. Outer spaces are dropped (indented
    text would become a code block); the reader trims values anyway.
    """
    return "".join(f"\\{c}" if c in MARKDOWN_SPECIALS else c for c in str(text).strip())


# How every table of open data problems is labelled (the columns and headers of
# pipelines.core.problems): on the Caseload page and on the Data quality page.
PROBLEMS_CONFIG = {
    "site_id": st.column_config.TextColumn(HEADERS["site_id"]),
    "participant_id": st.column_config.TextColumn(HEADERS["participant_id"]),
    "case_manager_id": st.column_config.TextColumn(HEADERS["case_manager_id"]),
    "table_name": st.column_config.TextColumn(HEADERS["table_name"]),
    "file": st.column_config.TextColumn(
        HEADERS["file"], help="The archived copy of the export that shows it"
    ),
    "row_number": st.column_config.NumberColumn(
        HEADERS["row_number"], help="Spreadsheet row; the header is row 1"
    ),
    "column_name": st.column_config.TextColumn(HEADERS["column_name"], width="medium"),
    "rule": st.column_config.TextColumn(HEADERS["rule"], width="medium"),
    "value": st.column_config.TextColumn(HEADERS["value"], width="medium"),
    "message": st.column_config.TextColumn(HEADERS["message"], width="large"),
    "fix": st.column_config.TextColumn(HEADERS["fix"], width="large"),
    "first_seen": st.column_config.DateColumn(HEADERS["first_seen"], format="YYYY-MM-DD"),
    "age_days": st.column_config.NumberColumn(
        HEADERS["age_days"], help="Days since a nightly run first saw it"
    ),
}


PROBLEM_VOCABULARIES = VOCABULARIES  # the columns of a problem holding codes, and their vocabulary


def problems_view(problems: pl.DataFrame) -> pl.DataFrame:
    """Data problems as people read them: each table's label and each rule's plain name."""
    return readable(problems)


def problems_csv_frame(problems: pl.DataFrame) -> pl.DataFrame:
    """Data problems as their CSV holds them for a data coordinator: labelled, under the headers
    of the page's table (pipelines.core.problems.for_people, as `outcomes feedback` writes them)."""
    return for_people(problems)
