"""The demo's marker: which files `outcomes demo` wrote into a home, so that demo mode (a role
picker, no sign-in) is only ever served on synthetic data.

`<home>/demo.json` holds the SHA-256 of every file the demo wrote there (each `outcomes demo` adds
its own). A home is a demo home while it carries the marker and every export it holds or shows
is one of those: each file in the inbox, each export the archive accepted, each file the live
release was built from, and each file a snapshot was taken from. A single real export anywhere
(real data dropped into a home that once ran the demo, a release or snapshot left from real
data) and demo mode is refused. The marker guards against mistakes and against demo mode being
switched on by an environment variable, not against someone who can write the home: they could
read its data as well.
"""

from __future__ import annotations

import functools
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import duckdb

from pipelines.core.durable import fsync
from pipelines.core.release import live_release, open_release
from pipelines.core.settings import Home
from pipelines.nightly.archive import load_index, sha256_of

MARKER = "demo.json"
ABOUT = (
    "Written by `outcomes demo`: the SHA-256 of every synthetic file it wrote into this home. "
    "`outcomes serve --demo` refuses a home that holds any other export."
)


class NotDemoHome(Exception):
    """The home has no demo marker, or holds an export the demo did not write; the message says which."""


def marker_path(home: Home) -> Path:
    """Where `outcomes demo` records what it wrote: `<home>/demo.json`."""
    return home.root / MARKER


def record(marker: Path, inbox: Path, written: list[Path]) -> None:
    """Add the hashes of the files the demo just wrote to the marker, durably and atomically."""
    try:
        known = demo_files(marker)
    except NotDemoHome:
        known = {}  # none yet, or unreadable: what the demo writes now is all it can vouch for
    known |= {sha256_of(path): path.relative_to(inbox).as_posix() for path in written}
    tmp = marker.with_name(f".{MARKER}.tmp")
    tmp.write_text(json.dumps({"about": ABOUT, "files": known}, indent=2, sort_keys=True) + "\n", "utf-8")
    fsync(tmp)
    os.replace(tmp, marker)
    fsync(marker.parent)


def demo_files(marker: Path) -> dict[str, str]:
    """The marker's files, by SHA-256; NotDemoHome if there is no usable marker."""
    try:
        files = json.loads(marker.read_bytes())["files"]
    except FileNotFoundError:
        raise NotDemoHome(f"it was not made by `outcomes demo` ({marker} does not exist)") from None
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise NotDemoHome(f"its demo marker {marker} cannot be read ({error})") from None
    if not isinstance(files, dict):
        raise NotDemoHome(f"its demo marker {marker} cannot be read (no list of files)")
    return files


def check(home: Home) -> None:
    """NotDemoHome unless the home carries the demo's marker and holds only exports the demo wrote."""
    written = demo_files(marker_path(home))
    for where, sha256 in held(home):
        if sha256 not in written:
            raise NotDemoHome(f"it holds an export `outcomes demo` did not write: {where}")


def held(home: Home) -> Iterator[tuple[str, str]]:
    """(where, SHA-256) of every export the home holds or shows: NotDemoHome where one cannot be read.

    The inbox comes before the archive, so a file a nightly run moves meanwhile is seen in one.
    """
    yield from _inbox(home)
    try:
        index = load_index(home.archive)
    except (OSError, ValueError) as error:
        raise NotDemoHome(f"its archive index cannot be read ({error})") from None
    yield from ((f"archive/{accepted.path}", accepted.sha256) for accepted in index)
    yield from _release(home)
    for manifest in sorted(home.snapshots.glob("*/manifest.json")):
        snapshot = manifest.parent.name
        try:
            files = json.loads(manifest.read_bytes())["archived_files"]
            yield from ((f"{f['path']} (snapshot {snapshot} was made from it)", f["sha256"]) for f in files)
        except (OSError, ValueError, TypeError, KeyError) as error:
            raise NotDemoHome(f"its snapshot {snapshot} cannot be read ({error})") from None


def _inbox(home: Home) -> Iterator[tuple[str, str]]:
    """Every file under the inbox, hidden ones included; a link or anything but a file is refused.

    A file gone meanwhile was taken into the archive by a nightly run: the archive is checked next.
    """
    if home.inbox.is_symlink():
        raise NotDemoHome("its inbox is not a plain folder (a link?)")
    for folder, folders, files in os.walk(home.inbox):
        for name in sorted(folders + files):
            path = Path(folder) / name
            where = path.relative_to(home.root).as_posix()
            try:
                mode = path.lstat().st_mode
                if stat.S_ISDIR(mode):
                    continue
                if not stat.S_ISREG(mode):
                    raise NotDemoHome(f"it holds {where}, which is not a plain file (a link?)")
                yield where, sha256_of(path)
            except FileNotFoundError:
                continue
            except OSError as error:
                raise NotDemoHome(f"its file {where} cannot be read ({error})") from None


def _release(home: Home) -> Iterator[tuple[str, str]]:
    """The files the live release was built from, as it lists them."""
    release = live_release(home.current)
    if release is not None:
        yield from (
            (f"{path} (the live release was built from it)", sha256) for path, sha256 in _built_from(release)
        )


@functools.lru_cache(maxsize=8)
def _built_from(release: Path) -> list[tuple[str, str]]:
    """(path, SHA-256) of the files in a release: a published release never changes (each has a
    name of its own), so the dashboard, which checks on every run, opens each one once."""
    try:
        con = open_release(release)
        try:
            return con.sql("select path, sha256 from files where sha256 is not null").fetchall()
        finally:
            con.close()
    except duckdb.Error as error:
        raise NotDemoHome(f"its live release {release.name} cannot be read ({error})") from None
