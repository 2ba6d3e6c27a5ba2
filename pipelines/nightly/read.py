"""Read one export file into text columns, or refuse it whole with a message naming the problem.

Every value stays text here (IDs keep their leading zeros); parsing dates and numbers is
validation's job. A row whose number of values differs from the header's is kept aside as
ragged, so a value is never shifted into another column. A CSV file is read a batch of lines at
a time, and each batch is tidied as it comes: memory holds the file's values, never its whole
text or a Python string per value.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, product
from pathlib import Path
from typing import TextIO

import fastexcel
import polars as pl

from checks import MODELS, OPTIONAL_TABLES, schema, vocab
from pipelines.nightly.textfile import (
    Refused,
    decode,
    mark_undecodable,
    open_export,
)

ROW = "_row"  # the row number a spreadsheet shows, header = row 1
FIELDS = "_fields"  # how many values the row has (CSV only); after tidy(), set only on ragged rows
STRAY = "_stray"  # whether the row has a value in a column without a header name
UNDECODABLE = "_undecodable"  # whether the row held bytes that are not UTF-8 (each shown as U+FFFD)
FILE = "_file"  # the file's id in the run report (report.FileReport.file_id)
WIDTH = "_width"  # the file's header width
EXTENSIONS = (".csv", ".xlsx")
RECORD = (ROW, FIELDS, UNDECODABLE)  # a record's own columns; its cells are f0..fn
BATCH_CHARS = 1 << 23  # CSV text parsed at a time (and the rest of the line it ends in)


# The missing-value tokens in every mix of upper and lower case, the empty cell among them (one
# Series, built once: every batch of every file is looked up in it).
MISSING = pl.Series(
    sorted(
        {
            "".join(chars)
            for token in vocab.MISSING_TOKENS
            for chars in product(*({c.lower(), c.upper()} for c in token))
        }
    ),
    dtype=pl.String,
)


@dataclass(frozen=True)
class ExportFile:
    """An export file in the inbox or the archive: which site and table it is for."""

    site_id: str
    table: str
    path: Path


@dataclass
class TextExport:
    """A readable export as read: its rows of data as text under the contract's column names
    (tidy() says how), and how many blank rows it had."""

    header_width: int
    rows: pl.DataFrame  # _row, _fields (set on ragged rows), _undecodable, then the contract's columns
    blank_rows: int
    # The contract's columns the file's header names (an optional column may be left out; its
    # values are then missing, which for some columns means "not reported", not "blank").
    columns: tuple[str, ...] = ()


def identify(path: Path, inbox: Path) -> ExportFile:
    """Site and table from `inbox/<site_id>/<table>.(csv|xlsx)`, or Refused."""
    rel = path.relative_to(inbox)
    if len(rel.parts) != 2:
        raise Refused(f"put each export in a folder named for its site: inbox/<site_id>/{rel.name}")
    site_id, name = rel.parts
    if not vocab.SITE_ID.match(site_id):
        raise Refused(
            f"site folder '{site_id}' is not a valid site id: use lower-case letters, digits, "
            "_ and -, starting with a letter or digit, at most 40 characters"
        )
    if path.suffix.lower() not in EXTENSIONS:
        raise Refused(f"'{name}' is not a .csv or .xlsx file")
    table = path.stem.strip().lower()
    if table not in MODELS:
        raise Refused(
            f"unknown table '{path.stem}': name the file after its table, one of {', '.join(vocab.TABLES)}"
        )
    return ExportFile(site_id, table, path)


def normalise_header(name: str) -> str:
    """`Case Manager ID` -> `case_manager_id`: lower-case, trimmed, spaces and hyphens to _."""
    return re.sub(r"[\s\-]+", "_", name.replace("\ufeff", "").strip().lower())


def csv_records(text: TextIO) -> Iterator[pl.DataFrame]:
    """The records of a CSV text, a batch of lines at a time: _row (the row a spreadsheet shows:
    the header is 1 and a record is one row, whatever newlines its quoted values hold), _fields,
    _undecodable, then the values as columns f0..fn (a batch is as wide as its widest record)."""
    row = 1
    while chunk := text.read(BATCH_CHARS):
        chunk += text.readline()  # a batch ends where a line does
        lines = chunk.split("\n")
        if lines[-1] == "":
            lines.pop()  # the newline that ends the last line starts no other
        undecodable = mark_undecodable(lines)
        if '"' in chunk:
            records = quoted_records(lines, undecodable, text, row)
        else:
            records = plain_records(lines, undecodable)
        yield records.with_row_index(ROW, offset=row)
        row += records.height


def plain_records(lines: list[str], undecodable: list[bool]) -> pl.DataFrame:
    """Lines without quotes: one line is one record, and splitting on commas is exact (and fast)."""
    records = pl.DataFrame({"line": lines, UNDECODABLE: undecodable}).with_columns(
        (pl.col("line").str.count_matches(",", literal=True) + 1).cast(pl.UInt32).alias(FIELDS)
    )
    width = int(records[FIELDS].max())
    fields = [f"f{i}" for i in range(width)]
    return records.select(
        FIELDS,
        UNDECODABLE,
        pl.col("line").str.split_exact(",", width - 1).struct.rename_fields(fields).struct.unnest(),
    )


def quoted_records(
    lines: list[str], undecodable: list[bool], rest: Iterator[str], first_row: int
) -> pl.DataFrame:
    """Lines that hold quotes, as Python's csv module reads them; a record still open after the
    last line (a quoted value with newlines) reads on into `rest` (lines that end in \n)."""

    def read_on() -> Iterator[str]:
        for line in rest:
            more = [line]
            undecodable.extend(mark_undecodable(more))
            yield more[0]

    reader = csv.reader(chain((line + "\n" for line in lines), read_on()))
    records: list[list[str]] = []
    ends: list[int] = []  # the line after each record
    try:
        while reader.line_num < len(lines):
            records.append(next(reader))
            ends.append(reader.line_num)
    except csv.Error as e:
        raise Refused(
            f'row {first_row + len(records)} cannot be read as CSV ({e}): check for a quote (") '
            "that is never closed"
        ) from None
    cells = {
        f"f{i}": pl.Series([r[i] if i < len(r) else None for r in records], dtype=pl.String)
        for i in range(max(map(len, records), default=0))
    }
    return pl.DataFrame(
        {
            FIELDS: pl.Series(map(len, records), dtype=pl.UInt32),
            UNDECODABLE: [any(undecodable[a:b]) for a, b in zip([0, *ends[:-1]], ends, strict=True)],
            **cells,
        }
    )


def xlsx_records(path: Path, table: str) -> pl.DataFrame:
    """The workbook's sheet of the table as columns f0..fn, all text.

    Hidden sheets are never read (fastexcel tells a sheet's visibility once it has loaded it, but a
    hidden sheet's cells are never taken): a stale or partial copy kept out of sight must not
    stand in for the rows the sender sees. Of the visible sheets, a candidate is one whose first row names a
    column of the table (a header row): a one-sheet export, or a data sheet beside an empty sheet
    or a sheet of notes, has exactly one, and it is read whatever its name. Two or more (two
    copies of the data?) are refused, naming them: reading one would drop the other's rows
    without a word. With none, the visible sheet named as the table (else the first visible
    sheet) is read, so that the usual refusal says what is wrong with its first row.
    """
    with open_export(path) as f:
        content = f.read()
    try:
        reader = fastexcel.read_excel(content)
        count = len(reader.sheet_names)
        # skip_rows=0: keep blank rows above the header, so that row numbers are the sheet's own.
        sheets = (reader.load_sheet(i, header_row=None, skip_rows=0, dtypes="string") for i in range(count))
        visible = [(sheet.name, sheet.to_polars()) for sheet in sheets if sheet.visible == "visible"]
    except Exception:  # fastexcel raises its own error types for broken workbooks
        raise Refused(
            "the workbook cannot be opened: it is damaged, protected by a password, or not an .xlsx "
            "workbook; save it again from Excel as an .xlsx workbook"
        ) from None
    frame = table_sheet(visible, table)
    frame = frame.rename({c: f"f{i}" for i, c in enumerate(frame.columns)})
    return frame.with_columns(pl.lit(None, pl.UInt32).alias(FIELDS)).with_row_index(ROW, offset=1)


def table_sheet(visible: list[tuple[str, pl.DataFrame]], table: str) -> pl.DataFrame:
    """The one visible sheet to read (see xlsx_records), or Refused."""
    if not visible:
        raise Refused("the workbook has no visible sheet: unhide the sheet of the export")
    known = set(schema(table).columns)
    candidates = [
        (name, frame)
        for name, frame in visible
        if frame.height and known & {normalise_header(cell or "") for cell in frame.row(0)}
    ]
    if len(candidates) > 1:
        names = ", ".join(f"'{name}'" for name, _ in candidates)
        raise Refused(
            f"the workbook has {len(candidates)} visible sheets with a {table} header row ({names}): "
            f"keep the {table} rows on one sheet and delete the others"
        )
    if candidates:
        return candidates[0][1]
    named = [frame for name, frame in visible if normalise_header(name) == table]
    return (named or [visible[0][1]])[0]


def read_records(path: Path, table: str) -> Iterator[pl.DataFrame]:
    """The file's records, whatever its format, in batches (see csv_records)."""
    if path.suffix.lower() == ".xlsx":
        yield xlsx_records(path, table).with_columns(pl.lit(False).alias(UNDECODABLE))
    else:
        with decode(path) as text:
            yield from csv_records(text)


# A header cell that (normalised) looks like a column name: a letter, then letters, digits and _.
COLUMN_NAME = re.compile(r"[^\W\d_]\w{0,63}")


def header_names(header: list[str], names: list[str]) -> str:
    """Header cells as a refusal names them: by name when it looks like a column name, else by
    position (`column 12`). A cell such as `root:x:0:0:root:/root:/bin/bash` or `2024-01-10` is
    content, not a name, and a message never quotes content."""
    return ", ".join(
        name if COLUMN_NAME.fullmatch(name) else f"column {header.index(name) + 1}" for name in names
    )


def check_header(header: list[str], table: str) -> None:
    """Refuse a header with no known column, direct identifiers, duplicates, unknown or missing columns.

    A first row that names none of the table's columns is not a header: its cells are content,
    and the refusal quotes none of them. Other refusals name header cells by `header_names`.
    """
    columns = schema(table).columns
    known = list(columns)
    named = [h for h in header if h]
    if not set(named) & set(known):
        raise Refused(
            f"no header row: the first row names none of the {table} columns "
            f"({', '.join(known)}); add the header as row 1"
        )
    identifiers = [h for h in named if vocab.DIRECT_IDENTIFIER.match(h)]
    if identifiers:
        raise Refused(
            f"holds direct identifiers in column(s) {header_names(header, identifiers)}: this product "
            "keeps pseudonymous IDs only. The file was not archived; delete it from the inbox and "
            "export again without those columns"
        )
    duplicated = sorted({h for h in named if named.count(h) > 1})
    if duplicated:
        raise Refused(f"column(s) {header_names(header, duplicated)} appear more than once in the header")
    unknown = [h for h in named if h not in known]
    if unknown:
        raise Refused(
            f"unknown column(s) {header_names(header, unknown)}: the {table} export has only "
            f"{', '.join(known)}; remove or rename them"
        )
    required = [c for c in known if not columns[c].metadata.get("optional")]
    missing = [c for c in required if c not in named]
    if missing:
        raise Refused(f"missing required column(s) {', '.join(missing)}")


SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}
SAVE_WITH_COMMAS = "save it again as CSV with commas (in Excel: CSV UTF-8 (Comma delimited))"


