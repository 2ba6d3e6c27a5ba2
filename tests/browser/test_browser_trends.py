"""The Trends page in real Chromium, served by `outcomes serve --demo` on a demo release."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser_app import PAGE_TIMEOUT_MS, open_app, screenshot_app

# A trace's line is drawn when its path has at least one segment: "M x,y L x,y ...".
LINE_DRAWN = """() => [...document.querySelectorAll(
    '[data-testid="stPlotlyChart"] .js-plotly-plot .scatterlayer .trace path.js-line'
)].some((line) => /^M[^L]*L/.test(line.getAttribute("d") || ""))"""


def test_trends_in_chromium(page: Page, dashboard_url: str, tmp_path: Path) -> None:
    """The controls, a drawn line, the table, the CSV button, and no error."""
    open_app(page, f"{dashboard_url}/trends")
    try:
        expect(page.get_by_role("heading", name="Trends", exact=True)).to_be_visible()
        expect(page.get_by_test_id("stSelectbox").filter(has_text="Metric")).to_have_count(1)
        expect(page.get_by_test_id("stSelectbox").filter(has_text="Split by")).to_have_count(1)
        expect(page.get_by_text("Numerator:", exact=False).first).to_be_visible()

        # Plotly draws after the script run ends: wait for a line, not just its container.
        page.wait_for_function(LINE_DRAWN, timeout=PAGE_TIMEOUT_MS)
        expect(page.get_by_test_id("stPlotlyChart")).to_have_count(1)
        expect(page.get_by_test_id("stDataFrame")).to_have_count(1)
        expect(page.get_by_test_id("stDownloadButton")).to_have_count(2)  # CSV and Excel

        expect(page.get_by_test_id("stException")).to_have_count(0)
        expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    finally:
        print(f"screenshot: {screenshot_app(page, tmp_path / 'trends.png')}")
