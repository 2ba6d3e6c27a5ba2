"""The audit log: appends chain under concurrency; any edit, removal or reorder is detected, and so
is a chain recomputed without the key, a cut-back log with a rewritten head, and a deleted log,
against the copies of the head the nightly runs keep (issue 12, item 12)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

import pytest

from pipelines.core import audit
from pipelines.core.audit import GENESIS, AuditUnavailable, head_path, log_path, record
from pipelines.core.audit_verify import check, verify
from pipelines.core.settings import Home
from tests.conftest import TEST_AUDIT_KEY, run

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


def canon(obj: dict) -> bytes:
    """The byte form the README gives: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def hmac_hex(data: bytes, key: str = TEST_AUDIT_KEY) -> str:
    return hmac.new(key.encode(), data, hashlib.sha256).hexdigest()


def without_hash(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if k != "hash"}


def sealed_head(seq: int, digest: str) -> dict:
    return {"seq": seq, "hash": digest, "mac": hmac_hex(canon({"seq": seq, "hash": digest}))}


def assert_one_chain(home: Home, expected: int) -> None:
    """Seqs 1..n in file order, each prev the hash before it, each hash keyed: no fork, gap or repeat."""
    found = entries(home)
    assert [e["seq"] for e in found] == list(range(1, expected + 1))
    assert [e["prev"] for e in found] == [GENESIS] + [e["hash"] for e in found[:-1]]
    assert all(e["hash"] == hmac_hex(canon(without_hash(e))) for e in found)
    assert json.loads(head_path(home).read_text()) == sealed_head(expected, found[-1]["hash"])
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
    filled(home, 2)
    before = head_path(home).read_bytes()
    view(home)
    # As if the process died after the line was on disk but before the head was replaced.
    head_path(home).write_bytes(before)
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


# Keyed chain, witnesses, version-1 logs and the key itself (issue 12, item 12).


def recompute_without_key(kept: list[str], strip_key: bool = False) -> tuple[list[str], dict]:
    """What someone who can write the home but not read the key can do: redo every hash (plain
    SHA-256, as version 1) and prev from the first line on; returns the lines and a matching head."""
    prev, out = GENESIS, []
    for line in kept:
        entry = json.loads(line)
        if strip_key:
            entry.pop("key_id", None)
        entry["prev"] = prev
        entry["hash"] = prev = hashlib.sha256(canon(without_hash(entry))).hexdigest()
        out.append(canon(entry).decode() + "\n")
    return out, {"seq": json.loads(out[-1])["seq"], "hash": prev}


def legacy_log(home: Home, n: int) -> None:
    """A log as version 1 left it: a plain SHA-256 chain without key_id, and a head without a seal."""
    prev, out = GENESIS, []
    for seq in range(1, n + 1):
        entry = {
            "seq": seq,
            "time": f"2024-05-0{seq}T10:00:00.000000+00:00",
            "event": "page_view",
            "user": "ana@lead.org",
            "role": "leadership",
            "page": "overview",
            "filters": {},
            "snapshot": None,
            "rows": seq,
            "prev": prev,
        }
        entry["hash"] = prev = hashlib.sha256(canon(entry)).hexdigest()
        out.append(canon(entry).decode() + "\n")
    audit.audit_dir(home).mkdir(parents=True)
    rewrite(home, out)
    head_path(home).write_text(json.dumps({"seq": n, "hash": prev}))


def run_report(home: Home) -> dict:
    [report] = [json.loads(p.read_text()) for p in sorted(home.runs.glob("*.json"))][-1:]
    return report


@pytest.fixture
def own_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No key in the environment; the secrets file a file of the test's own, outside the home."""
    monkeypatch.delenv("OUTCOMES_AUDIT_KEY")
    path = tmp_path / "outside" / "secrets.toml"
    monkeypatch.setenv("OUTCOMES_SECRETS", str(path))
    return path


def test_every_entry_and_the_head_are_keyed_with_hmac_sha256(home):
    filled(home, 3)
    for entry in entries(home):
        assert entry["hash"] == hmac_hex(canon(without_hash(entry)))
        assert entry["hash"] != hashlib.sha256(canon(without_hash(entry))).hexdigest()
    assert len({e["key_id"] for e in entries(home)}) == 1
    assert json.loads(head_path(home).read_text()) == sealed_head(3, entries(home)[-1]["hash"])


