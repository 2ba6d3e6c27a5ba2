"""The nightly run: inbox -> archive -> read -> validate -> build -> audit -> publish.

A run either publishes a complete release or leaves the previous one live. Set
`OUTCOMES_FAIL_AT=<step>` to make a run kill itself at a step (for tests and drills).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import resource
import secrets
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from checks import MODELS, schema
from checks.base import PARTICIPANT_STATE, REFERRAL_DATE
from pipelines.core import settings
from pipelines.core.release import live_release
from pipelines.core.settings import RELEASES_KEPT, Home
from pipelines.nightly import archive, problems, publish
from pipelines.nightly.build import build_release
from pipelines.nightly.read import FILE, WIDTH, ExportFile, Refused, TextExport, identify, read_export, tidy
from pipelines.nightly.validate import QUARANTINE_SCHEMA, SITE, validate_table

STEPS = ("inbox", "read", "validate", "build", "marts", "audit", "publish")
COUNTS = ("rows_read", "rows_loaded", "rows_quarantined", "rows_duplicate")
log = logging.getLogger("outcomes.nightly")


class RunLocked(Exception):
    """Another nightly run holds the lock."""


@dataclass
class FileReport:
    """One file's line in the run report."""

    site_id: str
    table: str
    path: str
    sha256: str | None
    status: str  # new, unchanged (re-sent, same content), in_force (accepted earlier), refused
    accepted_at: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    blank_rows: int = 0
    error: str | None = None


@dataclass
class Run:
    """What a run did, as the run report says it."""

    run_id: str
    as_of: dt.date
    started_at: str
    status: str = "running"
    published: bool = False
    release: str | None = None
    error: str | None = None
    finished_at: str | None = None
    files: list[FileReport] = field(default_factory=list)
    steps: list[dict] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        totals = {c: sum(getattr(f, c) for f in self.files) for c in COUNTS}
        totals["files"] = len(self.files)
        totals["files_refused"] = sum(f.error is not None for f in self.files)
        return totals

    def report(self) -> dict:
        """The run report (DESIGN s.3)."""
        return {
            "run_id": self.run_id,
            "status": self.status,
            "published": self.published,
            "as_of": self.as_of.isoformat(),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "release": self.release,
            "error": self.error,
            "totals": self.totals(),
            "files": [asdict(f) for f in self.files],
            "steps": self.steps,
        }


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_run_id() -> str:
    """Sortable and unique: UTC time to the microsecond, then random hex."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ") + "-" + secrets.token_hex(3)


def fail_point(step: str) -> None:
    """Kill this process at `step` when OUTCOMES_FAIL_AT names it (a crash drill)."""
    if settings.fail_at() == step:
        log.warning("OUTCOMES_FAIL_AT=%s: killing the run here", step)
        os.kill(os.getpid(), signal.SIGKILL)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def step(run: Run, name: str) -> Iterator[None]:
    """Time a step, log it, and record it in the report."""
    fail_point(name)
    log.info("%s ...", name)
    start = time.perf_counter()
    yield
    seconds = time.perf_counter() - start
    run.steps.append({"step": name, "seconds": round(seconds, 3), "peak_rss_mb": round(peak_rss_mb(), 1)})
    log.info("%s done in %.1f s", name, seconds)


@contextmanager
def run_lock(home: Home) -> Iterator[None]:
    """Hold the home's nightly lock, or raise RunLocked naming who holds it."""
    home.root.mkdir(parents=True, exist_ok=True)
    path = home.root / "nightly.lock"
    with path.open("a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise RunLocked(
                f"another nightly run is in progress ({holder}); try again when it ends"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()}, started {now_utc()}")
        f.flush()
        try:
            yield
        finally:
            f.seek(0)
            f.truncate()
            fcntl.flock(f, fcntl.LOCK_UN)


def inbox_files(inbox: Path) -> list[Path]:
    """Every file dropped in the inbox, in a stable order.

    Hidden files and Excel's lock files (`~$housing.xlsx`, there while a workbook is open) are
    not exports: they are left alone.
    """
    if not inbox.exists():
        return []
    return sorted(
        p
        for p in inbox.rglob("*")
        if p.is_file() and not any(part.startswith((".", "~$")) for part in p.relative_to(inbox).parts)
    )


def read_all(jobs: list[tuple[Path, str]]) -> list[TextExport | Refused]:
    """Read many exports at once (Polars lets go of the GIL while it parses)."""

    def one(job: tuple[Path, str]) -> TextExport | Refused:
        try:
            return read_export(*job)
        except Refused as e:
            return e

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(one, jobs))


