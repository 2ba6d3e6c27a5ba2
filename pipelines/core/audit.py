"""The append-only audit log: every sign-in, page view, export, denied access and snapshot created,
chained by hashes.

Each entry is one JSON line in `<home>/audit/audit.jsonl`; its `prev` is the hash of the entry
before it and its `hash` is the sha256 of its own canonical JSON, so an edited, removed or
reordered line breaks the chain. `<home>/audit/audit.head` anchors the latest seq and hash, so
removing the last line(s), which leaves a shorter chain that is still valid, is caught too.
An entry is written (and flushed to disk) before any data is shown; if it cannot be, `record`
raises `AuditUnavailable` and the dashboard shows nothing.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipelines.core.durable import fsync
from pipelines.core.settings import Home

EVENTS = ("sign_in", "page_view", "export", "denied", "snapshot_created")
GENESIS = "0" * 64
FIELDS = ("seq", "time", "event", "user", "role", "page", "filters", "snapshot", "rows", "prev", "hash")
TAIL_CHUNK = 64 * 1024


class AuditUnavailable(Exception):
    """The audit log cannot be written (or is damaged), so no data may be shown."""


def audit_dir(home: Home) -> Path:
    """The folder of the audit log."""
    return home.root / "audit"


def log_path(home: Home) -> Path:
    """The log itself: one JSON entry a line."""
    return audit_dir(home) / "audit.jsonl"


def head_path(home: Home) -> Path:
    """The anchor: the latest entry's seq and hash."""
    return audit_dir(home) / "audit.head"


