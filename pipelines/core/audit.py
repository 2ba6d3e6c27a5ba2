"""The append-only audit log: every sign-in, page view, export, denied access and snapshot created,
chained by keyed hashes and witnessed by the nightly runs.

Each entry is one JSON line in `<home>/audit/audit.jsonl`; its `prev` is the hash of the entry
before it and its `hash` is the HMAC-SHA256 of its own canonical JSON with the audit key, which is
kept outside the home (pipelines/core/audit_key.py; `key_id` names it). So an edited, removed or
reordered line breaks the chain, and nobody without the key can recompute one that verifies.
`<home>/audit/audit.head` anchors the latest seq and hash, sealed with the key, so removing the
last line(s) is caught too; every nightly run copies the head into its run report (`witness`), so
deleting the log, or cutting it back to an older head, is caught against those copies
(pipelines/core/audit_verify.py checks all of it).

Entries written by version 1, before there was a key, have no `key_id` and a plain SHA-256 hash.
They are kept as written (re-keying them would erase what they prove) and verified as a plain
chain; `outcomes audit verify` says how many there are.

An entry is written (and flushed to disk) before any data is shown; if it cannot be, `record`
raises `AuditUnavailable` and the dashboard shows nothing.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import getpass
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipelines.core import audit_key
from pipelines.core.audit_key import AuditKey, AuditKeyError
from pipelines.core.durable import fsync
from pipelines.core.settings import Home

EVENTS = ("sign_in", "page_view", "export", "denied", "snapshot_created")
GENESIS = "0" * 64
FIELDS = (
    "seq",
    "time",
    "event",
    "user",
    "role",
    "page",
    "filters",
    "snapshot",
    "rows",
    "key_id",
    "prev",
    "hash",
)
LEGACY_FIELDS = tuple(f for f in FIELDS if f != "key_id")  # version 1, before the key
TAIL_CHUNK = 64 * 1024
# Who made an entry written from the command line (e.g. `outcomes snapshot`): the machine's account.
COMMAND_LINE = "command line"


class AuditUnavailable(Exception):
    """The audit log cannot be written (or is damaged), so no data may be shown."""


def audit_dir(home: Home) -> Path:
    """The folder of the audit log."""
    return home.root / "audit"


def log_path(home: Home) -> Path:
    """The log itself: one JSON entry a line."""
    return audit_dir(home) / "audit.jsonl"


def head_path(home: Home) -> Path:
    """The anchor: the latest entry's seq and hash, sealed with the key."""
    return audit_dir(home) / "audit.head"


def machine_user() -> str:
    """The account running this command, for entries made at the machine rather than the dashboard."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        return f"uid {os.getuid()}"


def canonical(obj: Any) -> bytes:
    """The one byte form an entry is hashed in: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _body(entry: dict) -> bytes:
    return canonical({k: v for k, v in entry.items() if k != "hash"})


def entry_hash(entry: dict) -> str:
    """sha256 of the entry's canonical JSON without its own `hash`: version 1's unkeyed hash."""
    return hashlib.sha256(_body(entry)).hexdigest()


def keyed_hash(key: AuditKey, entry: dict) -> str:
    """HMAC-SHA256 of the entry's canonical JSON without its own `hash`, with the audit key."""
    return key.mac(_body(entry))


def seal(key: AuditKey, seq: int, digest: str) -> str:
    """The head's seal: only the key's holder can anchor the log at a seq and hash."""
    return key.mac(canonical({"seq": seq, "hash": digest}))


@contextmanager
def locked(home: Home, kind: int) -> Iterator[None]:
    """The log to oneself (LOCK_EX: appending) or unchanging while read (LOCK_SH: verifying)."""
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


def _last_entry(fd: int) -> dict | None:
    """What appending needs of the last entry: seq, hash, prev and key_id (None: unkeyed)."""
    line = _last_line(fd)
    if line is None:
        return None
    try:
        last = json.loads(line)
        return {
            "seq": int(last["seq"]),
            "hash": str(last["hash"]),
            "prev": last["prev"],
            "key_id": last.get("key_id"),
        }
    except (ValueError, KeyError, TypeError) as e:
        raise AuditUnavailable("the audit log's last entry is damaged; run `outcomes audit verify`") from e


def parse_head(raw: bytes) -> dict:
    """The head's seq, hash and seal (None for a version-1 head); ValueError if it is not one."""
    head = json.loads(raw)
    if not isinstance(head, dict) or not isinstance(head.get("seq"), int) or "hash" not in head:
        raise ValueError("not an anchor")
    return {"seq": head["seq"], "hash": head["hash"], "mac": head.get("mac")}


def _read_head(home: Home) -> dict | None:
    try:
        return parse_head(head_path(home).read_bytes())
    except FileNotFoundError:
        return None
    except OSError as e:
        raise AuditUnavailable(f"the audit head anchor cannot be read: {e}") from e
    except ValueError as e:
        raise AuditUnavailable("the audit head anchor is damaged; run `outcomes audit verify`") from e


