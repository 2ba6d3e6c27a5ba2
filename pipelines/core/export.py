"""CSV downloads that a spreadsheet opens as data, never as formulas (DESIGN s.7)."""

from __future__ import annotations

import polars as pl

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
