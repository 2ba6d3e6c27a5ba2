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


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def accept(
    archive: Path,
    source: Path,
    inbox: Path,
    site_id: str,
    table: str,
    sha256: str,
    accepted_at: str,
    run_id: str,
    seq: int,
) -> Accepted:
    """Copy a file into the archive (once per content), then record it in the index, durably."""
    rel = Path(site_id) / table / f"{sha256}{source.suffix.lower()}"
    target = archive / rel
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(source, partial)
        with partial.open("rb") as f:
            os.fsync(f.fileno())
        partial.chmod(0o444)
        partial.replace(target)
        _fsync_dir(target.parent)
    entry = Accepted(
        seq=seq,
        site_id=site_id,
        table=table,
        sha256=sha256,
        path=str(rel),
        source=str(source.relative_to(inbox)),
        accepted_at=accepted_at,
        run_id=run_id,
    )
    index = archive / INDEX
    torn = index.exists() and index.stat().st_size and not index.read_bytes().endswith(b"\n")
    with index.open("a", encoding="utf-8") as f:
        if torn:  # a crash cut the last line short: start a fresh line
            f.write("\n")
        f.write(json.dumps(asdict(entry), sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())
    return entry
