"""The archive: an immutable, content-addressed copy of every accepted export, and its index.

`archive/<site_id>/<table>/<sha256>.<ext>` holds each distinct file once; `archive/index.jsonl`
says, in order, which file was accepted for which (site, table) and when. The newest line of a
(site, table) is the export in force.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from pipelines.core.durable import fsync

INDEX = "index.jsonl"


@dataclass(frozen=True)
class Accepted:
    """One acceptance: a file taken into the archive for a (site, table)."""

    seq: int
    site_id: str
    table: str
    sha256: str
    path: str  # relative to the archive
    source: str  # where it came from, relative to the inbox
    accepted_at: str
    run_id: str


def sha256_of(path: Path) -> str:
    """The file's SHA-256, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_index(archive: Path) -> list[Accepted]:
    """Every acceptance, oldest first; a last line cut short by a crash is ignored."""
    index = archive / INDEX
    if not index.exists():
        return []
    accepted = []
    for line in index.read_text(encoding="utf-8").splitlines():
        try:
            accepted.append(Accepted(**json.loads(line)))
        except (json.JSONDecodeError, TypeError):
            continue
    return accepted


def in_force(accepted: list[Accepted]) -> dict[tuple[str, str], Accepted]:
    """The newest acceptance of each (site, table)."""
    current: dict[tuple[str, str], Accepted] = {}
    for a in sorted(accepted, key=lambda a: a.seq):
        current[(a.site_id, a.table)] = a
    return current


@dataclass(frozen=True)
class Incoming:
    """An inbox file to take into the archive."""

    source: Path
    site_id: str
    table: str
    sha256: str


def store(archive: Path, incoming: list[Incoming]) -> list[Path]:
    """Copy each file into the archive once per content, all durable before this returns."""
    targets, written = [], []
    for item in incoming:
        target = archive / item.site_id / item.table / f"{item.sha256}{item.source.suffix.lower()}"
        targets.append(target)
        if not target.exists() and target not in (t for t, _ in written):
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".partial")
            shutil.copyfile(item.source, partial)
            written.append((target, partial))
    # Flush after copying them all: the disk writes them together, not one by one.
    for target, partial in written:
        fsync(partial)
        partial.chmod(0o444)
        partial.replace(target)
    for folder in {t.parent for t, _ in written}:
        fsync(folder)
    return targets


def accept(
    archive: Path,
    index: list[Accepted],
    inbox: Path,
    incoming: list[Incoming],
    accepted_at: str,
    run_id: str,
) -> list[Accepted]:
    """Store the files, then record them in the index in one durable append; oldest first.

    `index` is the archive's index as loaded by this run, which holds the run lock: nothing
    else appends to it meanwhile.
    """
    seq = max((a.seq for a in index), default=0)
    entries = [
        Accepted(
            seq=seq + i,
            site_id=item.site_id,
            table=item.table,
            sha256=item.sha256,
            path=str(target.relative_to(archive)),
            source=str(item.source.relative_to(inbox)),
            accepted_at=accepted_at,
            run_id=run_id,
        )
        for i, (item, target) in enumerate(zip(incoming, store(archive, incoming), strict=True), start=1)
    ]
    if not entries:
        return []
    index = archive / INDEX
    with index.open("a+b") as f:
        torn = f.tell() > 0 and (f.seek(-1, os.SEEK_END) or f.read(1)) != b"\n"
        lines = "".join(json.dumps(asdict(e), sort_keys=True) + "\n" for e in entries)
        # A crash can cut the last line short: start on a fresh line.
        f.write((("\n" if torn else "") + lines).encode("utf-8"))
        f.flush()
        os.fsync(f.fileno())
    return entries
