"""Intake: take the inbox's exports into the archive, then read the export in force of each
(site, table), giving each file its line (and id) in the run report.

A readable inbox file is archived and leaves the inbox; a refused one stays where it is, with its
error in the report; a file sent again unchanged is ingested once.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from checks import MODELS
from pipelines.core.settings import Home
from pipelines.nightly import archive
from pipelines.nightly.archive import Accepted
from pipelines.nightly.read import (
    EXTENSIONS,
    NOT_A_FILE,
    PUT_THE_FILE_ITSELF,
    SYMBOLIC_LINK,
    ExportFile,
    Refused,
    TextExport,
    identify,
    read_export,
)
from pipelines.nightly.report import FileReport

Key = tuple[str, str]  # (site_id, table)
log = logging.getLogger("outcomes.nightly")
# Names of what is not an export: hidden files and folders, Excel's lock files.
HIDDEN = (".", "~$")


@dataclass(frozen=True)
class Taken:
    """What taking the inbox did."""

    in_force: dict[Key, Accepted]  # the export in force of each (site, table), this run's included
    fresh: dict[Key, TextExport]  # the exports accepted this run, read
    resent: set[Key]  # the (site, table)s whose export in force was sent again unchanged
    refused: list[FileReport]  # the inbox files refused (left in the inbox), file ids from 0


@dataclass(frozen=True)
class Intake:
    """The run's files and what of them could be read."""

    files: list[FileReport]  # the refused files, then the export in force of each (site, table)
    exports: dict[str, dict[int, TextExport]]  # each table (in MODELS order): its exports by file id


def inbox_files(inbox: Path) -> list[Path]:
    """Every entry of the inbox a run takes or refuses, in a stable order, found without
    following a symbolic link (`check_entry` refuses what is not a plain file).

    Hidden files and Excel's lock files (`~$housing.xlsx`, there while a workbook is open) are
    not exports: they are left alone, and so is what hidden folders hold, except the exports of
    a hidden site folder (`inbox/.north/housing.csv`): those are listed to be refused, not lost
    without a word. A folder named like an export (`inbox/north/housing.csv/`) is listed itself,
    not walked into.
    """
    if not inbox.exists():
        return []
    return sorted(walk(inbox, site_level=True))


def walk(folder: Path, site_level: bool = False) -> Iterator[Path]:
    """The entries under `folder`, never through a link (`entry.is_dir` without following)."""
    with os.scandir(folder) as entries:
        for entry in entries:
            path = Path(entry.path)
            if entry.name.startswith(HIDDEN):
                if site_level and entry.is_dir(follow_symlinks=False):
                    yield from hidden_exports(path)
            elif entry.is_dir(follow_symlinks=False) and path.suffix.lower() not in EXTENSIONS:
                yield from subfolder(path)
            else:
                yield path


def subfolder(folder: Path) -> list[Path]:
    """The entries under a folder of the inbox; the folder itself when it cannot be opened, so that
    it is reported (its exports would otherwise be missed without a word)."""
    try:
        return list(walk(folder))
    except PermissionError:
        return [folder]


def hidden_exports(folder: Path) -> Iterator[Path]:
    """The entries of a hidden site folder named like exports (not what lies deeper); none when
    it cannot be opened (what hidden folders hold is left alone)."""
    try:
        with os.scandir(folder) as entries:
            names = [entry.name for entry in entries]
    except PermissionError:
        return
    for name in names:
        if not name.startswith(HIDDEN) and Path(name).suffix.lower() in EXTENSIONS:
            yield folder / name


def check_entry(path: Path, inbox: Path) -> None:
    """Refuse an inbox entry that is not a plain file in a plain folder, without opening it: a
    symbolic link (it could point anywhere: outside the inbox, at another site's file), a folder
    named like an export or one that cannot be opened, a pipe or device (reading one could wait
    forever), or a file in a hidden site folder. Reading opens the file without following links
    too (read.open_export), so a file swapped for a link after this check is refused all the same."""
    relative = path.relative_to(inbox)
    mode = path.lstat().st_mode
    if stat.S_ISLNK(mode):
        raise Refused(SYMBOLIC_LINK)
    if stat.S_ISDIR(mode) and relative.suffix.lower() in EXTENSIONS:
        raise Refused(f"'{relative.name}' is a folder, not a file: {PUT_THE_FILE_ITSELF}")
    if stat.S_ISDIR(mode):
        raise Refused(
            "the folder cannot be opened (permission denied), so the exports it holds cannot be read: "
            "let the nightly run read it"
        )
    if not stat.S_ISREG(mode):
        raise Refused(NOT_A_FILE)
    hidden = [part for part in relative.parts[:-1] if part.startswith(HIDDEN)]
    if hidden:
        raise Refused(
            f"the folder '{hidden[0]}' is hidden, so its exports are not read: move them to a site folder, "
            "inbox/<site_id>/"
        )