def check_separator(first_row: list[str], table: str) -> None:
    """Refuse a file whose values are not separated by commas, saying so: Excel's `sep=` hint line,
    or a first row (as read, before normalising) that holds the table's columns joined by another
    separator."""
    if first_row[0].replace("\ufeff", "").strip().lower().startswith("sep="):
        raise Refused(
            "the first line is Excel's separator hint (sep=...), not the header: "
            f"{SAVE_WITH_COMMAS}, with the header in row 1"
        )
    known = set(schema(table).columns)
    for separator, name in SEPARATORS.items():
        parts = [normalise_header(part) for cell in first_row for part in cell.split(separator)]
        if any(separator in cell for cell in first_row) and known & set(parts):
            raise Refused(f"the values are separated by {name}, not commas: {SAVE_WITH_COMMAS}")


def read_export(path: Path, table: str) -> TextExport:
    """Read an export file into tidied text columns in contract order, or raise Refused."""
    batches = read_records(path, table)
    records = next(batches, None)
    if records is None or records.height == 0 or len(records.columns) <= len(RECORD):
        raise Refused("the file is empty, or its first row is blank: put the header in row 1")
    header_row = records.row(0, named=True)
    cells = [c for c in records.columns if c not in RECORD]
    header = [normalise_header(header_row[c] or "") for c in cells]
    header_width = int(header_row[FIELDS] or len(header))
    header = header[:header_width]
    if not any(header):
        raise Refused("the file is empty, or its first row is blank: put the header in row 1")
    check_separator([header_row[c] or "" for c in cells][:header_width], table)
    check_header(header, table)

    names = list(schema(table).columns)
    read, kept = 0, []
    for batch in chain([records.slice(1)], batches):
        read += batch.height
        kept.append(tidy(contract_columns(batch, header, names), names, header_width).collect())
    rows = pl.concat(kept)
    present = tuple(n for n in names if n in header)
    return TextExport(header_width, rows, blank_rows=read - rows.height, columns=present)


