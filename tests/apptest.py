"""Opening the dashboard in Streamlit's AppTest, as every page test does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import queries
from pipelines.settings import Home

# AppTest resolves the app relative to the file that calls from_file: this one, in tests/.
APP = "../dashboard/app.py"


def open_page(page: str) -> AppTest:
    """Run the app, switch to `page` (e.g. "app_pages/trends.py") and run it."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    return at.switch_page(page).run()


def serve(monkeypatch: pytest.MonkeyPatch, root: Path | str) -> None:
    """Point the app at the home folder `root`, outside demo mode."""
    monkeypatch.setenv("OUTCOMES_HOME", str(root))
    monkeypatch.delenv("OUTCOMES_DEMO", raising=False)


@contextmanager
def release_connection(home: Home) -> Iterator[duckdb.DuckDBPyConnection]:
    """The published release of `home`, opened the way the dashboard opens it."""
    connection = queries.open_release(queries.release_path(home))
    try:
        yield connection
    finally:
        connection.close()
