"""Funder snapshots (DESIGN s.3, s.7): a quarter's metrics frozen, suppressed, reproducible, immutable.

`take_snapshot(home, "2024-Q1")` reads the live release (read-only) and writes
`snapshots/<snapshot_id>/` with `metrics.csv` (metric, period, dimension, group, numerator,
denominator, value, suppressed), the same rows for people in `metrics.xlsx` (workbook.py), the
report (report.html, report.pdf) and `manifest.json` (where the figures come from and how they
were made, every file's SHA-256). The figures are each month of the quarter ('YYYY-MM') and the
quarter itself ('YYYY-Qn'), with the program-wide figures of the quarter before and the same
quarter a year earlier (each suppressed as a table of its own) for the summary, for every metric
that counts people (SNAPSHOT_METRICS: not jail_days, a sum of days; not yet the other justice
measures of v2) and every dimension but case_manager, counted by
pipelines/funder/sql/quarter_cells.sql with the release's own metric definitions (the macro
metric_cells that metric_values is built with); suppression is pipelines/funder/suppression.py's.
metrics.csv and metrics.xlsx hold no timestamp and their rows and numbers are written in a fixed
order and format, so the same archive and as-of give the same bytes; a snapshot is written into a
hidden folder, made read-only and renamed into place, and is never overwritten: a correction is a
new snapshot, with a new id. Its creation is written to the audit log, with the manifest's SHA-256,
before it is renamed into place: the record every later check of the snapshot starts from
(pipelines/funder/integrity.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import threading
from collections import OrderedDict
from importlib import resources
from pathlib import Path

import duckdb
import polars as pl

from pipelines.core import audit
from pipelines.core.durable import fsync
from pipelines.core.export import csv_bytes
from pipelines.core.metrics import DIMENSIONS, METRICS, METRICS_VERSION
from pipelines.core.periods import Quarter, add_months, parse_quarter, quarter_label
from pipelines.core.release import live_release, open_release
from pipelines.core.settings import Home
from pipelines.funder import suppression
from pipelines.funder.pdf import print_pdf
from pipelines.funder.report import report_html
from pipelines.funder.workbook import metrics_xlsx
from pipelines.nightly.archive import sha256_of

COLUMNS = ["metric", "period", "dimension", "group", "numerator", "denominator", "value", "suppressed"]
VALUE_DECIMALS = 6
# Case managers are too fine a breakdown for a funder (DESIGN s.7): never in a snapshot.
SNAPSHOT_DIMENSIONS = {d: c for d, c in DIMENSIONS.items() if d != "case_manager"}
# Only counts of people: suppression hides counts of people from 1 to 10 and keeps them wide
# against each other. jail_days is a sum of days; a small sum can stand for one person's stay
# (3 days is one person or three), which no rule here protects, so it is never in a snapshot.
# The other justice measures of v2 wait for issue 16 (Metric.in_snapshots says why).
SNAPSHOT_METRICS = {name: m for name, m in METRICS.items() if m.counts_people and m.in_snapshots}
QUARTER_DEFINITION = (
    "Each month counts the participants active that month, as the dashboard does. The quarter counts "
    "distinct participants over its three months, each once, never a sum of months: a participant is "
    "in a measure's denominator if its condition holds in at least one month of the quarter, and in "
    "its numerator if the numerator's condition holds in at least one month of the quarter (for "
    "example, in permanent housing at some month's end in the quarter, out of the participants with a "
    "known housing status at some month's end in the quarter). So a quarter's percentage can be higher "
    "than any of its months'. Active participants in the quarter: everyone active in at least one of "
    "its months. The summary reads a status (housing, work, income) at the end of the quarter, in its "
    "last month, and the rest (active, engaged in treatment, arrested) over the whole quarter; it "
    "compares them with the quarter before and with the same quarter a year earlier, counted the same "
    "way from the same release."
)
SUPPRESSION_RULE = (
    f"No count from 1 to {suppression.THRESHOLD} is shown and no rate over a denominator from 1 to "
    f"{suppression.THRESHOLD} ('small count', 'small denominator'); 0 is shown. A suppressed row has "
    "an empty numerator and value and suppressed = true; its denominator is shown unless it is hidden "
    "too (a small count, or a complement), and a hidden denominator hides its numerators. "
    "Complementary suppression, iterated until stable: every hidden count must stay free over a range "
    f"at least {suppression.MIN_WIDTH} wide given every shown count and what anyone knows of them: each "
    "dimension's groups add up to its 'all' total; a numerator is at most its denominator; the "
    "definitions nest (permanent housing within sheltered, sheltered and unsheltered within a known "
    "housing status, employed within the employment continuum within a known employment status, "
    "income or benefits within a known income status, every count within the active participants); "
    "sheltered plus unsheltered is at most the known housing status in a month; a quarter counts at "
    "least each of its months and at most their sum. The ranges are checked exactly, by linear "
    "programs; while one is narrower, one more shown count in the rules that confine it is hidden. "
    "The reason for a suppression is not published. Only counts of people are published: days in jail, "
    "a sum of days in which a small number can describe one person's stay, is not in snapshots; nor, "
    "yet, are bookings, felony charges and arrests for a new offense (the dashboard shows them)."
)


class SnapshotRefused(Exception):
    """The snapshot cannot be taken (a usage problem: bad, incomplete or empty period)."""


class NoRelease(Exception):
    """There is no live release to take a snapshot from."""


class OutdatedRelease(NoRelease):
    """The live release predates what snapshots need: the next `outcomes nightly` rebuilds it."""


def parse_period(text: str) -> Quarter:
    """'YYYY-Qn' as a Quarter, or SnapshotRefused."""
    try:
        return parse_quarter(text)
    except ValueError as e:
        raise SnapshotRefused(str(e)) from None


def quarter_cells_sql() -> str:
    """The SQL of a quarter's cells, pipelines/funder/sql/quarter_cells.sql."""
    sql = resources.files("pipelines.funder").joinpath("sql", "quarter_cells.sql")
    return sql.read_text(encoding="utf-8")


