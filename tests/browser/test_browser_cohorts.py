"""The Cohorts page in real Chromium, served by `outcomes serve --demo` on a demo release."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser_app import PAGE_TIMEOUT_MS, open_app, screenshot_app

# A chart's lines are drawn when at least `count` of its paths have a segment: "M x,y L x,y ..."
# (a step line, shape "hv", draws with H and V instead of L).
LINES_DRAWN = """([index, count]) => {
    const chart = document.querySelectorAll('[data-testid="stPlotlyChart"]')[index];
    if (!chart) return false;
    const lines = [...chart.querySelectorAll('.js-plotly-plot .scatterlayer .trace path.js-line')];
    return lines.filter((line) => /^M[^LHV]*[LHV]/.test(line.getAttribute("d") || "")).length >= count;
}"""


def test_cohorts_in_chromium(page: Page, dashboard_url: str, tmp_path: Path) -> None:
    """Cohort lines and time-to-housing curves drawn, their tables shown, the methods one click away,
    no error."""
    open_app(page, f"{dashboard_url}/cohorts")
    try:
        expect(page.get_by_role("heading", name="Cohorts", exact=True)).to_be_visible()
        expect(page.get_by_role("heading", name="Time to permanent housing", exact=True)).to_be_visible()
        expect(page.get_by_test_id("stPlotlyChart")).to_have_count(2)
        # Plotly draws after the script run ends: wait for lines, not just their containers.
        page.wait_for_function(LINES_DRAWN, arg=[0, 2], timeout=PAGE_TIMEOUT_MS)  # two or more cohorts
        page.wait_for_function(LINES_DRAWN, arg=[1, 1], timeout=PAGE_TIMEOUT_MS)  # a housing curve
        expect(page.get_by_test_id("stDataFrame")).to_have_count(3)
        # The page opens with what it found; the methods wait in an expander under each section.
        expect(page.get_by_text("not in permanent housing at referral", exact=False).first).to_be_visible()
        methods = page.get_by_test_id("stExpander")
        expect(methods).to_have_count(2)
        expect(page.get_by_text("Kaplan-Meier", exact=False).first).not_to_be_visible()
        methods.nth(1).get_by_text("How this is calculated").click()
        expect(methods.nth(1).get_by_text("Kaplan-Meier", exact=False).first).to_be_visible()

        expect(page.get_by_test_id("stException")).to_have_count(0)
        expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    finally:
        print(f"screenshot: {screenshot_app(page, tmp_path / 'cohorts.png')}")
