"""The archive: an immutable, content-addressed copy of every accepted export, and its index.

`archive/<site_id>/<table>/<sha256>.<ext>` holds each distinct file once; `archive/index.jsonl`
says, in order, which file was accepted for which (site, table), when, and how many data rows it
has. The newest line of a (site, table) is the export in force.

An inbox file is first copied into `archive/.incoming/`, hashing the bytes as they are copied: that
one copy is what is read, and what becomes the archived file, so an upload still going on cannot
make the archived bytes differ from the bytes read or hashed. An archived copy is trusted only
while its content matches the SHA-256 in its name.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from pipelines.core.durable import fsync
from pipelines.nightly.textfile import open_export

INDEX = "index.jsonl"
STAGING = ".incoming"  # the copies of inbox files being taken by the run holding the lock
BLOCK = 1 << 20


class ArchiveError(OSError):
    """An archived copy does not hold the bytes it was made from: nothing may leave the inbox."""


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
    rows: int | None = None  # its data rows (blank rows not counted); None in lines older than that


def blocks(f: BinaryIO) -> Iterator[bytes]:
    """A binary file's content, a block at a time."""
    return iter(lambda: f.read(BLOCK), b"")


def sha256_of_file(f: BinaryIO) -> str:
    """An open file's SHA-256 (from where it stands to its end), hex."""
    digest = hashlib.sha256()
    for block in blocks(f):
        digest.update(block)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    """The file's SHA-256, hex."""
    with path.open("rb") as f:
        return sha256_of_file(f)


def copy_problem(archive: Path, accepted: Accepted) -> str | None:
    """What is wrong with an acceptance's archived copy (missing, or not the content it was
    archived with), or None when it is intact."""
    path, shown = archive / accepted.path, f"archive/{accepted.path}"
    if not path.is_file():
        return f"the archived copy {shown} is missing"
    if sha256_of(path) != accepted.sha256:
        return (
            f"the archived copy {shown} has been changed or damaged since it was archived (its content "
            "no longer matches the SHA-256 in its name)"
        )
    return None


@dataclass(frozen=True)
class Staged:
    """A copy of an inbox file in the archive's staging folder: the bytes hashed, read and archived."""

    copy: Path
    sha256: str
    size: int


@contextmanager
def staging(archive: Path) -> Iterator[None]:
    """The staging folder, emptied before (of what an interrupted run left) and after: no copy of
    an inbox file, a refused one with direct identifiers included, outlives the intake."""
    shutil.rmtree(archive / STAGING, ignore_errors=True)
    try:
        yield
    finally:
        shutil.rmtree(archive / STAGING, ignore_errors=True)


def stage(archive: Path, source: Path) -> Staged:
    """Copy an inbox file into the staging folder, hashing the bytes as they are copied. The file
    is opened as every export is (textfile.open_export): Refused if it is a link, or not a file."""
    folder = archive / STAGING / source.parent.name  # the site's folder: an error names the site
    folder.mkdir(parents=True, exist_ok=True)
    # The table's name, and its suffix last: the reader tells a workbook from a CSV by it.
    copy = folder / f"{secrets.token_hex(4)}-{source.stem.lower()}{source.suffix.lower()}"
    digest, size = hashlib.sha256(), 0
    with open_export(source) as src, copy.open("xb") as dst:
        try:
            for block in blocks(src):
                digest.update(block)
                dst.write(block)
                size += len(block)
            dst.flush()
        except OSError as e:  # a write that fails (the disk full) names no file: name the copy
            raise OSError(e.errno, e.strerror, str(copy)) from e
    return Staged(copy, digest.hexdigest(), size)


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
    """An inbox file to take into the archive, as staged."""

    source: Path
    staged: Staged
    site_id: str
    table: str
    rows: int

    @property
    def path(self) -> str:
        """Where it is archived, relative to the archive: its content names it."""
        return f"{self.site_id}/{self.table}/{self.staged.sha256}{self.source.suffix.lower()}"


def place(archive: Path, copies: list[tuple[str, Staged]]) -> list[Path]:
    """Put each staged copy at its path in the archive (relative), unless an intact copy is there
    already; all durable and checked against their hashes before this returns (ArchiveError if not).
    Returns the files written: new, or restored over a missing or damaged copy.
    """
    written = []
    for path, staged in copies:
        target = archive / path
        if target.is_file() and sha256_of(target) == staged.sha256:
            staged.copy.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        written.append((target, staged))
    # Flush after copying them all: the disk writes them together, not one by one.
    for target, staged in written:
        fsync(staged.copy)
        staged.copy.chmod(0o444)
        staged.copy.replace(target)  # over a missing or damaged copy: that one is restored
    for folder in {t.parent for t, _ in written}:
        fsync(folder)
    for target, staged in written:
        if sha256_of(target) != staged.sha256:
            raise ArchiveError(
                f"{target} does not hold the bytes copied into it: the inbox file stays where it is"
            )
    return [target for target, _ in written]


def accept(
    archive: Path,
    index: list[Accepted],
    inbox: Path,
    incoming: list[Incoming],
    accepted_at: str,
    run_id: str,
) -> list[Accepted]:
    """Place the files, then record them in the index in one durable append; oldest first.

    `index` is the archive's index as loaded by this run, which holds the run lock: nothing
    else appends to it meanwhile.
    """
    place(archive, [(item.path, item.staged) for item in incoming])
    seq = max((a.seq for a in index), default=0)
    entries = [
        Accepted(
            seq=seq + i,
            site_id=item.site_id,
            table=item.table,
            sha256=item.staged.sha256,
            path=item.path,
            source=str(item.source.relative_to(inbox)),
            accepted_at=accepted_at,
            run_id=run_id,
            rows=item.rows,
        )
        for i, item in enumerate(incoming, start=1)
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
