"""Reading a published release: where it is, and how every reader opens it."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

# How every reader opens a release: the dashboard, snapshots and restatements. One setting, so
# that they can share the file in one process (DuckDB refuses a second connection to an open
# file with another configuration).
READ_ONLY = {"enable_external_access": False, "lock_configuration": True}


def live_release(current: Path) -> Path | None:
    """The release file `current` points at, if any (a link to itself points at nothing)."""
    if not current.is_symlink() and not current.exists():
        return None
    target = Path(os.path.realpath(current))  # unlike Path.resolve, no error for a loop
    return target if target.exists() else None


def open_release(path: Path) -> duckdb.DuckDBPyConnection:
    """A release file opened read-only, without file or network access, configuration locked."""
    return duckdb.connect(str(path), read_only=True, config=READ_ONLY)


def table_names(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """The tables and views a release holds (an older release lacks the newer ones)."""
    rows = con.sql("select table_name from information_schema.tables where table_schema = 'main'").fetchall()
    return frozenset(name for (name,) in rows)
