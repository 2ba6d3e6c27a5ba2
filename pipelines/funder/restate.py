"""Restatement (issue 6): a published snapshot beside today's data for the same quarter.

A snapshot is never changed; a correction is a new snapshot. Before taking one, leadership
needs to see what it would restate: `restate(home, folder)` computes the quarter from the live
release exactly as a new snapshot would (snapshot.quarter_csv: the same cells, suppression and
number format), compares the two metrics.csv files as text rows, compares the snapshot's
archived files with the release's files in force, and says which files changed which numbers.
When numbers changed but no file did, the as-of date or the metric definitions did: both are
given, then and now.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.core.metrics import METRICS
from pipelines.core.release import live_release, open_release
from pipelines.core.settings import Home
from pipelines.funder.snapshot import (
    COLUMNS,
    SNAPSHOT_DIMENSIONS,
    NoRelease,
    SnapshotRefused,
    files_in_force,
    parse_period,
    quarter_csv,
)

KEY = ("metric", "period", "dimension", "group")
FIGURES = ("numerator", "denominator", "value", "suppressed")
# The kinds of change of a number, in the order a reader wants them.
KINDS = ("changed", "newly suppressed", "no longer suppressed", "added", "removed")
NUMBER_COLUMNS = [
    *KEY,
    "kind",
    *(f"then_{c}" for c in FIGURES),
    *(f"now_{c}" for c in FIGURES),
    "changed_by",
]
FILE_COLUMNS = ["site_id", "table", "change", "then_path", "then_sha256", "now_path", "now_sha256"]
MANIFEST_KEYS = ("snapshot_id", "period", "as_of", "run_id", "archived_files", "metrics_version")


class InvalidSnapshot(Exception):
    """The folder is not a whole, unchanged, published snapshot."""


@dataclass(frozen=True)
class Basis:
    """What a set of numbers was computed from."""

    as_of: str
    run_id: str
    metrics_version: str | None
    release: str | None


@dataclass(frozen=True)
class Restatement:
    """A snapshot's numbers against today's: what changed, which files changed, and why."""

    snapshot_id: str
    period: str
    then: Basis
    now: Basis
    numbers: pl.DataFrame  # NUMBER_COLUMNS, all text: one row per number that differs
    files: pl.DataFrame  # FILE_COLUMNS: one row per (site_id, table) whose file differs
    notes: tuple[str, ...]  # what else explains the numbers (as-of, metric definitions)

    @property
    def changed_files(self) -> list[str]:
        """Each changed file as 'site/table change', e.g. 'north/housing replaced'."""
        return [f"{s}/{t} {c}" for s, t, c in self.files.select("site_id", "table", "change").iter_rows()]

    def summary(self) -> str:
        """One plain line: how many numbers and files changed, and what explains the rest."""
        n, f = self.numbers.height, self.files.height
        if n == 0 and f == 0:
            same = (
                f"Nothing changed: today's data gives the same numbers for {self.period} as snapshot "
                f"{self.snapshot_id}, from the same files."
            )
            return " ".join([same, *self.notes])
        numbers = "No number changed" if n == 0 else f"{n:,} number{'s' * (n != 1)} changed"
        files = (
            "no file changed"
            if f == 0
            else f"{f} file{'s' * (f != 1)} changed: {', '.join(self.changed_files)}"
        )
        return " ".join([f"{numbers}; {files}.", *self.notes])


def restate(home: Home, snapshot_dir: Path) -> Restatement:
    """Compare the snapshot in `snapshot_dir` with the live release's numbers for its quarter."""
    manifest, then_rows = read_snapshot(snapshot_dir)
    quarter = parse_period(manifest["period"])
    release = live_release(home.current)
    if release is None:
        raise NoRelease("no live release to compare the snapshot with: run `outcomes nightly` first")
    con = open_release(release)
    try:
        [(run_id, as_of, metrics_version)] = con.sql(
            "select run_id, as_of, metrics_version from release"
        ).fetchall()
        # The quarters the snapshot compared with, as it recorded them (none before issue 15).
        compared = [parse_period(p) for p in manifest.get("comparison_periods") or []]
        now_rows = parse_csv(quarter_csv(con, quarter, compared))
        now_files = files_in_force(con)
    finally:
        con.close()

    then = Basis(manifest["as_of"], manifest["run_id"], manifest["metrics_version"], manifest.get("release"))
    now = Basis(as_of.isoformat(), run_id, metrics_version, release.name)
    files = compare_files(manifest["archived_files"], now_files)
    numbers = compare_numbers(then_rows, now_rows)
    numbers = attribute(numbers, files, then, now)
    notes = explain(numbers.height, files.height, then, now, quarter.end.isoformat())
    return Restatement(manifest["snapshot_id"], quarter.label, then, now, numbers, files, notes)


