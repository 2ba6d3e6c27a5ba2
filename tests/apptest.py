"""Opening the dashboard in Streamlit's AppTest, as every page test does."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

# AppTest resolves the app relative to the file that calls from_file: this one, in tests/.
APP = "../dashboard/app.py"


def open_page(page: str) -> AppTest:
    """Run the app, switch to `page` (e.g. "app_pages/trends.py") and run it."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    return at.switch_page(page).run()
