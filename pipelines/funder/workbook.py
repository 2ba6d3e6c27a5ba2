"""A funder snapshot's metrics.xlsx (issue 15): metrics.csv for people who open it in a spreadsheet.

The same rows as metrics.csv, in the same order, with labels instead of codes (names.py), periods
with their first and last days as dates, percentages and counts formatted, a hidden cell left empty,
and a README sheet saying what the file is, its quarter, the suppression rule and where the methods
are. Text is never a formula (pipelines.core.export's writer, shared with the dashboard's Excel
downloads): every text cell is written as a string, and one that a spreadsheet would run (starting
with = + - @) is neutralised as the CSV downloads are. Nothing in it depends on when it was written
(xlsxwriter's zip entries carry a fixed date; the document's creation date is the data's as-of
date), so the same archive and as-of give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping

import polars as pl

from pipelines.core.export import (
    workbook,
    workbook_formats,
    write_text,
)
from pipelines.core.metrics import is_count
from pipelines.funder import names

METRICS_SHEET = "Metrics"
README_SHEET = "README"
# (header, width) of the Metrics sheet, in order.
HEADERS = (
    ("Measure", 30),
    ("Period", 10),
    ("Month or quarter", 16),
    ("From", 12),
    ("To", 12),
    ("Breakdown", 26),
    ("Group", 36),
    ("People counted (numerator)", 16),
    ("Out of (denominator)", 14),
    ("Value", 10),
    ("Hidden to protect privacy", 14),
)


def metrics_xlsx(metrics_csv: bytes, quarter: str, as_of: str, recorded: Mapping | None = None) -> bytes:
    """The workbook's bytes: a README sheet, then every row of metrics.csv with labels."""
    rows = pl.read_csv(io.BytesIO(metrics_csv), infer_schema=False, empty_string_is_null=False)
    day = dt.date.fromisoformat(as_of)
    out = io.BytesIO()
    title = f"LEAD outcomes, funder snapshot {names.period_label(quarter)}"
    book = workbook(out, title=title, created=day)
    formats = workbook_formats(book)
    _readme(book, formats, quarter, day, rows.height)
    _metrics(book, formats, rows, dict(recorded or {}))
    book.close()
    return out.getvalue()


def _readme(book, formats: dict, quarter: str, as_of: dt.date, rows: int) -> None:  # noqa: ANN001
    sheet = book.add_worksheet(README_SHEET)
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 1, 100)
    write_text(sheet, 0, 0, "LEAD outcomes: funder snapshot", formats["title"])
    lines = [
        (
            "What this file is",
            f"The numbers of the LEAD program's funder snapshot of {names.period_label(quarter)}: each month "
            "and the whole quarter, for all participants and by cohort, referral type, site, race, gender "
            "and age band, with the program-wide numbers of the quarter before and of the same quarter a "
            f"year earlier. The sheet “{METRICS_SHEET}” holds the {rows:,} rows of metrics.csv, in the same "
            "order, with labels instead of codes.",
        ),
        ("Quarter", f"{names.period_label(quarter)} ({names.quarter_span(quarter)})"),
        ("Data as of", as_of),
        ("Suppression", f"{names.RULE_IN_ONE_SENTENCE} Such cells are left empty in this file."),
        (
            "Methods",
            "What each measure counts, how the quarter is counted and the suppression rule in full are in "
            "the appendix of report.html (and report.pdf) in the same snapshot folder. manifest.json there "
            "lists every file of the snapshot with its SHA-256; `outcomes snapshot verify` checks them.",
        ),
        (
            "Columns",
            "Value is a percentage (people counted out of the denominator) or, for active participants, a "
            "count. A month counts the participants active that month; the quarter counts each participant "
            "once over its three months, so it is not a sum of its months. A hidden cell is left empty.",
        ),
    ]
    for i, (key, value) in enumerate(lines, start=2):
        write_text(sheet, i, 0, key, formats["bold"])
        if isinstance(value, dt.date):
            sheet.write_datetime(i, 1, dt.datetime(value.year, value.month, value.day), formats["date"])
        else:
            write_text(sheet, i, 1, value, formats["wrap"])


def _metrics(book, formats: dict, rows: pl.DataFrame, recorded: dict) -> None:  # noqa: ANN001
    sheet = book.add_worksheet(METRICS_SHEET)
    for col, (header, width) in enumerate(HEADERS):
        sheet.set_column(col, col, width)
        write_text(sheet, 0, col, header, formats["head"])
    sheet.freeze_panes(1, 0)
    for i, r in enumerate(rows.iter_rows(named=True), start=1):
        period, count = r["period"], is_count(r["metric"])
        write_text(sheet, i, 0, names.measure_label(r["metric"], recorded))
        write_text(sheet, i, 1, names.period_label(period))
        write_text(sheet, i, 2, "Quarter" if names.is_quarter(period) else "Month")
        bounds = names.period_bounds(period)
        for col, day in enumerate(bounds or (), start=3):
            sheet.write_datetime(i, col, dt.datetime(day.year, day.month, day.day), formats["date"])
        write_text(sheet, i, 5, names.dimension_label(r["dimension"]))
        write_text(sheet, i, 6, names.group_label(r["dimension"], r["group"]))
        hidden = r["suppressed"] == "true"
        for col, key in ((7, "numerator"), (8, "denominator")):
            if r[key] != "":
                sheet.write_number(i, col, int(r[key]), formats["count"])
        if not hidden and r["value"] != "":
            value = float(r["value"])
            sheet.write_number(i, 9, value, formats["count" if count else "percent"])
        write_text(sheet, i, 10, "Yes" if hidden else "No")
    sheet.autofilter(0, 0, rows.height, len(HEADERS) - 1)
