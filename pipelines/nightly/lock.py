"""The run lock: one nightly run at a time per home folder."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from pipelines.core.settings import Home
from pipelines.nightly.report import now_utc


class RunLocked(Exception):
    """Another nightly run holds the lock."""


@contextmanager
def run_lock(home: Home) -> Iterator[None]:
    """Hold the home's nightly lock, or raise RunLocked naming who holds it."""
    home.root.mkdir(parents=True, exist_ok=True)
    path = home.root / "nightly.lock"
    with path.open("a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise RunLocked(
                f"another nightly run is in progress ({holder}); try again when it ends"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()}, started {now_utc()}")
        f.flush()
        try:
            yield
        finally:
            f.seek(0)
            f.truncate()
            fcntl.flock(f, fcntl.LOCK_UN)
