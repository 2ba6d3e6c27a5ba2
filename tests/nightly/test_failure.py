"""A run that cannot write (disk full, read-only home) ends `failed` with one plain line, exit 1,
the previous release live; never a traceback, never a report saying `running` for good.

The failures are made by replacing one write with one that raises the system's error (we run
as root: a read-only folder would not stop us). tests/nightly/test_run.py has the disk filling
up for real (a file size limit on the `outcomes` process).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
from pathlib import Path

import duckdb
import pytest

from pipelines import cli
from pipelines.nightly import report
from pipelines.nightly.failure import reason
from tests.conftest import drop, query, run

P1 = "P1,CM1,2024-01-10,social_contact,,,,,1990,man,black"
P2 = "P2,CM1,2024-02-10,community,,,,,1980,woman,white"
AS_OF = "2024-06-15"
HOME = Path("/srv/outcomes")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            OSError(errno.ENOSPC, "No space left on device", "/srv/outcomes/runs/r1.json"),
            "the disk is full: no space left to write runs/r1.json",
        ),
        (
            duckdb.IOException(
                'Could not write file "/srv/outcomes/warehouse/r.duckdb": No space left on device'
            ),
            "the disk is full: no space left to write warehouse/r.duckdb",
        ),
        (
            OSError(errno.EROFS, "Read-only file system", "/srv/outcomes/nightly.lock"),
            "the disk is read-only: could not write nightly.lock",
        ),
        (
            # A copy names the file it reads and the one it writes: the second is where the room ran out.
            OSError(
                errno.EFBIG, "File too large", "/tmp/in.csv", None, "/srv/outcomes/archive/s/p/x.csv.partial"
            ),
            "the file grew past the size this system allows: could not write archive/s/p/x.csv.partial",
        ),
        (
            OSError(errno.ENOSPC, "No space left on device"),
            "the disk is full: no space left to write a file in the home folder",
        ),
        (
            OSError(errno.ENOENT, "No such file or directory", "/elsewhere/x"),
            "no such file or directory: /elsewhere/x",
        ),
        (ValueError("bad\nthing"), "an unexpected error (ValueError): bad thing; the log has the details"),
    ],
)
def test_a_failure_is_one_plain_line_naming_the_file_inside_the_home(error, expected):
    assert reason(error, HOME) == expected


def outcomes_here(home, capsys, *args):
    """`outcomes` in this process, so that a test can break one write: exit code, stdout, stderr."""
    try:
        code = cli.main(["--home", str(home.root), *args])
    finally:
        logger = logging.getLogger("outcomes")
        for handler in list(logger.handlers):
            with contextlib.suppress(OSError):  # a log file whose writes were broken on purpose
                handler.close()
            logger.removeHandler(handler)
    out = capsys.readouterr()
    return code, out.out, out.err


def disk_full(path):
    return OSError(errno.ENOSPC, "No space left on device", str(path))


def newest_report(home):
    return json.loads(max(home.runs.glob("*.json")).read_text())  # run ids sort by time


@pytest.fixture
def published(home):
    """A home with a live release, and a new export waiting in the inbox."""
    drop(home, "s", "participants", [P1])
    assert run(home, AS_OF).published
    drop(home, "s", "participants", [P1, P2])
    return home


def participants(home):
    return query(home, "select participant_id from participants order by 1")


def test_a_full_disk_while_building_fails_the_run_in_one_line(published, monkeypatch, capsys):
    def build_fills_the_disk(path, **_):
        raise duckdb.IOException(f'Could not write file "{path}": No space left on device')

    monkeypatch.setattr("pipelines.nightly.run.build_release", build_fills_the_disk)
    code, out, err = outcomes_here(published, capsys, "nightly", "--settle", "0", "--as-of", AS_OF)
    assert code == 1
    assert "Traceback" not in err
    failed = newest_report(published)
    assert failed["status"] == "failed"
    assert failed["error"].startswith("the disk is full: no space left to write warehouse/release-")
    assert failed["error"] in out and failed["error"] in err
    assert failed["error"] in (published.logs / f"{failed['run_id']}.log").read_text()
    assert participants(published) == [("P1",)]  # the previous release stays live


def full_at_the_end(monkeypatch):
    """Room for a run's first report, not for its last."""
    save = report.save_report

    def save_or_fail(runs, done):
        if done.status != "running":
            raise disk_full(runs / f"{done.run_id}.json")
        save(runs, done)

    monkeypatch.setattr(report, "save_report", save_or_fail)


