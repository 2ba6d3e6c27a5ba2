"""`make bench`: the nightly at national scale against DuckDB's own CSV load of the same files,
then the dashboard's pages on that release (pipelines/bench/dashboard.py), then a funder
snapshot's suppression on small programs and on that release (pipelines/bench/snapshot.py), then
the nightly on a single 200 MB export (pipelines/bench/export.py).

Sizes come from BENCH_PARTICIPANTS, BENCH_SITES, BENCH_MONTHS (default 50,000 / 100 / 60).
Goals: the whole nightly within 3x of the floor, under 2 GB peak memory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from checks import MODELS
from pipelines.core.settings import Home

OUT = Path(os.environ.get("BENCH_DIR", "bench-out"))
GOAL_RATIO, GOAL_PEAK_MB = 3.0, 2048

FLOOR = """
import resource, sys, time, duckdb
from pathlib import Path
inbox, tables = Path(sys.argv[1]), sys.argv[2].split(",")
start = time.perf_counter()
con = duckdb.connect(sys.argv[3])
con.execute("set enable_progress_bar = false")
rows = 0
for table in tables:
    files = sorted(str(p) for p in inbox.glob(f"*/{table}.csv"))
    if files:
        sql = "select * from read_csv(?, header=true, all_varchar=true)"
        con.execute(f"create table {table} as {sql}", [files])
        rows += con.sql(f"select count(*) from {table}").fetchall()[0][0]
con.execute("checkpoint")
con.close()
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, rows)
"""


def python(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, check=True, env=env)


def main() -> int:
    participants = int(os.environ.get("BENCH_PARTICIPANTS", 50_000))
    sites = int(os.environ.get("BENCH_SITES", 100))
    months = int(os.environ.get("BENCH_MONTHS", 60))
    home = OUT / "home"
    shutil.rmtree(OUT, ignore_errors=True)
    home.mkdir(parents=True)
    print(f"bench: {participants:,} participants, {sites} sites, {months} months, 2 cores", flush=True)

    start = time.perf_counter()
    python(
        "-m",
        "pipelines",
        "--home",
        str(home),
        "demo",
        "--participants",
        str(participants),
        "--sites",
        str(sites),
        "--months",
        str(months),
        "--seed",
        "1",
    )
    os.sync()  # exports arrive long before the nightly: do not time flushing the demo's writes
    size_mb = sum(p.stat().st_size for p in (home / "inbox").rglob("*")) / 2**20
    print(f"demo data written in {time.perf_counter() - start:.1f} s ({size_mb:,.0f} MB of CSV)", flush=True)

    # Both sides are timed the same way: a whole process, start-up included.
    floor_db = OUT / "floor.duckdb"
    start = time.perf_counter()
    seconds, peak, rows = python(
        "-c", FLOOR, str(home / "inbox"), ",".join(MODELS), str(floor_db)
    ).stdout.split()
    floor_s, floor_mb, floor_rows = time.perf_counter() - start, float(peak), int(rows)
    floor_db.unlink()
    print(
        f"floor: DuckDB read_csv of {floor_rows:,} rows into tables: {floor_s:.2f} s process wall time "
        f"({float(seconds):.2f} s of it loading), peak {floor_mb:,.0f} MB",
        flush=True,
    )

    start = time.perf_counter()
    done = python("-m", "pipelines", "--home", str(home), "nightly", "--settle", "0", "--json")
    wall = time.perf_counter() - start
    report = json.loads(done.stdout)
    totals = report["totals"]
    peak_mb = max(s["peak_rss_mb"] for s in report["steps"])

    print(f"\n{'stage':<10} {'seconds':>8} {'peak MB':>8}")
    for s in report["steps"]:
        print(f"{s['step']:<10} {s['seconds']:>8.2f} {s['peak_rss_mb']:>8,.0f}")
    print(f"{'total':<10} {wall:>8.2f} {peak_mb:>8,.0f}  (process wall time, start-up included)")
    ratio = wall / floor_s
    print(
        f"\nrows: {totals['rows_read']:,} read, {totals['rows_loaded']:,} loaded, "
        f"{totals['rows_quarantined']:,} quarantined; {totals['rows_read'] / wall:,.0f} rows/s"
    )
    print(
        f"nightly / floor: {ratio:.2f}x (goal <= {GOAL_RATIO:.0f}x); "
        f"peak {peak_mb:,.0f} MB (goal < {GOAL_PEAK_MB:,} MB)"
    )
    ok = ratio <= GOAL_RATIO and peak_mb < GOAL_PEAK_MB and report["published"]
    print("nightly goals met" if ok else "NIGHTLY GOALS NOT MET")

    from pipelines.bench import dashboard as bench_dashboard

    print("\ndashboard on the national release:", flush=True)
    pages_ok = bench_dashboard.report(home)
    print("dashboard goals met" if pages_ok else "DASHBOARD GOALS NOT MET")
    ok = ok and pages_ok

    from pipelines.bench import snapshot as bench_snapshot

    print("\nfunder snapshots: one quarter suppressed, small programs and the national release:", flush=True)
    snapshots_ok = bench_snapshot.report(Home(home))
    print("snapshot goals met" if snapshots_ok else "SNAPSHOT GOALS NOT MET")
    ok = ok and snapshots_ok

    from pipelines.bench import export as bench_export

    print("\none large export, a single site's housing:", flush=True)
    export_ok = bench_export.report(Home(OUT / "export"))
    print("large export goals met" if export_ok else "LARGE EXPORT GOALS NOT MET")
    return 0 if ok and export_ok else 1