def canonical(obj: Any) -> bytes:
    """The one byte form an entry is hashed in: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(entry: dict) -> str:
    """sha256 of the entry's canonical JSON without its own `hash`."""
    return hashlib.sha256(canonical({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


@contextmanager
def _locked(home: Home, kind: int) -> Iterator[None]:
    # A separate lock file, because the head is replaced by rename and the log may be missing;
    # flock holds per open file, so threads of one process exclude each other as processes do.
    fd = os.open(audit_dir(home) / "audit.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, kind)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _last_line(fd: int) -> bytes | None:
    """The log's last line, read backwards from the end so a long log costs no more than a short one."""
    size = os.fstat(fd).st_size
    if size == 0:
        return None
    if os.pread(fd, 1, size - 1) != b"\n":
        raise AuditUnavailable(
            "the audit log ends in an incomplete line; run `outcomes audit verify` and repair it"
        )
    end = size - 1  # the final newline
    pos, tail = end, b""
    while pos > 0:
        start = max(0, pos - TAIL_CHUNK)
        tail = os.pread(fd, pos - start, start) + tail
        pos = start
        if b"\n" in tail:
            break
    return tail.rsplit(b"\n", 1)[-1]


def _read_head(home: Home) -> dict | None:
    try:
        head = json.loads(head_path(home).read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise AuditUnavailable(f"the audit head anchor cannot be read: {e}") from e
    if not isinstance(head, dict) or not isinstance(head.get("seq"), int) or "hash" not in head:
        raise AuditUnavailable("the audit head anchor is damaged; run `outcomes audit verify`")
    return head


def _head_agrees(head: dict | None, last: dict | None) -> bool:
    """The head names the log's last entry, or the entry just before it (a crash between the two writes)."""
    if last is None:
        return head is None
    if head is None:
        # Only the first entry can have been written before its head ever was.
        return last["seq"] == 1 and last.get("prev") == GENESIS
    if head["seq"] == last["seq"]:
        return head["hash"] == last.get("hash")
    return head["seq"] == last["seq"] - 1 and head["hash"] == last.get("prev")


def _write_head(home: Home, seq: int, digest: str) -> None:
    """Replace the head atomically: a reader sees the old anchor or the new one, never half of one."""
    tmp = audit_dir(home) / "audit.head.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, canonical({"seq": seq, "hash": digest}) + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, head_path(home))
    fsync(audit_dir(home))


def _append(fd: int, data: bytes) -> None:
    """Write the whole line and flush it to disk; on failure cut the file back so no half line stays."""
    size = os.fstat(fd).st_size
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except OSError:
        try:
            os.ftruncate(fd, size)
        except OSError:
            pass  # the next record sees the incomplete line and refuses, which is safe
        raise


def record(
    home: Home,
    *,
    event: str,
    user: str,
    role: str,
    page: str | None = None,
    filters: dict | None = None,
    snapshot: str | None = None,
    rows: int | None = None,
) -> dict:
    """Append one entry, durably and chained to the last; raise AuditUnavailable if it cannot be written."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}; one of {', '.join(EVENTS)}")
    if filters is not None and not isinstance(filters, dict):
        raise TypeError("filters must be a dict")
    # Dates and tuples become strings and lists now, so the entry hashed is the entry stored.
    filters = json.loads(json.dumps(filters or {}, default=str))
    try:
        audit_dir(home).mkdir(parents=True, exist_ok=True)
        with _locked(home, fcntl.LOCK_EX):
            created = not log_path(home).exists()
            fd = os.open(log_path(home), os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                line = _last_line(fd)
                try:
                    last = json.loads(line) if line is not None else None
                    if last is not None:
                        last = {"seq": int(last["seq"]), "hash": str(last["hash"]), "prev": last["prev"]}
                except (ValueError, KeyError, TypeError) as e:
                    raise AuditUnavailable(
                        "the audit log's last entry is damaged; run `outcomes audit verify`"
                    ) from e
                # Appending after a removed tail would reuse its seqs and overwrite the head,
                # erasing the evidence; refuse instead, and leave the log as found.
                if not _head_agrees(_read_head(home), last):
                    raise AuditUnavailable(
                        "the audit log does not match its head anchor (entries removed or changed); "
                        "run `outcomes audit verify`"
                    )
                entry: dict[str, Any] = {
                    "seq": last["seq"] + 1 if last else 1,
                    "time": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
                    "event": event,
                    "user": user,
                    "role": role,
                    "page": page,
                    "filters": filters,
                    "snapshot": snapshot,
                    "rows": rows,
                    "prev": last["hash"] if last else GENESIS,
                }
                entry["hash"] = entry_hash(entry)
                _append(fd, canonical(entry) + b"\n")
            finally:
                os.close(fd)
            if created:
                fsync(audit_dir(home))  # the new file's name must survive a crash too
            _write_head(home, entry["seq"], entry["hash"])
    except AuditUnavailable:
        raise
    except OSError as e:
        raise AuditUnavailable(f"the audit log cannot be written at {log_path(home)}: {e}") from e
    return entry


def _check_entry(number: int, raw: bytes) -> tuple[dict | None, list[str]]:
    """One line parsed, and what is wrong with it on its own."""
    try:
        entry = json.loads(raw)
    except ValueError:
        return None, [f"line {number}: does not parse as JSON"]
    if not isinstance(entry, dict) or not isinstance(entry.get("seq"), int):
        return None, [f"line {number}: is not an audit entry (no integer seq)"]
    name = f"seq {entry['seq']} (line {number})"
    problems = []
    missing = [f for f in FIELDS if f not in entry]
    extra = sorted(set(entry) - set(FIELDS))
    if missing or extra:
        problems.append(f"{name}: fields missing {missing} or unexpected {extra}")
    if entry.get("hash") != entry_hash(entry):
        problems.append(f"{name}: hash does not match the entry (it was edited)")
    if entry.get("event") not in EVENTS:
        problems.append(f"{name}: unknown event {entry.get('event')!r}")
    return entry, problems


def check(home: Home) -> tuple[int, list[str]]:
    """The number of entries in the log and the problems found in it (none: the log is intact)."""
    if not audit_dir(home).is_dir():
        return 0, []
    try:
        with _locked(home, fcntl.LOCK_SH):  # a consistent view: no append half done
            return _check_unlocked(home)
    except PermissionError:
        return _check_unlocked(home)  # an auditor with read-only access still gets an answer


def _check_unlocked(home: Home) -> tuple[int, list[str]]:
    problems: list[str] = []
    try:
        head = json.loads(head_path(home).read_bytes())
        if not isinstance(head, dict) or not isinstance(head.get("seq"), int) or "hash" not in head:
            problems.append("the head anchor is damaged")
            head = None
    except FileNotFoundError:
        head = None
    except ValueError:
        problems.append("the head anchor does not parse as JSON")
        head = None
    if not log_path(home).exists():
        if head is not None:
            problems.append(
                f"the audit log is missing, but its head anchor says it ends at seq {head['seq']}"
            )
        return 0, problems

    count, prev_seq, prev_hash, last = 0, 0, GENESIS, None
    with log_path(home).open("rb") as f:
        for number, raw in enumerate(f, start=1):
            count += 1
            if not raw.endswith(b"\n"):
                problems.append(f"line {number}: incomplete last line (no newline: a write was cut short)")
            raw = raw.rstrip(b"\n")
            entry, found = _check_entry(number, raw)
            problems += found
            if entry is None:
                # Its hash is unknown: the next entry's prev cannot be checked, its seq still can.
                prev_seq, prev_hash, last = prev_seq + 1, None, None
                continue
            seq, name = entry["seq"], f"seq {entry['seq']} (line {number})"
            if seq != prev_seq + 1:
                if number == 1:
                    problems.append(f"{name}: the log starts at seq {seq}, not 1 (its first entries removed)")
                elif seq > prev_seq + 1:
                    problems.append(
                        f"{name}: follows seq {prev_seq}; seqs {prev_seq + 1} to {seq - 1} are missing"
                    )
                else:
                    problems.append(
                        f"{name}: follows seq {prev_seq}; a seq repeats or goes back (reordered?)"
                    )
            if prev_hash is not None and entry.get("prev") != prev_hash:
                what = "the genesis value" if number == 1 else f"the hash of line {number - 1}"
                problems.append(f"{name}: prev does not match {what} (an entry removed, inserted or moved)")
            prev_seq, prev_hash, last = seq, entry.get("hash"), entry

    if last is not None and not _head_agrees(head, last):
        if head is None:
            problems.append("the head anchor is missing, so removed last entries could not be detected")
        elif head["seq"] > last["seq"]:
            problems.append(
                f"the log ends at seq {last['seq']} but its head anchor says seq {head['seq']}: "
                f"the last {head['seq'] - last['seq']} entries were removed"
            )
        else:
            problems.append(
                f"the log's last entry (seq {last['seq']}) does not match its head anchor "
                f"(seq {head['seq']}): the end of the log was changed"
            )
    elif count == 0 and head is not None:
        problems.append(f"the audit log is empty, but its head anchor says it ends at seq {head['seq']}")
    return count, problems


def verify(home: Home) -> list[str]:
    """The problems found in the audit log: unparsable lines, broken seqs or chain, edits, a removed tail."""
    return check(home)[1]
