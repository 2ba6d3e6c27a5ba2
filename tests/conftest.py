"""Shared fixtures: a home folder, exports written by hand, a nightly run, the published release."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from pipelines.nightly import Run, nightly
from pipelines.settings import Home

# The browser fixtures, defined once for the whole session (tests/browser.py).
from tests.browser import browser, chromium, dashboard_url, page  # noqa: F401

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


def run(home: Home, as_of: str = "2024-06-15") -> Run:
    """A nightly run, in this process."""
    return nightly(home, dt.date.fromisoformat(as_of))


def query(home: Home, sql: str, params: list | None = None) -> list[tuple]:
    """Rows from the published release."""
    con = duckdb.connect(str(home.current), read_only=True)
    try:
        return con.sql(sql, params=params).fetchall()
    finally:
        con.close()


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[bytes, str | None]]:
    """Every file the page hands to Streamlit's media storage: {file id: (bytes, file name)}."""
    stored: dict[str, tuple[bytes, str | None]] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):  # noqa: ANN001, ANN202
        file_id = original(self, path_or_data, mimetype, kind, filename)
        stored[file_id] = (path_or_data, filename)
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", load_and_get_id)
    return stored
