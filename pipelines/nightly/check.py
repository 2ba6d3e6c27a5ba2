"""The release self-check: a built release is checked against the run report before anyone sees it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from pipelines.core.metrics import METRICS
from pipelines.nightly.report import FileReport

# A participant-month holds at most this many custody days: a days metric's numerator is at most
# its denominator times this; a metric that counts people, at most its denominator.
MAX_DAYS_IN_MONTH = 31


def check_release(path: Path, files: list[FileReport], tables: dict[str, pl.DataFrame]) -> None:
    """Check the built release at `path`; raise AssertionError naming what is wrong."""
    for f in files:
        total = f.rows_loaded + f.rows_quarantined + f.rows_duplicate
        if f.rows_read != total:
            raise AssertionError(
                f"{f.path}: rows_read {f.rows_read} != loaded + quarantined + duplicate {total}"
            )
    con = duckdb.connect(str(path), read_only=True)
    try:
        for table, frame in tables.items():
            [(count,)] = con.sql(f"select count(*) from {table}").fetchall()  # noqa: S608 - our table names
            if count != frame.height:
                raise AssertionError(f"{table}: {count} rows in the release, {frame.height} loaded")
        loaded = sum(f.rows_loaded for f in files)
        if loaded != sum(frame.height for frame in tables.values()):
            raise AssertionError("the files' rows_loaded do not add up to the rows in the release")
        [(bad,)] = con.sql(
            "select count(*) from metric_values where denominator <= 0 or numerator < 0 or value is null "
            "or numerator > denominator * (case when list_contains($people, metric) then 1 else $days end)",
            params={
                "people": [name for name, m in METRICS.items() if m.counts_people],
                "days": MAX_DAYS_IN_MONTH,
            },
        ).fetchall()
        if bad:
            raise AssertionError(f"metric_values has {bad} rows with an impossible numerator or denominator")
    finally:
        con.close()
    if path.with_name(path.name + ".wal").exists():
        raise AssertionError("the release has a WAL file beside it: it was not checkpointed")


def shrinkage(before: int | None, tables: dict[str, pl.DataFrame]) -> str | None:
    """Why a release with fewer than half the live release's `before` participants must wait, or None.

    None for `before` means nothing to compare with: no live release, or a damaged one, which is
    no reason to hold a new one (previous.py reads the count once per run).
    """
    if before is None:
        return None
    frame = tables.get("participants")
    after = 0 if frame is None else frame.height
    if 2 * after >= before:
        return None
    return (
        f"this release would have {after:,} participants, fewer than half of the {before:,} in the "
        "live release, which stays live. If the drop is right (a site closed, an export corrected), "
        "run `outcomes nightly --accept-shrink`; otherwise look for a truncated participants export"
    )
