"""Where everything lives: the home folder and its parts, read from flags and the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = Path("data")
RELEASES_KEPT = 3
# An inbox file changed less than this many seconds ago may still be being written (an SFTP upload,
# a shared drive, a sync client): the nightly leaves it for a later run.
SETTLE_SECONDS = 120


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


# Every OUTCOMES_* setting is read here, and only here, when it is needed (so a test's
# monkeypatch.setenv applies at once). Command-line flags, where a command has one, win.
PROJECT = Path(__file__).resolve().parents[2]
CHROMIUM_ENV = "OUTCOMES_CHROMIUM"
DEFAULT_CHROMIUM = Path("/usr/bin/chromium")
DEFAULT_ADDRESS = "127.0.0.1"
DEFAULT_PORT = 8501


def access_file(home: Home) -> Path:
    """Who may see what: `$OUTCOMES_ACCESS`, else `<home>/access.toml`."""
    chosen = os.environ.get("OUTCOMES_ACCESS")
    return Path(chosen).expanduser().absolute() if chosen else home.root / "access.toml"


def secrets_file() -> Path:
    """The identity provider's settings: `$OUTCOMES_SECRETS`, else the project's `.streamlit/secrets.toml`."""
    chosen = os.environ.get("OUTCOMES_SECRETS")
    return Path(chosen).expanduser().absolute() if chosen else PROJECT / ".streamlit" / "secrets.toml"


def audit_key() -> str | None:
    """The audit log's key, when given in the environment (`$OUTCOMES_AUDIT_KEY`); else the secrets file's."""
    return os.environ.get("OUTCOMES_AUDIT_KEY") or None


def chromium() -> Path:
    """The Chromium that prints PDFs: `$OUTCOMES_CHROMIUM`, else Debian's chromium."""
    chosen = os.environ.get(CHROMIUM_ENV)
    return Path(chosen) if chosen else DEFAULT_CHROMIUM


def demo_mode() -> bool:
    """Whether the dashboard runs as the synthetic demo (`outcomes serve --demo` sets it).

    Only a request: the dashboard grants it on a home that holds only what `outcomes demo` wrote.
    """
    return os.environ.get("OUTCOMES_DEMO") == "1"


def serve_address() -> str:
    """Where `outcomes serve` listens unless `--address` says: `$OUTCOMES_ADDRESS`, else 127.0.0.1."""
    return os.environ.get("OUTCOMES_ADDRESS", DEFAULT_ADDRESS)


def serve_port() -> int:
    """The port `outcomes serve` listens on unless `--port` says: `$PORT`, else 8501."""
    return int(os.environ.get("PORT", DEFAULT_PORT))


def fail_at() -> str | None:
    """The step at which a nightly run kills itself (`$OUTCOMES_FAIL_AT`): crash drills and tests."""
    return os.environ.get("OUTCOMES_FAIL_AT")