def test_an_edit_with_the_whole_chain_recomputed_is_detected(home):
    filled(home)
    kept = lines(home)
    entry = json.loads(kept[1])
    entry["user"] = "someone.else@lead.org"
    kept[1] = json.dumps(entry) + "\n"
    forged, head = recompute_without_key(kept)
    rewrite(home, forged)
    head_path(home).write_text(json.dumps(head))
    problems = verify(home)
    assert "seq 1 (line 1): hash does not match the entry (it was edited)" in problems
    assert "the head anchor carries no seal of the audit key: it was rewritten" in problems
    done = cli(home, "audit", "verify")
    assert done.returncode == 1 and "audit log NOT intact" in done.stdout, done


def test_a_chain_rewritten_as_version_1_is_detected_against_a_run(home):
    filled(home)
    assert not run(home).published  # nothing in the inbox: the run only records the head
    forged, head = recompute_without_key(lines(home), strip_key=True)
    forged[1] = forged[1].replace("ana@lead.org", "someone.else@lead.org")
    forged, head = recompute_without_key(forged)
    rewrite(home, forged)
    head_path(home).write_text(json.dumps(head))
    problems = verify(home)
    run_id = run_report(home)["run_id"]
    assert f"seq 5 (line 5): is not the entry run {run_id} saw at seq 5: the log was rewritten" in problems
    assert cli(home, "audit", "verify").returncode == 1


def test_each_run_report_records_the_head_as_the_run_found_it(home):
    run(home)
    assert run_report(home)["audit"] == {"seq": 0, "hash": GENESIS, "mac": None}
    filled(home, 4)
    run(home)
    assert run_report(home)["audit"] == sealed_head(4, entries(home)[-1]["hash"])
    assert verify(home) == []


@pytest.mark.parametrize("deleted", ["log and head", "audit folder"])
def test_a_deleted_log_after_a_witnessed_run_is_detected(home, deleted):
    filled(home, 4)
    run(home)
    run_id = run_report(home)["run_id"]
    if deleted == "audit folder":
        for path in audit.audit_dir(home).iterdir():
            path.unlink()
        audit.audit_dir(home).rmdir()
    else:
        log_path(home).unlink()
        head_path(home).unlink()
    assert verify(home) == [f"the audit log is missing, but run {run_id} saw it at seq 4: it was deleted"]
    done = cli(home, "audit", "verify")
    assert done.returncode == 1 and "no audit log yet" not in done.stdout, done
    assert f"run {run_id} saw it at seq 4" in done.stdout


def test_a_cut_back_log_with_its_head_rewritten_is_detected(home):
    filled(home, 5)
    kept = entries(home)[:3]
    rewrite(home, lines(home)[:3])
    head_path(home).write_text(json.dumps({"seq": 3, "hash": kept[-1]["hash"]}))
    assert verify(home) == ["the head anchor carries no seal of the audit key: it was rewritten"]
    with pytest.raises(AuditUnavailable, match="not sealed"):
        view(home)  # appending would seal the cut
    assert len(lines(home)) == 3
    assert cli(home, "audit", "verify").returncode == 1


def test_a_log_cut_back_to_an_old_sealed_head_is_detected_against_a_run(home):
    filled(home, 3)
    old_head, old_lines = head_path(home).read_bytes(), lines(home)
    filled(home, 2)
    run(home)
    rewrite(home, old_lines)
    head_path(home).write_bytes(old_head)  # a head the key did seal, when the log ended at seq 3
    run_id = run_report(home)["run_id"]
    assert verify(home) == [
        f"the log ends at seq 3 but run {run_id} saw it at seq 5: the last 2 entries were removed"
    ]


def test_an_edited_copy_of_the_head_in_a_run_report_is_detected(home):
    filled(home, 2)
    run(home)
    [path] = home.runs.glob("*.json")
    report = json.loads(path.read_text())
    report["audit"]["seq"] = 1
    path.write_text(json.dumps(report))
    assert verify(home) == [
        f"run {path.stem}'s copy of the head (seq 1) is not sealed with the audit key: "
        "the run report was edited"
    ]


