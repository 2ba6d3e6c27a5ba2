"""Make a write survive a crash or a power cut: flush a file, or a folder's list of names."""

from __future__ import annotations

import os
from pathlib import Path


def fsync(path: Path) -> None:
    """Flush a file's content, or a folder's entries (a rename or a new name in it), to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
