"""Print a snapshot's report.html to report.pdf with headless Chromium, when there is one.

The PDF is a convenience beside the HTML: no Chromium, a crash or a timeout leaves no PDF and
a reason, never a failed snapshot. Chromium runs with a throw-away profile, no network (every
host name resolves to nothing; the report needs none) and its own process group, so a hung
print is killed whole.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from pathlib import Path

from pipelines.core import settings

TIMEOUT_S = 120
# Plotly draws in the page's scripts; the budget lets them (and any timer) finish before printing.
VIRTUAL_TIME_BUDGET_MS = 10_000
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--run-all-compositor-stages-before-draw",
    f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}",
    "--no-pdf-header-footer",
    # The width of an A4 page less report.html's 12 mm margins, in CSS pixels: Plotly sizes its
    # charts to the window once, so the window is as wide as the printed page.
    "--window-size=703,1000",
]


def print_pdf(page: Path, out: Path, timeout_s: float | None = None) -> str | None:
    """Print `page` to `out`; None when done, else why there is no PDF (and no `out` left)."""
    timeout_s = TIMEOUT_S if timeout_s is None else timeout_s
    chromium = settings.chromium()
    if not (chromium.is_file() and os.access(chromium, os.X_OK)):
        return f"Chromium not found at {chromium} (set ${settings.CHROMIUM_ENV})"
    try:
        # A throw-away profile: nothing is read from or left in the user's own.
        with tempfile.TemporaryDirectory(prefix="outcomes-chromium-") as profile:
            command = [
                str(chromium),
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--print-to-pdf={out}",
                page.resolve().as_uri(),
            ]
            reason = _run(command, timeout_s)
    except OSError as e:
        reason = f"Chromium could not run: {e}"
    if reason is None and not _is_pdf(out):
        reason = "Chromium exited without writing a PDF"
    if reason is not None:
        out.unlink(missing_ok=True)
    return reason


def _run(command: list[str], timeout_s: float) -> str | None:
    """Run Chromium in a process group of its own; None on exit code 0, else a reason."""
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        # The group is still ours: its leader is not reaped until communicate() returns.
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return f"Chromium did not finish printing within {timeout_s:g} s"
    if process.returncode != 0:
        last = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        return f"Chromium exited with code {process.returncode}: {last[0][:200]}"
    return None


def _is_pdf(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(5) == b"%PDF-"
    except OSError:
        return False