def test_the_head_copied_while_others_append_always_names_an_entry_of_the_log(home):
    filled(home, 1)
    copies: list[dict] = []
    done = threading.Event()

    def copier() -> None:
        while not done.is_set():
            copies.append(audit.witness(home))

    reader = threading.Thread(target=copier)
    reader.start()
    writers = [threading.Thread(target=filled, args=(home, 50)) for _ in range(3)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    done.set()
    reader.join()
    by_seq = {e["seq"]: e["hash"] for e in entries(home)}
    assert len({c["seq"] for c in copies}) > 1  # the copies were taken while the log grew
    for c in copies:
        assert c == sealed_head(c["seq"], by_seq[c["seq"]])


def test_a_version_1_log_is_kept_and_checked_unkeyed_and_the_key_guards_what_follows(home):
    legacy_log(home, 3)
    before = log_path(home).read_bytes()
    assert check(home).unkeyed == 3 and verify(home) == []
    done = cli(home, "audit", "verify")
    assert done.returncode == 0 and done.stdout.startswith("audit log intact: 3 entries\n"), done
    assert "the first 3 were written before the audit key (version 1)" in done.stdout
    view(home)
    assert log_path(home).read_bytes().startswith(before)  # the old lines stay as written
    assert json.loads(head_path(home).read_text()) == sealed_head(4, entries(home)[-1]["hash"])
    verdict = check(home)
    assert (verdict.entries, verdict.unkeyed, verdict.problems) == (4, 3, [])
    # After a keyed entry, an entry without the key is a forgery, however well it chains.
    last = entries(home)[-1]
    forged = {**without_hash(last), "seq": 5, "prev": last["hash"], "rows": 0}
    del forged["key_id"]
    forged["hash"] = hashlib.sha256(canon(forged)).hexdigest()
    with log_path(home).open("a") as f:
        f.write(canon(forged).decode() + "\n")
    head_path(home).write_text(json.dumps({"seq": 5, "hash": forged["hash"]}))
    problems = verify(home)
    assert "seq 5 (line 5): has no key after keyed entries: written by someone without the key" in problems


def test_a_missing_key_is_a_clear_failure_not_a_crash(home, own_secrets, monkeypatch):
    monkeypatch.setenv("OUTCOMES_AUDIT_KEY", TEST_AUDIT_KEY)
    filled(home, 2)
    monkeypatch.delenv("OUTCOMES_AUDIT_KEY")
    problems = verify(home)
    assert len(problems) == 1 and problems[0].startswith("the audit key is missing (looked for in")
    assert "2 entries and 1 seals written with it cannot be checked" in problems[0]
    with pytest.raises(AuditUnavailable, match="the audit key is missing"):
        view(home)
    assert not own_secrets.exists()  # no new key was made for a log written with another
    done = cli(home, "audit", "verify")
    assert done.returncode == 1 and "Traceback" not in done.stderr and "audit key is missing" in done.stdout


def test_a_changed_key_is_named_as_such(home, monkeypatch):
    filled(home, 2)
    monkeypatch.setenv("OUTCOMES_AUDIT_KEY", "another-key-of-at-least-32-characters-0000")
    problems = verify(home)
    assert "2 entries (seq 1 to 2) were written with another audit key than the one in " in problems[0]
    with pytest.raises(AuditUnavailable, match="not the one the audit log was written with"):
        view(home)
    monkeypatch.setenv("OUTCOMES_AUDIT_KEY", "short")
    assert verify(home)[0].endswith(
        "too short: use 32 characters or more: 2 entries and 1 seals written with it cannot be checked"
    )


def test_the_key_is_made_at_first_use_kept_in_the_secrets_file_and_said_where(home, own_secrets, capsys):
    own_secrets.parent.mkdir()
    own_secrets.write_text('[auth]\nclient_id = "lead-outcomes"', encoding="utf-8")  # no final newline
    filled(home, 2)
    message = capsys.readouterr().err
    assert str(own_secrets) in message and "Keep that file" in message
    kept = tomllib.loads(own_secrets.read_text(encoding="utf-8"))
    assert kept["auth"] == {"client_id": "lead-outcomes"}  # the sign-in settings are untouched
    key = kept["audit"]["key"]
    assert len(key) == 64
    assert entries(home)[0]["hash"] == hmac_hex(canon(without_hash(entries(home)[0])), key)
    filled(home, 1)
    assert capsys.readouterr().err == ""  # made once
    assert verify(home) == []


def test_a_new_secrets_file_is_private_and_two_first_uses_make_one_key(tmp_path, own_secrets):
    homes = [Home(tmp_path / f"home{k}") for k in range(4)]
    pool = [threading.Thread(target=filled, args=(h, 3)) for h in homes]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert own_secrets.stat().st_mode & 0o777 == 0o600
    assert own_secrets.read_text().count("[audit]") == 1
    assert all(verify(h) == [] for h in homes)


def test_a_key_file_inside_the_home_is_refused(home, monkeypatch):
    monkeypatch.delenv("OUTCOMES_AUDIT_KEY")
    monkeypatch.setenv("OUTCOMES_SECRETS", str(home.root / "secrets.toml"))
    with pytest.raises(AuditUnavailable, match="must be kept outside the home folder"):
        view(home)
    assert not (home.root / "secrets.toml").exists()
