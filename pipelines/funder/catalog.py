"""The published snapshots as their readers find them: the catalog of snapshot folders, a
snapshot's metrics.csv as text, the order of its periods, and the quarters a snapshot can be
taken of now.

A snapshot is read as text: its numbers are kept as metrics.csv writes them, and a suppressed
cell is never turned back into a number.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipelines.core.periods import quarter_label
from pipelines.core.settings import Home
from pipelines.funder.snapshot import COLUMNS, SnapshotRefused, parse_period

# The files a snapshot may hold, in the order they are offered: (name, mime type, label).
DOWNLOADS = (
    ("report.html", "text/html", "Report (HTML)"),
    ("metrics.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Metrics (Excel)"),
    ("metrics.csv", "text/csv", "Metrics (CSV)"),
    ("report.pdf", "application/pdf", "Report (PDF)"),
    ("manifest.json", "application/json", "Manifest (JSON)"),
)


@dataclass(frozen=True)
class Entry:
    """One published snapshot in the catalog."""

    snapshot_id: str
    folder: Path
    manifest: dict
    files: tuple[str, ...]  # which of DOWNLOADS' files it holds

    @property
    def period(self) -> str:
        return str(self.manifest.get("period", ""))


def snapshot_folders(home: Home) -> list[Path]:
    """Every snapshot folder, by name. Hidden folders (a `.<id>.building` being written) are not
    snapshots yet and are skipped."""
    if not home.snapshots.is_dir():
        return []
    return sorted(f for f in home.snapshots.iterdir() if not f.name.startswith(".") and f.is_dir())


def catalog(home: Home) -> list[Entry]:
    """Every published snapshot (a folder with a readable manifest.json), newest first."""
    entries = []
    for folder in snapshot_folders(home):
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if not isinstance(manifest, dict):
            continue
        files = tuple(name for name, _, _ in DOWNLOADS if (folder / name).is_file())
        entries.append(Entry(folder.name, folder, manifest, files))
    return sorted(entries, key=lambda e: (str(e.manifest.get("created_at", "")), e.snapshot_id), reverse=True)


def load_metrics(data: bytes) -> pl.DataFrame:
    """A snapshot's metrics.csv (its bytes, as checked) as text: every number as written, empty
    cells kept empty."""
    table = pl.read_csv(io.BytesIO(data), infer_schema=False, empty_string_is_null=False)
    if table.columns != COLUMNS:
        raise ValueError(f"metrics.csv has columns {table.columns}, not {COLUMNS}")
    return table


def period_key(period: str) -> tuple[int, str]:
    """Months first, then the quarter: the quarter is not one more month."""
    try:
        parse_period(period)
    except SnapshotRefused:
        return (0, period)
    return (1, period)


def creatable_quarters(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Quarters a snapshot can be taken of now: complete by the release's as-of, with data; newest first."""
    [(as_of,)] = con.sql("select as_of from release").fetchall()
    months = [m for (m,) in con.sql("select distinct month from metric_flags").fetchall()]
    quarters = {quarter_label(m) for m in months}
    return sorted((q for q in quarters if parse_period(q).end <= as_of), reverse=True)
