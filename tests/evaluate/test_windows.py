"""Windows around the referral date and time at risk in them (DESIGN s.9), worked by hand on
the release of tests/evaluate/conftest.py (its docstring has the people, dates and day counts).
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest

from pipelines.core.settings import Home
from pipelines.evaluate.windows import Sites, followed_since, justice_sites, participant_windows
from tests import apptest
from tests.evaluate.conftest import AS_OF


@pytest.fixture(scope="module")
def windows(release: Home) -> pl.DataFrame:
    with apptest.release_connection(release) as con:
        return participant_windows(con, date.fromisoformat(AS_OF), [(-6, 0), (0, 6), (0, 12)])


def window(frame: pl.DataFrame, pid: str, span: tuple[int, int]) -> dict:
    (row,) = frame.filter(
        (pl.col("person_id") == pid) & (pl.col("from_month") == span[0]) & (pl.col("to_month") == span[1])
    ).rows(named=True)
    return row


DAYS = ("days_alive", "custody_days", "days_at_risk")


def test_the_windows_leave_out_the_referral_date(windows: pl.DataFrame) -> None:
    before, after, year = (window(windows, "R", span) for span in [(-6, 0), (0, 6), (0, 12)])
    assert (before["start_date"], before["end_date"]) == (date(2023, 7, 10), date(2024, 1, 9))
    assert (after["start_date"], after["end_date"]) == (date(2024, 1, 11), date(2024, 7, 10))
    assert (year["start_date"], year["end_date"]) == (date(2024, 1, 11), date(2025, 1, 10))
    assert before["complete"] and after["complete"] and year["complete"]


def test_an_arrest_on_the_referral_date_counts_in_neither_window(windows: pl.DataFrame) -> None:
    before, after = window(windows, "R", (-6, 0)), window(windows, "R", (0, 6))
    # The arrest, booking and charge of 2024-01-10 are in neither; the arrest of 2023-12-01 is before.
    assert (before["arrests"], before["bookings"], before["felony_charges"]) == (1, 0, 0)
    assert (after["arrests"], after["bookings"], after["felony_charges"]) == (0, 0, 0)
    # The custody that began on the referral date still takes 11 and 12 January from the after window.
    assert tuple(after[d] for d in DAYS) == (182, 2, 180)
    assert tuple(before[d] for d in DAYS) == (184, 0, 184)


def test_jailed_for_most_of_the_after_window(windows: pl.DataFrame) -> None:
    after = window(windows, "J", (0, 6))
    assert tuple(after[d] for d in DAYS) == (182, 163, 19)
    assert (after["arrests"], after["new_offense_arrests"], after["warrant_arrests"], after["bookings"]) == (
        2,
        2,
        0,
        1,
    )
    assert tuple(window(windows, "J", (0, 12))[d] for d in DAYS) == (366, 163, 203)


def test_a_death_inside_the_window(windows: pl.DataFrame) -> None:
    after = window(windows, "D", (0, 6))
    assert tuple(after[d] for d in DAYS) == (50, 0, 50)
    assert (after["arrests"], after["warrant_arrests"], after["new_offense_arrests"]) == (1, 1, 0)
    assert tuple(window(windows, "D", (0, 12))[d] for d in DAYS) == (50, 0, 50)
    assert window(windows, "D", (-6, 0))["days_at_risk"] == 184


def test_an_exit_to_incarceration_inside_a_custody_spell(windows: pl.DataFrame) -> None:
    # Away only 28 March to 15 April, the spell holding the exit date: 19 days.
    assert tuple(window(windows, "I", (0, 6))[d] for d in DAYS) == (182, 19, 163)
    assert tuple(window(windows, "I", (0, 12))[d] for d in DAYS) == (366, 19, 347)


def test_an_exit_to_incarceration_without_a_booking(windows: pl.DataFrame) -> None:
    # At risk 11 January to 30 April (111 days); away from 1 May through the as-of date.
    assert tuple(window(windows, "I2", (0, 6))[d] for d in DAYS) == (182, 0, 111)
    assert tuple(window(windows, "I2", (0, 12))[d] for d in DAYS) == (366, 0, 111)


def test_a_v1_site_counts_every_day_at_risk(windows: pl.DataFrame) -> None:
    after = window(windows, "V", (0, 6))
    assert after["site_id"] == "old"
    assert tuple(after[d] for d in DAYS) == (182, 0, 182)
    assert (after["arrests"], after["bookings"]) == (1, 1)


def test_only_sites_with_justice_records_are_counted(windows: pl.DataFrame, release: Home) -> None:
    assert set(windows["person_id"]) == {"J", "D", "R", "I", "I2", "N", "V"}
    with apptest.release_connection(release) as con:
        sites = justice_sites(con)
    assert sites == Sites(with_justice=("jail", "old"), without_justice=("none",), custody_reported=("jail",))
    assert sites.custody_not_reported == ("old",)


def test_a_window_not_over_by_the_as_of_date_is_incomplete(windows: pl.DataFrame) -> None:
    after = window(windows, "N", (0, 6))
    assert after["end_date"] == date(2025, 7, 15) and not after["complete"]
    assert window(windows, "N", (-6, 0))["complete"]


def test_a_window_must_lie_on_one_side_of_the_referral() -> None:
    with duckdb.connect() as con, pytest.raises(ValueError, match="wholly before or wholly after"):
        participant_windows(con, date(2025, 6, 30), [(-3, 3)])


@pytest.mark.parametrize(
    ("as_of", "months", "referred_by"),
    [
        (date(2024, 6, 15), 6, date(2023, 12, 15)),
        (date(2024, 2, 29), 6, date(2023, 8, 31)),  # a month's last day: every later day qualifies
        (date(2024, 3, 30), 6, date(2023, 9, 30)),
        (date(2025, 2, 28), 12, date(2024, 2, 29)),
        (date(2024, 1, 5), 12, date(2023, 1, 5)),
    ],
)
def test_followed_since_agrees_with_duckdb(as_of: date, months: int, referred_by: date) -> None:
    assert followed_since(as_of, months) == referred_by
    # That day has the months by the as-of date; the next day does not (DuckDB's month arithmetic).
    ((has, next_has),) = duckdb.sql(
        "select $d + to_months($m) <= $as_of, $d + 1 + to_months($m) <= $as_of",
        params={"d": referred_by, "as_of": as_of, "m": months},
    ).fetchall()
    assert has and not next_has
