"""The run report (DESIGN s.3): what a run did, file by file, saved as runs/<run_id>.json; and the
run history a release holds, read back from those reports."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path

import polars as pl

COUNTS = ("rows_read", "rows_loaded", "rows_quarantined", "rows_duplicate")
UNFINISHED = (
    "the run stopped before it could record how it ended (it was killed, or its disk was full or "
    "read-only); its log, logs/{run_id}.log, may say more"
)


@dataclass
class FileReport:
    """One file's line in the run report.

    `file_id` is the file's key within its run: the rows read from the file carry it (read.FILE),
    and the counts validation makes are joined back to the file by it. It is not part of the report.
    """

    file_id: int
    site_id: str
    table: str
    path: str
    sha256: str | None
    # new, unchanged (re-sent, same content), in_force (accepted earlier), refused; left in the
    # inbox: waiting (changed within the settle time: still being written?), held (see rows_sent)
    status: str
    accepted_at: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    blank_rows: int = 0
    error: str | None = None
    # A held export: its data rows, and those of the export in force it would replace (more than twice).
    rows_sent: int | None = None
    rows_in_force: int | None = None

    def report(self) -> dict:
        """The file's line in the run report (and in the release's `files` table)."""
        line = asdict(self)
        del line["file_id"]
        return line


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
    # The release this run replaces: whether it could be read, and where the problem history
    # carried forward came from (None: nothing was published before).
    previous_release: dict | None = None
    files: list[FileReport] = field(default_factory=list)
    steps: list[dict] = field(default_factory=list)
    # The audit log's head when the run started (audit.witness): `outcomes audit verify` holds the
    # log to it, so a log deleted, cut back or rewritten since is caught.
    audit: dict | None = None
    unsaved: str | None = None  # why the last report could not be saved (so not in the report)

    def record_counts(self, counts: dict[int, dict[str, int]]) -> None:
        """Set each file's counts (file id -> count name -> value)."""
        files = {f.file_id: f for f in self.files}
        for file_id, values in counts.items():
            for name, value in values.items():
                setattr(files[file_id], name, value)

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
            "previous_release": self.previous_release,
            "totals": self.totals(),
            "files": [f.report() for f in self.files],
            "steps": self.steps,
            "audit": self.audit,
        }


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_run_id() -> str:
    """Sortable and unique: UTC time to the microsecond, then random hex."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ") + "-" + secrets.token_hex(3)


def save_report(runs: Path, run: Run) -> None:
    """Write the run report to <runs>/<run_id>.json (atomically); an OSError names that file."""
    write_report(runs, run.report())


def write_report(runs: Path, report: dict) -> None:
    """Write a run report atomically. A write that fails (the disk full) leaves no half-written
    file behind, and its error names the report, which a failed write alone does not."""
    runs.mkdir(parents=True, exist_ok=True)
    final = runs / f"{report['run_id']}.json"
    tmp = runs / f".{final.name}.tmp"
    try:
        tmp.write_text(json.dumps(report, indent=2))
        tmp.replace(final)
    except OSError as e:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise OSError(e.errno, e.strerror, str(final)) from e


def settle_unfinished(runs: Path, live_release_of: Callable[[str], str | None]) -> list[str]:
    """Give each report still saying `running` the end its run never wrote (it was killed, or its
    disk was full): `published` when its release is live, else `failed`. Only the run holding the
    lock is running, so no report may say so once a new run has the lock. Returns their run ids.

    `live_release_of(run_id)`: the file name of the run's release if it is the live one, else None.
    """
    settled = []
    for path in sorted(runs.glob("*.json")):
        r = json.loads(path.read_text())
        if r["status"] != "running":
            continue
        release = live_release_of(r["run_id"])
        if release:
            r["status"], r["published"], r["release"] = "published", True, release
        else:
            r["status"], r["error"] = "failed", UNFINISHED.format(run_id=r["run_id"])
        write_report(runs, r)
        settled.append(r["run_id"])
    return settled


def run_history(runs: Path, run: Run) -> dict[str, pl.DataFrame]:
    """Every run reported in `runs`, this one included (as published, if it gets there): the
    runs, and the row accounting of every file of every run."""
    reports = [json.loads(p.read_text()) for p in sorted(runs.glob("*.json")) if p.stem != run.run_id]
    reports.append(run.report() | {"status": "published", "published": True})
    runs_frame = pl.DataFrame(
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
    return {"runs": runs_frame, "run_files": run_files}


def summary(report: dict, log_path: Path) -> str:
    """The run report in a few readable lines."""
    t = report["totals"]
    statuses = Counter(f["status"] for f in report["files"])
    refused = sum(f["error"] is not None and f["status"] != "held" for f in report["files"])
    left = "".join(f", {statuses[s]} {s}" for s in ("held", "waiting") if statuses[s])
    lines = [
        # A status is a code in the JSON (`as_of_too_early`); people read it as words.
        f"Run {report['run_id']} (as of {report['as_of']}): {report['status'].replace('_', ' ')}"
        + (f", release {report['release']}" if report["published"] else ", the previous release stays live"),
        f"  files: {t['files']} in force or received ({statuses['new']} new, {refused} refused{left})",
        f"  rows: {t['rows_read']:,} read, {t['rows_loaded']:,} loaded, "
        f"{t['rows_quarantined']:,} quarantined, {t['rows_duplicate']:,} exact duplicates",
    ]
    if report["error"]:
        lines.append(f"  error: {report['error']}")
    previous = report.get("previous_release")
    if previous and not previous["readable"]:
        lines.append(f"  {unreadable_release(previous)}")
    for f in report["files"]:
        if f["status"] == "waiting":
            lines.append(
                f"  {f['path']}: waiting, still being written (it changed moments ago); a later run takes it"
            )
        elif f["status"] == "held":
            lines.append(f"  {f['site_id']}/{f['table']}: held, {f['error']}")
        elif f["error"]:
            lines.append(f"  REFUSED {f['path']}: {f['error']}")
        elif f["rows_quarantined"]:
            lines.append(f"  {f['path']}: {f['rows_quarantined']:,} of {f['rows_read']:,} rows quarantined")
    lines.append(f"  log: {log_path}")
    return "\n".join(lines)


def unreadable_release(previous: dict) -> str:
    """The run report's `previous_release`, when it could not be read, in words."""
    source = previous["problem_history_from"]
    history = (
        f"problem history comes from the earlier release {source}; problems first seen or fixed "
        "after it are dated from this run"
        if source
        else "its problem history is lost: every open problem is dated from this run"
    )
    return (
        f"the previous release ({previous['path']}) was unreadable ({previous['error']}), so the "
        f"warehouse was rebuilt from the archive; {history}"
    )