def read_snapshot(folder: Path) -> tuple[dict, dict[tuple[str, ...], tuple[str, ...]]]:
    """The manifest and metrics.csv rows of a published snapshot; InvalidSnapshot if it is not one."""
    if folder.name.startswith("."):
        raise InvalidSnapshot(f"{folder.name} is a snapshot being written, not a published one")
    if not folder.is_dir():
        raise InvalidSnapshot(f"{folder} is not a snapshot folder")
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        data = (folder / "metrics.csv").read_bytes()
    except FileNotFoundError as error:
        raise InvalidSnapshot(f"{folder.name} has no {Path(error.filename).name}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidSnapshot(f"{folder.name}: manifest.json cannot be read ({error})") from None
    if not isinstance(manifest, dict) or any(k not in manifest for k in MANIFEST_KEYS):
        raise InvalidSnapshot(f"{folder.name}: manifest.json lacks {', '.join(MANIFEST_KEYS)}")
    if manifest.get("metrics_csv_sha256") != hashlib.sha256(data).hexdigest():
        raise InvalidSnapshot(f"{folder.name}: metrics.csv is not the file its manifest was published with")
    try:
        parse_period(manifest["period"])
        for period in manifest.get("comparison_periods") or []:
            parse_period(period)
        rows = parse_csv(data)
    except (SnapshotRefused, ValueError) as error:
        raise InvalidSnapshot(f"{folder.name}: {error}") from None
    return manifest, rows


def parse_csv(data: bytes) -> dict[tuple[str, ...], tuple[str, ...]]:
    """metrics.csv as {(metric, period, dimension, group): (numerator, denominator, value, suppressed)}."""
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    header = next(reader, None)
    if header != COLUMNS:
        raise ValueError(f"metrics.csv has columns {header}, not {COLUMNS}")
    rows: dict[tuple[str, ...], tuple[str, ...]] = {}
    for line in reader:
        if len(line) != len(COLUMNS):
            raise ValueError(f"metrics.csv has a row of {len(line)} fields: {line}")
        key, figures = tuple(line[:4]), tuple(line[4:])
        if key in rows:
            raise ValueError(f"metrics.csv has {key} twice")
        rows[key] = figures
    return rows


def kind_of(then: tuple[str, ...] | None, now: tuple[str, ...] | None) -> str | None:
    """How a number changed (one of KINDS), or None when its text is the same."""
    if then == now:
        return None
    if then is None:
        return "added"
    if now is None:
        return "removed"
    was_hidden, is_hidden = then[3] == "true", now[3] == "true"
    if is_hidden and not was_hidden:
        return "newly suppressed"
    if was_hidden and not is_hidden:
        return "no longer suppressed"
    return "changed"


def _rank(key: tuple[str, ...]) -> tuple:
    """metrics.csv's own order: metric, period, dimension, group (unknown names last)."""
    metrics, dimensions = list(METRICS), list(SNAPSHOT_DIMENSIONS)
    metric, period, dimension, group = key
    return (
        metrics.index(metric) if metric in metrics else len(metrics),
        metric,
        period,
        dimensions.index(dimension) if dimension in dimensions else len(dimensions),
        dimension,
        group,
    )


def compare_numbers(
    then: dict[tuple[str, ...], tuple[str, ...]], now: dict[tuple[str, ...], tuple[str, ...]]
) -> pl.DataFrame:
    """One row per number whose text differs, appears or disappears (NUMBER_COLUMNS but changed_by)."""
    empty = ("",) * len(FIGURES)
    rows = []
    for key in sorted(then.keys() | now.keys(), key=_rank):
        kind = kind_of(then.get(key), now.get(key))
        if kind is not None:
            rows.append((*key, kind, *(then.get(key) or empty), *(now.get(key) or empty)))
    return pl.DataFrame(rows, schema=dict.fromkeys(NUMBER_COLUMNS[:-1], pl.String), orient="row")


def compare_files(archived: list[dict], in_force: list[dict]) -> pl.DataFrame:
    """Per (site_id, table): the snapshot's file replaced, or a file added or removed since."""
    then = {(f["site_id"], f["table"]): f for f in archived}
    now = {(f["site_id"], f["table"]): f for f in in_force}
    rows = []
    for key in sorted(then.keys() | now.keys()):
        a, b = then.get(key), now.get(key)
        if a is None:
            change = "added"
        elif b is None:
            change = "removed"
        elif a["sha256"] != b["sha256"]:
            change = "replaced"
        else:
            continue
        rows.append(
            (
                *key,
                change,
                a and a["path"],
                a and a["sha256"],
                b and b["path"],
                b and b["sha256"],
            )
        )
    return pl.DataFrame(rows, schema=dict.fromkeys(FILE_COLUMNS, pl.String), orient="row")


def attribute(numbers: pl.DataFrame, files: pl.DataFrame, then: Basis, now: Basis) -> pl.DataFrame:
    """Name the changed files behind each number: a site's own files for its site cells, else all."""
    changed = list(files.select("site_id", "table", "change").iter_rows())
    everything = "; ".join(f"{s}/{t} {c}" for s, t, c in changed) or no_file_changed(then, now)
    by_site: dict[str, str] = {}
    for s, t, c in changed:
        by_site[s] = f"{by_site[s]}; {s}/{t} {c}" if s in by_site else f"{s}/{t} {c}"

    def files_behind(dimension: str, group: str) -> str:
        if dimension != "site" or not changed:
            return everything
        # A site's numbers come from its own exports only; suppression can still follow other
        # sites' cells (complementary suppression), so say plainly when none of its files changed.
        return by_site.get(group, f"no file of site {group} changed")

    return numbers.with_columns(
        changed_by=pl.Series(
            [files_behind(d, g) for d, g in numbers.select("dimension", "group").iter_rows()],
            dtype=pl.String,
        )
    ).select(NUMBER_COLUMNS)


def no_file_changed(then: Basis, now: Basis) -> str:
    """What changed the numbers when no file did."""
    return (
        f"no file changed (as of {then.as_of} then, {now.as_of} now; "
        f"metrics {then.metrics_version} then, {now.metrics_version} now)"
    )


def explain(numbers: int, files: int, then: Basis, now: Basis, quarter_end: str) -> tuple[str, ...]:
    """What besides files explains the numbers: the as-of date, the metric definitions, a short quarter."""
    notes = []
    if now.as_of < quarter_end:
        notes.append(
            f"Today's release is as of {now.as_of}, before the quarter ends ({quarter_end}): "
            "its numbers for the quarter are incomplete."
        )
    if numbers and not files:
        causes = []
        if then.as_of != now.as_of:
            causes.append(
                f"the as-of date moved from {then.as_of} to {now.as_of} (records dated after the "
                "as-of date are held back, and open episodes and statuses run up to it)"
            )
        if then.metrics_version != now.metrics_version:
            causes.append(
                f"the metric definitions changed from {then.metrics_version} to {now.metrics_version}"
            )
        if not causes:
            causes.append(
                f"the as-of date ({now.as_of}) and metric definitions ({now.metrics_version}) are the "
                "same too, so the program that computes them has changed"
            )
        notes.append(f"What changed instead: {'; '.join(causes)}.")
    elif then.metrics_version != now.metrics_version:
        notes.append(
            f"The metric definitions differ: {then.metrics_version} then, {now.metrics_version} now."
        )
    return tuple(notes)
