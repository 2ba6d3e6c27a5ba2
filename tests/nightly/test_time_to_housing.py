"""time_to_housing.sql on hand-made tables: the status at referral looks back STATUS_WINDOW_DAYS.

The export contract keeps housing assessments within 30 days before referral, so a release built
from exports never holds an older one; the mart's rule still says how far back a status counts,
and it is the same window as a month's status (participant_months.sql).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from pipelines.core.metrics import STATUS_WINDOW_DAYS
from pipelines.nightly.build import living_situations, load, mart_sql

AS_OF = dt.date(2024, 12, 15)
REFERRAL = dt.date(2024, 7, 1)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    """A database with the tables the mart reads: release, participants, housing, living_situations."""
    connection = duckdb.connect()
    connection.execute("create table release as select ?::date as as_of", [AS_OF])
    load(connection, "living_situations", living_situations())
    connection.sql(
        "create table participants (site_id varchar, participant_id varchar, referral_type varchar, "
        "referral_date date, exit_date date)"
    )
    connection.sql(
        "create table housing (site_id varchar, participant_id varchar, assessed_on date, "
        "living_situation varchar)"
    )
    yield connection
    connection.close()


def add(con: duckdb.DuckDBPyConnection, participant: str, *assessments: tuple[int, str]) -> None:
    """A participant referred on REFERRAL, with assessments (days from referral, living situation)."""
    con.execute("insert into participants values ('s', ?, 'community', ?, null)", [participant, REFERRAL])
    for offset, situation in assessments:
        day = REFERRAL + dt.timedelta(days=offset)
        con.execute("insert into housing values ('s', ?, ?, ?)", [participant, day, situation])


def mart(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    rows = con.sql(
        f"select participant_id, status_at_referral, housed_at_referral, days, housed "  # noqa: S608
        f"from ({mart_sql('time_to_housing')}) order by participant_id"
    ).fetchall()
    return {row[0]: row[1:] for row in rows}


def test_status_counts_for_the_window_and_no_longer(con: duckdb.DuckDBPyConnection) -> None:
    assert STATUS_WINDOW_DAYS == 182
    add(con, "edge", (-182, "rental_with_subsidy"), (40, "unsheltered"))
    add(con, "stale", (-183, "rental_with_subsidy"), (40, "rental_no_subsidy"))
    got = mart(con)
    # 182 days before referral still counts: housed at referral, not followed.
    assert got["edge"] == ("rental_with_subsidy", True, None, None)
    # 183 days before is too old: status unknown, followed, the move is 40 days after referral.
    assert got["stale"] == (None, False, 40, True)


def test_the_latest_status_before_referral_wins(con: duckdb.DuckDBPyConnection) -> None:
    add(con, "superseded", (-20, "owned_with_subsidy"), (-5, "unsheltered"), (30, "rental_with_subsidy"))
    add(con, "regained", (-20, "unsheltered"), (-5, "owned_no_subsidy"), (30, "emergency_shelter"))
    add(con, "same_day", (0, "permanent_with_family"))
    add(con, "day_after", (0, "emergency_shelter"), (1, "permanent_with_family"))
    got = mart(con)
    assert got["superseded"] == ("unsheltered", False, 30, True)
    assert got["regained"] == ("owned_no_subsidy", True, None, None)  # losing it later does not matter
    assert got["same_day"] == ("permanent_with_family", True, None, None)
    assert got["day_after"] == ("emergency_shelter", False, 1, True)  # the earliest possible move


def test_not_yet_housed_are_censored_at_the_as_of_date(con: duckdb.DuckDBPyConnection) -> None:
    add(con, "waiting", (3, "unsheltered"), (90, "transitional_housing"))
    assert mart(con)["waiting"] == (None, False, (AS_OF - REFERRAL).days, False)
