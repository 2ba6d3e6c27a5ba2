"""Intake: take the inbox's exports into the archive, then read the export in force of each
(site, table), giving each file its line (and id) in the run report.

A readable inbox file is archived and leaves the inbox; a refused one stays where it is, with its
error in the report; a file sent again unchanged is ingested once. Two more kinds stay, untouched:
a file changed within the settle time may still be being written (`waiting`: a later run takes
it), and an export with fewer than half the rows of the export in force it would replace is
`held` until the run is told to accept it. Nothing leaves the inbox before its archived copy is
durable and checked against its hash, and an archived copy is read only while it matches its hash.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from checks import MODELS
from pipelines.core.settings import SETTLE_SECONDS, Home
from pipelines.nightly import archive
from pipelines.nightly.archive import Accepted, Staged
from pipelines.nightly.read import EXTENSIONS, ExportFile, TextExport, identify, read_export
from pipelines.nightly.report import FileReport
from pipelines.nightly.textfile import NOT_A_FILE, PUT_THE_FILE_ITSELF, SYMBOLIC_LINK, Refused, open_export

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
    left: list[FileReport]  # the inbox files left there (refused, waiting, held), file ids from 0


@dataclass(frozen=True)
class Intake:
    """The run's files and what of them could be read."""

    files: list[FileReport]  # the files left in the inbox, then the export in force of each (site, table)
    exports: dict[str, dict[int, TextExport]]  # each table (in MODELS order): its exports by file id


@dataclass(frozen=True)
class Upload:
    """An inbox file being taken: which export it is, its state when first seen, its staged copy."""

    export: ExportFile
    seen: os.stat_result
    staged: Staged

    @property
    def key(self) -> Key:
        return (self.export.site_id, self.export.table)


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
    too (textfile.open_export), so a file swapped for a link after this check is refused all the same."""
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


def sha256_in_inbox(path: Path) -> str | None:
    """An inbox entry's SHA-256 for its line in the report; None when it is not a regular file
    itself (a link is never followed) or is gone."""
    try:
        with open_export(path) as f:
            return archive.sha256_of_file(f)
    except (Refused, OSError):
        return None


def read_all(reads: list[Callable[[], TextExport]]) -> list[TextExport | Refused]:
    """Run many reads of exports at once (Polars lets go of the GIL while it parses)."""

    def one(read: Callable[[], TextExport]) -> TextExport | Refused:
        try:
            return read()
        except Refused as e:
            return e

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(one, reads))


def read_archived(archive_dir: Path, accepted: Accepted) -> TextExport:
    """An archived export, read once its copy is found intact; Refused naming the copy otherwise."""
    problem = archive.copy_problem(archive_dir, accepted)
    if problem:
        raise Refused(
            f"{problem}, so it was not used: the {accepted.table} export of site {accepted.site_id} is "
            "left out of this release. Send the export again (the same file will do) to restore it"
        )
    try:
        return read_export(archive_dir / accepted.path, accepted.table)
    except Refused as e:
        raise Refused(f"the archived export can no longer be read: {e}") from None


def settled(seen: os.stat_result, settle: float, now: float) -> bool:
    """Whether a file was left alone for `settle` seconds: neither its content (mtime) nor its
    inode (ctime, which an uploader that sets mtime back cannot set) changed meanwhile. A time
    further ahead of this machine's clock than that (a share's wrong clock) says nothing."""
    return all(abs(now - t) >= settle for t in (seen.st_mtime, seen.st_ctime))


def unchanged(path: Path, seen: os.stat_result) -> bool:
    """Whether the file is still the one first seen (a link is not followed): same inode, size and
    times."""
    try:
        now = path.lstat()
    except FileNotFoundError:
        return False
    fields = ("st_dev", "st_ino", "st_size", "st_mtime_ns", "st_ctime_ns")
    return all(getattr(now, f) == getattr(seen, f) for f in fields)


def let_go(path: Path, seen: os.stat_result) -> None:
    """Remove an inbox file the archive now holds, unless it changed since it was staged: then it
    is a new upload, for a later run."""
    if unchanged(path, seen):
        path.unlink(missing_ok=True)
    else:
        log.warning("%s changed while the run took it: left in the inbox for a later run", path)


def inbox_line(
    home: Home, path: Path, status: str, sha256: str | None, error: str | None = None
) -> FileReport:
    """The run report's line of a file left in the inbox (its file id is set once all are known)."""
    site, name = (path.relative_to(home.inbox).parts + ("", ""))[:2]
    shown = str(path.relative_to(home.root))
    return FileReport(0, site, Path(name).stem.lower(), shown, sha256, status, error=error)


def waiting(home: Home, path: Path) -> FileReport:
    log.info("%s is still being written (it changed moments ago): left for a later run", path)
    return inbox_line(home, path, "waiting", None)


def refused(home: Home, path: Path, error: Refused, sha256: str | None = None) -> FileReport:
    log.warning("refused %s: %s", path.relative_to(home.root), error)
    return inbox_line(home, path, "refused", sha256 or sha256_in_inbox(path), str(error))


def held(home: Home, upload: Upload, rows: int, before: int) -> FileReport:
    """The line of an export held because it shrank by more than half, saying how to accept it."""
    site, table = upload.key
    message = (
        f"{rows:,} rows where the export in force has {before:,} (fewer than half): it stays in the inbox "
        f"and the export in force stays. If the drop is right, accept it with `outcomes nightly --accept "
        f"{site}/{table}`; otherwise send the complete export"
    )
    log.warning("held %s: %s", upload.export.path.relative_to(home.root), message)
    line = inbox_line(home, upload.export.path, "held", upload.staged.sha256, message)
    line.rows_sent, line.rows_in_force = rows, before
    return line


