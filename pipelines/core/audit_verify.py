"""Verifying the audit log (`outcomes audit verify`): every line on its own, the chain of seqs and
hashes, the keyed hashes, the head and its seal, and the copies of the head that the nightly runs
keep in their run reports, so a log deleted, cut back or recomputed since a run saw it is caught.

Version-1 entries (no `key_id`) are checked as a plain SHA-256 chain and counted apart; after the
first keyed entry, an entry without the key is a forgery. Verifying never writes, and never makes a
key: a missing key is a problem named as such.
"""

from __future__ import annotations

import fcntl
import json
from dataclasses import dataclass, field

from pipelines.core import audit_key
from pipelines.core.audit import (
    EVENTS,
    FIELDS,
    GENESIS,
    LEGACY_FIELDS,
    audit_dir,
    entry_hash,
    head_agrees,
    head_path,
    keyed_hash,
    locked,
    log_path,
    parse_head,
    seal,
)
from pipelines.core.audit_key import AuditKey, AuditKeyError
from pipelines.core.settings import Home


@dataclass
class Verdict:
    """What verifying the log found: its entries, how many predate the key, and every problem."""

    entries: int = 0
    unkeyed: int = 0  # version-1 entries, checked as a plain SHA-256 chain
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Witness:
    """A run report's copy of the head: the log held `seq`, with this `hash`, when the run started."""

    run_id: str
    seq: int
    hash: str


def _key_for_check(home: Home) -> tuple[AuditKey | None, str]:
    """The key, or None and why it cannot be had (verifying never makes one)."""
    try:
        key = audit_key.load(home)
    except AuditKeyError as e:
        return None, str(e)
    return key, "" if key else f"the audit key is missing (looked for in {audit_key.sources()})"


def _witnesses(home: Home, key: AuditKey | None, verdict: Verdict) -> tuple[dict[int, list[Witness]], int]:
    """Every run report's witness of a non-empty log, by seq, and how many seals the key could not check."""
    found: dict[int, list[Witness]] = {}
    unchecked = 0
    for path in sorted(home.runs.glob("*.json")) if home.runs.is_dir() else []:
        try:
            copy = json.loads(path.read_bytes()).get("audit")
        except (OSError, ValueError, AttributeError):
            verdict.problems.append(
                f"run report {path.name} cannot be read, so its copy of the head cannot be checked"
            )
            continue
        if not isinstance(copy, dict) or not isinstance(copy.get("seq"), int) or copy["seq"] < 1:
            continue  # a run from before witnesses, one that found the head unreadable, or an empty log
        seen = Witness(path.stem, copy["seq"], str(copy.get("hash")))
        if copy.get("mac") is not None:
            if key is None:
                unchecked += 1
            elif copy["mac"] != seal(key, seen.seq, seen.hash):
                verdict.problems.append(
                    f"run {seen.run_id}'s copy of the head (seq {seen.seq}) is not sealed with the audit "
                    "key: the run report was edited"
                )
                continue
        found.setdefault(seen.seq, []).append(seen)
    return found, unchecked


def _check_entry(number: int, raw: bytes, key: AuditKey | None) -> tuple[dict | None, list[str]]:
    """One line parsed, and what is wrong with it on its own (a keyed hash only if the key is at hand)."""
    try:
        entry = json.loads(raw)
    except ValueError:
        return None, [f"line {number}: does not parse as JSON"]
    if not isinstance(entry, dict) or not isinstance(entry.get("seq"), int):
        return None, [f"line {number}: is not an audit entry (no integer seq)"]
    name = f"seq {entry['seq']} (line {number})"
    problems = []
    keyed = "key_id" in entry
    fields = FIELDS if keyed else LEGACY_FIELDS
    missing = [f for f in fields if f not in entry]
    extra = sorted(set(entry) - set(fields))
    if missing or extra:
        problems.append(f"{name}: fields missing {missing} or unexpected {extra}")
    if keyed and key is not None and entry["key_id"] == key.key_id:
        expected = keyed_hash(key, entry)
    else:
        expected = None if keyed else entry_hash(entry)
    if expected is not None and entry.get("hash") != expected:
        problems.append(f"{name}: hash does not match the entry (it was edited)")
    if entry.get("event") not in EVENTS:
        problems.append(f"{name}: unknown event {entry.get('event')!r}")
    return entry, problems


