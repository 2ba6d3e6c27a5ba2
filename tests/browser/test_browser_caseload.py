"""The Caseload page in real Chromium, served by `outcomes serve --demo` on a demo release."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser_app import PAGE_TIMEOUT_MS, open_app, screenshot_app

# A chart is drawn when Plotly has put at least one visible mark in it: a marker of a scatter
# trace or a bar with a path ("M x,y V ..." or "M x,y H ...").
MARKS_DRAWN = """([index, selector]) => {
    const chart = document.querySelectorAll('[data-testid="stPlotlyChart"]')[index];
    if (!chart) return false;
    return [...chart.querySelectorAll(selector)].some((mark) => /^M[^VHL]*[VHLAZ]/i.test(
        mark.getAttribute("d") || ""
    ));
}"""
MARKERS = ".js-plotly-plot .scatterlayer .trace .points path.point"
BARS = ".js-plotly-plot .barlayer .trace .point path"


def test_caseload_in_chromium(page: Page, dashboard_url: str, tmp_path: Path) -> None:
    """A case manager's participants, a drawn timeline and caseload-size chart, no error."""
    open_app(page, f"{dashboard_url}/caseload")
    try:
        expect(page.get_by_role("heading", name="Caseload", exact=True)).to_be_visible()
        expect(page.get_by_role("heading", name="Participants", exact=True)).to_be_visible()
        expect(page.get_by_role("heading", name="Participant timeline", exact=True)).to_be_visible()
        expect(page.get_by_test_id("stPlotlyChart")).to_have_count(2)
        # Plotly draws after the script run ends: wait for marks, not just their containers.
        page.wait_for_function(MARKS_DRAWN, arg=[0, MARKERS], timeout=PAGE_TIMEOUT_MS)  # the timeline
        page.wait_for_function(MARKS_DRAWN, arg=[1, BARS], timeout=PAGE_TIMEOUT_MS)  # caseload sizes
        # The caseload, the timeline's records and the caseload sizes, at least.
        expect(page.get_by_test_id("stDataFrame").nth(2)).to_be_visible()
        expect(page.get_by_text("Prompts are reminders for outreach", exact=False)).to_be_visible()

        expect(page.get_by_test_id("stException")).to_have_count(0)
        expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    finally:
        print(f"screenshot: {screenshot_app(page, tmp_path / 'caseload.png')}")
