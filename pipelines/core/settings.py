"""Where everything lives: the home folder and its parts, read from flags and the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = Path("data")
RELEASES_KEPT = 3


@dataclass(frozen=True)
class Home:
    """The folders under one home: inbox, archive, warehouse, snapshots, runs, logs."""

    root: Path

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse"

    @property
    def current(self) -> Path:
        """The published release: a symbolic link swapped atomically."""
        return self.warehouse / "current.duckdb"

    @property
    def snapshots(self) -> Path:
        return self.root / "snapshots"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def logs(self) -> Path:
        return self.root / "logs"


def resolve_home(flag: str | os.PathLike[str] | None = None) -> Home:
    """`--home DIR`, else `$OUTCOMES_HOME`, else `./data`."""
    chosen = flag or os.environ.get("OUTCOMES_HOME") or DEFAULT_HOME
    return Home(Path(chosen).expanduser().absolute())
