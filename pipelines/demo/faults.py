"""The `--messy` faults real exports have: which file gets which file-level fault (encoding,
newlines, header words, blank lines, XLSX), and the row faults on a small share of rows.

Each row fault is a plain function of the rows it hits: it takes the frame and those rows
(and the random generator when it draws values) and returns the changed frame, or the copies
to insert. `messy_rows` deals each fault its rows from one shuffled order (`RowDeal`), so no
row carries two faults, and applies them in a fixed order: the output is a pure function of
the seed, and that order is part of it (reordering the calls changes every messy file).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from checks import vocab
from pipelines.demo.distributions import (
    GENDERS,
    HMIS_CODE,
    INCOME,
    LEVELS,
    LIVING_SITUATIONS,
    NA_TOKENS,
    OPTIONAL,
    SERVICE_TYPES,
    TABLES,
    UNKNOWN_HMIS_CODES,
    labels,
    pick,
)
from pipelines.demo.people import format_ids

EXCEL_EPOCH_OFFSET = 25569  # Excel serial of 1970-01-01 (serial 0 is 1899-12-30)


@dataclass(frozen=True)
class FileStyle:
    """The faults of one messy file (row faults not listed here hit every file)."""

    encoding: str = "utf-8"  # utf-8, utf-8-sig, utf-16 (with BOM) or cp1252
    newline: str = "\n"
    xlsx: bool = False
    headers: str = "snake"  # snake, title ("Participant ID") or upper ("PARTICIPANT-ID")
    us_dates: bool = False
    mixed_dates: bool = True  # a few US dates and Excel serials among ISO ones
    hmis_codes: bool = False
    blank_lines: int = 0
    reorder: bool = False
    accented_case_manager: bool = False


def plan_styles(n_sites: int) -> dict[tuple[int, str], FileStyle]:
    """Which file-level faults go where: deterministic, each fault at least once."""
    styles: dict[tuple[int, str], FileStyle] = {}
    special = ("cp1252", "utf-16", "utf-8-sig", "utf-8", "utf-8")
    for s in range(n_sites):
        for t, table in enumerate(TABLES):
            if n_sites >= 3:
                encoding = {0: "utf-8-sig", 1: "cp1252", 2: "utf-16"}.get(s, "utf-8")
            else:
                encoding = special[(s * len(TABLES) + t) % len(special)]
            windows = encoding in ("cp1252", "utf-16")
            styles[(s, table)] = FileStyle(
                encoding=encoding,
                newline="\r\n" if windows or (s + t) % 4 == 2 else "\n",
                headers="title" if windows else ("upper" if (s + t) % 5 == 1 else "snake"),
                us_dates=encoding == "cp1252",
                hmis_codes=n_sites >= 4 and s == 3 and table == "housing",
                blank_lines=1 + (s + t) % 3 if (s * 5 + t) % 3 == 0 else 0,
                reorder=s == 0 and table == "treatment",
                accented_case_manager=encoding == "cp1252" and table == "participants",
            )
    last = n_sites - 1 if n_sites >= 4 else 0
    # Spreadsheet dates are real date cells.
    styles[(last, "employment")] = FileStyle(xlsx=True, headers="title", mixed_dates=False)
    cr = styles[(last, "justice")]
    styles[(last, "justice")] = FileStyle(
        encoding=cr.encoding, newline="\r", headers=cr.headers, blank_lines=2
    )
    return styles


# Where each row fault lands, by table.
PADDED_COLUMN = {
    "participants": "gender",
    "housing": "living_situation",
    "treatment": "service_type",
    "employment": "employment_status",
    "justice": "event_type",
}
CONFLICT_COLUMN = {  # the column a conflicting copy changes, and the values it picks from
    "participants": ("gender", GENDERS),
    "housing": ("living_situation", tuple(LIVING_SITUATIONS)),
    "treatment": ("service_type", SERVICE_TYPES),
    "employment": ("has_income", INCOME),
    "justice": ("level", LEVELS),
}


def messy_rows(
    df: pl.DataFrame,
    table: str,
    site: int,
    site_id: str,
    style: FileStyle,
    rng: np.random.Generator,
    as_of: date,
    max_number: int,
) -> pl.DataFrame:
    """The site's rows as text, with the faults real exports have on a small share of them."""
    deal = RowDeal(rng, rng.permutation(df.height), force=site == 0)
    late = _late_date(as_of, rng)
    df = _break_rules(df, table, style, deal, late)
    text = _as_text(df, table, style, rng)
    if table == "housing":
        text = _hmis_codes(text, style.hmis_codes, rng)
    text = _padded(text, deal.rows(0.005), PADDED_COLUMN[table])

    copies: list[tuple[pl.DataFrame, np.ndarray]] = []
    if table != "participants" and df.height:
        rows = deal.rows(0.003)
        copies.append((_unknown_participants(text, rows, table, site, site_id, max_number), rows))
    rows = deal.rows(0.003 if table != "participants" else 0.002)
    copies.append((text[rows], rows))  # exact duplicates
    # One conflicting copy of a participant, in the biggest site only.
    rows = deal.rows(0.002) if table != "participants" else deal.take(1 if deal.force else 0)
    if len(rows):
        column, choices = CONFLICT_COLUMN[table]
        copies.append((_conflicting_copies(text, rows, column, choices, rng), rows))
    text = _after_sources(text, copies)
    return _reversed_columns(text) if style.reorder else text