def take_inbox(home: Home, run: Run) -> tuple[dict[tuple[str, str], TextExport], set[tuple[str, str]]]:
    """Archive each readable inbox file; leave refused ones where they are, with their error.

    Returns the exports taken this run, read, and the (site, table)s whose export in force
    was sent again unchanged.
    """
    current = archive.in_force(archive.load_index(home.archive))
    resent: set[tuple[str, str]] = set()
    candidates: list[tuple[Path, ExportFile, str]] = []
    taken: set[tuple[str, str]] = set()
    refused: list[tuple[Path, Refused]] = []
    for path in inbox_files(home.inbox):
        try:
            export = identify(path, home.inbox)
            key = (export.site_id, export.table)
            sha = archive.sha256_of(path)
            if key in taken:
                raise Refused(
                    f"a second {export.table} export for site {export.site_id} in one run "
                    "(a .csv and an .xlsx?); send one file per table"
                )
        except Refused as e:
            refused.append((path, e))
            continue
        if key in current and current[key].sha256 == sha:
            resent.add(key)  # the same file again: ingested once
            path.unlink()
            continue
        candidates.append((path, export, sha))
        taken.add(key)

    texts = read_all([(path, export.table) for path, export, _ in candidates])
    readable = [(c, t) for c, t in zip(candidates, texts, strict=True) if not isinstance(t, Refused)]
    refused += [
        (path, t) for (path, _, _), t in zip(candidates, texts, strict=True) if isinstance(t, Refused)
    ]
    archive.accept(
        home.archive,
        home.inbox,
        [archive.Incoming(path, export.site_id, export.table, sha) for (path, export, sha), _ in readable],
        now_utc(),
        run.run_id,
    )
    fresh: dict[tuple[str, str], TextExport] = {}
    for (path, export, _), text in readable:
        path.unlink()  # archived, durably: the inbox copy has done its job
        fresh[(export.site_id, export.table)] = text
    for path, error in sorted(refused, key=lambda r: r[0]):
        shown = str(path.relative_to(home.root))
        site, table = (path.relative_to(home.inbox).parts + ("", ""))[:2]
        sha = archive.sha256_of(path)
        run.files.append(FileReport(site, Path(table).stem.lower(), shown, sha, "refused", error=str(error)))
        log.warning("refused %s: %s", shown, error)
    return fresh, resent - set(fresh)


def read_in_force(
    home: Home, run: Run, fresh: dict[tuple[str, str], TextExport], resent: set[tuple[str, str]]
) -> dict[str, list[tuple[int, TextExport]]]:
    """The export in force for each (site, table), read (from memory when taken this run)."""
    current = archive.in_force(archive.load_index(home.archive))
    keys = sorted(current)
    earlier = [k for k in keys if k not in fresh]
    read = read_all([(home.archive / current[k].path, k[1]) for k in earlier])
    texts: dict[tuple[str, str], TextExport | Refused] = fresh | dict(zip(earlier, read, strict=True))
    by_table: dict[str, list[tuple[int, TextExport]]] = {t: [] for t in MODELS}
    for key in keys:
        a, text = current[key], texts[key]
        status = "new" if key in fresh else "unchanged" if key in resent else "in_force"
        report = FileReport(
            a.site_id, a.table, f"archive/{a.path}", a.sha256, status, accepted_at=a.accepted_at
        )
        run.files.append(report)
        if isinstance(text, Refused):
            report.error = f"the archived export can no longer be read: {text}"
            continue
        by_table[a.table].append((len(run.files) - 1, text))
    return by_table


def table_rows(run: Run, table: str, exports: list[tuple[int, TextExport]]) -> pl.DataFrame | None:
    """One table's rows of data from every site, tidied, each tagged with its file and site."""
    if not exports:
        return None
    rows = pl.concat(
        [
            t.rows.with_columns(
                pl.lit(i, pl.UInt32).alias(FILE),
                pl.lit(t.header_width, pl.UInt32).alias(WIDTH),
                pl.lit(run.files[i].site_id).alias(SITE),
            )
            for i, t in exports
        ]
    )
    rows, blanks = tidy(rows, list(schema(table).columns))
    for i, count in blanks.iter_rows():
        run.files[i].blank_rows = count
    return rows


