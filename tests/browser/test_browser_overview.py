"""The Overview in real Chromium, served by `outcomes serve --demo` on a demo release."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser_app import PAGE_TIMEOUT_MS, open_app, screenshot_app

DEMO_BANNER = "Demo data: synthetic participants, not a real program"
# A trace's line is drawn when its path has at least one segment: "M x,y L x,y ...".
LINE_DRAWN = """() => [...document.querySelectorAll(
    '[data-testid="stPlotlyChart"] .js-plotly-plot .scatterlayer .trace path.js-line'
)].some((line) => /^M[^L]*L/.test(line.getAttribute("d") || ""))"""


def test_overview_in_chromium(page: Page, dashboard_url: str, tmp_path: Path) -> None:
    """The demo banner, the active-participants tile with a number, a drawn trend, no error."""
    open_app(page, dashboard_url)
    try:
        expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()
        expect(page.get_by_text(DEMO_BANNER, exact=True)).to_be_visible()

        tile = page.get_by_test_id("stMetric").filter(
            has=page.get_by_test_id("stMetricLabel").get_by_text("Active participants", exact=True)
        )
        expect(tile).to_have_count(1)
        expect(tile.get_by_test_id("stMetricValue")).to_have_text(re.compile(r"^\d[\d,]*$"))

        # Plotly draws after the script run ends: wait for a line, not just its container.
        page.wait_for_function(LINE_DRAWN, timeout=PAGE_TIMEOUT_MS)
        expect(page.get_by_test_id("stPlotlyChart").first).to_be_visible()

        expect(page.get_by_test_id("stException")).to_have_count(0)
        expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    finally:
        print(f"screenshot: {screenshot_app(page, tmp_path / 'overview.png')}")
