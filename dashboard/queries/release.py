"""Which release the pages read (its run, as-of date, build time and metrics version), and the
case managers it holds (the demo's role picker offers them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from dashboard.queries.sql import load
from pipelines.core.scope import Scope

RELEASE_SQL = load("release")

CASE_MANAGERS_SQL = load("case_managers")


@dataclass(frozen=True)
class Release:
    """The release row: which nightly run built the warehouse, and for which as-of date."""

    run_id: str
    as_of: date
    built_at: datetime | None
    metrics_version: str | None


def release_info(con: duckdb.DuckDBPyConnection) -> Release | None:
    """The release's run id, as-of date, build time and metrics version."""
    rows = con.sql(RELEASE_SQL).fetchall()
    if not rows:
        return None
    run_id, as_of, built_at, metrics_version = rows[0]
    return Release(run_id=run_id, as_of=as_of, built_at=built_at, metrics_version=metrics_version)


def case_managers(con: duckdb.DuckDBPyConnection, scope: Scope) -> list[tuple[str, str]]:
    """Every (site_id, case_manager_id) in scope: the demo's choice of case manager to be."""
    return con.sql(CASE_MANAGERS_SQL, params=scope.params()).fetchall()