def is_plain_file(path: Path) -> bool:
    """Whether the entry is a regular file itself, not a link, folder, pipe or device."""
    return stat.S_ISREG(path.lstat().st_mode)


def read_all(jobs: list[tuple[Path, str]]) -> list[TextExport | Refused]:
    """Read many exports at once (Polars lets go of the GIL while it parses)."""

    def one(job: tuple[Path, str]) -> TextExport | Refused:
        try:
            return read_export(*job)
        except Refused as e:
            return e

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(one, jobs))


def take_inbox(home: Home, index: list[Accepted], run_id: str, accepted_at: str) -> Taken:
    """Archive each readable inbox file; leave refused ones where they are, with their error.

    `index` is the archive's index as this run loaded it.
    """
    current = archive.in_force(index)
    resent: set[Key] = set()
    candidates: list[tuple[Path, ExportFile, str]] = []
    taken: set[Key] = set()
    refused: list[tuple[Path, Refused]] = []
    for path in inbox_files(home.inbox):
        try:
            check_entry(path, home.inbox)
            export = identify(path, home.inbox)
            key = (export.site_id, export.table)
            sha = archive.sha256_of(path)
            if key in taken:
                raise Refused(
                    f"a second {export.table} export for site {export.site_id} in one run "
                    "(a .csv and an .xlsx?); send one file per table"
                )
        except Refused as e:
            refused.append((path, e))
            continue
        if key in current and current[key].sha256 == sha:
            resent.add(key)  # the same file again: ingested once
            path.unlink()
            continue
        candidates.append((path, export, sha))
        taken.add(key)

    texts = read_all([(path, export.table) for path, export, _ in candidates])
    readable = [(c, t) for c, t in zip(candidates, texts, strict=True) if not isinstance(t, Refused)]
    refused += [
        (path, t) for (path, _, _), t in zip(candidates, texts, strict=True) if isinstance(t, Refused)
    ]
    accepted = archive.accept(
        home.archive,
        index,
        home.inbox,
        [archive.Incoming(path, export.site_id, export.table, sha) for (path, export, sha), _ in readable],
        accepted_at,
        run_id,
    )
    fresh: dict[Key, TextExport] = {}
    for (path, export, _), text in readable:
        path.unlink()  # archived, durably: the inbox copy has done its job
        fresh[(export.site_id, export.table)] = text
    reports = []
    for file_id, (path, error) in enumerate(sorted(refused, key=lambda r: r[0])):
        shown = str(path.relative_to(home.root))
        site, table = (path.relative_to(home.inbox).parts + ("", ""))[:2]
        sha = archive.sha256_of(path) if is_plain_file(path) else None
        reports.append(
            FileReport(file_id, site, Path(table).stem.lower(), shown, sha, "refused", error=str(error))
        )
        log.warning("refused %s: %s", shown, error)
    return Taken(archive.in_force(index + accepted), fresh, resent - set(fresh), reports)


def read_in_force(archive_dir: Path, taken: Taken) -> Intake:
    """The export in force for each (site, table), read (from memory when taken this run)."""
    current = taken.in_force
    keys = sorted(current)
    earlier = [k for k in keys if k not in taken.fresh]
    read = read_all([(archive_dir / current[k].path, k[1]) for k in earlier])
    texts: dict[Key, TextExport | Refused] = taken.fresh | dict(zip(earlier, read, strict=True))
    files = list(taken.refused)
    exports: dict[str, dict[int, TextExport]] = {t: {} for t in MODELS}
    for file_id, key in enumerate(keys, start=len(files)):
        a, text = current[key], texts[key]
        status = "new" if key in taken.fresh else "unchanged" if key in taken.resent else "in_force"
        report = FileReport(
            file_id, a.site_id, a.table, f"archive/{a.path}", a.sha256, status, accepted_at=a.accepted_at
        )
        files.append(report)
        if isinstance(text, Refused):
            report.error = f"the archived export can no longer be read: {text}"
            continue
        exports[a.table][file_id] = text
    return Intake(files, exports)
