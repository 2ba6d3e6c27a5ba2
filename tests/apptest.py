"""Opening the dashboard in Streamlit's AppTest as a signed-in user, as every page test does.

`serve` points the app at a home folder and writes its access file with one user per role
(the case manager's scope is granted per test with `grant`); `open_page` signs in through
`AppTest.user`, the way `st.login` leaves `st.user` after an identity provider's redirect.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from pipelines.core.release import live_release, open_release
from pipelines.core.settings import Home

# Absolute: AppTest resolves a relative path against the file that calls from_file.
APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
LEADERSHIP = "director@example.org"
FUNDER = "funder@example.org"
CASE_MANAGER = "worker@example.org"
STRANGER = "stranger@example.org"
# An [auth] section as secrets.toml holds it; AppTest never contacts the provider.
AUTH = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "a-test-cookie-secret-of-32-chars-or-more",
    "client_id": "lead-outcomes",
    "client_secret": "test",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}


# The issuer the claims name, as a provider's ID token does.
ISSUER = "https://accounts.example.org"


def app(email: str | None = LEADERSHIP, **claims: object) -> AppTest:
    """The app, signed in as `email` (None: signed out) with a verified email unless `claims`
    say otherwise, not yet run."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = AUTH
    signed_in = {"is_logged_in": True, "iss": ISSUER, "email": email, "email_verified": True}
    at.user = signed_in | claims if email else {"is_logged_in": False}
    return at


def open_page(page: str, email: str | None = LEADERSHIP) -> AppTest:
    """Run the app as `email`, switch to `page` (e.g. "app_pages/trends.py") and run it."""
    at = app(email).run()
    return at.switch_page(page).run()


def serve(monkeypatch: pytest.MonkeyPatch, root: Path | str) -> None:
    """Point the app at the home folder `root`, outside demo mode, with leadership and a funder."""
    monkeypatch.setenv("OUTCOMES_HOME", str(root))
    monkeypatch.delenv("OUTCOMES_DEMO", raising=False)
    monkeypatch.delenv("OUTCOMES_ACCESS", raising=False)
    Path(root).mkdir(parents=True, exist_ok=True)
    (Path(root) / "access.toml").write_text(
        f'[[users]]\nemail = "{LEADERSHIP}"\nrole = "leadership"\n\n'
        f'[[users]]\nemail = "{FUNDER}"\nrole = "funder"\n',
        encoding="utf-8",
    )


def grant(root: Path | str, site_id: str, case_manager_id: str, email: str = CASE_MANAGER) -> None:
    """Add a case manager to the access file `serve` wrote."""
    with (Path(root) / "access.toml").open("a", encoding="utf-8") as f:
        f.write(
            f'\n[[users]]\nemail = "{email}"\nrole = "case_manager"\n'
            f'sites = ["{site_id}"]\ncase_manager_id = "{case_manager_id}"\n'
        )


@contextmanager
def release_connection(home: Home) -> Iterator[duckdb.DuckDBPyConnection]:
    """The published release of `home`, opened the way the dashboard opens it."""
    connection = open_release(live_release(home.current))
    try:
        yield connection
    finally:
        connection.close()
