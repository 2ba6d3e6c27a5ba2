"""Which release the pages read: its run, as-of date, build time and metrics version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb


@dataclass(frozen=True)
class Release:
    """The release row: which nightly run built the warehouse, and for which as-of date."""

    run_id: str
    as_of: date
    built_at: datetime | None
    metrics_version: str | None


def release_info(con: duckdb.DuckDBPyConnection) -> Release | None:
    """The release's run id, as-of date, build time and metrics version."""
    rows = con.sql(
        """
        select run_id, as_of, built_at, metrics_version
        from release
        order by built_at desc nulls last
        limit 1
        """
    ).fetchall()
    if not rows:
        return None
    run_id, as_of, built_at, metrics_version = rows[0]
    return Release(run_id=run_id, as_of=as_of, built_at=built_at, metrics_version=metrics_version)
