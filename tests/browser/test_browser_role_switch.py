"""The demo's role picker in real Chromium: switching to a role that cannot open the page shown
lands on that role's home page, and the role stays chosen."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser_app import PAGE_TIMEOUT_MS, SCRIPT_DONE, open_app, screenshot_app


def choose_role(page: Page, role: str) -> None:
    picker = (
        page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="View the demo as")
    )
    picker.locator("input").click()
    page.get_by_role("option", name=role, exact=True).click()


def test_switching_to_funder_on_overview_opens_snapshots(
    page: Page, dashboard_url: str, tmp_path: Path
) -> None:
    open_app(page, dashboard_url)  # Overview, the default page, is at the root
    try:
        expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()
        choose_role(page, "Funder")
        expect(page.get_by_role("heading", name="Snapshots", exact=True)).to_be_visible(
            timeout=PAGE_TIMEOUT_MS
        )
        page.wait_for_selector(SCRIPT_DONE, timeout=PAGE_TIMEOUT_MS)
        expect(page.get_by_text("does not include the page", exact=False)).to_have_count(0)
        # Still the funder: the sidebar lists the funder's pages only, and says no release.
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_text("Release as of", exact=False)).to_have_count(0)
        expect(sidebar.get_by_role("link", name="Overview")).to_have_count(0)
        # And on to the case manager: Snapshots is not theirs, their home is Caseload.
        choose_role(page, "Case manager")
        expect(page.get_by_role("heading", name="Caseload", exact=True)).to_be_visible(
            timeout=PAGE_TIMEOUT_MS
        )
        expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
        expect(page.get_by_test_id("stException")).to_have_count(0)
    finally:
        print(f"screenshot: {screenshot_app(page, tmp_path / 'role-switch.png')}")
