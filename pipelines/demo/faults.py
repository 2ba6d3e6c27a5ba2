"""The `--messy` faults: which file-level faults go where, and the row-level faults real
exports have on a small share of their rows.
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
    n = df.height
    force = site == 0  # the biggest site carries every row fault at least once

    def count(rate: float) -> int:
        k = int(rng.binomial(n, rate)) if n else 0
        return min(max(k, 1 if force else 0), n)

    perm = rng.permutation(n)
    taken = 0

    def take(k: int) -> np.ndarray:
        nonlocal taken
        rows = perm[taken : taken + k]
        taken += len(rows)
        return rows

    def mask(rows: np.ndarray) -> pl.Series:
        m = np.zeros(n, dtype=bool)
        m[rows] = True
        return pl.Series(m)

    def put(frame: pl.DataFrame, rows: np.ndarray, column: str, value: pl.Expr) -> pl.DataFrame:
        if len(rows) == 0:
            return frame
        return frame.with_columns(pl.when(mask(rows)).then(value).otherwise(pl.col(column)).alias(column))

    after = pl.lit(as_of) + pl.duration(days=pl.lit(int(rng.integers(1, 40))))
    # Rule breakers, set while the columns still have their types.
    if table == "participants":
        df = put(df, take(count(0.002)), "referral_type", pl.lit("walk_in"))
        rows = take(count(0.002))
        df = put(df, rows, "intake_date", pl.col("referral_date") - pl.duration(days=3))
        if style.accented_case_manager and n:
            last_cm = df["case_manager_id"].sort()[-1]
            df = df.with_columns(pl.col("case_manager_id").replace(last_cm, "CM-José"))
    elif table == "housing":
        df = put(df, take(count(0.002)), "living_situation", pl.lit("couch_surfing"))
        df = put(df, take(count(0.002)), "assessed_on", after)
    elif table == "treatment":
        rows = take(count(0.003))
        df = put(df, rows, "end_date", pl.col("start_date") - pl.duration(days=5))
        df = put(df, rows, "discharge_reason", pl.lit("completed"))
        df = put(df, take(count(0.002)), "service_type", pl.lit("acupuncture"))
    elif table == "employment":
        df = put(df, take(count(0.002)), "has_income", pl.lit("maybe"))
        df = put(df, take(count(0.002)), "assessed_on", after)
    else:
        df = put(df, take(count(0.002)), "level", pl.lit("infraction"))
        df = put(df, take(count(0.002)), "event_date", after)

    # Every cell as text: dates in mixed styles, missing values as the usual tokens.
    helpers: dict[str, pl.Series] = {}
    exprs = []
    for c, dtype in df.schema.items():
        if dtype == pl.Date:
            fmt = pick(rng, (0.97, 0.02, 0.01), n).astype(np.int8)
            if style.us_dates or not style.mixed_dates:
                fmt[:] = 1 if style.us_dates else 0
            helpers[f"_fmt_{c}"] = pl.Series(fmt)
            e = (
                pl.when(pl.col(f"_fmt_{c}") == 1)
                .then(pl.col(c).dt.strftime("%m/%d/%Y"))
                .when(pl.col(f"_fmt_{c}") == 2)
                .then((pl.col(c).cast(pl.Int32) + EXCEL_EPOCH_OFFSET).cast(pl.String))
                .otherwise(pl.col(c).dt.strftime("%Y-%m-%d"))
            )
        else:
            e = pl.col(c).cast(pl.String)
        if c in OPTIONAL[table]:
            helpers[f"_na_{c}"] = labels(NA_TOKENS, rng.integers(0, len(NA_TOKENS), n))
            e = pl.when(pl.col(c).is_null()).then(pl.col(f"_na_{c}")).otherwise(e)
        exprs.append(e.alias(c))
    if table == "housing":
        share = 1.0 if style.hmis_codes else 0.05
        helpers["_code"] = pl.Series(rng.random(n) < share)
        helpers["_unknown_code"] = labels(UNKNOWN_HMIS_CODES, rng.integers(0, len(UNKNOWN_HMIS_CODES), n))
        column = df.columns.index("living_situation")
        exprs[column] = (
            pl.when(~pl.col("_code") | ~pl.col("living_situation").is_in(list(HMIS_CODE)))
            .then(pl.col("living_situation"))
            .when(pl.col("living_situation") == "unknown")
            .then(pl.col("_unknown_code"))
            .otherwise(pl.col("living_situation").replace_strict(HMIS_CODE, default=None))
            .alias("living_situation")
        )
    text = df.with_columns(**helpers).select(exprs)

    # Values padded with spaces (trimmed on read) in one enum column.
    enum_col = {
        "participants": "gender",
        "housing": "living_situation",
        "treatment": "service_type",
        "employment": "employment_status",
        "justice": "event_type",
    }[table]
    text = put(text, take(count(0.005)), enum_col, pl.lit(" ") + pl.col(enum_col) + pl.lit(" "))

    extra: list[pl.DataFrame] = []
    after_row: list[np.ndarray] = []
    if table != "participants" and n:
        rows = take(count(0.003))
        unknown = format_ids(max_number + 1000 + 7 * np.arange(len(rows)), site, site_id)
        ghost = text[rows].with_columns(participant_id=unknown)
        if table == "treatment":
            ghost = ghost.with_columns(
                episode_id="TX" + pl.Series(900000 + np.arange(len(rows))).cast(pl.String)
            )
        extra.append(ghost)
        after_row.append(rows)
    dup_rate = 0.003 if table != "participants" else 0.002
    rows = take(count(dup_rate))
    extra.append(text[rows])
    after_row.append(rows)
    conflict_col = {
        "participants": "gender",
        "housing": "living_situation",
        "treatment": "service_type",
        "employment": "has_income",
        "justice": "level",
    }[table]
    choices = {
        "participants": GENDERS,
        "housing": tuple(LIVING_SITUATIONS),
        "treatment": SERVICE_TYPES,
        "employment": INCOME,
        "justice": LEVELS,
    }[table]
    k = count(0.002) if table != "participants" else (1 if force else 0)
    rows = take(min(k, n - taken))
    if len(rows):
        current = text[conflict_col].gather(rows).str.strip_chars()
        current = current.replace(vocab.HMIS_CODES).to_numpy()
        shift = rng.integers(1, len(choices), len(rows))
        other = np.array(
            [
                choices[(choices.index(v) + d) % len(choices)] if v in choices else choices[0]
                for v, d in zip(current, shift, strict=True)
            ]
        )
        extra.append(text[rows].with_columns(pl.Series(conflict_col, other)))
        after_row.append(rows)

    # Copies go right after their source row, as re-exported or merged records do.
    keys = np.concatenate([2 * np.arange(n), *(2 * r + 1 for r in after_row)])
    text = pl.concat([text, *extra]).gather(np.argsort(keys, kind="stable"))
    if style.reorder:
        text = text.select(text.columns[::-1])
    return text
