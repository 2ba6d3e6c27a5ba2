"""`make bench`, one large export: a single site sends a 200 MB housing export (about six million
rows). The nightly reads, validates and publishes it in a process of its own; the process's wall
time and peak memory are measured from outside (its resource usage when it ends).

The size comes from BENCH_EXPORT_MB (default 200). Goal: peak memory under GOAL_PEAK_MB.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from pipelines.core.settings import Home

GOAL_PEAK_MB = 2048
PARTICIPANTS_PER_MB = 1_150  # a demo site with ten years of referrals: about 1 MB of housing per 1,150
KEPT = ("participants", "housing")  # the program's other exports are left out: one large export


def write_export(home: Home, megabytes: int) -> Path:
    """A one-site demo program whose housing export is about `megabytes` large; only its
    participants and housing exports stay in the inbox."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines",
            "--home",
            str(home.root),
            "demo",
            "--participants",
            str(megabytes * PARTICIPANTS_PER_MB),
            "--sites",
            "1",
            "--months",
            "120",
            "--seed",
            "1",
        ],
        check=True,
        capture_output=True,
    )
    [site] = home.inbox.iterdir()
    for export in site.iterdir():
        if export.stem not in KEPT:
            export.unlink()
    os.sync()  # exports arrive long before the nightly: do not time flushing the demo's writes
    return site / "housing.csv"


def measured(*args: str) -> tuple[float, float, str]:
    """Run `python args` to its end: wall seconds, its own peak memory in MB, and what it printed."""
    start = time.perf_counter()
    with subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as process:
        printed = process.stdout.read()
        # Reaped here, with its resource usage: only this process's, not the demo's before it.
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - start, usage.ru_maxrss / 1024, printed


def report(home: Home) -> bool:
    """Write the export, run the nightly on it, print the figures; True when the goal is met."""
    megabytes = int(os.environ.get("BENCH_EXPORT_MB", 200))
    shutil.rmtree(home.root, ignore_errors=True)
    export = write_export(home, megabytes)
    with export.open("rb") as f:
        rows = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 24), b"")) - 1
    print(f"{export.name}: {rows:,} rows, {export.stat().st_size / 2**20:,.0f} MB, one site", flush=True)
    wall, peak_mb, printed = measured(
        "-m", "pipelines", "--home", str(home.root), "nightly", "--settle", "0", "--json"
    )
    run = json.loads(printed)
    steps = ", ".join(f"{s['step']} {s['seconds']:.1f} s" for s in run["steps"])
    print(f"nightly: {wall:.1f} s process wall time ({steps}); {run['status']} {run['error'] or ''}")
    print(f"peak memory {peak_mb:,.0f} MB (goal < {GOAL_PEAK_MB:,} MB)")
    return run["published"] and peak_mb < GOAL_PEAK_MB


if __name__ == "__main__":
    sys.exit(0 if report(Home(Path(os.environ.get("BENCH_DIR", "bench-out")) / "export")) else 1)
