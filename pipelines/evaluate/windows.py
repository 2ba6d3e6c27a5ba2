"""Windows around an index date and the time at risk in them (DESIGN s.9), from a release.

The SQL is a table macro, `justice_windows(people, windows, events, spells, as_of)`
(sql/justice_windows.sql), created for the connection that runs it (a temporary macro: a
release is opened read-only); `participant_windows` applies it to participants with their
referral date as the index date.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from importlib import resources

import duckdb
import polars as pl

from pipelines.core.periods import add_months, month_start
from pipelines.core.release import table_names

DAYS_PER_YEAR = 365.25
MACRO = "justice_windows"
MACRO_PARAMETERS = ("people", "windows", "events", "spells", "as_of")
# What each window counts per person: the events, and its days (alive, in custody, at risk).
EVENTS = ("arrests", "new_offense_arrests", "warrant_arrests", "bookings", "felony_charges")
DAYS = ("days_alive", "custody_days", "days_at_risk")
# What the windows read from a release: a release built before custody spells lacks the last two.
RELEASE_TABLES = frozenset({"participants", "justice", "custody_spells", "export_columns"})


def sql(name: str) -> str:
    """The text of sql/<name>.sql in this package."""
    return resources.files(__package__).joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


def create_macro(con: duckdb.DuckDBPyConnection) -> None:
    """Create the table macro justice_windows for this connection (temporary: a release is read-only)."""
    parameters = ", ".join(MACRO_PARAMETERS)
    con.sql(f"create or replace temp macro {MACRO}({parameters}) as table {sql(MACRO)}")  # noqa: S608 - our own SQL file


def missing_tables(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """The tables the windows read that this release lacks (an older release): none, normally."""
    return RELEASE_TABLES - table_names(con)


@dataclass(frozen=True)
class Sites:
    """The sites of a release, by what their justice export lets the comparison count."""

    with_justice: tuple[str, ...]  # counted: they send justice records
    without_justice: tuple[str, ...]  # left out: no arrest could be seen
    custody_reported: tuple[str, ...]  # of those counted, the ones whose bookings carry release dates

    @property
    def custody_not_reported(self) -> tuple[str, ...]:
        """Sites counted whose time at risk leaves no custody days out (a v1 justice export)."""
        return tuple(s for s in self.with_justice if s not in self.custody_reported)


def justice_sites(con: duckdb.DuckDBPyConnection) -> Sites:
    """Which sites send justice records, and which of them report custody (release_date)."""
    rows = con.sql(sql("justice_sites")).fetchall()
    return Sites(
        with_justice=tuple(site for site, sends, _ in rows if sends),
        without_justice=tuple(site for site, sends, _ in rows if not sends),
        custody_reported=tuple(site for site, sends, custody in rows if sends and custody),
    )


def participant_windows(
    con: duckdb.DuckDBPyConnection, as_of: date, windows: list[tuple[int, int]]
) -> pl.DataFrame:
    """Each participant at a site with justice records, in each window: events and days.

    `windows` are (from_month, to_month) pairs around the referral date, as justice_windows.sql
    defines them. Columns: site_id, person_id, from_month, to_month, start_date, end_date,
    complete (the window ends by the as-of date), EVENTS, DAYS, referral_type.
    """
    for start, end in windows:
        if not (start < end <= 0 or 0 <= start < end):
            raise ValueError(
                f"a window lies wholly before or wholly after the index date, not {start}..{end}"
            )
    create_macro(con)
    pairs = [[start, end] for start, end in windows]
    return con.sql(sql("participant_windows"), params={"as_of": as_of, "windows": pairs}).pl()


def followed_since(as_of: date, months: int) -> date:
    """The last referral date with `months` months after it by the as-of date.

    As DuckDB adds months: 31 August plus 6 months is the last day of February, so when the
    as-of date ends its month, every later day of the earlier month qualifies too.
    """
    month = add_months(month_start(as_of), -months)
    last_day = monthrange(month.year, month.month)[1]
    if as_of.day == monthrange(as_of.year, as_of.month)[1]:
        return month.replace(day=last_day)
    return month.replace(day=min(as_of.day, last_day))