def require_metric_cells(con: duckdb.DuckDBPyConnection) -> None:
    """OutdatedRelease unless the release holds what snapshots count with (metric_cells.sql), built
    with today's metric definitions (METRICS_VERSION)."""
    [(found,)] = con.sql(
        "select count(*) from duckdb_functions() where function_name = 'metric_cells'"
    ).fetchall()
    [(defined,)] = con.sql(
        "select count(*) from duckdb_tables() where table_name = 'metric_definitions'"
    ).fetchall()
    if not (found and defined):
        raise OutdatedRelease(
            "the live release was built by an older version, without the metric definitions snapshots "
            "count with: run `outcomes nightly` to rebuild it, then take the snapshot"
        )
    [(version,)] = con.sql("select metrics_version from release").fetchall()
    if version != METRICS_VERSION:
        # Its marts lack today's metrics (v1 has no custody_days): a snapshot would mix two versions.
        raise OutdatedRelease(
            f"the live release was built with metric definitions {version}, not today's "
            f"{METRICS_VERSION}: run `outcomes nightly` to rebuild it, then take the snapshot"
        )


def cells(con: duckdb.DuckDBPyConnection, quarter: Quarter) -> pl.DataFrame:
    """Every metric's numerator, denominator and value per period, dimension and group (unsuppressed)."""
    require_metric_cells(con)
    return con.sql(
        quarter_cells_sql(),
        params={
            "start": quarter.start,
            "end": quarter.end,
            "label": quarter.label,
            "dimensions": list(SNAPSHOT_DIMENSIONS),
            "metrics": list(SNAPSHOT_METRICS),
        },
    ).pl()


def comparison_quarters(quarter: Quarter) -> list[Quarter]:
    """The quarters a snapshot's summary compares its quarter with: the one before, a year earlier."""
    return [parse_quarter(quarter_label(add_months(quarter.start, -months))) for months in (3, 12)]


def comparison_cells(con: duckdb.DuckDBPyConnection, quarters: list[Quarter]) -> pl.DataFrame:
    """Each of `quarters`' months and the quarter itself, program-wide only (dimension 'all'),
    counted as a snapshot counts its own quarter (unsuppressed): what the summary compares with."""
    require_metric_cells(con)
    frames = [
        con.sql(
            quarter_cells_sql(),
            params={
                "start": q.start,
                "end": q.end,
                "label": q.label,
                "dimensions": ["all"],
                "metrics": list(SNAPSHOT_METRICS),
            },
        ).pl()
        for q in quarters
    ]
    return pl.concat(frames) if frames else pl.DataFrame()


# metrics.csv of the last few cell tables suppressed in this process, by the cells' hash: it is a
# function of the cells alone, and suppressing a small program's quarter takes seconds. A
# restatement of a snapshot just taken, or one a page shows again, asks for the same cells.
_MADE: OrderedDict[str, bytes] = OrderedDict()
_MADE_MAX = 8
_MADE_LOCK = threading.Lock()


