"""The nightly run: inbox -> read -> validate -> build -> audit -> publish.

A run either publishes a complete release or leaves the previous one live. Each step is a stage
of its own module (intake, assemble, build, check, publish); this module runs them in order,
timing each in the run report. Set `OUTCOMES_FAIL_AT=<step>` (one of the step names below, or
`build:<step>` for a step of the build) to make a run kill itself there (for tests and drills).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import resource
import signal
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager, suppress

from pipelines.core import audit, settings
from pipelines.core.release import live_release
from pipelines.core.settings import RELEASES_KEPT, SETTLE_SECONDS, Home
from pipelines.nightly import archive, assemble, check, failure, intake, problems, publish, report
from pipelines.nightly.build import build_release
from pipelines.nightly.lock import run_lock
from pipelines.nightly.previous import read_previous
from pipelines.nightly.report import Run

log = logging.getLogger("outcomes.nightly")
# A run as of a date before every referral: a usage error (the command exits 2), nothing published.
AS_OF_TOO_EARLY = "as_of_too_early"


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


def nightly(
    home: Home,
    as_of: dt.date,
    run_id: str | None = None,
    accept_shrink: bool = False,
    settle: float = SETTLE_SECONDS,
    accept: Collection[intake.Key] = (),
) -> Run:
    """Ingest, validate, rebuild and publish. Raises RunLocked if another run is going, and OSError
    when the run cannot start (the lock or its first report cannot be written).

    A release with fewer than half the live release's participants is held back (status `held`)
    unless `accept_shrink`: a truncated export must not replace a good one without a word. So is
    an export with fewer than half the rows of the one it would replace, unless its (site, table)
    is in `accept`. Inbox files changed less than `settle` seconds ago are left for a later run
    (0 where the caller has just written them itself). A run that fails ends `failed` with a
    one-line reason; if even its last report cannot be written, `run.unsaved` says why (the next
    run settles the report)."""
    run = Run(run_id or report.new_run_id(), as_of, report.now_utc())
    with run_lock(home):
        prepare(home)
        run.audit = audit.witness(home)
        if "error" in run.audit:
            log.warning("the audit log's head is not in this report: %s", run.audit["error"])
        report.save_report(home.runs, run)
        try:
            publish_run(home, run, accept_shrink, settle, accept)
        except Exception as e:  # the previous release stays live; the report says why
            fail(home, run, e)
        run.finished_at = report.now_utc()
        try:
            report.save_report(home.runs, run)
        except OSError as e:
            run.unsaved = failure.reason(e, home.root)
            log.error("the run report could not be saved: %s", run.unsaved)
    return run


def fail(home: Home, run: Run, error: Exception) -> None:
    """End the run `failed`, with one line saying why; free what its half-built release took."""
    run.status, run.error = "failed", failure.reason(error, home.root)
    trace = None if failure.understood(error) else error  # a bug's traceback goes to the log file
    log.error("the run failed: %s. The previous release stays live", run.error, exc_info=trace)
    with suppress(OSError):  # a read-only disk: there is nothing to free, and the next run tries again
        publish.clear_unfinished(home.warehouse)


def prepare(home: Home) -> None:
    """The home's folders; nothing left of a killed run: no half-built release, no report saying
    `running` (this run holds the lock, so no other is)."""
    for p in (home.inbox, home.archive, home.warehouse, home.runs, home.logs):
        p.mkdir(parents=True, exist_ok=True)
    left = publish.clear_unfinished(home.warehouse)
    if left:
        log.info("removed %d files an interrupted run left behind", len(left))
    live = live_release(home.current)

    def live_release_of(run_id: str) -> str | None:
        release = publish.release_path(home.warehouse, run_id)
        return release.name if release == live else None

    settled = report.settle_unfinished(home.runs, live_release_of)
    if settled:
        log.info("recorded the end of %d runs that stopped before writing it", len(settled))


def too_early(as_of: dt.date, earliest: dt.date) -> str:
    return (
        f"--as-of {as_of} is before the earliest referral in the exports ({earliest}): a release as "
        f"of then would have no participant. Run again with --as-of {earliest} or later; nothing was "
        "published and the live release stays"
    )


def publish_run(
    home: Home,
    run: Run,
    accept_shrink: bool = False,
    settle: float = SETTLE_SECONDS,
    accept: Collection[intake.Key] = (),
) -> None:
    """The steps of a run, each killable by OUTCOMES_FAIL_AT."""
    with step(run, "inbox"):
        index = archive.load_index(home.archive)  # once per run: the run lock keeps it ours
        taken = intake.take_inbox(home, index, run.run_id, report.now_utc(), settle, accept)
        run.files = list(taken.left)
    with step(run, "read"):
        received = intake.read_in_force(home.archive, taken)
        run.files = received.files
    if not any(received.exports.values()):
        run.status = "nothing_to_publish"
        run.error = "no accepted export yet: " + (
            "the inbox's files changed moments ago (still being written?); a later run takes them"
            if any(f.status == "waiting" for f in run.files)
            else "put exports in inbox/<site_id>/<table>.csv"
        )
        return
    earliest = assemble.earliest_referral(received.exports["participants"])
    if earliest is not None and run.as_of < earliest:
        run.status, run.error = AS_OF_TOO_EARLY, too_early(run.as_of, earliest)
        log.warning("not published: %s", run.error)
        return
    previous = read_previous(home)  # the live release, opened once: a damaged one is no obstacle
    run.previous_release = previous.report
    with step(run, "validate"):
        validated = assemble.validate_all(run.files, received.exports, run.as_of)
        del taken, received  # the text is no longer needed: free it before the build
        run.record_counts(validated.counts)
        tables, quarantine, files = assemble.release_tables(
            run.run_id, run.files, validated.loaded, validated.quarantine
        )
        export_columns = validated.columns
        tracked = problems.track(
            previous.history,
            problems.sightings(quarantine, validated.case_managers),
            run.run_id,
            run.as_of,
        )
        del validated
    shrink = check.shrinkage(previous.participants, tables)
    if shrink and not accept_shrink:
        run.status, run.error = "held", shrink
        log.warning("not published: %s", shrink)
        return
    building = publish.building_path(home.warehouse, run.run_id)
    with step(run, "build"):
        build_release(
            building,
            run_id=run.run_id,
            as_of=run.as_of,
            tables=tables,
            quarantine=quarantine,
            files=files,
            export_columns=export_columns,
            problems=tracked,
            **report.run_history(home.runs, run),
            on_step=lambda s: fail_point(f"build:{s}"),
        )
    final = publish.release_path(home.warehouse, run.run_id)
    with step(run, "audit"):  # the step keeps its name: crash drills and run reports use it
        check.check_release(building, run.files, tables)
        publish.finish(building, final)
    with step(run, "publish"):
        publish.publish(home.current, final)
        run.status, run.published, run.release = "published", True, final.name
    try:
        removed = publish.prune(home.warehouse, home.current, RELEASES_KEPT)
    except OSError as e:  # published all the same: the old releases go next time
        log.warning("old releases could not be removed: %s", failure.reason(e, home.root))
        return
    if removed:
        log.info("removed %d old releases (keeping %d)", len(removed), RELEASES_KEPT)
