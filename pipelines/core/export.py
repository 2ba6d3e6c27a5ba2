"""CSV and Excel downloads that a spreadsheet opens as data, never as formulas (DESIGN s.7).

One Excel writer for every workbook of ours: the dashboard's downloads (`xlsx_bytes`) and the
funder snapshot's metrics.xlsx (pipelines/funder/workbook.py, from `workbook`, `workbook_formats`
and `write_text`).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

import polars as pl
import xlsxwriter

# A spreadsheet runs a cell that starts with one of these as a formula (or a DDE command).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The prefix that makes a spreadsheet read the rest of the cell as text.
NEUTRALISER = "'"
TEXT_TYPES = (pl.String, pl.Categorical, pl.Enum)


def neutralise(text: str) -> str:
    """The text itself, or the text behind a single quote when a spreadsheet would run it."""
    return NEUTRALISER + text if text.startswith(FORMULA_STARTS) else text


def neutralise_expr(column: str) -> pl.Expr:
    """`neutralise` for one text column, in Polars (nulls stay null)."""
    text = pl.col(column).cast(pl.String)
    # Each start in its own literal test: a regex class would have to escape "-" and "\r".
    risky = pl.any_horizontal([text.str.starts_with(start) for start in FORMULA_STARTS])
    return pl.when(risky).then(pl.lit(NEUTRALISER) + text).otherwise(text).alias(column)


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """The frame as UTF-8 CSV: text cells and headers neutralised, numbers and dates as they are."""
    text_columns = [name for name, dtype in frame.schema.items() if isinstance(dtype, TEXT_TYPES)]
    safe = frame.with_columns(neutralise_expr(name) for name in text_columns)
    safe = safe.rename({name: neutralise(name) for name in safe.columns})
    return safe.write_csv().encode("utf-8")


# --- Excel --------------------------------------------------------------------------------------
# A workbook's text is never a formula or a link; its zip entries carry xlsxwriter's fixed date and
# its creation date is given (the data's as-of date, else CREATED), so the same frame gives the
# same bytes.
WORKBOOK_OPTIONS = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
CREATED = dt.datetime(2000, 1, 1)
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0.0%"
COUNT_FORMAT = "#,##0"
NUMBER_FORMAT = "#,##0.0"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel's limit on a sheet name's length; and the characters it refuses in one.
SHEET_NAME_LIMIT = 31
SHEET_NAME_BANNED = str.maketrans({c: " " for c in "[]:*?/\\"})
MAX_WIDTH = 60


def workbook(out: io.BytesIO, *, title: str, created: dt.date | None = None) -> xlsxwriter.Workbook:
    """An in-memory workbook that writes no formula or link, dated `created` (else CREATED)."""
    book = xlsxwriter.Workbook(out, WORKBOOK_OPTIONS)
    day = CREATED if created is None else dt.datetime(created.year, created.month, created.day)
    book.set_properties({"title": title, "created": day})
    return book


def workbook_formats(book: xlsxwriter.Workbook) -> dict[str, Any]:
    """The cell formats every workbook of ours uses, by name."""
    return {
        "head": book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#F2F6FA"}),
        "date": book.add_format({"num_format": DATE_FORMAT}),
        "percent": book.add_format({"num_format": PERCENT_FORMAT}),
        "count": book.add_format({"num_format": COUNT_FORMAT}),
        "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
        "title": book.add_format({"bold": True, "font_size": 14}),
        "bold": book.add_format({"bold": True, "valign": "top"}),
    }


def write_text(sheet: Any, row: int, col: int, value: object, fmt: Any = None) -> None:  # noqa: ANN401
    """A text cell that a spreadsheet never runs as a formula."""
    sheet.write_string(row, col, neutralise(str(value)), fmt)


def sheet_name(name: str) -> str:
    """A name Excel accepts for a sheet."""
    return name.translate(SHEET_NAME_BANNED).strip(" '")[:SHEET_NAME_LIMIT] or "Sheet1"


def xlsx_bytes(
    frame: pl.DataFrame,
    *,
    sheet: str = "Data",
    percent: Sequence[str] = (),
    per_hundred: Sequence[str] = (),
    title: str | None = None,
    created: dt.date | None = None,
    readme: Sequence[tuple[str, str]] = (),
) -> bytes:
    """The frame as one sheet of an .xlsx file, its column names (labels) as the bold header row.

    Dates and times are dates, whole numbers counts (#,##0), other numbers one decimal; `percent`
    columns hold shares (0.25) and `per_hundred` columns percents (25.0), both shown as 25.0%. Text
    is written as text, neutralised as in `csv_bytes`; a null is an empty cell. `readme` rows (key,
    text) make a README sheet before the data. The same frame gives the same bytes.
    """
    out = io.BytesIO()
    book = workbook(out, title=title or sheet, created=created)
    formats = workbook_formats(book)
    formats["datetime"] = book.add_format({"num_format": DATETIME_FORMAT})
    formats["number"] = book.add_format({"num_format": NUMBER_FORMAT})
    if readme:
        notes = book.add_worksheet("README")
        notes.set_column(0, 0, 22)
        notes.set_column(1, 1, 100)
        write_text(notes, 0, 0, title or sheet, formats["title"])
        for i, (key, text) in enumerate(readme, start=2):
            write_text(notes, i, 0, key, formats["bold"])
            write_text(notes, i, 1, text, formats["wrap"])
    data = book.add_worksheet(sheet_name(sheet))
    for col, (name, dtype) in enumerate(frame.schema.items()):
        write_text(data, 0, col, name, formats["head"])
        width = max([len(name), *(len(str(v)) for v in frame[name].head(200).drop_nulls())], default=8)
        data.set_column(col, col, min(max(width + 2, 10), MAX_WIDTH))
        scale = 100.0 if name in per_hundred else 1.0
        share = name in percent or name in per_hundred
        for row, value in enumerate(frame[name], start=1):
            if value is None:
                continue
            _cell(data, row, col, value, dtype, formats, share=share, scale=scale)
    data.freeze_panes(1, 0)
    if frame.width:
        data.autofilter(0, 0, frame.height, frame.width - 1)
    book.close()
    return out.getvalue()


def _cell(
    sheet: Any, row: int, col: int, value: object, dtype: pl.DataType, formats: dict, **how: Any
) -> None:  # noqa: ANN401, E501
    """One data cell, written as its type."""
    if isinstance(value, bool):
        write_text(sheet, row, col, "Yes" if value else "No")
    elif isinstance(value, dt.datetime):
        sheet.write_datetime(row, col, value.replace(tzinfo=None), formats["datetime"])
    elif isinstance(value, dt.date):
        sheet.write_datetime(row, col, dt.datetime(value.year, value.month, value.day), formats["date"])
    elif isinstance(value, int | float) and dtype.is_numeric():
        if how["share"]:
            sheet.write_number(row, col, value / how["scale"], formats["percent"])
        elif dtype.is_integer():
            sheet.write_number(row, col, value, formats["count"])
        elif value == value and abs(value) != float("inf"):  # NaN and infinity: left empty
            sheet.write_number(row, col, value, formats["number"])
    else:
        write_text(sheet, row, col, value)
