"""Reading what a page's download buttons hand out: a CSV, or an .xlsx read back with Polars
(fastexcel), so a test can check either the same way."""

from __future__ import annotations

import io

import polars as pl


def is_excel(name: str | None) -> bool:
    return bool(name) and name.endswith(".xlsx")


def read_download(data: bytes, name: str | None) -> pl.DataFrame:
    """The table in a downloaded file: an .xlsx's data sheet (its last), else the CSV as text."""
    if is_excel(name):
        sheets = pl.read_excel(io.BytesIO(data), sheet_id=0)
        return list(sheets.values())[-1]
    return pl.read_csv(io.BytesIO(data), infer_schema=False)


def as_csv(data: bytes, name: str | None) -> bytes:
    """The downloaded file as CSV bytes (an .xlsx's data sheet written out as CSV)."""
    return read_download(data, name).write_csv().encode("utf-8") if is_excel(name) else data
