"""`make bench`, last part: a funder snapshot's suppression on programs of several sizes.

Small programs are where complementary suppression costs most (most groups are small counts
already) and where its exact check (pipelines/funder/disclosure.py) has the most hidden counts to
solve for. For each size: a demo program, its nightly, then the cells of one complete quarter
(each month and the quarter, every dimension but case managers) suppressed as `outcomes
snapshot` would, timed; then the same on the national release `make bench` built.

Goal: a quarter suppressed within GOAL_SECONDS on 2 cores, at every size.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path

import polars as pl

from pipelines.core.release import live_release, open_release
from pipelines.core.settings import Home
from pipelines.demo import write_demo
from pipelines.funder import snapshot, suppression
from pipelines.funder.catalog import creatable_quarters
from pipelines.nightly.run import nightly

GOAL_SECONDS = 60.0
AS_OF = dt.date(2024, 7, 15)
PERIOD = "2024-Q2"
# (participants, sites): a two-site pilot, a county program, a city with several sites.
SIZES = [(150, 2), (400, 3), (2_000, 5)]


def measure(home: Home, period: str) -> dict:
    """Suppress `period` of the home's live release: rows, suppressed, primary, seconds."""
    con = open_release(live_release(home.current))
    try:
        table = snapshot.cells(con, snapshot.parse_period(period))
    finally:
        con.close()
    start = time.perf_counter()
    out = suppression.suppress(table)
    seconds = time.perf_counter() - start
    reasons = out["suppression_reason"]
    return {
        "rows": out.height,
        "suppressed": int(out["suppressed"].sum()),
        "primary": int(reasons.is_in(["small count", "small denominator"]).sum()),
        "totals_hidden": int(out.filter(pl.col("dimension") == "all")["suppressed"].sum()),
        "kept_denominators": int(
            out.filter(pl.col("suppressed") & pl.col("denominator").is_not_null()).height
        ),
        "seconds": seconds,
    }


def latest_quarter(home: Home) -> str:
    """The newest quarter a snapshot can be taken of now, as the Snapshots page offers it."""
    con = open_release(live_release(home.current))
    try:
        return creatable_quarters(con)[0]
    finally:
        con.close()


def line(label: str, m: dict) -> str:
    share = m["suppressed"] / m["rows"] if m["rows"] else 0.0
    return (
        f"{label:<38} {m['rows']:>6,} {m['suppressed']:>6,} {share:>6.0%} {m['primary']:>8,} "
        f"{m['totals_hidden']:>7,} {m['kept_denominators']:>6,} {m['seconds']:>8.1f}"
    )


def report(national: Home | None) -> bool:
    """Print the table; True when every quarter met GOAL_SECONDS."""
    print(
        f"{'program (quarter)':<38} {'rows':>6} {'hidden':>6} {'share':>6} {'primary':>8} "
        f"{'totals':>7} {'denom':>6} {'seconds':>8}"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-snapshot-") as tmp:
        for participants, sites in SIZES:
            home = Home(Path(tmp) / f"p{participants}")
            write_demo(home.inbox, participants=participants, sites=sites, months=24, seed=5, as_of=AS_OF)
            if not nightly(home, AS_OF, settle=0).published:  # it has just written the inbox
                raise RuntimeError(f"the {participants}-participant demo did not publish")
            results.append(
                (f"{participants:,} participants, {sites} sites ({PERIOD})", measure(home, PERIOD))
            )
            print(line(*results[-1]), flush=True)
    if national is not None:
        period = latest_quarter(national)
        results.append((f"national release ({period})", measure(national, period)))
        print(line(*results[-1]), flush=True)
    print(
        "hidden: rows suppressed; primary: of them, small counts and small denominators; totals: "
        "dimension 'all' rows suppressed; denom: suppressed rows still showing their denominator"
    )
    slowest = max(m["seconds"] for _, m in results)
    print(f"slowest quarter: {slowest:.1f} s (goal <= {GOAL_SECONDS:.0f} s)")
    return slowest <= GOAL_SECONDS


if __name__ == "__main__":
    import sys

    sys.exit(0 if report(None) else 1)
