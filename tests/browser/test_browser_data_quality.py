"""The Data quality page in real Chromium, served by `outcomes serve --demo` on a demo release."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser_app import PAGE_TIMEOUT_MS, open_app, screenshot_app

# Plotly has drawn a bar chart when its category axis has tick labels and its bar layer exists
# (the demo's runs may quarantine no row, so a bar can be zero high).
CHART_DRAWN = """() => [...document.querySelectorAll(
    '[data-testid="stPlotlyChart"] .js-plotly-plot'
)].some((plot) => plot.querySelector('.barlayer') && plot.querySelectorAll('.xtick text').length > 0)"""


def test_data_quality_in_chromium(page: Page, dashboard_url: str, tmp_path: Path) -> None:
    """The summary per site first, the page's sections, a drawn chart (or the sentence that stands
    for an empty one), the run history inside "Technical detail", no exception and no error."""
    open_app(page, f"{dashboard_url}/data-quality")
    try:
        expect(page.get_by_role("heading", name="Data quality", exact=True)).to_be_visible()
        for section in (
            "Summary by site",
            "Freshness",
            "Refused files",
            "Quarantined rows over runs",
            "Data problems",
        ):
            expect(page.get_by_role("heading", name=section, exact=True)).to_be_visible()
        headings = page.locator('[data-testid="stMain"] h2').all_inner_texts()
        assert headings[0].strip() == "Summary by site", headings

        empty = page.get_by_text("No row has been quarantined at any run", exact=False)
        if not empty.count():
            page.wait_for_function(CHART_DRAWN, timeout=PAGE_TIMEOUT_MS)
            expect(page.get_by_test_id("stPlotlyChart").first).to_be_visible()
        expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
        # Run IDs and archive paths: hidden until the reader opens "Technical detail".
        expect(page.get_by_role("heading", name="Run history", exact=True)).to_be_hidden()
        page.get_by_test_id("stExpander").filter(has_text="Technical detail").locator("summary").click()
        expect(page.get_by_role("heading", name="Run history", exact=True)).to_be_visible()

        expect(page.get_by_test_id("stException")).to_have_count(0)
        expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    finally:
        print(f"screenshot: {screenshot_app(page, tmp_path / 'data-quality.png')}")
