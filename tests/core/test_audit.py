"""The audit log: appends chain under concurrency, and any edit, removal or reorder is detected."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipelines.core import audit
from pipelines.core.audit import GENESIS, AuditUnavailable, head_path, log_path, record, verify
from pipelines.core.settings import Home

ROOT = Path(__file__).parents[2]

# Appends from a separate process, as a second dashboard server would make them.
WRITER = """
import sys
from pathlib import Path
from pipelines.core.audit import record
from pipelines.core.settings import Home

home, name, n = Home(Path(sys.argv[1])), sys.argv[2], int(sys.argv[3])
for i in range(n):
    record(home, event="page_view", user=name, role="leadership", page="overview", rows=i)
"""


def view(home: Home, user: str = "ana@lead.org", **kw) -> dict:
    return record(home, event="page_view", user=user, role="leadership", page="overview", **kw)


def lines(home: Home) -> list[str]:
    return log_path(home).read_text(encoding="utf-8").splitlines(keepends=True)


def rewrite(home: Home, kept: list[str]) -> None:
    log_path(home).write_text("".join(kept), encoding="utf-8")


def entries(home: Home) -> list[dict]:
    return [json.loads(line) for line in lines(home)]


def filled(home: Home, n: int = 5) -> Home:
    for i in range(n):
        view(home, rows=i)
    return home


def cli(home: Home, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines", "--home", str(home.root), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def assert_one_chain(home: Home, expected: int) -> None:
    """Seqs 1..n in file order, each prev the hash before it: no fork, no gap, no repeat."""
    found = entries(home)
    assert [e["seq"] for e in found] == list(range(1, expected + 1))
    assert [e["prev"] for e in found] == [GENESIS] + [e["hash"] for e in found[:-1]]
    assert json.loads(head_path(home).read_text()) == {"seq": expected, "hash": found[-1]["hash"]}
    assert verify(home) == []


def test_an_entry_has_every_field_and_is_chained(home):
    first = record(home, event="sign_in", user="ana@lead.org", role="leadership")
    second = record(
        home,
        event="export",
        user="ana@lead.org",
        role="leadership",
        page="cohorts",
        filters={"site": ["north"], "since": dt.date(2024, 1, 1)},
        snapshot="2024-06-15",
        rows=42,
    )
    assert entries(home) == [first, second]
    assert set(second) == set(audit.FIELDS)
    assert (first["seq"], first["prev"], second["seq"], second["prev"]) == (1, GENESIS, 2, first["hash"])
    assert second["filters"] == {"site": ["north"], "since": "2024-01-01"}  # the stored form is hashed
    assert (second["page"], second["snapshot"], second["rows"]) == ("cohorts", "2024-06-15", 42)
    assert first["filters"] == {} and first["page"] is None
    when = dt.datetime.fromisoformat(second["time"])
    assert when.utcoffset() == dt.timedelta(0)
    assert abs(dt.datetime.now(dt.UTC) - when) < dt.timedelta(minutes=1)
    assert verify(home) == []


def test_an_unknown_event_is_refused(home):
    with pytest.raises(ValueError, match="unknown audit event"):
        record(home, event="peek", user="ana", role="leadership")


def test_many_appends_stay_one_chain(home):
    filled(home, 300)
    assert_one_chain(home, 300)


def test_threads_and_processes_appending_at_once_never_fork_the_chain(home):
    home.root.mkdir(parents=True)
    per_thread, threads, per_process = 40, 8, 150
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for i in range(per_thread):
                view(home, user=f"thread{k}", rows=i)
        except BaseException as e:  # reported by the assertion below, not lost in the thread
            errors.append(e)

    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(home.root), f"proc{k}", str(per_process)], cwd=ROOT
        )
        for k in range(2)
    ]
    # Start the threads once the processes are writing, so that all of them contend for the lock.
    deadline = time.monotonic() + 60
    while not (log_path(home).exists() and "proc" in log_path(home).read_text()):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs), "writers did not start"
        time.sleep(0.005)
    pool = [threading.Thread(target=writer, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert errors == []
    total = threads * per_thread + 2 * per_process
    assert_one_chain(home, total)
    users = [e["user"] for e in entries(home)]
    assert users.count("proc0") == users.count("proc1") == per_process
    assert all(users.count(f"thread{k}") == per_thread for k in range(threads))
    procs_at = [i for i, u in enumerate(users) if u.startswith("proc")]
    assert users.index("thread0") < procs_at[-1]  # the writers really overlapped


def test_an_edited_field_is_detected_and_named_by_its_seq(home):
    filled(home)
    kept = lines(home)
    entry = json.loads(kept[2])
    entry["rows"] = 9999  # hide how much was seen
    kept[2] = json.dumps(entry) + "\n"
    rewrite(home, kept)
    problems = verify(home)
    assert len(problems) == 1
    assert problems[0].startswith("seq 3 (line 3): hash does not match")


def test_an_edit_with_its_hash_recomputed_still_breaks_the_chain(home):
    filled(home)
    kept = lines(home)
    entry = json.loads(kept[1])
    entry["user"] = "someone.else@lead.org"
    entry["hash"] = audit.entry_hash(entry)
    kept[1] = audit.canonical(entry).decode() + "\n"
    rewrite(home, kept)
    problems = verify(home)
    assert any(p.startswith("seq 3 (line 3): prev does not match") for p in problems), problems


def test_a_removed_middle_line_is_detected(home):
    filled(home)
    kept = lines(home)
    del kept[2]
    rewrite(home, kept)
    problems = verify(home)
    assert any("seqs 3 to 3 are missing" in p for p in problems), problems
    assert any(p.startswith("seq 4 (line 3): prev does not match") for p in problems), problems


def test_a_removed_last_line_is_detected_by_the_head_anchor(home):
    filled(home)
    rewrite(home, lines(home)[:-1])
    assert verify(home) == [
        "the log ends at seq 4 but its head anchor says seq 5: the last 1 entries were removed"
    ]


def test_an_emptied_or_deleted_log_is_detected(home):
    filled(home)
    rewrite(home, [])
    assert verify(home) == ["the audit log is empty, but its head anchor says it ends at seq 5"]
    log_path(home).unlink()
    assert verify(home) == ["the audit log is missing, but its head anchor says it ends at seq 5"]


def test_a_removed_first_line_is_detected(home):
    filled(home)
    rewrite(home, lines(home)[1:])
    problems = verify(home)
    assert problems[0].startswith("seq 2 (line 1): the log starts at seq 2, not 1")
    assert any("prev does not match the genesis value" in p for p in problems), problems


def test_a_reordered_pair_is_detected(home):
    filled(home)
    kept = lines(home)
    kept[1], kept[2] = kept[2], kept[1]
    rewrite(home, kept)
    problems = verify(home)
    assert any(p.startswith("seq 2 (line 3): follows seq 3; a seq repeats") for p in problems), problems
    assert any(p.startswith("seq 3 (line 2): prev does not match") for p in problems), problems


def test_a_line_that_does_not_parse_is_detected(home):
    filled(home)
    kept = lines(home)
    kept[1] = "{not json\n"
    rewrite(home, kept)
    assert "line 2: does not parse as JSON" in verify(home)


def test_recording_after_a_removed_tail_is_refused_so_the_evidence_stays(home):
    filled(home)
    rewrite(home, lines(home)[:-2])
    with pytest.raises(AuditUnavailable, match="head anchor"):
        view(home)
    assert len(lines(home)) == 3
    assert verify(home) == [
        "the log ends at seq 3 but its head anchor says seq 5: the last 2 entries were removed"
    ]


def test_a_crash_between_the_append_and_the_head_is_not_tampering_and_heals(home):
    filled(home, 3)
    before = entries(home)[-2]
    # As if the process died after the line was on disk but before the head was replaced.
    head_path(home).write_text(json.dumps({"seq": before["seq"], "hash": before["hash"]}))
    assert verify(home) == []
    view(home)
    assert_one_chain(home, 4)


def test_a_cut_short_last_line_is_reported_and_blocks_recording(home):
    filled(home, 3)
    with log_path(home).open("a") as f:
        f.write('{"seq": 4, "ti')
    assert "line 4: incomplete last line (no newline: a write was cut short)" in verify(home)
    with pytest.raises(AuditUnavailable, match="incomplete line"):
        view(home)


def test_a_log_that_cannot_be_created_raises_audit_unavailable(tmp_path):
    # A regular file where the home folder should be: mkdir fails even for root, unlike chmod.
    (tmp_path / "home").write_text("not a folder")
    with pytest.raises(AuditUnavailable, match="cannot be written"):
        view(Home(tmp_path / "home"))


def test_a_log_path_that_is_a_folder_raises_audit_unavailable(home):
    log_path(home).mkdir(parents=True)
    with pytest.raises(AuditUnavailable, match="cannot be written"):
        view(home)


def test_a_failed_flush_raises_and_leaves_no_half_entry(home, monkeypatch):
    filled(home, 2)

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(audit.os, "fsync", disk_full)
    with pytest.raises(AuditUnavailable, match="No space left"):
        view(home)
    monkeypatch.undo()
    assert len(lines(home)) == 2  # cut back: the entry was never shown as written
    assert verify(home) == []
    view(home)
    assert_one_chain(home, 3)


def test_cli_verify_reports_no_log_intact_and_tampered(home):
    done = cli(home, "audit", "verify")
    assert (done.returncode, done.stdout.startswith("no audit log yet")) == (0, True), done

    filled(home, 4)
    done = cli(home, "audit", "verify")
    assert (done.returncode, done.stdout.strip()) == (0, "audit log intact: 4 entries"), done

    kept = lines(home)
    kept[1] = kept[1].replace('"rows":1', '"rows":7')
    rewrite(home, kept)
    done = cli(home, "audit", "verify")
    assert done.returncode == 1, done
    assert "seq 2 (line 2): hash does not match the entry (it was edited)" in done.stdout
    assert "audit log NOT intact: 1 problems in 4 entries" in done.stdout

    done = cli(home, "audit")
    assert done.returncode == 2  # the action is required


def test_verify_reads_without_writing_to_the_log(home):
    filled(home, 2)
    before = (log_path(home).read_bytes(), head_path(home).read_bytes(), os.stat(log_path(home)).st_mtime_ns)
    assert verify(home) == []
    after = (log_path(home).read_bytes(), head_path(home).read_bytes(), os.stat(log_path(home)).st_mtime_ns)
    assert before == after


def test_entries_longer_than_the_tail_chunk_chain_too(home):
    # The last entry is found by reading backwards in chunks: one entry spans several of them.
    view(home, filters={"participants": [f"p{i:06d}" for i in range(3 * audit.TAIL_CHUNK // 8)]})
    view(home)
    view(home, filters={"note": "x" * (2 * audit.TAIL_CHUNK)})
    view(home)
    assert_one_chain(home, 4)