def metrics_csv(table: pl.DataFrame, comparisons: pl.DataFrame | None = None) -> bytes:
    """Suppressed cells as CSV bytes: fixed row order, fixed number format, nothing time-dependent.

    `comparisons` (comparison_cells) are the program-wide cells of the quarters the summary compares
    with; each of their quarters is suppressed as a table of its own (no rule links two quarters),
    so the quarter's own cells are suppressed exactly as without them.
    """
    comparisons = comparisons if comparisons is not None and comparisons.height else None
    parts = [table] if comparisons is None else [table, comparisons]
    key = hashlib.sha256(
        "\n--\n".join(t.sort(suppression.KEY).write_csv() for t in parts).encode()
    ).hexdigest()
    with _MADE_LOCK:  # the dashboard's sessions are threads of one process
        if key in _MADE:
            _MADE.move_to_end(key)
            return _MADE[key]
    data = _metrics_csv(table, comparisons)
    with _MADE_LOCK:
        _MADE[key] = data
        while len(_MADE) > _MADE_MAX:
            _MADE.popitem(last=False)
    return data


def _quarter_of(period: str) -> str:
    """The quarter a period 'YYYY-MM' or 'YYYY-Qn' belongs to."""
    if "Q" in period:
        return period
    year, month = period.split("-")
    return f"{year}-Q{(int(month) - 1) // 3 + 1}"


def _metrics_csv(table: pl.DataFrame, comparisons: pl.DataFrame | None) -> bytes:
    shown = suppression.suppress(table)
    if comparisons is not None:
        quarters = comparisons["period"].map_elements(_quarter_of, return_dtype=pl.String)
        for quarter in sorted(set(quarters)):
            part = suppression.suppress(comparisons.filter(quarters == quarter)).select(shown.columns)
            shown = pl.concat([shown, part], how="vertical_relaxed")
    metric_rank = {name: i for i, name in enumerate(SNAPSHOT_METRICS)}
    dimension_rank = {name: i for i, name in enumerate(SNAPSHOT_DIMENSIONS)}
    shown = shown.with_columns(
        pl.col("metric").replace_strict(metric_rank, return_dtype=pl.Int64).alias("_m"),
        pl.col("dimension").replace_strict(dimension_rank, return_dtype=pl.Int64).alias("_d"),
        # A float's text is not left to the CSV writer: a fixed number of decimals, always.
        pl.col("value")
        .map_elements(lambda v: f"{v:.{VALUE_DECIMALS}f}", return_dtype=pl.String)
        .alias("value"),
        pl.col("numerator").cast(pl.Int64),
        pl.col("denominator").cast(pl.Int64),
    )
    ordered = shown.sort("_m", "period", "_d", "group").select(COLUMNS)
    return csv_bytes(ordered)


# The archived exports a release was built from: its files in force (a refused file has an error;
# the files a run left in the inbox, waiting or held, are none of them).
FILES_IN_FORCE = (
    "select site_id, table_name, path, sha256 from files "
    "where error is null and status in ('new', 'unchanged', 'in_force') "
    "order by site_id, table_name, path"
)


def quarter_csv(
    con: duckdb.DuckDBPyConnection, quarter: Quarter, comparisons: list[Quarter] | None = None
) -> bytes:
    """The quarter's metrics.csv from an open release: what a snapshot taken from it now would hold,
    with the program-wide cells of `comparisons` (by default comparison_quarters(quarter)).

    One function for snapshots and restatements (pipelines/funder/restate.py), so both compute and
    suppress the quarter the same way and compare byte for byte.
    """
    if comparisons is None:
        comparisons = comparison_quarters(quarter)
    return metrics_csv(cells(con, quarter), comparison_cells(con, comparisons))


def files_in_force(con: duckdb.DuckDBPyConnection) -> list[dict[str, str]]:
    """The release's archived files, as a manifest lists them (site_id, table, path, sha256)."""
    return [
        {"site_id": s, "table": t, "path": p, "sha256": h}
        for s, t, p, h in con.sql(FILES_IN_FORCE).fetchall()
    ]


def _write_read_only(path: Path, data: bytes) -> None:
    """Write, flush to disk and make read-only (0444): a published file is never changed."""
    path.write_bytes(data)
    fsync(path)
    path.chmod(0o444)


def _write_reports(building: Path, page: str) -> dict:
    """report.html, and report.pdf where Chromium prints it; the manifest's lines about them.

    A missing or failing Chromium costs only the PDF, with the reason in the manifest.
    """
    html_path = building / "report.html"
    _write_read_only(html_path, page.encode("utf-8"))
    reports = [{"name": html_path.name, "sha256": sha256_of(html_path)}]
    pdf_path = building / "report.pdf"
    reason = print_pdf(html_path, pdf_path)
    if reason is None:
        fsync(pdf_path)
        pdf_path.chmod(0o444)
        reports.append({"name": pdf_path.name, "sha256": sha256_of(pdf_path)})
    return {"reports": reports, "report_pdf": reason is None, "report_pdf_reason": reason}


def _record_creation(home: Home, snapshot_id: str, period: str, manifest: bytes, by: tuple[str, str]) -> None:
    """The audit entry that vouches for the manifest: a snapshot without one is never shown."""
    user, role = by
    audit.record(
        home,
        event="snapshot_created",
        user=user,
        role=role,
        filters={"period": period, "manifest_sha256": hashlib.sha256(manifest).hexdigest()},
        snapshot=snapshot_id,
    )


