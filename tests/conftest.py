"""Shared fixtures: a home folder, exports written by hand, a nightly run, the published release.

One name, one thing, in every test module:
- `home`: an empty home folder (a `Home`) of the test's own;
- `release`: the module's published home, built once per module (each module defines it);
- `page_home`: that release served to the app as OUTCOMES_HOME, with the test users;
- `con`: that release opened the way the dashboard opens it;
- `empty_home`: a home where nothing was ever published, served to the app.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from pipelines.core.settings import Home
from pipelines.demo import write_demo
from pipelines.nightly.report import Run
from pipelines.nightly.run import nightly

# The browser fixtures, defined once for the whole session (tests/browser.py).
from tests import apptest
from tests.browser_app import browser, chromium, dashboard_url, page  # noqa: F401

PARTICIPANTS_HEADER = (
    "participant_id,case_manager_id,referral_date,referral_type,referral_offense,intake_date,"
    "exit_date,exit_reason,birth_year,gender,race_ethnicity"
)
HEADERS = {
    "participants": PARTICIPANTS_HEADER,
    "housing": "participant_id,assessed_on,living_situation",
    "treatment": "participant_id,episode_id,service_type,start_date,end_date,discharge_reason",
    "employment": "participant_id,assessed_on,employment_status,has_income",
    "justice": "participant_id,event_date,event_type,level",
}


# The audit log's key for every test (and every process a test starts), so no test writes one into
# the project's .streamlit/secrets.toml; tests/core/test_audit.py makes and loses keys on purpose.
TEST_AUDIT_KEY = "test-audit-key-0123456789abcdef-0123456789abcdef"


@pytest.fixture(scope="session", autouse=True)
def audit_key() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OUTCOMES_AUDIT_KEY", TEST_AUDIT_KEY)
        yield TEST_AUDIT_KEY


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path / "home")


def drop(
    home: Home, site: str, table: str, rows: list[str], header: str | None = None, ext: str = "csv"
) -> Path:
    """Write an export into the inbox, as a site would."""
    path = home.inbox / site / f"{table}.{ext}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header or HEADERS[table], *rows]) + "\n", encoding="utf-8")
    return path


def run(home: Home, as_of: str = "2024-06-15", **options: Any) -> Run:  # noqa: ANN401 - nightly's options
    """A nightly run, in this process; the files the test has just dropped are taken at once
    (no settle time) unless `settle` says otherwise."""
    return nightly(home, dt.date.fromisoformat(as_of), **({"settle": 0} | options))


# The quarter the snapshot tests freeze: complete in a release as of SNAPSHOT_AS_OF.
SNAPSHOT_AS_OF = dt.date(2024, 6, 15)
SNAPSHOT_PERIOD = "2024-Q1"


def snapshot_demo(root: Path) -> Home:
    """A small messy demo program (two sites) published as of SNAPSHOT_AS_OF: what snapshots are taken of."""
    home = Home(root)
    write_demo(home.inbox, participants=150, sites=2, months=18, seed=5, messy=True, as_of=SNAPSHOT_AS_OF)
    assert nightly(home, SNAPSHOT_AS_OF, settle=0).published
    return home


def query(home: Home, sql: str, params: list | None = None) -> list[tuple]:
    """Rows from the published release."""
    con = duckdb.connect(str(home.current), read_only=True)
    try:
        return con.sql(sql, params=params).fetchall()
    finally:
        con.close()


class Downloads:
    """The files a page offers for download, as a click on each button would fetch them."""

    def __init__(self) -> None:
        self.stored: dict[str, tuple[bytes, str | None]] = {}
        self.deferred: dict[str, tuple[Callable[[], bytes], str | None]] = {}

    def fetch(self, button: Any) -> tuple[bytes, str | None]:  # noqa: ANN401 - an AppTest element
        """The bytes and file name behind a download button; a deferred file is made now, as on a click."""
        proto = button.proto
        if proto.deferred_file_id:
            make, name = self.deferred[proto.deferred_file_id]
            return make(), name
        return self.stored[proto.url.rsplit("/", 1)[1].split(".")[0]]


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Downloads:
    """Every file the page hands to Streamlit's media storage, and every deferred download."""
    seen = Downloads()
    load = MemoryMediaFileStorage.load_and_get_id
    defer = MediaFileManager.add_deferred

    def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):  # noqa: ANN001, ANN202
        file_id = load(self, path_or_data, mimetype, kind, filename)
        seen.stored[file_id] = (path_or_data, filename)
        return file_id

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):  # noqa: ANN001, ANN003, ANN202
        file_id = defer(self, data_callable, mimetype, coordinates, file_name, **kwargs)
        seen.deferred[file_id] = (data_callable, file_name)
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", load_and_get_id)
    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return seen


# A page test module builds its own `release`; these two serve it as the dashboard would.
@pytest.fixture
def con(release: Home) -> Iterator[duckdb.DuckDBPyConnection]:
    """The module's release, opened the way the dashboard opens it."""
    with apptest.release_connection(release) as connection:
        yield connection


@pytest.fixture
def empty_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home folder where nothing was ever published, served to the app."""
    root = tmp_path / "empty"
    root.mkdir()
    apptest.serve(monkeypatch, root)
    return root


@pytest.fixture
def page_home(release: Home, monkeypatch: pytest.MonkeyPatch) -> Home:
    """The module's release served to the app (outside demo mode, with the test users)."""
    apptest.serve(monkeypatch, release.root)
    return release