@dataclass
class RowDeal:
    """Which rows each row fault hits: one shuffled order of the file's rows, dealt out in turn.

    A fault's share of rows is drawn from its rate; in the biggest site's files (`force`)
    every fault gets at least one row while rows remain.
    """

    rng: np.random.Generator
    order: np.ndarray
    force: bool
    dealt: int = 0

    def rows(self, rate: float) -> np.ndarray:
        """The next rows for a fault hitting about `rate` of the file's rows."""
        n = len(self.order)
        k = int(self.rng.binomial(n, rate)) if n else 0
        return self.take(min(max(k, 1 if self.force else 0), n))

    def take(self, k: int) -> np.ndarray:
        """The next `k` rows (fewer when the file runs out)."""
        rows = self.order[self.dealt : self.dealt + k]
        self.dealt += len(rows)
        return rows


# --------------------------------------------------------------- rule breakers (typed columns)


def _break_rules(
    df: pl.DataFrame, table: str, style: FileStyle, deal: RowDeal, late: pl.Expr
) -> pl.DataFrame:
    """Values the contract refuses, set while the columns still have their types."""
    if table == "participants":
        df = _invalid_value(df, deal.rows(0.002), "referral_type", "walk_in")
        df = _days_before(df, deal.rows(0.002), "intake_date", "referral_date", 3)
        return _accented_case_manager(df) if style.accented_case_manager else df
    if table == "housing":
        df = _invalid_value(df, deal.rows(0.002), "living_situation", "couch_surfing")
        return _set(df, deal.rows(0.002), "assessed_on", late)
    if table == "treatment":
        df = _ended_before_start(df, deal.rows(0.003))
        return _invalid_value(df, deal.rows(0.002), "service_type", "acupuncture")
    if table == "employment":
        df = _invalid_value(df, deal.rows(0.002), "has_income", "maybe")
        return _set(df, deal.rows(0.002), "assessed_on", late)
    df = _invalid_value(df, deal.rows(0.002), "level", "infraction")
    return _set(df, deal.rows(0.002), "event_date", late)


def _set(frame: pl.DataFrame, rows: np.ndarray, column: str, value: pl.Expr) -> pl.DataFrame:
    """`column` set to `value` in the given rows."""
    if len(rows) == 0:
        return frame
    hit = np.zeros(frame.height, dtype=bool)
    hit[rows] = True
    return frame.with_columns(pl.when(pl.Series(hit)).then(value).otherwise(pl.col(column)).alias(column))


def _late_date(as_of: date, rng: np.random.Generator) -> pl.Expr:
    """A day 1 to 39 days after as-of: an assessment or event from the future."""
    return pl.lit(as_of) + pl.duration(days=pl.lit(int(rng.integers(1, 40))))


def _invalid_value(df: pl.DataFrame, rows: np.ndarray, column: str, value: str) -> pl.DataFrame:
    """A value the contract does not allow."""
    return _set(df, rows, column, pl.lit(value))


def _days_before(df: pl.DataFrame, rows: np.ndarray, column: str, anchor: str, days: int) -> pl.DataFrame:
    """A date some days before the date it must follow (an intake before its referral)."""
    return _set(df, rows, column, pl.col(anchor) - pl.duration(days=days))


def _ended_before_start(df: pl.DataFrame, rows: np.ndarray) -> pl.DataFrame:
    """A completed treatment episode that ends five days before it starts."""
    df = _days_before(df, rows, "end_date", "start_date", 5)
    return _set(df, rows, "discharge_reason", pl.lit("completed"))


def _accented_case_manager(df: pl.DataFrame) -> pl.DataFrame:
    """The last case manager's id with an accent (mangled when the encoding is misread)."""
    if df.is_empty():
        return df
    last_cm = df["case_manager_id"].sort()[-1]
    return df.with_columns(pl.col("case_manager_id").replace(last_cm, "CM-José"))


# --------------------------------------------------------------- cells as text


