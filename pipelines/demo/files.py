"""Writing the demo's exports: clean CSV, and messy CSV (encodings, newlines, header styles,
trailing blank lines) or XLSX with real date cells.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import polars as pl
import xlsxwriter

from pipelines.demo.faults import FileStyle

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def write_clean(part: pl.DataFrame, table: str, folder: Path) -> Path:
    """A clean export: UTF-8, ISO dates, empty cells for missing values. Returns its path."""
    _remove_sibling(folder, table, "csv")
    path = folder / f"{table}.csv"
    part.write_csv(path, date_format="%Y-%m-%d", null_value="")
    return path


def write_messy(text: pl.DataFrame, table: str, folder: Path, style: FileStyle, as_of: date) -> Path:
    """A messy export in its style: header words, encoding, newlines, trailing blank lines, or XLSX.
    Returns its path."""
    text = text.rename({c: _header(c, style.headers) for c in text.columns})
    if style.xlsx:
        _remove_sibling(folder, table, "xlsx")
        path = folder / f"{table}.xlsx"
        _write_xlsx(text, path, table, as_of)
        return path
    _remove_sibling(folder, table, "csv")
    blank = text.select(pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in text.columns)
    body = blank.write_csv(null_value="") + "\n" * style.blank_lines
    if style.newline != "\n":
        body = body.replace("\n", style.newline)
    if style.encoding == "utf-16":
        data = b"\xff\xfe" + body.encode("utf-16-le")
    else:
        data = body.encode(style.encoding)
    path = folder / f"{table}.csv"
    path.write_bytes(data)
    return path


def _header(name: str, style: str) -> str:
    if style == "title":
        return " ".join("ID" if w == "id" else w.capitalize() for w in name.split("_"))
    if style == "upper":
        return name.upper().replace("_", "-")
    return name


def _remove_sibling(folder: Path, table: str, ext: str) -> None:
    # One export per (site, table): a stale export in the other format would be read too.
    other = folder / f"{table}.{'xlsx' if ext == 'csv' else 'csv'}"
    other.unlink(missing_ok=True)


def _write_xlsx(text: pl.DataFrame, path: Path, table: str, as_of: date) -> None:
    wb = xlsxwriter.Workbook(str(path), {"in_memory": True})
    # Fixed metadata so the same arguments give the same bytes.
    wb.set_properties({"created": datetime(as_of.year, as_of.month, as_of.day)})
    ws = wb.add_worksheet(table)
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    for col, name in enumerate(text.columns):
        ws.write_string(0, col, name)
        for row, value in enumerate(text[name].to_list(), start=1):
            if value is None or value == "":
                continue
            if _ISO_DATE.match(value):
                ws.write_datetime(row, col, date.fromisoformat(value), date_format)
            else:
                ws.write_string(row, col, value)
    wb.close()
