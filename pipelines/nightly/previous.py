"""What a run takes from the release it replaces, read once before the build: the number of
participants the shrink check compares with, and the problem history it carries forward.

A live release that cannot be read (a damaged file, or a stray file where the link should be)
never stops a run: the warehouse is rebuilt from the archive anyway. The run report says so,
and the problem history comes from the newest earlier release that can still be read, or is
reported lost: problems the damaged release had dated are dated from this run.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipelines.core.release import open_release
from pipelines.core.settings import Home
from pipelines.nightly import problems
from pipelines.nightly.failure import shown

log = logging.getLogger("outcomes.nightly")
# What a damaged file, or a database that is not a release, raises when read.
UNREADABLE = (duckdb.Error, pl.exceptions.PolarsError)


@dataclass(frozen=True)
class Previous:
    """The release a run replaces, as far as the run needs it."""

    participants: int | None  # None: nothing to compare with (none published, or unreadable)
    history: pl.DataFrame  # the problem history to carry forward (problems.SCHEMA)
    report: dict | None  # the run report's `previous_release`; None when none was published


def read_previous(home: Home) -> Previous:
    """The live release's participant count and problem history, each file opened once, read-only."""
    current = home.current
    if not current.is_symlink() and not current.exists():
        return Previous(None, problems.none(), None)
    # A stray regular file where the link should be is its own target; a link loop is no error here.
    live = Path(os.path.realpath(current))
    try:
        participants, history = read_release(live)
    except UNREADABLE as e:
        return unreadable(home, live, e)
    path = shown(str(live), home.root)
    return Previous(
        participants,
        history,
        {"path": path, "readable": True, "error": None, "problem_history_from": path},
    )


def read_release(path: Path) -> tuple[int, pl.DataFrame]:
    """A release's participant count and problem history; one of UNREADABLE when it cannot be read."""
    con = open_release(path)
    try:
        [(participants,)] = con.sql("select count(*) from participants").fetchall()
        return participants, problems.history(con)
    finally:
        con.close()


def unreadable(home: Home, live: Path, error: Exception) -> Previous:
    """Carry on without the damaged live release: the problem history of the newest earlier
    release that can be read, or none."""
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    log.warning("the previous release cannot be read (%s): the warehouse is rebuilt from the archive", reason)
    history, source = problems.none(), None
    for earlier in sorted(home.warehouse.glob("release-*.duckdb"), reverse=True):
        if earlier == live:
            continue
        try:
            _, history = read_release(earlier)
        except UNREADABLE:
            continue
        source = shown(str(earlier), home.root)
        break
    report = {
        "path": shown(str(live), home.root),
        "readable": False,
        "error": reason,
        "problem_history_from": source,
    }
    return Previous(None, history, report)
