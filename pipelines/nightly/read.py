"""Read one export file into text columns, or refuse it whole with a message naming the problem.

Every value stays text here (IDs keep their leading zeros); parsing dates and numbers is
validation's job. A row whose number of values differs from the header's is kept aside as
ragged, so a value is never shifted into another column.
"""

from __future__ import annotations

import csv
import errno
import io
import os
import re
import stat
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import BinaryIO

import fastexcel
import polars as pl

from checks import MODELS, OPTIONAL_TABLES, schema, vocab

ROW = "_row"  # the row number a spreadsheet shows, header = row 1
FIELDS = "_fields"  # how many values the row has (CSV only); after tidy(), set only on ragged rows
STRAY = "_stray"  # whether the row has a value in a column without a header name
FILE = "_file"  # the file's id in the run report (report.FileReport.file_id)
WIDTH = "_width"  # the file's header width
EXTENSIONS = (".csv", ".xlsx")


# The missing-value tokens in every mix of upper and lower case, the empty cell among them.
MISSING = sorted(
    {
        "".join(chars)
        for token in vocab.MISSING_TOKENS
        for chars in product(*({c.lower(), c.upper()} for c in token))
    }
)


class Refused(Exception):
    """The file as a whole cannot be used; the message says why and what to do.

    A message never quotes the file's content: at most the header's cells that look like column
    names (`header_names`).
    """


PUT_THE_FILE_ITSELF = "put the export file itself in inbox/<site_id>/"
SYMBOLIC_LINK = (
    "this is a symbolic link (a shortcut to a file or folder elsewhere), and links are never "
    f"followed: {PUT_THE_FILE_ITSELF}"
)
NOT_A_FILE = f"this is not a regular file (a pipe, socket or device): {PUT_THE_FILE_ITSELF}"


def open_export(path: Path) -> BinaryIO:
    """The file opened for reading, refusing a symbolic link or anything but a regular file.

    The check is the opening itself (O_NOFOLLOW; O_NONBLOCK, so that a pipe cannot make it wait):
    a file swapped for a link after the inbox was checked is refused, not followed.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise Refused(SYMBOLIC_LINK) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise Refused(NOT_A_FILE)
    return os.fdopen(fd, "rb")


@dataclass(frozen=True)
class ExportFile:
    """An export file in the inbox or the archive: which site and table it is for."""

    site_id: str
    table: str
    path: Path


@dataclass
class TextExport:
    """A readable export as read: its raw text under the contract's column names."""

    header_width: int
    rows: pl.DataFrame  # _row, _fields, _stray, then the contract's columns (untrimmed)


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


def decode(raw: bytes) -> str:
    """CSV bytes as text: UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1252."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as e:
            raise Refused(
                f"the file starts with a UTF-16 byte order mark but is not valid UTF-16 ({e.reason})"
            ) from None
    if b"\x00" in raw[:4096]:
        raise Refused(
            "the file holds NUL bytes: it looks like UTF-16 without a byte order mark; save it as UTF-8 CSV"
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as e:
        raise Refused(
            f"the text is neither UTF-8 nor Windows-1252 (byte {e.start}); save it as UTF-8 CSV"
        ) from None


def csv_records(text: str) -> pl.DataFrame:
    """Every record of a CSV text as columns f0..fn, with its row number and field count."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if '"' not in text:
        # No quoting: one line is one record, and splitting on commas is exact (and fast).
        lines = pl.Series("line", text.split("\n"))
        counts = (lines.str.count_matches(",", literal=True) + 1).cast(pl.UInt32)
        width = int(counts.max() or 0)
        fields = lines.str.split_exact(",", width - 1).struct.unnest()
        frame = pl.DataFrame({FIELDS: counts}).hstack(
            fields.rename({c: f"f{i}" for i, c in enumerate(fields.columns)})
        )
    else:
        records = list(csv.reader(io.StringIO(text, newline="")))
        width = max((len(r) for r in records), default=0)
        counts = [len(r) for r in records]
        columns = {
            f"f{i}": pl.Series([r[i] if i < len(r) else None for r in records], dtype=pl.String)
            for i in range(width)
        }
        frame = pl.DataFrame({FIELDS: pl.Series(counts, dtype=pl.UInt32), **columns})
    return frame.with_row_index(ROW, offset=1)


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


