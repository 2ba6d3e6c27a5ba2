"""The Before-and-after and Equity pages in real Chromium, served by `outcomes serve --demo`."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser_app import PAGE_TIMEOUT_MS, open_app, screenshot_app

# A chart is drawn when Plotly has put at least one marker into the SVG (not just its container).
MARKER_DRAWN = """() => [...document.querySelectorAll(
    '[data-testid="stPlotlyChart"] .js-plotly-plot .scatterlayer .trace .points path.point'
)].some((point) => (point.getAttribute("d") || "").length > 0)"""


@pytest.mark.parametrize(
    ("path", "heading"),
    [("before-after", "Before and after referral"), ("equity", "Equity")],
)
def test_page_draws_in_chromium(
    page: Page,
    dashboard_url: str,
    tmp_path: Path,
    path: str,
    heading: str,
) -> None:
    """The page's heading, a chart with markers drawn, a table, and no error or exception."""
    open_app(page, f"{dashboard_url}/{path}")
    try:
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        # Plotly draws after the script run ends: wait for a marker, not just its container.
        page.wait_for_function(MARKER_DRAWN, timeout=PAGE_TIMEOUT_MS)
        expect(page.get_by_test_id("stPlotlyChart").first).to_be_visible()
        expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
        expect(page.get_by_test_id("stException")).to_have_count(0)
        expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    finally:
        print(f"screenshot: {screenshot_app(page, tmp_path / f'{path}.png')}")


def test_equity_reference_switch_in_chromium(page: Page, dashboard_url: str, tmp_path: Path) -> None:
    """Switching the reference group to all others redraws the chart without an error."""
    open_app(page, f"{dashboard_url}/equity")
    try:
        page.wait_for_function(MARKER_DRAWN, timeout=PAGE_TIMEOUT_MS)
        page.get_by_test_id("stRadio").get_by_text("All other groups", exact=True).click()
        # The axis title is two lines on the chart ("(log scale)" on the second, for a phone).
        expect(page.get_by_text("Rate ratio vs. all others")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
        page.wait_for_function(MARKER_DRAWN, timeout=PAGE_TIMEOUT_MS)
        expect(page.get_by_test_id("stException")).to_have_count(0)
        expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    finally:
        print(f"screenshot: {screenshot_app(page, tmp_path / 'equity-all-others.png')}")