class _Scan:
    """One pass over the log: each line on its own, its place in the chain, and the runs' witnesses."""

    def __init__(self, key: AuditKey | None, witnessed: dict[int, list[Witness]], verdict: Verdict) -> None:
        self.key, self.witnessed, self.verdict = key, witnessed, verdict
        self.problems = verdict.problems
        self.prev_seq, self.prev_hash, self.last = 0, GENESIS, None
        self.first_keyed: int | None = None
        self.unchecked = 0  # keyed entries, with no key to check them
        self.other_key: list[int] = []  # seqs written with another key
        self.rewritten: list[tuple[str, Witness]] = []

    def line(self, number: int, raw: bytes) -> None:
        self.verdict.entries += 1
        if not raw.endswith(b"\n"):
            self.problems.append(f"line {number}: incomplete last line (no newline: a write was cut short)")
        entry, found = _check_entry(number, raw.rstrip(b"\n"), self.key)
        self.problems.extend(found)
        if entry is None:
            # Its hash is unknown: the next entry's prev cannot be checked, its seq still can.
            self.prev_seq, self.prev_hash, self.last = self.prev_seq + 1, None, None
            return
        seq, name = entry["seq"], f"seq {entry['seq']} (line {number})"
        self._key_of(entry, name)
        self._place(entry, number, name)
        for seen in self.witnessed.get(seq, []):
            if entry.get("hash") != seen.hash:
                self.rewritten.append((name, seen))
        self.prev_seq, self.prev_hash, self.last = seq, entry.get("hash"), entry

    def _key_of(self, entry: dict, name: str) -> None:
        if "key_id" not in entry:
            self.verdict.unkeyed += 1
            if self.first_keyed is not None:
                self.problems.append(
                    f"{name}: has no key after keyed entries: written by someone without the key"
                )
        else:
            self.first_keyed = self.first_keyed or entry["seq"]
            if self.key is None:
                self.unchecked += 1
            elif entry["key_id"] != self.key.key_id:
                self.other_key.append(entry["seq"])

    def _place(self, entry: dict, number: int, name: str) -> None:
        seq, prev_seq = entry["seq"], self.prev_seq
        if seq != prev_seq + 1:
            if number == 1:
                self.problems.append(
                    f"{name}: the log starts at seq {seq}, not 1 (its first entries removed)"
                )
            elif seq > prev_seq + 1:
                self.problems.append(
                    f"{name}: follows seq {prev_seq}; seqs {prev_seq + 1} to {seq - 1} are missing"
                )
            else:
                self.problems.append(
                    f"{name}: follows seq {prev_seq}; a seq repeats or goes back (reordered?)"
                )
        if self.prev_hash is not None and entry.get("prev") != self.prev_hash:
            what = "the genesis value" if number == 1 else f"the hash of line {number - 1}"
            self.problems.append(f"{name}: prev does not match {what} (an entry removed, inserted or moved)")

    def finish(self) -> None:
        """The problems only the whole pass shows: another key, and what the runs saw that is gone."""
        if self.other_key:
            self.problems.append(
                f"{len(self.other_key):,} entries (seq {self.other_key[0]} to {self.other_key[-1]}) were "
                f"written with another audit key than the one in {self.key.source}: restore that key"
            )
        if self.rewritten:
            name, seen = self.rewritten[0]
            more = len(self.rewritten) - 1
            self.problems.append(
                f"{name}: is not the entry run {seen.run_id} saw at seq {seen.seq}"
                + (f" (nor are {more} later entries other runs saw)" if more else "")
                + ": the log was rewritten"
            )
        last_seq = self.last["seq"] if self.last else self.prev_seq
        beyond = [w for seq, ws in self.witnessed.items() if seq > last_seq for w in ws]
        if beyond:
            seen = max(beyond, key=lambda w: (w.seq, w.run_id))
            self.problems.append(
                f"the log ends at seq {last_seq} but run {seen.run_id} saw it at seq {seen.seq}: "
                f"the last {seen.seq - last_seq} entries were removed"
            )


def check(home: Home) -> Verdict:
    """The entries in the log, how many predate the key, and the problems found (none: intact)."""
    if not audit_dir(home).is_dir():
        return _check_unlocked(home)
    try:
        with locked(home, fcntl.LOCK_SH):  # a consistent view: no append half done
            return _check_unlocked(home)
    except PermissionError:
        return _check_unlocked(home)  # an auditor with read-only access still gets an answer


def _check_head(home: Home, verdict: Verdict) -> dict | None:
    try:
        return parse_head(head_path(home).read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        verdict.problems.append("the head anchor is damaged")
        return None


def _check_unlocked(home: Home) -> Verdict:
    verdict = Verdict()
    problems = verdict.problems
    key, why = _key_for_check(home)
    head = _check_head(home, verdict)
    witnessed, unchecked = _witnesses(home, key, verdict)
    if not log_path(home).exists():
        if head is not None:
            problems.append(
                f"the audit log is missing, but its head anchor says it ends at seq {head['seq']}"
            )
        if witnessed:
            seen = max((w for ws in witnessed.values() for w in ws), key=lambda w: (w.seq, w.run_id))
            problems.append(
                f"the audit log is missing, but run {seen.run_id} saw it at seq {seen.seq}: it was deleted"
            )
        return verdict

    scan = _Scan(key, witnessed, verdict)
    with log_path(home).open("rb") as f:
        for number, raw in enumerate(f, start=1):
            scan.line(number, raw)
    scan.finish()
    last = scan.last
    if head is not None and head["mac"] is not None:
        if key is None:
            unchecked += 1
        elif head["mac"] != seal(key, head["seq"], head["hash"]):
            problems.append("the head anchor is not sealed with the audit key: it was rewritten")
    elif head is not None and scan.first_keyed is not None:
        problems.append("the head anchor carries no seal of the audit key: it was rewritten")
    if last is not None and not head_agrees(head, last):
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
    elif verdict.entries == 0 and head is not None:
        problems.append(f"the audit log is empty, but its head anchor says it ends at seq {head['seq']}")
    if scan.unchecked or unchecked:
        problems.append(
            f"{why}: {scan.unchecked:,} entries and {unchecked:,} seals written with it cannot be checked"
        )
    return verdict


def verify(home: Home) -> list[str]:
    """The problems found in the audit log: unparsable lines, broken seqs or chain, edits, a removed
    tail, a missing or other key, and anything the nightly runs saw that the log no longer holds."""
    return check(home).problems
