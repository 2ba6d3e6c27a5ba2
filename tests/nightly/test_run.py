"""The nightly run (run.py): run report, exit codes, atomic publish, crash safety, the lock."""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import signal
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


def outcomes(home, *args, env=None, max_file_bytes=None):
    """Run the `outcomes` command as a user would; `max_file_bytes`: no file it writes may grow
    past that (as on a nearly full disk, a write past it fails with "file too large")."""

    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write instead of killing the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

    return subprocess.run(
        [sys.executable, "-m", "pipelines", "--home", str(home.root), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
        preexec_fn=limit_file_size if max_file_bytes else None,
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
        for t in (
            "participants",
            "housing",
            "treatment",
            "employment",
            "justice",
            "comparison",
            "comparison_justice",
        )
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
    # The killed run's report does not say `running` for ever: the next run records its end.
    ends = [json.loads(p.read_text())["status"] for p in sorted(home.runs.glob("*.json"))]
    assert ends == ["published", "failed", "published"]


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


def test_a_spill_folder_a_killed_build_left_is_cleared(home):
    """A large build spills to <release>.tmp beside the release; a run killed then leaves it."""
    drop(home, "s", "participants", [P1])
    spill = home.warehouse / "release-20240101T000000Z-dead.duckdb.building.tmp"
    spill.mkdir(parents=True)
    (spill / "duckdb_temp_storage_S32K-0.tmp").write_bytes(b"spilled rows")
    assert run(home, AS_OF).published
    assert not spill.exists()


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


def test_an_as_of_date_before_the_earliest_referral_is_a_usage_error_and_nothing_is_published(home):
    drop(home, "s", "participants", [P1, P2])
    assert run(home, AS_OF).published
    live, before = home.current.resolve(), metric_values(home)
    # A referral before the contract's floor is no referral: it does not move the earliest date.
    early = "P0,CM1,2009-05-01,social_contact,,,,,1990,man,black"
    drop(home, "s", "participants", [early, P1, P2])
    done = outcomes(home, *NIGHTLY, "--as-of", "2023-12-31", "--json")
    assert done.returncode == 2, done.stderr
    report = json.loads(done.stdout)
    assert (report["status"], report["published"]) == ("as_of_too_early", False)
    assert "earliest referral" in report["error"] and "2024-01-10" in report["error"]
    assert home.current.resolve() == live and metric_values(home) == before
    summary = outcomes(home, *NIGHTLY, "--as-of", "2023-12-31")
    assert summary.returncode == 2 and "2024-01-10" in summary.stdout
    # The earliest referral itself is a possible as-of date.
    assert outcomes(home, *NIGHTLY, "--as-of", "2024-01-10").returncode == 0


def test_an_as_of_date_before_every_referral_publishes_nothing_on_a_first_run(home):
    drop(home, "s", "participants", [P1])
    done = outcomes(home, *NIGHTLY, "--as-of", "2012-06-30")
    assert done.returncode == 2
    assert "2024-01-10" in done.stdout
    assert not home.current.exists()


def open_problems(home):
    return query(
        home,
        "select participant_id, value, first_seen::varchar from problems where status = 'open' order by 1",
    )


def damage(home, how):
    """Spoil the live release as a disk, a person or a bad copy might."""
    live = home.current.resolve()
    if how == "corrupted":
        live.write_bytes(live.read_bytes()[:4096] + bytes(64 * 1024))
    elif how == "truncated":
        live.write_bytes(live.read_bytes()[: live.stat().st_size // 2])
    elif how == "garbage_file":
        home.current.unlink()
        home.current.write_bytes(b"not a database\n" * 100)
    elif how == "link_loop":
        home.current.unlink()
        home.current.symlink_to(home.current.name)
    elif how == "folder":  # a link cannot be renamed over a folder
        home.current.unlink()
        home.current.mkdir()
        (home.current / "notes.txt").write_text("someone's file\n")
    elif how == "dangling":
        live.unlink()


# How the live release can be spoiled, and whether its file (and so its problem history) survives.
DAMAGE = {
    "corrupted": False,
    "truncated": False,
    "dangling": False,
    "garbage_file": True,
    "link_loop": True,
    "folder": True,
}


@pytest.mark.parametrize("how", DAMAGE)
def test_a_damaged_live_release_is_rebuilt_from_the_archive_and_reported(home, how):
    drop(home, "s", "participants", [P1, P2])
    drop(home, "s", "housing", ["P1,2024-02-01,couch", "P2,2024-02-01,unsheltered"])
    assert run(home, "2024-06-10").published  # the only release: its problem history is all there is
    release = home.current.resolve()
    damage(home, how)
    done = outcomes(home, *NIGHTLY, "--as-of", "2024-06-12", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["status"] == "published"
    previous = report["previous_release"]
    assert previous["readable"] is False and previous["error"]
    assert home.current.is_symlink()
    assert query(home, "select participant_id from participants order by 1") == [("P1",), ("P2",)]
    if how == "folder":  # set aside with what it held, never deleted
        [aside] = home.warehouse.glob("current.duckdb.set-aside-*")
        assert (aside / "notes.txt").read_text() == "someone's file\n"
    if DAMAGE[how]:  # the release file itself is whole: its history carries on
        assert previous["problem_history_from"] == f"warehouse/{release.name}"
        assert open_problems(home) == [("P1", "couch", "2024-06-10")]
    else:  # lost, and said so: the open problem counts from this run
        assert previous["problem_history_from"] is None
        assert open_problems(home) == [("P1", "couch", "2024-06-12")]
    again = outcomes(home, *NIGHTLY, "--as-of", "2024-06-15", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["previous_release"]["readable"] is True


def test_the_summary_says_the_previous_release_was_unreadable_and_its_problem_history_lost(home):
    drop(home, "s", "participants", [P1])
    assert run(home, AS_OF).published
    damage(home, "corrupted")
    done = outcomes(home, *NIGHTLY, "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    assert "previous release" in done.stdout and "unreadable" in done.stdout
    assert "problem history is lost" in done.stdout


def test_problem_history_comes_from_the_newest_earlier_release_that_can_be_read(home):
    drop(home, "s", "participants", [P1, P2])
    drop(home, "s", "housing", ["P1,2024-02-01,couch", "P2,2024-02-01,unsheltered"])
    assert run(home, "2024-06-10").published
    first = home.current.resolve()
    assert run(home, "2024-06-12").published
    damage(home, "corrupted")
    done = outcomes(home, *NIGHTLY, "--as-of", "2024-06-15")
    assert done.returncode == 0, done.stderr
    assert f"problem history comes from the earlier release warehouse/{first.name}" in done.stdout
    assert open_problems(home) == [("P1", "couch", "2024-06-10")]  # first seen when it was first seen
    saved = json.loads(max(home.runs.glob("*.json")).read_text())  # run ids sort by time
    assert saved["previous_release"]["problem_history_from"] == f"warehouse/{first.name}"


def test_a_damaged_live_release_does_not_hold_a_smaller_release(home):
    drop(home, "s", "participants", people(10))
    assert run(home, AS_OF).published
    damage(home, "corrupted")
    drop(home, "s", "participants", people(2))  # nothing readable to compare with: no reason to wait
    assert run(home, AS_OF, accept=[("s", "participants")]).published  # the export's own shrink, accepted
    assert query(home, "select count(*) from participants") == [(2,)]


def newest_report(home):
    return json.loads(max(home.runs.glob("*.json")).read_text())  # run ids sort by time


def test_a_run_that_runs_out_of_disk_fails_in_one_plain_line_and_the_previous_release_stays_live(home):
    drop(home, "s", "participants", [P1])
    assert run(home, AS_OF).published
    live, before = home.current.resolve(), metric_values(home)
    drop(home, "s", "participants", [P1, P2])
    # Room for the log, the report and the archive copy, not for a release (megabytes).
    full = outcomes(home, *NIGHTLY, "--as-of", AS_OF, max_file_bytes=1_000_000)
    assert full.returncode == 1, full.stderr
    assert "Traceback" not in full.stderr
    report = newest_report(home)
    assert (report["status"], report["published"]) == ("failed", False)
    error = report["error"]
    assert error.startswith("the file grew past the size this system allows: could not write warehouse/")
    assert "release-" in error
    assert "\n" not in error and error in full.stdout
    assert error in (home.logs / f"{report['run_id']}.log").read_text()
    assert home.current.resolve() == live and metric_values(home) == before
    assert not list(home.warehouse.glob("*.building*"))  # the half-built release does not keep the space
    again = outcomes(home, *NIGHTLY, "--as-of", AS_OF)
    assert again.returncode == 0, again.stderr
    assert query(home, "select participant_id from participants order by 1") == [("P1",), ("P2",)]


def test_an_export_the_archive_has_no_room_for_stays_in_the_inbox_and_the_run_fails(home):
    drop(home, "s", "participants", [P1])
    assert run(home, AS_OF).published
    live = home.current.resolve()
    big = drop(home, "s", "participants", people(30_000))
    sent = big.read_bytes()
    full = outcomes(home, *NIGHTLY, "--as-of", AS_OF, max_file_bytes=len(sent) // 2)
    assert full.returncode == 1, full.stderr
    assert "Traceback" not in full.stderr
    report = newest_report(home)
    assert report["status"] == "failed" and "could not write archive/.incoming/s/" in report["error"]
    assert big.read_bytes() == sent and home.current.resolve() == live
