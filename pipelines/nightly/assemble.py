"""Assemble: each table's rows from every site, tidied and validated in order (participants
first, then the outcome tables against the participants), and the frames a release holds.

Rows carry their file's id (read.FILE, report.FileReport.file_id); the counts made here are
keyed by it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import polars as pl

from checks import MODELS, PEOPLE_TABLES, people_table, person_column, vocab
from checks.base import PARTICIPANT_STATE, REFERRAL_DATE
from pipelines.nightly.parse import parse_date
from pipelines.nightly.read import FIELDS, FILE, WIDTH, TextExport
from pipelines.nightly.report import COUNTS, FileReport
from pipelines.nightly.validate import QUARANTINE_SCHEMA, SITE, validate_table

log = logging.getLogger("outcomes.nightly")
FLOOR = dt.date.fromisoformat(vocab.EARLIEST_REFERRAL)


@dataclass(frozen=True)
class Validated:
    """Every table validated."""

    loaded: dict[str, pl.DataFrame]  # the loaded rows by table (with FILE)
    quarantine: pl.DataFrame  # QUARANTINE_SCHEMA and table_name
    # Each participant's case managers as the participants exports say (quarantined rows
    # included, so their problems reach someone): site_id, participant_id, case_manager_ids.
    case_managers: pl.DataFrame
    counts: dict[int, dict[str, int]]  # file id -> blank_rows and COUNTS, for the run report
    # The contract's columns each export in force carries: site_id, table_name, column_name.
    columns: pl.DataFrame


def table_rows(
    exports: dict[int, TextExport], sites: dict[int, str]
) -> tuple[pl.DataFrame, dict[int, int]] | None:
    """One table's rows of data from every site, each tagged with its file and site; and the
    blank rows set aside, by file id. None when no site has the table."""
    if not exports:
        return None
    rows = pl.concat(
        [
            t.rows.with_columns(
                pl.lit(file_id, pl.UInt32).alias(FILE),
                pl.lit(t.header_width, pl.UInt32).alias(WIDTH),
                pl.lit(sites[file_id]).alias(SITE),
            )
            for file_id, t in exports.items()
        ]
    )
    return rows, {file_id: t.blank_rows for file_id, t in exports.items()}


# A person table's date the outcome rules measure from (the referral, or the comparison group's
# index date).
INDEX_DATES = {"participants": "referral_date", "comparison": "index_date"}


def person_lookup(table: str, loaded: pl.DataFrame, held: pl.DataFrame) -> pl.DataFrame:
    """Each person id a site has in a person table: loaded (with its index date) or quarantined.

    Columns: site_id, the table's person column, _participant, _referral_date.
    """
    person = person_column(table)
    ok = loaded.select(
        SITE,
        person,
        pl.lit("loaded").alias(PARTICIPANT_STATE),
        pl.col(INDEX_DATES[table]).alias(REFERRAL_DATE),
    )
    quarantined = (
        held.select(
            SITE,
            person,
            pl.lit("quarantined").alias(PARTICIPANT_STATE),
            pl.lit(None, pl.Date).alias(REFERRAL_DATE),
        )
        .join(ok, on=[SITE, person], how="anti")
        .unique()
    )
    return pl.concat([ok, quarantined]).unique([SITE, person], keep="first", maintain_order=True)


def no_people(table: str) -> pl.DataFrame:
    """The lookup of a person table no site has exported: nobody."""
    return pl.DataFrame(
        schema={
            SITE: pl.String,
            person_column(table): pl.String,
            PARTICIPANT_STATE: pl.String,
            REFERRAL_DATE: pl.Date,
        }
    )


def caseloads(rows: pl.DataFrame) -> pl.DataFrame:
    """Every case manager each participant's rows name, sorted: site_id, participant_id,
    case_manager_ids. Two rows of one participant that name different case managers (a
    conflicting duplicate) name both, so that each of them sees the conflict, not the first alone."""
    return (
        rows.filter(pl.col("participant_id").is_not_null())
        .group_by(SITE, "participant_id", maintain_order=True)
        .agg(pl.col("case_manager_id").drop_nulls().unique().sort().alias("case_manager_ids"))
    )


def earliest_referral(exports: dict[int, TextExport]) -> dt.date | None:
    """The earliest referral date in the participants exports (none before the contract's floor).

    A release as of an earlier date would hold no participant. Read from the text already in
    memory, ragged rows aside (their values may sit under the wrong column), each distinct date
    parsed once: no second pass over the exports.
    """
    if not exports:
        return None
    dates = pl.concat(
        [t.rows.lazy().filter(pl.col(FIELDS).is_null()).select("referral_date") for t in exports.values()]
    ).unique()
    parsed = dates.select(parse_date(pl.col("referral_date")).alias("referral_date")).filter(
        pl.col("referral_date") >= pl.lit(FLOOR)
    )
    return parsed.select(pl.col("referral_date").min()).collect().item()


def validate_all(
    files: list[FileReport], exports: dict[str, dict[int, TextExport]], as_of: dt.date
) -> Validated:
    """Validate participants first, then the outcome tables against them."""
    sites = {f.file_id: f.site_id for f in files}
    loaded: dict[str, pl.DataFrame] = {}
    quarantines = []
    counts: dict[int, dict[str, int]] = {}
    lookups = {table: no_people(table) for table in PEOPLE_TABLES}
    case_managers = pl.DataFrame(
        schema={SITE: pl.String, "participant_id": pl.String, "case_manager_ids": pl.List(pl.String)}
    )
    for table in MODELS:
        tidied = table_rows(exports[table], sites)
        if tidied is None:
            continue
        rows, blanks = tidied
        for file_id, count in blanks.items():
            counts.setdefault(file_id, {})["blank_rows"] = count
        people = people_table(table)
        result = validate_table(table, rows, as_of, lookups[people] if people else None)
        if table in PEOPLE_TABLES:
            lookups[table] = person_lookup(table, result.loaded, result.held)
        if table == "participants":
            case_managers = caseloads(rows)
        for row in result.counts.iter_rows(named=True):
            counts.setdefault(row[FILE], {}).update({c: int(row[c]) for c in COUNTS})
        loaded[table] = result.loaded
        quarantines.append(result.quarantine.with_columns(pl.lit(table).alias("table_name")))
        log.info(
            "%s: %d rows loaded, %d quarantined",
            table,
            result.loaded.height,
            result.quarantine.select(FILE, "_row").n_unique(),
        )
    quarantine = (
        pl.concat(quarantines)
        if quarantines
        else pl.DataFrame(schema={**QUARANTINE_SCHEMA, "table_name": pl.String})
    )
    return Validated(loaded, quarantine, case_managers, counts, export_columns(exports, sites))


def export_columns(exports: dict[str, dict[int, TextExport]], sites: dict[int, str]) -> pl.DataFrame:
    """The contract's columns each export carries (site_id, table_name, column_name): how the
    release tells an optional column left out (contract v1's justice export has no release_date,
    so its bookings say nothing of custody) from one left blank (still in custody)."""
    return pl.DataFrame(
        [
            (sites[file_id], table, column)
            for table, by_file in exports.items()
            for file_id, export in by_file.items()
            for column in export.columns
        ],
        schema={SITE: pl.String, "table_name": pl.String, "column_name": pl.String},
        orient="row",
    ).sort(SITE, "table_name", "column_name")


def release_tables(
    run_id: str, files: list[FileReport], loaded: dict[str, pl.DataFrame], quarantine: pl.DataFrame
) -> tuple[dict[str, pl.DataFrame], pl.DataFrame, pl.DataFrame]:
    """The frames a release holds: loaded rows by table, the quarantine and the files, as users
    read them. `files` with their counts filled in."""
    files_frame = pl.DataFrame(
        [{"run_id": run_id, **f.report()} for f in files],
        schema={
            "run_id": pl.String,
            "site_id": pl.String,
            "table": pl.String,
            "path": pl.String,
            "sha256": pl.String,
            "status": pl.String,
            "accepted_at": pl.String,
            **{c: pl.Int64 for c in COUNTS},
            "blank_rows": pl.Int64,
            "error": pl.String,
        },
    ).rename({"table": "table_name"})
    file_info = pl.DataFrame(
        [(f.file_id, f.path, f.sha256) for f in files],
        schema={FILE: pl.UInt32, "path": pl.String, "sha256": pl.String},
        orient="row",
    )
    quarantine = (
        quarantine.join(file_info, on=FILE, how="left")
        .select(
            pl.lit(run_id).alias("run_id"),
            SITE,
            "table_name",
            pl.col("path").alias("file"),
            "sha256",
            pl.col("_row").cast(pl.Int64).alias("row_number"),
            "participant_id",
            "column_name",
            "rule",
            "value",
            "message",
        )
        .sort(SITE, "table_name", "row_number", "column_name", "rule")
    )
    tables = {t: frame.drop(FILE) for t, frame in loaded.items()}
    return tables, quarantine, files_frame