def read_records(path: Path, table: str) -> pl.DataFrame:
    """The file's records, whatever its format."""
    if path.suffix.lower() == ".xlsx":
        return xlsx_records(path, table)
    with open_export(path) as f:
        return csv_records(decode(f.read()))


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
    """Read an export file into trimmed text columns in contract order, or raise Refused."""
    records = read_records(path, table)
    if records.height == 0 or len(records.columns) <= 2:
        raise Refused("the file is empty, or its first row is blank: put the header in row 1")
    header_row = records.row(0, named=True)
    width = len(records.columns) - 2
    cells = [f"f{i}" for i in range(width)]
    header = [normalise_header(header_row[c] or "") for c in cells]
    header_width = int(header_row[FIELDS] or len(header))
    header = header[:header_width]
    if not any(header):
        raise Refused("the file is empty, or its first row is blank: put the header in row 1")
    check_separator([header_row[c] or "" for c in cells][:header_width], table)
    check_header(header, table)

    unnamed = [c for i, c in enumerate(cells) if i >= len(header) or not header[i]]
    # A column without a name may only stay empty: a value there belongs to no column.
    stray = pl.concat_str(unnamed, ignore_nulls=True).str.strip_chars() != "" if unnamed else pl.lit(False)
    columns = [
        pl.col(cells[header.index(name)]).alias(name)
        if name in header
        else pl.lit(None, pl.String).alias(name)
        for name in schema(table).columns
    ]
    rows = records.slice(1).select(ROW, FIELDS, stray.alias(STRAY), *columns)
    return TextExport(header_width, rows)


def blank(names: list[str]) -> pl.Expr:
    """Whether a row of trimmed values has nothing in it (a blank line, Excel's empty row of
    commas): not data."""
    return pl.all_horizontal(pl.col(names).fill_null("") == "") & ~pl.col(STRAY)


def data_rows(text: TextExport, table: str) -> int:
    """How many rows of data an export has: its rows read, blank rows not counted."""
    names = list(schema(table).columns)
    trimmed = text.rows.lazy().select(pl.col(names).str.strip_chars(), STRAY)
    # Streamed: the trimmed values are never all held at once beside the export's own.
    return int(trimmed.select((~blank(names)).sum()).collect(engine="streaming").item())


def tidy(rows: pl.DataFrame, names: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Trim values, read missing-value tokens as missing, set blank rows aside, mark ragged ones.

    rows: many files' rows (_file, _width, _row, _fields, _stray, then the columns `names`).
    Returns the rows of data (with _fields set only on ragged rows) and blank rows per file.
    """
    trimmed = (
        rows.lazy().with_columns(pl.col(names).str.strip_chars()).with_columns(blank(names).alias("_blank"))
    )
    ragged = (pl.col(FIELDS).is_not_null() & (pl.col(FIELDS) != pl.col(WIDTH))) | pl.col(STRAY)
    data = (
        trimmed.filter(~pl.col("_blank"))
        .with_columns(
            pl.when(pl.col(names).is_in(MISSING)).then(None).otherwise(pl.col(names)).name.keep(),
            pl.when(ragged).then(pl.col(FIELDS).fill_null(pl.col(WIDTH))).alias(FIELDS),
        )
        .drop(STRAY, "_blank")
    )
    blanks = trimmed.filter("_blank").group_by(FILE).agg(pl.len().alias("blank_rows"))
    data, blanks = pl.collect_all([data, blanks])
    return data, blanks


def is_optional_table(table: str) -> bool:
    """Whether a site may have no export of this table at all."""
    return table in OPTIONAL_TABLES