def participant_lookup(loaded: pl.DataFrame, quarantine: pl.DataFrame) -> pl.DataFrame:
    """Each participant id a site has: loaded (with its referral date) or quarantined."""
    ok = loaded.select(
        SITE,
        "participant_id",
        pl.lit("loaded").alias(PARTICIPANT_STATE),
        pl.col("referral_date").alias(REFERRAL_DATE),
    )
    held = (
        quarantine.filter(pl.col("participant_id").is_not_null())
        .select(
            SITE,
            "participant_id",
            pl.lit("quarantined").alias(PARTICIPANT_STATE),
            pl.lit(None, pl.Date).alias(REFERRAL_DATE),
        )
        .join(ok, on=[SITE, "participant_id"], how="anti")
        .unique()
    )
    return pl.concat([ok, held]).unique([SITE, "participant_id"], keep="first", maintain_order=True)


def validate_all(
    run: Run, by_table: dict[str, list[tuple[int, TextExport]]]
) -> tuple[dict[str, pl.DataFrame], pl.DataFrame, pl.DataFrame]:
    """Validate participants first, then the outcome tables against them; fill in the file counts.

    Returns the loaded rows by table, the quarantine, and each participant's case manager as the
    participants exports say (quarantined rows included, so their problems reach someone).
    """
    loaded: dict[str, pl.DataFrame] = {}
    quarantines = []
    lookup = None
    case_managers = pl.DataFrame(
        schema={SITE: pl.String, "participant_id": pl.String, "case_manager_id": pl.String}
    )
    for table in MODELS:
        rows = table_rows(run, table, by_table[table])
        if rows is None:
            if table == "participants":
                lookup = pl.DataFrame(
                    schema={
                        SITE: pl.String,
                        "participant_id": pl.String,
                        PARTICIPANT_STATE: pl.String,
                        REFERRAL_DATE: pl.Date,
                    }
                )
            continue
        result = validate_table(table, rows, run.as_of, lookup if table != "participants" else None)
        if table == "participants":
            lookup = participant_lookup(result.loaded, result.quarantine)
            case_managers = (
                rows.filter(pl.col("participant_id").is_not_null())
                .select(SITE, "participant_id", "case_manager_id")
                .unique([SITE, "participant_id"], keep="first", maintain_order=True)
            )
        for counts in result.counts.iter_rows(named=True):
            report = run.files[counts[FILE]]
            for c in COUNTS:
                setattr(report, c, int(counts[c]))
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
    return loaded, quarantine, case_managers