def rows_in_force(archive_dir: Path, accepted: Accepted | None) -> int | None:
    """The data rows of an export in force, or None when there is none to keep: never accepted,
    or its archived copy lost or damaged."""
    if accepted is None or archive.copy_problem(archive_dir, accepted):
        return None
    if accepted.rows is not None:
        return accepted.rows
    try:  # accepted before the index counted rows
        return read_export(archive_dir / accepted.path, accepted.table).rows.height  # blank rows left out
    except Refused:
        return None


def left_in_inbox(
    home: Home, upload: Upload, text: TextExport | Refused, rows: int, before: Accepted | None
) -> FileReport | None:
    """The line of a staged upload that must stay in the inbox, or None to take it: waiting when it
    was written to while it was read, refused when unreadable, held when it has fewer than half
    the rows of the export in force `before` (None: nothing to compare with)."""
    path = upload.export.path
    if not unchanged(path, upload.seen):
        return waiting(home, path)
    if isinstance(text, Refused):
        return refused(home, path, text, upload.staged.sha256)
    in_force = rows_in_force(home.archive, before)
    if in_force is not None and 2 * rows < in_force:
        return held(home, upload, rows, in_force)
    return None


def stage_inbox(
    home: Home, current: dict[Key, Accepted], settle: float
) -> tuple[list[Upload], set[Key], list[FileReport]]:
    """Stage each settled inbox file; let go of those sent again unchanged (restoring a lost or
    damaged archived copy from them). Returns the new uploads, the re-sent keys, the files left."""
    uploads: list[Upload] = []
    resent: set[Key] = set()
    left: list[FileReport] = []
    for path in inbox_files(home.inbox):
        try:
            check_entry(path, home.inbox)
            export = identify(path, home.inbox)
            key = (export.site_id, export.table)
            if key in {u.key for u in uploads}:
                raise Refused(
                    f"a second {export.table} export for site {export.site_id} in one run "
                    "(a .csv and an .xlsx?); send one file per table"
                )
            seen = path.lstat()
            staged = archive.stage(home.archive, path) if settled(seen, settle, time.time()) else None
        except FileNotFoundError:  # taken back by the uploader since the inbox was listed
            log.info("%s went away while the run looked at it", path)
            continue
        except Refused as e:
            left.append(refused(home, path, e))
            continue
        if staged is None:
            left.append(waiting(home, path))
            continue
        if not unchanged(path, seen) or staged.size != seen.st_size:
            left.append(waiting(home, path))
            continue
        if key in current and current[key].sha256 == staged.sha256:
            if archive.place(home.archive, [(current[key].path, staged)]):
                log.warning("restored archive/%s from the same file sent again", current[key].path)
            resent.add(key)  # the same file again: ingested once
            let_go(path, seen)
            continue
        uploads.append(Upload(export, seen, staged))
    return uploads, resent, left


def take_inbox(
    home: Home,
    index: list[Accepted],
    run_id: str,
    accepted_at: str,
    settle: float = SETTLE_SECONDS,
    accept: Collection[Key] = (),
) -> Taken:
    """Archive each settled, readable inbox file; leave the others where they are, with their line.

    `index` is the archive's index as this run loaded it; `accept` names the (site, table)s whose
    export is taken even when it has fewer than half the rows of the export in force.
    """
    with archive.staging(home.archive):
        current = archive.in_force(index)
        uploads, resent, left = stage_inbox(home, current, settle)
        texts = read_all([partial(read_export, u.staged.copy, u.export.table) for u in uploads])
        incoming: list[archive.Incoming] = []
        fresh: dict[Key, TextExport] = {}
        for upload, text in zip(uploads, texts, strict=True):
            rows = 0 if isinstance(text, Refused) else text.rows.height
            before = None if upload.key in accept else current.get(upload.key)
            line = left_in_inbox(home, upload, text, rows, before)
            if line:
                left.append(line)
                continue
            incoming.append(archive.Incoming(upload.export.path, upload.staged, *upload.key, rows))
            fresh[upload.key] = text
        accepted = archive.accept(home.archive, index, home.inbox, incoming, accepted_at, run_id)
        for upload in uploads:
            if upload.key in fresh:
                let_go(upload.export.path, upload.seen)
    left.sort(key=lambda f: f.path)
    for file_id, line in enumerate(left):
        line.file_id = file_id
    return Taken(archive.in_force(index + accepted), fresh, resent - set(fresh), left)


def read_in_force(archive_dir: Path, taken: Taken) -> Intake:
    """The export in force for each (site, table), read (from memory when taken this run)."""
    current = taken.in_force
    keys = sorted(current)
    earlier = [k for k in keys if k not in taken.fresh]
    read = read_all([partial(read_archived, archive_dir, current[k]) for k in earlier])
    texts: dict[Key, TextExport | Refused] = taken.fresh | dict(zip(earlier, read, strict=True))
    files = list(taken.left)
    exports: dict[str, dict[int, TextExport]] = {t: {} for t in MODELS}
    for file_id, key in enumerate(keys, start=len(files)):
        a, text = current[key], texts[key]
        status = "new" if key in taken.fresh else "unchanged" if key in taken.resent else "in_force"
        report = FileReport(
            file_id, a.site_id, a.table, f"archive/{a.path}", a.sha256, status, accepted_at=a.accepted_at
        )
        files.append(report)
        if isinstance(text, Refused):
            report.error = str(text)
            continue
        exports[a.table][file_id] = text
    return Intake(files, exports)
