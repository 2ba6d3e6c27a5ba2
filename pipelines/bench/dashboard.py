"""The dashboard half of `make bench`: each page's server time, and navigation to a drawn chart.

Run on a published national-scale release. Goals: a page under 300 ms with a warm cache
(Streamlit's data cache; the "warm" column, with that cache cleared, shows the queries' own
cost too); from a click in the sidebar to a drawn chart in Chromium under 2 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
# title -> (page script, url path)
PAGES = {
    "Overview": ("app_pages/overview.py", ""),
    "Trends": ("app_pages/trends.py", "trends"),
    "Cohorts": ("app_pages/cohorts.py", "cohorts"),
    "Before and after": ("app_pages/before_after.py", "before-after"),
    "Equity": ("app_pages/equity.py", "equity"),
    "Caseload": ("app_pages/caseload.py", "caseload"),
    "Data quality": ("app_pages/data_quality.py", "data-quality"),
}
GOAL_QUERY_MS, GOAL_DRAWN_S = 300, 2.0
DRAWN = ".js-plotly-plot .main-svg path, .js-plotly-plot .main-svg .point"


def server_times(home: Path) -> dict[str, tuple[float, float, float]]:
    """Per page: the first run (cold), a run with the data cache cleared (warm files), a cached run (ms)."""
    os.environ["OUTCOMES_HOME"] = str(home)
    os.environ["OUTCOMES_DEMO"] = "1"  # the demo's default viewer: leadership, who may open every page
    import streamlit as st
    from streamlit.logger import set_log_level
    from streamlit.testing.v1 import AppTest

    set_log_level("error")  # AppTest runs pages without a server; Streamlit warns on every run

    times = {}
    for title, (script, _) in PAGES.items():
        at = AppTest.from_file(str(APP), default_timeout=300).run()
        laps = []
        for clear in (True, True, False):
            if clear:
                st.cache_data.clear()
            start = time.perf_counter()
            at.switch_page(script).run()
            laps.append((time.perf_counter() - start) * 1000)
            if at.exception:
                raise RuntimeError(f"{title}: {at.exception[0].message}")
        times[title] = (laps[0], laps[1], laps[2])
    return times


def browser_times(home: Path, port: int = 8765) -> tuple[float, dict[str, tuple[float, float]]]:
    """Seconds to the first drawn chart of a fresh visit; then per page, from a click on its link
    in the sidebar to its chart drawn, the first time and again."""
    from playwright.sync_api import sync_playwright

    from tests.browser_app import CHROMIUM_ARGS  # the same Chromium the browser tests use

    server = subprocess.Popen(
        [sys.executable, "-m", "pipelines", "--home", str(home), "serve", "--demo", "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_healthy(url.rstrip("/"))
        times = {}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            start = time.perf_counter()
            page.goto(url)
            page.wait_for_selector(DRAWN, state="attached", timeout=120_000)
            first_visit = time.perf_counter() - start
            # The app opens on the Overview: visit the others first, so that every click changes page.
            order = [*list(PAGES)[1:], next(iter(PAGES))]
            for lap in range(2):
                for title in order:
                    start = time.perf_counter()
                    page.locator('[data-testid="stSidebarNav"] a', has_text=title).click()
                    page.wait_for_selector(f'h1:has-text("{title}")', timeout=120_000)
                    page.wait_for_selector(DRAWN, state="attached", timeout=120_000)
                    seconds = time.perf_counter() - start
                    times[title] = (seconds, 0.0) if lap == 0 else (times[title][0], seconds)
            browser.close()
        return first_visit, times
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=20)


def wait_healthy(url: str, timeout_s: float = 90) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"the dashboard at {url} did not start")


def report(home: Path) -> bool:
    """Print both tables; True when every page meets both goals."""
    ok = True
    print("\nserver time of one run of a page's script (its queries, charts and tables), in ms:")
    print("cold: first run in the process; warm: Streamlit's data cache cleared, database warm;")
    print("cached: Streamlit's data cache warm")
    print(f"{'page':<18} {'cold ms':>8} {'warm ms':>8} {'cached ms':>9}")
    for title, (cold, warm, cached) in server_times(home).items():
        ok &= cached < GOAL_QUERY_MS
        print(f"{title:<18} {cold:>8.0f} {warm:>8.0f} {cached:>9.0f}")
    print(f"goal: cached < {GOAL_QUERY_MS} ms (what a user waits for on a page already visited)")
    first_visit, times = browser_times(home)
    print(f"\nfirst visit, from typing the address to a drawn chart: {first_visit:.2f} s")
    print(f"{'page':<18} {'first s':>8} {'again s':>8}   (click in the sidebar to a drawn chart, Chromium)")
    for title, (first, again) in times.items():
        ok &= again < GOAL_DRAWN_S
        print(f"{title:<18} {first:>8.2f} {again:>8.2f}")
    print(f"goal: < {GOAL_DRAWN_S:.0f} s")
    return ok