def _as_text(df: pl.DataFrame, table: str, style: FileStyle, rng: np.random.Generator) -> pl.DataFrame:
    """Every cell as text: dates in the file's styles, missing values as the usual tokens."""
    columns = []
    for column, dtype in df.schema.items():
        text = _date_text(df[column], style, rng) if dtype == pl.Date else df[column].cast(pl.String)
        if column in OPTIONAL[table]:
            text = _missing_as_tokens(text, rng)
        columns.append(text)
    return pl.DataFrame(columns)


def _date_text(dates: pl.Series, style: FileStyle, rng: np.random.Generator) -> pl.Series:
    """ISO dates with a few US dates and Excel serials among them, or all US, or all ISO."""
    fmt = pick(rng, (0.97, 0.02, 0.01), len(dates)).astype(np.int8)
    if style.us_dates or not style.mixed_dates:
        fmt[:] = 1 if style.us_dates else 0
    d = pl.col(dates.name)
    text = (
        pl.when(pl.col("_fmt") == 1)
        .then(d.dt.strftime("%m/%d/%Y"))
        .when(pl.col("_fmt") == 2)
        .then((d.cast(pl.Int32) + EXCEL_EPOCH_OFFSET).cast(pl.String))
        .otherwise(d.dt.strftime("%Y-%m-%d"))
    )
    return pl.DataFrame([dates, pl.Series("_fmt", fmt)]).select(text.alias(dates.name)).to_series()


def _missing_as_tokens(text: pl.Series, rng: np.random.Generator) -> pl.Series:
    """Missing cells written as "", NA, N/A, NULL or #N/A."""
    tokens = labels(NA_TOKENS, rng.integers(0, len(NA_TOKENS), len(text)))
    return text.zip_with(text.is_not_null(), tokens)


def _hmis_codes(text: pl.DataFrame, everywhere: bool, rng: np.random.Generator) -> pl.DataFrame:
    """Living situations as HMIS numbers: in a few rows, or in every row of the file."""
    n = text.height
    coded = pl.Series("_code", rng.random(n) < (1.0 if everywhere else 0.05))
    unknown_code = labels(UNKNOWN_HMIS_CODES, rng.integers(0, len(UNKNOWN_HMIS_CODES), n))
    living = pl.col("living_situation")
    return (
        text.with_columns(coded, unknown_code.alias("_unknown_code"))
        .with_columns(
            pl.when(~pl.col("_code") | ~living.is_in(list(HMIS_CODE)))
            .then(living)
            .when(living == "unknown")
            .then(pl.col("_unknown_code"))
            .otherwise(living.replace_strict(HMIS_CODE, default=None))
            .alias("living_situation")
        )
        .drop("_code", "_unknown_code")
    )


def _padded(text: pl.DataFrame, rows: np.ndarray, column: str) -> pl.DataFrame:
    """Values padded with spaces (trimmed on read)."""
    return _set(text, rows, column, pl.lit(" ") + pl.col(column) + pl.lit(" "))


def _reversed_columns(text: pl.DataFrame) -> pl.DataFrame:
    """The columns in another order than the contract's."""
    return text.select(text.columns[::-1])


# --------------------------------------------------------------- copies of rows


def _unknown_participants(
    text: pl.DataFrame, rows: np.ndarray, table: str, site: int, site_id: str, max_number: int
) -> pl.DataFrame:
    """Copies of the rows for participants the site never exported (ids above its highest)."""
    unknown = format_ids(max_number + 1000 + 7 * np.arange(len(rows)), site, site_id)
    ghost = text[rows].with_columns(participant_id=unknown)
    if table == "treatment":
        ghost = ghost.with_columns(episode_id="TX" + pl.Series(900000 + np.arange(len(rows))).cast(pl.String))
    return ghost


def _conflicting_copies(
    text: pl.DataFrame, rows: np.ndarray, column: str, choices: tuple[str, ...], rng: np.random.Generator
) -> pl.DataFrame:
    """Copies of the rows with another value in `column`: the same record, two answers."""
    current = text[column].gather(rows).str.strip_chars()
    current = current.replace(vocab.HMIS_CODES).to_numpy()
    shift = rng.integers(1, len(choices), len(rows))
    other = np.array(
        [
            choices[(choices.index(v) + d) % len(choices)] if v in choices else choices[0]
            for v, d in zip(current, shift, strict=True)
        ]
    )
    return text[rows].with_columns(pl.Series(column, other))


def _after_sources(text: pl.DataFrame, copies: list[tuple[pl.DataFrame, np.ndarray]]) -> pl.DataFrame:
    """Copies placed right after their source rows, as re-exported or merged records are."""
    keys = np.concatenate([2 * np.arange(text.height), *(2 * rows + 1 for _, rows in copies)])
    return pl.concat([text, *(copy for copy, _ in copies)]).gather(np.argsort(keys, kind="stable"))