def contract_columns(records: pl.DataFrame, header: list[str], names: list[str]) -> pl.LazyFrame:
    """Records under the contract's column names (`header`: the file's names, by position)."""
    cells = [c for c in records.columns if c not in RECORD]
    unnamed = [c for i, c in enumerate(cells) if i >= len(header) or not header[i]]
    # A column without a name may only stay empty: a value there belongs to no column.
    stray = pl.concat_str(unnamed, ignore_nulls=True).str.strip_chars() != "" if unnamed else pl.lit(False)
    columns = [
        pl.col(f"f{header.index(name)}").alias(name)
        if name in header and f"f{header.index(name)}" in cells
        else pl.lit(None, pl.String).alias(name)
        for name in names
    ]
    return records.lazy().select(ROW, FIELDS, UNDECODABLE, stray.alias(STRAY), *columns)


def tidy(rows: pl.LazyFrame, names: list[str], width: int) -> pl.LazyFrame:
    """Trim values, read missing-value tokens as missing, leave blank rows out, mark ragged ones.

    rows: one file's rows (_row, _fields, _undecodable, _stray, then the columns `names`);
    `width`: its header's. The rows of data, with _fields set only on ragged rows.
    """
    # Rows with nothing in them (blank lines, Excel's empty rows of commas) are not data.
    blank = pl.all_horizontal(pl.col(names).fill_null("") == "") & ~pl.col(STRAY)
    ragged = (pl.col(FIELDS).is_not_null() & (pl.col(FIELDS) != width)) | pl.col(STRAY)
    return (
        rows.with_columns(pl.col(names).str.strip_chars())
        .filter(~blank)
        .with_columns(
            pl.when(pl.col(names).is_in(MISSING.implode())).then(None).otherwise(pl.col(names)).name.keep(),
            pl.when(ragged).then(pl.col(FIELDS).fill_null(width)).alias(FIELDS),
        )
        .drop(STRAY)
    )


def is_optional_table(table: str) -> bool:
    """Whether a site may have no export of this table at all."""
    return table in OPTIONAL_TABLES
