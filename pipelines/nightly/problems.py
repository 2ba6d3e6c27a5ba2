"""Data problems tracked across runs: when each quarantine entry first appeared, and when a
later export fixed it.

A problem is the same problem from run to run when its site, table, participant, column, rule
and value are the same (row numbers change as exports change). The history lives in the
releases: each run carries the live release's `problems` forward (previous.py reads them). A
problem fixed and later back is a new occurrence: one row per (problem_id, first_seen_run).
"""

from __future__ import annotations

import datetime as dt
import hashlib

import duckdb
import polars as pl

from checks.fixes import fix_for
from pipelines.core.release import table_names

IDENTITY = ("site_id", "table_name", "participant_id", "column_name", "rule", "value")
SCHEMA = {
    "problem_id": pl.String,
    "site_id": pl.String,
    "table_name": pl.String,
    "participant_id": pl.String,
    "case_manager_ids": pl.List(pl.String),  # every case manager the participant's rows name
    "column_name": pl.String,
    "rule": pl.String,
    "value": pl.String,
    "message": pl.String,
    "fix": pl.String,
    "file": pl.String,
    "row_number": pl.Int64,
    "first_seen_run": pl.String,
    "first_seen": pl.Date,
    "last_seen_run": pl.String,
    "status": pl.String,
    "fixed_run": pl.String,
    "fixed_on": pl.Date,
    "age_days": pl.Int64,
    "days_to_fix": pl.Int64,
}


def none() -> pl.DataFrame:
    """No history: nothing published yet, or a history that could not be read."""
    return pl.DataFrame(schema=SCHEMA)


def history(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The problems of an open release, or none (a release from before tracking).

    A release from before a problem could reach several case managers has one case_manager_id:
    its history is carried forward with that one.
    """
    if "problems" not in table_names(con):
        return none()
    found = con.sql("select * from problems").pl()
    if "case_manager_ids" not in found.columns:
        found = found.with_columns(
            pl.concat_list("case_manager_id").list.drop_nulls().alias("case_manager_ids")
        )
    return found.select([pl.col(c).cast(t) for c, t in SCHEMA.items()])


def sightings(quarantine: pl.DataFrame, case_managers: pl.DataFrame) -> pl.DataFrame:
    """This run's problems: one per identity (the first row that shows it), with advice.

    case_managers: site_id, participant_id, case_manager_ids as the participants export says; a
    problem of a participant no export names reaches no case manager (an empty list).
    """
    # A hash that stays the same across runs and versions (Polars' own hash need not).
    key = pl.concat_str([pl.col(c).fill_null("\u2205") for c in IDENTITY], separator="\u241f")
    digest = key.map_elements(lambda k: hashlib.sha256(k.encode()).hexdigest()[:16], return_dtype=pl.String)
    return (
        quarantine.sort("site_id", "table_name", "row_number")
        .with_columns(digest.alias("problem_id"))
        .unique("problem_id", keep="first", maintain_order=True)
        .join(case_managers, on=["site_id", "participant_id"], how="left")
        .with_columns(
            pl.col("case_manager_ids").fill_null([]),
            pl.col("rule").map_elements(fix_for, return_dtype=pl.String).alias("fix"),
        )
    )


def track(earlier: pl.DataFrame, seen: pl.DataFrame, run_id: str, as_of: dt.date) -> pl.DataFrame:
    """Carry the history forward: new problems open, vanished ones fixed, fixed ones kept."""
    was_open = earlier.filter(pl.col("status") == "open")
    history = earlier.filter(pl.col("status") == "fixed")
    still = seen.join(
        was_open.select("problem_id", "first_seen_run", "first_seen"), on="problem_id", how="left"
    ).with_columns(
        pl.col("first_seen_run").fill_null(run_id),
        pl.col("first_seen").fill_null(pl.lit(as_of)),
    )
    opened = still.select(
        *[c for c in SCHEMA if c in still.columns and c not in ("status", "age_days", "days_to_fix")],
        pl.lit(run_id).alias("last_seen_run"),
        pl.lit("open").alias("status"),
        pl.lit(None, pl.String).alias("fixed_run"),
        pl.lit(None, pl.Date).alias("fixed_on"),
    )
    fixed = was_open.join(seen.select("problem_id"), on="problem_id", how="anti").with_columns(
        pl.lit("fixed").alias("status"), pl.lit(run_id).alias("fixed_run"), pl.lit(as_of).alias("fixed_on")
    )
    frames = [
        f.select(
            [pl.col(c).cast(t) if c in f.columns else pl.lit(None, t).alias(c) for c, t in SCHEMA.items()]
        )
        for f in (opened, fixed, history)
    ]
    return (
        pl.concat(frames)
        .with_columns(
            pl.when(pl.col("status") == "open")
            .then((pl.lit(as_of) - pl.col("first_seen")).dt.total_days())
            .alias("age_days"),
            (pl.col("fixed_on") - pl.col("first_seen")).dt.total_days().alias("days_to_fix"),
        )
        .sort("site_id", "table_name", "status", "first_seen", "problem_id")
    )
