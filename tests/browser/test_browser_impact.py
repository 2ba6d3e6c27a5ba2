"""The Impact page in real Chromium, served by `outcomes serve --demo` (the demo sends a comparison
group from all sites but the last), at a desktop width and at a phone's."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser_app import PAGE_TIMEOUT_MS, open_app, screenshot_app

MARKER_DRAWN = """() => [...document.querySelectorAll(
    '[data-testid="stPlotlyChart"] .js-plotly-plot .scatterlayer .trace .points path.point'
)].some((point) => (point.getAttribute("d") || "").length > 0)"""
# How far the widest chart reaches past the main column (a chart wider than the screen is clipped).
OVERFLOW = """() => {
    const main = document.querySelector('[data-testid="stMainBlockContainer"]').getBoundingClientRect();
    return Math.max(0, ...[...document.querySelectorAll('[data-testid="stPlotlyChart"]')].map(
        (chart) => chart.getBoundingClientRect().right - main.right));
}"""


@pytest.mark.parametrize("width", [1440, 390], ids=["desktop", "phone"])
def test_impact_draws_in_chromium(page: Page, dashboard_url: str, tmp_path: Path, width: int) -> None:
    """The heading, the headline sentence, charts with markers drawn inside the column, tables, and
    the method's expander; no error or exception."""
    page.set_viewport_size({"width": width, "height": 900})
    open_app(page, f"{dashboard_url}/impact")
    try:
        expect(page.get_by_role("heading", name="Impact", exact=True)).to_be_visible()
        expect(page.get_by_text("months after referral", exact=False).first).to_be_visible()
        page.wait_for_function(MARKER_DRAWN, timeout=PAGE_TIMEOUT_MS)
        expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
        expect(page.get_by_text("How this is calculated")).to_be_visible()
        expect(page.get_by_test_id("stException")).to_have_count(0)
        expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
        assert page.evaluate(OVERFLOW) <= 1
    finally:
        print(f"screenshot: {screenshot_app(page, tmp_path / f'impact-{width}.png')}")
