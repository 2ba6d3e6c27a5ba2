"""The nightly run (run.py): run report, exit codes, atomic publish, crash safety, the lock."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import duckdb
import pytest

from pipelines.demo import write_demo
from pipelines.nightly.lock import run_lock
from tests.conftest import drop, query, run

P1 = "P1,CM1,2024-01-10,social_contact,,,,,1990,man,black"
P2 = "P2,CM1,2024-02-10,community,,,,,1980,woman,white"
AS_OF = "2024-06-15"
NIGHTLY = ("nightly", "--settle", "0")  # the test has just written the inbox's files: take them at once


def outcomes(home, *args, env=None):
    """Run the `outcomes` command as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "pipelines", "--home", str(home.root), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def metric_values(home):
    return query(home, "select * from metric_values order by metric, month, dimension, grp")


@pytest.fixture
def demo_inbox(home):
    write_demo(home.inbox, participants=120, sites=2, months=18, seed=11, messy=True, as_of=None)
    return home


def test_json_report_accounts_for_every_row(demo_inbox):
    done = outcomes(demo_inbox, *NIGHTLY, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert {"run_id", "status", "published", "as_of", "totals", "files"} <= set(report)
    assert report["status"] == "published" and report["published"] is True
    fields = {
        "site_id",
        "table",
        "path",
        "sha256",
        "rows_read",
        "rows_loaded",
        "rows_quarantined",
        "rows_duplicate",
        "error",
    }
    for f in report["files"]:
        assert fields <= set(f)
        assert f["rows_read"] == f["rows_loaded"] + f["rows_quarantined"] + f["rows_duplicate"]
    for key in ("rows_read", "rows_loaded", "rows_quarantined", "rows_duplicate"):
        assert report["totals"][key] == sum(f[key] for f in report["files"])
    assert report["totals"]["rows_quarantined"] > 0 and report["totals"]["rows_duplicate"] > 0  # --messy
    # The release holds exactly what the report says was loaded and quarantined.
    loaded = sum(
        query(demo_inbox, f"select count(*) from {t}")[0][0]  # noqa: S608
        for t in ("participants", "housing", "treatment", "employment", "justice")
    )
    assert loaded == report["totals"]["rows_loaded"]
    [(bad_rows,)] = query(
        demo_inbox, "select count(*) from (select distinct file, row_number from quarantine)"
    )
    assert bad_rows == report["totals"]["rows_quarantined"]
    [(history,)] = query(demo_inbox, "select count(*) from runs where run_id = ?", [report["run_id"]])
    assert history == 1


def test_the_same_inbox_gives_identical_metric_values(demo_inbox, tmp_path):
    twin = type(demo_inbox)(tmp_path / "twin")
    write_demo(twin.inbox, participants=120, sites=2, months=18, seed=11, messy=True, as_of=None)
    as_of = "2026-01-31"
    assert run(demo_inbox, as_of).published and run(twin, as_of).published
    first = metric_values(demo_inbox)
    assert first and first == metric_values(twin)
    assert run(demo_inbox, as_of).published  # rebuilt from the archive alone
    assert metric_values(demo_inbox) == first


def test_publish_is_a_link_to_a_checkpointed_release(home):
    drop(home, "s", "participants", [P1])
    for _ in range(5):
        assert run(home, AS_OF).published
    assert home.current.is_symlink()
    releases = sorted(home.warehouse.glob("release-*.duckdb"))
    assert len(releases) == 3  # the last few are kept
    assert home.current.resolve() == releases[-1]
    assert not list(home.warehouse.glob("*.wal")) and not list(home.warehouse.glob("*.building*"))
    con = duckdb.connect(str(home.current), read_only=True)
    assert con.sql("select count(*) from participants").fetchall() == [(1,)]
    con.close()


@pytest.mark.parametrize(
    "step", ["inbox", "read", "validate", "build", "build:tables", "build:marts", "audit", "publish"]
)
def test_a_run_killed_at_any_step_leaves_the_previous_release_live(home, step):
    drop(home, "s", "participants", [P1])
    assert run(home, AS_OF).published
    live, before = home.current.resolve(), metric_values(home)
    drop(home, "s", "participants", [P1, P2])
    killed = outcomes(home, *NIGHTLY, "--as-of", AS_OF, env={"OUTCOMES_FAIL_AT": step})
    assert killed.returncode == -9, killed.stderr
    assert home.current.resolve() == live
    assert metric_values(home) == before
    again = outcomes(home, *NIGHTLY, "--as-of", AS_OF)
    assert again.returncode == 0, again.stderr
    assert query(home, "select participant_id from participants order by 1") == [("P1",), ("P2",)]
    assert not list(home.warehouse.glob("*.building*"))


def test_two_runs_never_overlap(home):
    drop(home, "s", "participants", [P1])
    with run_lock(home):
        blocked = outcomes(home, *NIGHTLY, "--as-of", AS_OF)
    assert blocked.returncode == 1
    assert "another nightly run is in progress" in blocked.stderr
    assert not home.current.exists()
    assert (home.inbox / "s" / "participants.csv").exists()


def test_exit_codes(home):
    empty = outcomes(home, *NIGHTLY, "--as-of", AS_OF)
    assert empty.returncode == 1 and "no accepted export yet" in empty.stdout
    assert outcomes(home, *NIGHTLY, "--as-of", "2024-13-01").returncode == 2
    assert outcomes(home, "no-such-command").returncode == 2
    drop(home, "s", "participants", [P1])
    assert outcomes(home, *NIGHTLY, "--as-of", AS_OF).returncode == 0


def test_a_failed_run_is_reported_and_the_next_succeeds(home, monkeypatch):
    drop(home, "s", "participants", [P1])
    monkeypatch.setattr(
        "pipelines.nightly.run.build_release", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full"))
    )
    failed = run(home, AS_OF)
    assert (failed.status, failed.published) == ("failed", False)
    assert "disk full" in failed.error
    monkeypatch.undo()
    assert run(home, AS_OF).published
    statuses = [s for (s,) in query(home, "select status from runs order by run_id")]
    assert statuses == ["failed", "published"]
    listing = outcomes(home, "runs")
    assert listing.returncode == 0 and "failed" in listing.stdout and "published" in listing.stdout


def people(n):
    return [f"P{i},CM1,2024-01-10,social_contact,,,,,1990,man,black" for i in range(1, n + 1)]


def test_a_release_that_loses_more_than_half_its_participants_waits_for_accept_shrink(home):
    drop(home, "s", "participants", people(10))
    drop(home, "s", "housing", [f"P{i},2024-02-01,unsheltered" for i in range(1, 11)])
    assert run(home, AS_OF).published
    live = home.current.resolve()
    # A truncated export, 4 of 10, taken as a file all the same (an export that shrinks by more
    # than half is held on its own unless accepted): the release as a whole still waits.
    drop(home, "s", "participants", people(4))
    held = run(home, AS_OF, accept=[("s", "participants")])
    assert (held.published, held.status) == (False, "held")
    assert "4 participants" in held.error and "10" in held.error and "--accept-shrink" in held.error
    assert home.current.resolve() == live
    assert query(home, "select count(*) from participants") == [(10,)]
    # Half is not "fewer than half": 5 of 10 publishes.
    drop(home, "s", "participants", people(5))
    assert run(home, AS_OF).published
    assert query(home, "select count(*) from participants") == [(5,)]
    drop(home, "s", "participants", people(2))
    accept = ("--accept", "s/participants")
    not_yet = outcomes(home, *NIGHTLY, "--as-of", AS_OF, *accept)
    assert not_yet.returncode == 1
    assert "run again with both: outcomes nightly --accept-shrink --accept s/participants" in not_yet.stdout
    accepted = outcomes(home, *NIGHTLY, "--as-of", AS_OF, "--accept-shrink", *accept)
    assert accepted.returncode == 0, accepted.stderr
    assert query(home, "select count(*) from participants") == [(2,)]


@pytest.mark.parametrize("as_of", ["2010-12-31", "9999-12-31", "tomorrow+2"])
def test_an_impossible_as_of_date_is_a_usage_error_and_nothing_runs(home, as_of):
    if as_of == "tomorrow+2":
        as_of = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    drop(home, "s", "participants", [P1])
    done = outcomes(home, *NIGHTLY, "--as-of", as_of)
    assert done.returncode == 2
    assert "impossible" in done.stderr and "Nothing was run" in done.stderr
    assert not home.current.exists() and not (home.runs.exists() and any(home.runs.iterdir()))
    assert (home.inbox / "s" / "participants.csv").exists()  # not taken: the run never started


def test_tomorrow_is_a_possible_as_of_date(home):
    drop(home, "s", "participants", [P1])
    assert (
        outcomes(home, *NIGHTLY, "--as-of", (dt.date.today() + dt.timedelta(days=1)).isoformat()).returncode
        == 0
    )


def test_a_file_just_written_waits_out_the_default_settle_time(home):
    drop(home, "s", "participants", [P1])
    done = outcomes(home, "nightly", "--as-of", AS_OF)
    assert done.returncode == 1  # nothing else to publish
    assert "no accepted export yet: the inbox's files changed moments ago" in done.stdout
    assert "inbox/s/participants.csv: waiting, still being written" in done.stdout
    assert "a later run takes it" in done.stdout
    assert (home.inbox / "s" / "participants.csv").exists()


def test_held_exports_say_how_to_accept_them_and_accept_is_repeatable(home):
    drop(home, "s", "participants", people(212))
    drop(home, "s", "housing", [f"P{i},2024-02-01,unsheltered" for i in range(1, 41)])
    drop(
        home, "t", "participants", [f"T{i},CM1,2024-01-10,community,,,,,1980,woman,white" for i in range(300)]
    )
    assert run(home, AS_OF).published
    drop(home, "s", "participants", people(21))
    drop(home, "s", "housing", [f"P{i},2024-02-01,unsheltered" for i in range(1, 11)])
    done = outcomes(home, *NIGHTLY, "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    assert "(0 new, 0 refused, 2 held)" in done.stdout
    assert "s/participants: held, 21 rows where the export in force has 212" in done.stdout
    assert "accept it with `outcomes nightly --accept s/participants`" in done.stdout
    assert "s/housing: held, 10 rows where the export in force has 40" in done.stdout
    both = ("--accept", "s/participants", "--accept", "s/housing")
    accepted = outcomes(home, *NIGHTLY, "--as-of", AS_OF, *both)
    assert accepted.returncode == 0, accepted.stderr
    assert "(2 new, 0 refused)" in accepted.stdout
    assert query(home, "select count(*) from participants where site_id = 's'") == [(21,)]
    assert query(home, "select count(*) from housing") == [(10,)]


@pytest.mark.parametrize("flags", [["--accept", "participants"], ["--accept", "s/names"], ["--settle", "-1"]])
def test_a_malformed_accept_or_settle_is_a_usage_error(home, flags):
    done = outcomes(home, "nightly", *flags)
    assert done.returncode == 2
    assert "SITE/TABLE" in done.stderr or "0 or more seconds" in done.stderr
