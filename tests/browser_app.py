"""Browser-test fixtures: the demo dashboard served on a free port, and a Chromium page.

tests/conftest.py registers the fixtures once for the session (a second copy per module would
start a second Playwright); a browser test asks for `page` and `dashboard_url`, and imports
only helpers such as `open_app` from here.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
# Playwright adds --headless itself; the rest keep Chromium off the network and quiet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 1000}
# The outcomes command of the interpreter running the tests (.venv/bin/outcomes).
OUTCOMES = Path(sys.executable).with_name("outcomes")
DEMO_ARGS = ["--participants", "300", "--sites", "2", "--months", "24", "--seed", "3"]
STARTUP_TIMEOUT_S = 60
STOP_TIMEOUT_S = 10
PAGE_TIMEOUT_MS = 30_000
SCRIPT_DONE = (
    '[data-testid="stApp"][data-test-connection-state="CONNECTED"][data-test-script-state="notRunning"]'
)


def free_port() -> int:
    """A port nothing listens on now: the one the OS picks for port 0."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def outcomes(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run one `outcomes` command against `home`; fail the test with its output if it fails."""
    command = [str(OUTCOMES), "--home", str(home), *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        pytest.fail(
            f"`{' '.join(command)}` exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}",
            pytrace=False,
        )
    return result


def stop(server: subprocess.Popen[bytes]) -> None:
    """Stop the server and its Streamlit child: they share a process group of their own."""
    # `outcomes serve` does not pass a SIGTERM on to Streamlit, so signal the whole group.
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, STOP_TIMEOUT_S)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and group_alive(server.pid):
            server.poll()
            time.sleep(0.1)
        if not group_alive(server.pid):
            break
    server.wait(timeout=STOP_TIMEOUT_S)


def group_alive(pgid: int) -> bool:
    """Whether any process of the group is still running (zombies are not)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    # An orphaned child stays a zombie until PID 1 reaps it; some containers' PID 1 never does.
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def wait_until_healthy(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    """Poll Streamlit's health endpoint until it answers ok, or fail with the server's output."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if server.poll() is not None:
            last_error = f"the server exited with code {server.returncode}"
            break
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                body = response.read().decode("utf-8", "replace").strip()
            if response.status == 200 and body == "ok":
                return
            last_error = f"HTTP {response.status}: {body!r}"
        except (urllib.error.URLError, OSError) as error:
            last_error = str(error)
        time.sleep(0.25)
    else:
        last_error = f"no ok within {STARTUP_TIMEOUT_S} s (last: {last_error})"
    # The caller stops the server; its output so far says why it is not healthy.
    output = log.read_text(encoding="utf-8", errors="replace")
    pytest.fail(
        f"The dashboard at {url} did not become healthy: {last_error}\nServer output:\n{output}",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium; skipped when missing, except on CI (CI=true), where that fails."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    message = f"{CHROMIUM} is missing: run `make browser` to install Debian's chromium"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def dashboard_url(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo dashboard (`outcomes serve --demo`) on a demo release, as a base URL.

    Asks for `chromium` first so that no server is started when the browser tests skip.
    """
    home = tmp_path_factory.mktemp("browser-home")
    outcomes(home, "demo", *DEMO_ARGS)
    outcomes(home, "nightly", "--settle", "0")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = home / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(OUTCOMES), "--home", str(home), "serve", "--demo", "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_healthy(url, server, log)
        yield url
    finally:
        stop(server)


@pytest.fixture(scope="session")
def browser(chromium: Path) -> Iterator[Browser]:
    """One headless Chromium for the session."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


def local_only(route: Route) -> None:
    """Let requests to the dashboard through; abort the rest, so no test needs the internet."""
    host = urlsplit(route.request.url).hostname
    if host in ("127.0.0.1", "localhost"):
        route.continue_()
    else:
        route.abort()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page in a fresh browser context: bounded timeouts, off-host requests aborted."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    context.route("**/*", local_only)
    new_page = context.new_page()
    try:
        yield new_page
    finally:
        context.close()


def open_app(page: Page, url: str, timeout_ms: int = PAGE_TIMEOUT_MS) -> None:
    """Load a dashboard URL and wait until Streamlit has connected and finished the script run."""
    page.goto(url, timeout=timeout_ms)
    # stApp's script state goes initial -> running -> notRunning; "initial" never counts.
    page.wait_for_selector(SCRIPT_DONE, timeout=timeout_ms)


def screenshot_app(page: Page, path: Path, max_height: int = 12_000) -> Path:
    """Save the whole app, not just the viewport: Streamlit scrolls inside stMain, not the page."""
    height = page.evaluate(
        """() => {
            const main = document.querySelector('[data-testid="stMain"]');
            return main ? main.scrollHeight : document.documentElement.scrollHeight;
        }"""
    )
    width = page.viewport_size["width"] if page.viewport_size else VIEWPORT["width"]
    page.set_viewport_size({"width": width, "height": min(max(height, 1), max_height)})
    # Plotly and the data grids lay themselves out again after a resize.
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)
    page.screenshot(path=path, full_page=True)
    return path
