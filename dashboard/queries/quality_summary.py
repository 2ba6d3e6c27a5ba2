"""Data quality in plain sentences, one per site, for program leadership: is the site's data fresh
or stale (the days since each export in force was accepted), how many data problems are open and
in which tables, and how long problems take to fix (the median days from first seen to fixed).

`site_quality` gathers the numbers from the same queries the page's tables show
(dashboard.queries.data_quality), so the sentences and the tables agree; `SiteQuality.sentence`
and `overall_sentence` say them in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from checks.labels import label
from dashboard.queries import data_quality as dq
from pipelines.core.scope import Scope

# The freshness states that make a site stale: an export that is late, missing or unreadable.
LATE_STATES = (dq.STALE, dq.MISSING, dq.UNREADABLE)


@dataclass(frozen=True)
class SiteQuality:
    """One site's data quality: freshness, open problems by table, time to fix."""

    site_id: str
    latest_days: int | None  # days since the site's most recent accepted export (None: none accepted)
    late: tuple[tuple[str, str, int | None], ...]  # (table label, state, days since) of each late table
    open_by_table: tuple[tuple[str, int], ...] | None  # (table label, open problems); None: not tracked
    oldest_open_days: int | None
    fixed: int
    median_days_to_fix: float | None

    @property
    def fresh(self) -> bool:
        return not self.late

    @property
    def open_problems(self) -> int:
        return sum(n for _, n in self.open_by_table or ())

    def sentence(self) -> str:
        """The site in two or three plain sentences (markdown, the site's name in bold)."""
        return " ".join(part for part in (self._freshness(), self._problems(), self._fixing()) if part)

    def _freshness(self) -> str:
        if self.latest_days is None:
            return f"**{self.site_id}** has no accepted export yet."
        if self.fresh:
            return (
                f"**{self.site_id}** is up to date: its latest export was accepted {ago(self.latest_days)}."
            )
        late = [late_phrase(table, state, days) for table, state, days in self.late]
        return f"**{self.site_id}** is stale: {join(late)}."

    def _problems(self) -> str:
        if self.open_by_table is None:
            return "Its data problems are not tracked in this release."
        if not self.open_problems:
            return "No open data problems."
        tables = join([f"{n:,} in {table}" for table, n in self.open_by_table])
        oldest = f", the oldest open for {days(self.oldest_open_days)}" if self.oldest_open_days else ""
        return f"{plural(self.open_problems, 'open data problem')} ({tables}){oldest}."

    def _fixing(self) -> str:
        if self.open_by_table is None:
            return ""
        if self.fixed and self.median_days_to_fix is not None:
            return (
                f"{plural(self.fixed, 'problem')} fixed so far, in a median of "
                f"{days(self.median_days_to_fix)} from first seen to fixed."
            )
        return "No problem fixed yet." if self.open_problems else ""


def plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def days(n: float) -> str:
    text = f"{n:,.0f}" if float(n).is_integer() else f"{n:,.1f}"
    return "1 day" if text == "1" else f"{text} days"


def ago(n: int) -> str:
    if n <= 0:
        return "today"
    return "yesterday" if n == 1 else f"{n:,} days ago"


def late_phrase(table: str, state: str, since: int | None) -> str:
    if state == dq.MISSING:
        return f"{table} never accepted"
    if state == dq.UNREADABLE:
        return f"{table} cannot be read"
    return f"{table} last accepted {ago(since or 0)}"


def join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def site_quality(con: duckdb.DuckDBPyConnection, scope: Scope, today: date) -> list[SiteQuality]:
    """Every site of the scope with an accepted export or a problem, in site order."""
    fresh = dq.freshness(con, scope, today)
    tracked = dq.has_tracking(con)
    summary = dq.problem_summary(con, scope) if tracked else pl.DataFrame(schema={"site_id": pl.String})
    open_rows = dq.open_problems(con, scope) if tracked else None
    sites = sorted(set(fresh["site_id"]) | set(summary["site_id"]))
    found = []
    for site_id in sites:
        exports = fresh.filter(pl.col("site_id") == site_id)
        latest = exports["days_since"].min()
        late = tuple(
            (label("table", t), state, since)
            for t, state, since in exports.filter(pl.col("state").is_in(LATE_STATES))
            .select("table_name", "state", "days_since")
            .iter_rows()
        )
        numbers = summary.filter(pl.col("site_id") == site_id).to_dicts()
        row = numbers[0] if numbers else {}
        by_table = None
        if open_rows is not None:
            counts = open_rows.filter(pl.col("site_id") == site_id).group_by("table_name").len()
            order = {t: i for i, t in enumerate(dq.TABLES)}
            by_table = tuple(
                (label("table", t), n)
                for t, n in sorted(counts.iter_rows(), key=lambda r: (-r[1], order.get(r[0], 99), r[0]))
            )
        found.append(
            SiteQuality(
                site_id=site_id,
                latest_days=None if latest is None else int(latest),
                late=late,
                open_by_table=by_table,
                oldest_open_days=row.get("oldest_age_days"),
                fixed=int(row.get("fixed_problems") or 0),
                median_days_to_fix=row.get("median_days_to_fix"),
            )
        )
    return found


def overall_sentence(sites: list[SiteQuality]) -> str:
    """The program in one sentence: how many sites are stale, how many problems are open."""
    if not sites:
        return "No site has sent an export yet."
    stale = [s for s in sites if not s.fresh]
    open_total = sum(s.open_problems for s in sites)
    with_open = sum(1 for s in sites if s.open_problems)
    n = len(sites)
    fresh_part = (
        (f"All {n} sites are up to date" if n > 1 else "The site is up to date")
        if not stale
        else f"{len(stale)} of {n} sites {'is' if len(stale) == 1 else 'are'} stale"
    )
    if any(s.open_by_table is None for s in sites):
        return f"{fresh_part}."
    if not open_total:
        return f"{fresh_part}, and there are no open data problems."
    at = "one site" if with_open == 1 else f"{with_open} sites"
    verb = "is" if open_total == 1 else "are"
    return f"{fresh_part}; {plural(open_total, 'data problem')} {verb} open at {at}."