def test_a_report_that_cannot_be_saved_at_the_end_is_settled_by_the_next_run(published, monkeypatch, capsys):
    monkeypatch.setattr(
        "pipelines.nightly.run.build_release", lambda path, **_: (_ for _ in ()).throw(disk_full(path))
    )
    full_at_the_end(monkeypatch)
    code, out, err = outcomes_here(published, capsys, "nightly", "--settle", "0", "--as-of", AS_OF)
    assert code == 1
    assert "Traceback" not in err
    stuck = newest_report(published)
    assert "the run report could not be saved: the disk is full: no space left to write runs/" in err
    assert stuck["status"] == "running"
    monkeypatch.undo()
    code, _, err = outcomes_here(published, capsys, "nightly", "--settle", "0", "--as-of", AS_OF)
    assert code == 0, err
    settled = json.loads((published.runs / f"{stuck['run_id']}.json").read_text())
    assert (settled["status"], settled["published"]) == ("failed", False)
    assert "stopped before it could record how it ended" in settled["error"]
    code, listing, _ = outcomes_here(published, capsys, "runs")
    assert code == 0 and "running" not in listing


def test_a_published_run_whose_report_could_not_be_saved_is_settled_as_published(
    published, monkeypatch, capsys
):
    full_at_the_end(monkeypatch)
    code, _, err = outcomes_here(published, capsys, "nightly", "--settle", "0", "--as-of", AS_OF)
    assert code == 0  # it did publish
    assert "the run report could not be saved" in err and "Traceback" not in err
    stuck = newest_report(published)
    monkeypatch.undo()
    assert run(published, AS_OF).published
    settled = json.loads((published.runs / f"{stuck['run_id']}.json").read_text())
    assert (settled["status"], settled["published"]) == ("published", True)
    assert settled["release"] == f"release-{stuck['run_id']}.duckdb"


@pytest.mark.parametrize("where", ["log", "lock", "report"])
def test_a_read_only_home_stops_the_run_before_it_starts_in_one_line(published, monkeypatch, capsys, where):
    def read_only(path):
        def refuse(*_, **__):
            raise OSError(errno.EROFS, "Read-only file system", str(path))

        return refuse

    if where == "log":
        monkeypatch.setattr(cli.RunLog, "_open", lambda self: read_only(self.baseFilename)())
    elif where == "lock":
        monkeypatch.setattr("pipelines.nightly.run.run_lock", read_only(published.root / "nightly.lock"))
    else:
        monkeypatch.setattr(report, "save_report", lambda runs, r: read_only(runs / f"{r.run_id}.json")())
    code, out, err = outcomes_here(published, capsys, "nightly", "--settle", "0", "--as-of", AS_OF, "--json")
    assert code == 1
    assert "Traceback" not in err
    [line] = [x for x in err.splitlines() if "could not start" in x]
    assert "the disk is read-only: could not write " in line
    assert json.loads(out)["status"] == "failed"
    assert (published.inbox / "s" / "participants.csv").exists()  # nothing was taken
    assert participants(published) == [("P1",)]


def test_a_log_file_that_cannot_be_written_is_given_up_in_one_line(published, monkeypatch, capsys):
    def full(self):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cli.RunLog, "flush", full)
    code, _, err = outcomes_here(published, capsys, "nightly", "--settle", "0", "--as-of", AS_OF)
    assert code == 0, err  # the log is not the release: the run goes on
    assert "Logging error" not in err and "Traceback" not in err
    [line] = [x for x in err.splitlines() if "log file" in x]
    assert "the log file is no longer written: the disk is full: no space left to write logs/" in line
    assert participants(published) == [("P1",), ("P2",)]