def head_agrees(head: dict | None, last: dict | None) -> bool:
    """The head names the log's last entry, or the entry just before it (a crash between the two writes)."""
    if last is None:
        return head is None
    if head is None:
        # Only the first entry can have been written before its head ever was.
        return last["seq"] == 1 and last.get("prev") == GENESIS
    if head["seq"] == last["seq"]:
        return head["hash"] == last.get("hash")
    return head["seq"] == last["seq"] - 1 and head["hash"] == last.get("prev")


def _write_head(home: Home, key: AuditKey, seq: int, digest: str) -> None:
    """Replace the head atomically: a reader sees the old anchor or the new one, never half of one."""
    tmp = audit_dir(home) / "audit.head.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, canonical({"seq": seq, "hash": digest, "mac": seal(key, seq, digest)}) + b"\n")
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


def _appending_key(home: Home, last: dict | None) -> AuditKey:
    """The key to write with: the one the log was written with; made now if the log never had one."""
    try:
        key = audit_key.load(home)
        if key is None and not (last and last["key_id"]):
            key = audit_key.create(home)
    except AuditKeyError as e:
        raise AuditUnavailable(str(e)) from e
    if key is None:
        raise AuditUnavailable(
            f"the audit key is missing (looked for in {audit_key.sources()}), but the audit log was "
            "written with one: restore it; nothing is recorded or shown until then"
        )
    if last and last["key_id"] and last["key_id"] != key.key_id:
        raise AuditUnavailable(
            f"the audit key in {key.source} is not the one the audit log was written with: restore "
            "that key; nothing is recorded or shown until then"
        )
    return key


def _check_seal(home: Home, key: AuditKey, head: dict | None, last: dict | None) -> None:
    """Refuse to append after a head that the key did not seal (a rewritten head would hide a cut);
    a version-1 head before the first keyed entry is sealed now, so a crash never leaves it bare."""
    if head is None:
        return
    if head["mac"] is None and not (last and last["key_id"]):
        _write_head(home, key, head["seq"], head["hash"])
    elif head["mac"] != seal(key, head["seq"], head["hash"]):
        raise AuditUnavailable(
            "the audit head anchor is not sealed with the audit key (it was rewritten); "
            "run `outcomes audit verify`"
        )


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
        with locked(home, fcntl.LOCK_EX):
            created = not log_path(home).exists()
            fd = os.open(log_path(home), os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                last = _last_entry(fd)
                head = _read_head(home)
                # Appending after a removed tail would reuse its seqs and overwrite the head,
                # erasing the evidence; refuse instead, and leave the log as found.
                if not head_agrees(head, last):
                    raise AuditUnavailable(
                        "the audit log does not match its head anchor (entries removed or changed); "
                        "run `outcomes audit verify`"
                    )
                key = _appending_key(home, last)
                _check_seal(home, key, head, last)
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
                    "key_id": key.key_id,
                    "prev": last["hash"] if last else GENESIS,
                }
                entry["hash"] = keyed_hash(key, entry)
                _append(fd, canonical(entry) + b"\n")
            finally:
                os.close(fd)
            if created:
                fsync(audit_dir(home))  # the new file's name must survive a crash too
            _write_head(home, key, entry["seq"], entry["hash"])
    except AuditUnavailable:
        raise
    except OSError as e:
        raise AuditUnavailable(f"the audit log cannot be written at {log_path(home)}: {e}") from e
    return entry


def witness(home: Home) -> dict:
    """The head as it stands, for a run report: {seq, hash, mac}; seq 0 when nothing was logged yet.

    The head is replaced by rename after its entry is on disk, so it is read without the lock, and
    an append going on meanwhile gives the old head or the new one, each naming an entry that stays.
    A head that cannot be read gives {"error": why}: the run goes on, and `audit verify` says more.
    """
    try:
        head = _read_head(home)
    except AuditUnavailable as e:
        return {"error": str(e)}
    return head if head is not None else {"seq": 0, "hash": GENESIS, "mac": None}


def snapshot_manifests(home: Home, key: AuditKey) -> dict[str, str]:
    """The manifest hash recorded when each snapshot was created, by snapshot id: only from entries
    whose keyed hash holds, so a record cannot be forged or edited without the key."""
    if not log_path(home).exists():
        return {}
    recorded: dict[str, str] = {}
    with log_path(home).open("rb") as f:
        for raw in f:
            if b'"snapshot_created"' not in raw:
                continue  # most lines are page views: not worth parsing
            try:
                entry = json.loads(raw)
                if entry.get("event") != "snapshot_created" or entry.get("key_id") != key.key_id:
                    continue
                if entry.get("hash") == keyed_hash(key, entry):
                    recorded[str(entry["snapshot"])] = str(entry["filters"]["manifest_sha256"])
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # a line that is no such record; `audit verify` names it
    return recorded