def take_snapshot(
    home: Home, period: str, now: dt.datetime | None = None, by: tuple[str, str] | None = None
) -> Path:
    """Freeze the quarter's metrics from the live release into a new snapshot folder; return it.

    `by` is who takes it, (user, role), for the audit log: the machine's account by default.
    Raises AuditUnavailable, leaving no snapshot, if its creation cannot be recorded.
    """
    quarter = parse_period(period)
    release = live_release(home.current)
    if release is None:
        raise NoRelease("no release yet: run `outcomes nightly` first")
    # Hash the file we read: the release file itself, not the link that may move meanwhile.
    release_sha = sha256_of(release)
    con = open_release(release)
    try:
        [(run_id, as_of, metrics_version, contract_version)] = con.sql(
            "select run_id, as_of, metrics_version, contract_version from release"
        ).fetchall()
        if quarter.end > as_of:
            raise SnapshotRefused(
                f"{quarter.label} is not complete: it ends on {quarter.end} and the live release is as of "
                f"{as_of}; take the snapshot after a nightly run as of {quarter.end} or later"
            )
        [(rows,)] = con.sql(
            "select count(*) from metric_flags where month between $start and $end",
            params={"start": quarter.start, "end": quarter.end},
        ).fetchall()
        if rows == 0:
            raise SnapshotRefused(f"{quarter.label} has no data in the live release (as of {as_of})")
        compared = comparison_quarters(quarter)
        data = quarter_csv(con, quarter, compared)
        files = con.sql(FILES_IN_FORCE).fetchall()
    finally:
        con.close()

    now = now or dt.datetime.now(dt.UTC)
    snapshot_id = f"{quarter.label}-{now.strftime('%Y%m%dT%H%M%S.%fZ')}"
    manifest = {
        "snapshot_id": snapshot_id,
        "period": quarter.label,
        "periods": [m.strftime("%Y-%m") for m in quarter.months] + [quarter.label],
        # Program-wide rows of these quarters (their months and themselves) are in metrics.csv too:
        # what the summary compares the quarter with.
        "comparison_periods": [q.label for q in compared],
        "created_at": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "run_id": run_id,
        "as_of": as_of.isoformat(),
        "release": release.name,
        "release_sha256": release_sha,
        "archived_files": [{"site_id": s, "table": t, "path": p, "sha256": h} for s, t, p, h in files],
        "metrics_version": metrics_version,
        "contract_version": contract_version,
        "metrics": {
            m.name: {"label": m.label, "numerator": m.numerator, "denominator": m.denominator}
            for m in SNAPSHOT_METRICS.values()
        },
        "dimensions": list(SNAPSHOT_DIMENSIONS),
        "quarter_definition": QUARTER_DEFINITION,
        "suppression_rule": SUPPRESSION_RULE,
        "value_format": f"numerator / denominator with {VALUE_DECIMALS} decimals; for counts, the count",
        "columns": COLUMNS,
        "metrics_csv_sha256": hashlib.sha256(data).hexdigest(),
    }
    # metrics.csv for people: labels, dates, formats; the same bytes for the same archive and as-of.
    workbook = metrics_xlsx(data, quarter.label, as_of.isoformat(), manifest["metrics"])
    manifest["metrics_xlsx_sha256"] = hashlib.sha256(workbook).hexdigest()

    # Built from metrics.csv and the manifest only: the report cannot show what metrics.csv hides.
    page = report_html(data, manifest)

    home.snapshots.mkdir(parents=True, exist_ok=True)
    final = home.snapshots / snapshot_id
    if final.exists():
        raise FileExistsError(f"snapshot {final} already exists: a snapshot is never overwritten")
    # Built under a hidden name, then renamed: a reader sees a whole snapshot or none.
    building = home.snapshots / f".{snapshot_id}.building"
    building.mkdir()
    _write_read_only(building / "metrics.csv", data)
    _write_read_only(building / "metrics.xlsx", workbook)
    manifest |= _write_reports(building, page)
    manifest_bytes = (json.dumps(manifest, indent=2) + "\n").encode("utf-8")
    _write_read_only(building / "manifest.json", manifest_bytes)
    fsync(building)
    try:
        _record_creation(
            home, snapshot_id, quarter.label, manifest_bytes, by or (audit.machine_user(), audit.COMMAND_LINE)
        )
    except audit.AuditUnavailable:
        shutil.rmtree(building)
        raise
    # os.rename refuses a non-empty target, so a snapshot that appeared meanwhile is never replaced.
    os.rename(building, final)
    fsync(home.snapshots)
    return final
