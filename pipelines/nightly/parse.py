"""Parse an export's text into the contract's types: dates in the forms the contract allows,
whole numbers, enum values written in any case and spacing, HMIS living-situation numbers and
;-separated lists. A value that does not parse becomes null; the caller quarantines it with the
rule and phrase parse_column gives.
"""

from __future__ import annotations

import datetime as dt

import pandera.polars as pa
import polars as pl

from checks import vocab

EXCEL_EPOCH = dt.date(1899, 12, 30)


def normalise_enum(value: pl.Expr) -> pl.Expr:
    """`Social Contact` -> `social_contact`."""
    return value.str.strip_chars().str.to_lowercase().str.replace_all(r"[\s\-]+", "_")


TWO_DIGIT_YEAR = r"^\d{1,2}/\d{1,2}/\d{2}$"
TWO_DIGIT_YEAR_PHRASE = "has a two-digit year: write the year in full, as MM/DD/YYYY or YYYY-MM-DD"


def parse_date(value: pl.Expr) -> pl.Expr:
    """YYYY-MM-DD, MM/DD/YYYY or an Excel serial number; null when it is none of them."""
    text = value.str.replace(r"[ T]00:00:00(\.0+)?$", "")
    serial = (
        pl.when(text.str.contains(r"^\d{1,7}(\.0+)?$"))
        .then(text.str.replace(r"\.0+$", "").cast(pl.Int64, strict=False))
        .otherwise(None)
    )
    from_serial = pl.when(serial.is_between(1, 2_958_465)).then(
        pl.lit(EXCEL_EPOCH) + pl.duration(days=serial)
    )
    # A US date needs its year in full: strptime would read 1/2/24 as the year 24.
    us = pl.when(text.str.contains(r"^\d{1,2}/\d{1,2}/\d{4}$")).then(text)
    return pl.coalesce(
        text.str.strptime(pl.Date, "%Y-%m-%d", strict=False),
        us.str.strptime(pl.Date, "%m/%d/%Y", strict=False),
        from_serial.cast(pl.Date),
    )


def parse_column(name: str, column: pa.Column) -> tuple[pl.Expr, str | None, str]:
    """How to turn a text column into its contract type; the rule and message when that fails."""
    kind = column.metadata.get("kind", "text")
    value = pl.col(name)
    if kind == "date":
        return parse_date(value), "date_format", "is not a date: use YYYY-MM-DD, MM/DD/YYYY or an Excel date"
    if kind == "int":
        whole = value.str.strip_chars().str.replace(r"\.0+$", "")
        return whole.cast(pl.Int64, strict=False), "whole_number", "is not a whole number"
    if kind == "enum":
        return normalise_enum(value), None, ""
    if kind == "living_situation":
        name_or_code = normalise_enum(value).str.replace(r"^(\d+)\.0+$", "${1}")
        return name_or_code.replace(vocab.HMIS_CODES), None, ""
    if kind == "list":
        parts = (
            value.str.to_lowercase()
            .str.split(";")
            .list.eval(normalise_enum(pl.element()).filter(pl.element().str.strip_chars() != ""))
        )
        joined = parts.list.unique().list.sort().list.join(";")
        return pl.when(joined != "").then(joined), None, ""
    return value, None, ""


def parse_distinct(values: pl.Series, parse: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Parse each distinct value once, then map every row to its result.

    An export repeats few distinct values (enums, dates), so this is much cheaper than
    parsing every row.
    """
    if parse.meta.is_column():
        return pl.col(values.name).cast(dtype)
    distinct = values.drop_nulls().unique()
    parsed = pl.DataFrame({values.name: distinct}).select(parse.cast(dtype)).to_series()
    return pl.col(values.name).replace_strict(distinct, parsed, default=None, return_dtype=dtype)
