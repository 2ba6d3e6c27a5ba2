"""Why a run failed, in one plain line for the run report, the log and the terminal.

A full disk or a read-only home is the usual reason a run cannot finish; the people who read
the reason need to know which of those it was and where, not a traceback. Python's errors carry
the error number and often the file; DuckDB's carry the system's words and the file in quotes.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

# What went wrong, by error number, in words a data coordinator can act on.
PLAIN = {
    errno.ENOSPC: "the disk is full: no space left to write {where}",
    errno.EDQUOT: "the disk quota is used up: no space left to write {where}",
    errno.EFBIG: "the file grew past the size this system allows: could not write {where}",
    errno.EROFS: "the disk is read-only: could not write {where}",
    errno.EACCES: "permission denied: could not use {where}",
    errno.EPERM: "permission denied: could not use {where}",
    errno.EIO: "the disk reported an input/output error at {where}",
}
QUOTED_PATH = re.compile(r'"(/[^"]+)"')
LONGEST = 400


def reason(error: BaseException, home: Path, where: str | None = None) -> str:
    """One line saying why `error` stopped the run, naming the file (relative to `home`) where
    known: the error's own, else `where` (a failed write names no file)."""
    number, path = error_number(error), error_path(error) or where
    place = shown(path, home) if path else "a file in the home folder"
    if number in PLAIN:
        text = PLAIN[number].format(where=place)
    elif isinstance(error, OSError) and error.strerror:
        text = f"{error.strerror.lower()}: {place}"
    else:
        text = f"an unexpected error ({type(error).__name__}): {error}; the log has the details"
    return " ".join(text.split())[:LONGEST]


def understood(error: BaseException) -> bool:
    """Whether the reason says all there is to know (a system error we name): no traceback needed."""
    return error_number(error) in PLAIN


def error_number(error: BaseException) -> int | None:
    """The system's error number: an OSError's own, or the one whose words a DuckDB error quotes."""
    if isinstance(error, OSError):
        return error.errno
    text = str(error)
    return next((n for n in PLAIN if os.strerror(n) in text), None)


def error_path(error: BaseException) -> str | None:
    """The file the error is about: for a copy, the one being written."""
    if isinstance(error, OSError):
        name = error.filename2 or error.filename
        return name if isinstance(name, str) else None
    found = QUOTED_PATH.search(str(error))
    return found.group(1) if found else None


def shown(path: str, home: Path) -> str:
    """A path as the home's users know it: relative to the home folder when inside it."""
    try:
        return str(Path(path).relative_to(home))
    except ValueError:
        return path