def release_tables(
    run: Run, loaded: dict[str, pl.DataFrame], quarantine: pl.DataFrame
) -> tuple[dict, pl.DataFrame, pl.DataFrame]:
    """The frames a release holds: loaded rows by table, the quarantine and the files, as users read them."""
    files = pl.DataFrame(
        [{"run_id": run.run_id, **asdict(f)} for f in run.files],
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
    file_info = files.with_row_index(FILE).select(pl.col(FILE).cast(pl.UInt32), "path", "sha256")
    quarantine = (
        quarantine.join(file_info, on=FILE, how="left")
        .select(
            pl.lit(run.run_id).alias("run_id"),
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
    return tables, quarantine, files


def run_history(home: Home, run: Run) -> dict[str, pl.DataFrame]:
    """Every run recorded in the home, this one included (as published, if it gets there): the
    runs, and the row accounting of every file of every run."""
    reports = [json.loads(p.read_text()) for p in sorted(home.runs.glob("*.json")) if p.stem != run.run_id]
    reports.append(run.report() | {"status": "published", "published": True})
    runs = pl.DataFrame(
        [
            {
                "run_id": r["run_id"],
                "status": r["status"],
                "published": r["published"],
                "as_of": r["as_of"],
                "started_at": r["started_at"],
                "finished_at": r.get("finished_at"),
                "error": r.get("error"),
                **{k: r["totals"].get(k, 0) for k in (*COUNTS, "files", "files_refused")},
            }
            for r in reports
        ],
        schema={
            "run_id": pl.String,
            "status": pl.String,
            "published": pl.Boolean,
            "as_of": pl.String,
            "started_at": pl.String,
            "finished_at": pl.String,
            "error": pl.String,
            **{k: pl.Int64 for k in (*COUNTS, "files", "files_refused")},
        },
    ).with_columns(pl.col("as_of").str.to_date())
    run_files = pl.DataFrame(
        [
            {
                "run_id": r["run_id"],
                "started_at": r["started_at"],
                "as_of": r["as_of"],
                "site_id": f["site_id"],
                "table_name": f["table"],
                "path": f["path"],
                "sha256": f["sha256"],
                "status": f["status"],
                "accepted_at": f.get("accepted_at"),
                **{k: f.get(k, 0) for k in (*COUNTS, "blank_rows")},
                "error": f.get("error"),
            }
            for r in reports
            for f in r.get("files", [])
        ],
        schema={
            "run_id": pl.String,
            "started_at": pl.String,
            "as_of": pl.String,
            "site_id": pl.String,
            "table_name": pl.String,
            "path": pl.String,
            "sha256": pl.String,
            "status": pl.String,
            "accepted_at": pl.String,
            **{k: pl.Int64 for k in (*COUNTS, "blank_rows")},
            "error": pl.String,
        },
    ).with_columns(pl.col("as_of").str.to_date())
    return {"runs": runs, "run_files": run_files}


def audit(path: Path, run: Run, tables: dict[str, pl.DataFrame]) -> None:
    """Check the built release before anyone sees it; raise AssertionError naming what is wrong."""
    for f in run.files:
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
        loaded = sum(f.rows_loaded for f in run.files)
        if loaded != sum(frame.height for frame in tables.values()):
            raise AssertionError("the files' rows_loaded do not add up to the rows in the release")
        [(bad,)] = con.sql(
            "select count(*) from metric_values where denominator <= 0 or numerator < 0 "
            "or numerator > denominator or value is null"
        ).fetchall()
        if bad:
            raise AssertionError(f"metric_values has {bad} rows with an impossible numerator or denominator")
    finally:
        con.close()
    if path.with_name(path.name + ".wal").exists():
        raise AssertionError("the release has a WAL file beside it: it was not checkpointed")


def save_report(home: Home, run: Run) -> None:
    """Write the run report to runs/<run_id>.json (atomically)."""
    home.runs.mkdir(parents=True, exist_ok=True)
    tmp = home.runs / f".{run.run_id}.json.tmp"
    tmp.write_text(json.dumps(run.report(), indent=2))
    tmp.replace(home.runs / f"{run.run_id}.json")


def nightly(home: Home, as_of: dt.date, run_id: str | None = None) -> Run:
    """Ingest, validate, rebuild and publish. Raises RunLocked if another run is going."""
    run = Run(run_id or new_run_id(), as_of, now_utc())
    with run_lock(home):
        for p in (home.inbox, home.archive, home.warehouse, home.runs, home.logs):
            p.mkdir(parents=True, exist_ok=True)
        left = publish.clear_unfinished(home.warehouse)
        if left:
            log.info("removed %d files an interrupted run left behind", len(left))
        save_report(home, run)
        try:
            publish_run(home, run)
        except Exception as e:  # the previous release stays live; the report says why
            log.exception("the run failed; the previous release stays live")
            run.status, run.error = "failed", f"{type(e).__name__}: {e}"
        run.finished_at = now_utc()
        save_report(home, run)
    return run


def publish_run(home: Home, run: Run) -> None:
    """The steps of a run, each killable by OUTCOMES_FAIL_AT."""
    with step(run, "inbox"):
        fresh, resent = take_inbox(home, run)
    with step(run, "read"):
        by_table = read_in_force(home, run, fresh, resent)
    if not any(by_table.values()):
        run.status = "nothing_to_publish"
        run.error = "no accepted export yet: put exports in inbox/<site_id>/<table>.csv"
        return
    with step(run, "validate"):
        loaded, quarantine, case_managers = validate_all(run, by_table)
        del fresh, by_table  # the text is no longer needed: free it before the build
        tables, quarantine, files = release_tables(run, loaded, quarantine)
        tracked = problems.track(
            problems.previous(live_release(home.current)),
            problems.sightings(quarantine, case_managers),
            run.run_id,
            run.as_of,
        )
    building = publish.building_path(home.warehouse, run.run_id)
    with step(run, "build"):
        build_release(
            building,
            run_id=run.run_id,
            as_of=run.as_of,
            tables=tables,
            quarantine=quarantine,
            files=files,
            problems=tracked,
            **run_history(home, run),
            on_step=lambda s: fail_point(f"build:{s}"),
        )
    final = publish.release_path(home.warehouse, run.run_id)
    with step(run, "audit"):
        audit(building, run, tables)
        publish.finish(building, final)
    with step(run, "publish"):
        publish.publish(home.current, final)
        run.status, run.published, run.release = "published", True, final.name
    removed = publish.prune(home.warehouse, home.current, RELEASES_KEPT)
    if removed:
        log.info("removed %d old releases (keeping %d)", len(removed), RELEASES_KEPT)
