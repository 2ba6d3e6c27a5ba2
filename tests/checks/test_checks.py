"""Each rule of the export contract fires on a row built to break it, and only on that row."""

from __future__ import annotations

from datetime import date

import pytest

from checks import MODELS
from tests.conftest import HEADERS, drop, query, run

AS_OF = "2024-06-15"
GOOD = {
    "participants": "P1,CM1,2024-01-10,social_contact,drug_possession,,,,1990,man,black",
    "housing": "P1,2024-02-01,unsheltered",
    "treatment": "P1,E1,outpatient,2024-02-01,2024-03-01,completed",
    "employment": "P1,2024-02-01,part_time,yes",
    "justice": "P1,2024-02-01,arrest,misdemeanor",
}


# A second good row of each table, with a key of its own.
OTHER = {
    "participants": "P2,CM1,2024-01-10,social_contact,drug_possession,,,,1990,man,black",
    "housing": "P1,2024-02-02,unsheltered",
    "treatment": "P1,E2,outpatient,2024-02-01,2024-03-01,completed",
    "employment": "P1,2024-02-02,part_time,yes",
    "justice": "P1,2024-02-02,arrest,misdemeanor",
}


def with_values(table: str, changes: dict[str, str]) -> str:
    """The second good row of a table with some columns changed."""
    names = HEADERS[table].split(",")
    cells = OTHER[table].split(",")
    for column, value in changes.items():
        cells[names.index(column)] = value
    return ",".join(cells)


# (table, column, bad value, rule[, other changes the row needs to break only that rule])
BROKEN = [
    ("participants", "participant_id", "P 1", "format"),
    ("participants", "participant_id", "", "required"),
    ("participants", "case_manager_id", "", "required"),
    ("participants", "referral_date", "2010-12-31", "range"),
    ("participants", "referral_date", "2024-06-16", "after_as_of"),
    ("participants", "referral_date", "31/01/2024", "date_format"),
    ("participants", "referral_date", "1/2/24", "date_format"),
    ("housing", "assessed_on", "3/1/24", "date_format"),
    ("participants", "referral_type", "walk_in", "allowed_values"),
    ("participants", "referral_offense", "burglary", "allowed_values"),
    ("participants", "intake_date", "2024-01-09", "before_referral"),
    ("participants", "exit_date", "2024-01-01", "before_referral"),
    ("participants", "exit_reason", "finished", "allowed_values"),
    ("participants", "birth_year", "2010", "age_at_referral"),
    ("participants", "birth_year", "1920", "age_at_referral"),
    ("participants", "birth_year", "nineteen", "whole_number"),
    ("participants", "gender", "m", "allowed_values"),
    ("participants", "race_ethnicity", "black;martian", "allowed_values"),
    ("participants", "race_ethnicity", "", "required"),
    ("housing", "participant_id", "P9", "unknown_participant"),
    ("housing", "assessed_on", "2023-12-10", "before_referral_window"),
    ("housing", "assessed_on", "2024-07-01", "after_as_of"),
    ("housing", "assessed_on", "soon", "date_format"),
    ("housing", "living_situation", "couch", "allowed_values"),
    ("housing", "living_situation", "999", "allowed_values"),
    ("treatment", "episode_id", "", "required"),
    ("treatment", "service_type", "acupuncture", "allowed_values"),
    ("treatment", "start_date", "2023-01-09", "before_referral_window"),
    ("treatment", "start_date", "2024-06-16", "after_as_of", {"end_date": "", "discharge_reason": ""}),
    ("treatment", "end_date", "2024-01-31", "before_start"),
    ("treatment", "end_date", "2024-06-16", "after_as_of"),
    ("treatment", "discharge_reason", "", "required_with_end_date"),
    ("treatment", "discharge_reason", "bored", "allowed_values"),
    ("employment", "assessed_on", "2023-12-10", "before_referral_window"),
    ("employment", "assessed_on", "2024-06-16", "after_as_of"),
    ("employment", "employment_status", "gig", "allowed_values"),
    ("employment", "has_income", "maybe", "allowed_values"),
    ("employment", "has_income", "", "required"),
    ("justice", "event_date", "2024-06-16", "after_as_of"),
    ("justice", "event_type", "citation", "allowed_values"),
    ("justice", "level", "petty", "allowed_values"),
    ("participants", "referral_date", "", "required"),
    ("participants", "referral_type", "", "required"),
    ("participants", "birth_year", "", "required"),
    ("participants", "gender", "", "required"),
    ("housing", "participant_id", "", "required"),
    ("housing", "assessed_on", "", "required"),
    ("housing", "living_situation", "", "required"),
    ("treatment", "participant_id", "", "required"),
    ("treatment", "participant_id", "P9", "unknown_participant"),
    ("treatment", "service_type", "", "required"),
    ("treatment", "start_date", "", "required"),
    ("employment", "participant_id", "", "required"),
    ("employment", "participant_id", "P9", "unknown_participant"),
    ("employment", "assessed_on", "", "required"),
    ("employment", "employment_status", "", "required"),
    ("justice", "participant_id", "", "required"),
    ("justice", "participant_id", "P9", "unknown_participant"),
    ("justice", "event_date", "", "required"),
    ("justice", "event_type", "", "required"),
    ("justice", "level", "", "required"),
]


@pytest.mark.parametrize("case", BROKEN, ids=lambda c: "-".join(c[:2] + (c[3],)))
def test_rule_fires_on_the_broken_row(home, case):
    table, column, value, rule, *other = case
    bad = with_values(table, {**(other[0] if other else {}), column: value})
    drop(home, "s", "participants", [GOOD["participants"]] + ([bad] if table == "participants" else []))
    if table != "participants":
        drop(home, "s", table, [GOOD[table], bad])
    result = run(home, AS_OF)
    assert result.published, result.error
    entries = query(home, "select table_name, row_number, column_name, rule, value, message from quarantine")
    assert [(t, r, c, ru) for t, r, c, ru, _, _ in entries] == [(table, 3, column, rule)]
    (_, _, _, _, shown, message) = entries[0]
    assert shown == (value or None)
    assert column in message
    [(loaded,)] = query(home, f"select count(*) from {table}")  # noqa: S608 - a fixed table name
    assert loaded == 1


# Contract v2: a justice export may carry release_date (bookings only). HEADERS keeps the v1
# header, so every other test here also shows that a v1 justice file stays valid.
JUSTICE_V2 = "participant_id,event_date,event_type,level,release_date"
RELEASE_BROKEN = [
    ("P1,2024-02-02,booking,felony,2024-02-01", "before_booking"),
    ("P1,2024-02-02,booking,felony,2024-06-16", "after_as_of"),
    ("P1,2024-02-02,arrest,felony,2024-02-03", "release_not_booking"),
]


@pytest.mark.parametrize("case", RELEASE_BROKEN, ids=lambda c: c[1])
def test_release_date_rule_fires_on_the_broken_row(home, case):
    bad, rule = case
    drop(home, "s", "participants", [GOOD["participants"]])
    drop(home, "s", "justice", ["P1,2024-02-01,booking,misdemeanor,2024-02-01", bad], header=JUSTICE_V2)
    result = run(home, AS_OF)
    assert result.published, result.error
    entries = query(home, "select row_number, column_name, rule, message from quarantine")
    assert [(r, c, ru) for r, c, ru, _ in entries] == [(3, "release_date", rule)]
    assert "release_date" in entries[0][3]
    assert query(home, "select event_date, release_date from justice") == [
        (date(2024, 2, 1), date(2024, 2, 1))
    ]


def test_a_booking_still_in_custody_has_no_release_date(home):
    drop(home, "s", "participants", [GOOD["participants"]])
    drop(
        home,
        "s",
        "justice",
        ["P1,2024-02-01,arrest,felony,", "P1,2024-02-01,booking,felony,", "P1,2024-02-01,charge,felony,"],
        header=JUSTICE_V2,
    )
    assert run(home, AS_OF).published
    assert query(home, "select count(*) from quarantine") == [(0,)]
    assert query(home, "select count(*), count(release_date) from justice") == [(3, 0)]


# The comparison group's tables (contract v2): a good person C1 and rows that break one rule each.
COMPARISON_HEADER = (
    "comparison_id,index_date,index_offense,birth_year,gender,race_ethnicity,not_referred_reason"
)
COMPARISON_GOOD = "C1,2024-01-05,drug_possession,1985,woman,white,not_eligible_shift"
COMPARISON_JUSTICE_HEADER = "comparison_id,event_date,event_type,level,release_date"
COMPARISON_JUSTICE_GOOD = "C1,2024-02-01,arrest,misdemeanor,"
COMPARISON_BROKEN = [
    ("comparison", "comparison_id", "C 2,2024-01-05,,1985,woman,white,declined", "format"),
    ("comparison", "comparison_id", ",2024-01-05,,1985,woman,white,declined", "required"),
    ("comparison", "index_date", "C2,2010-12-31,,1985,woman,white,declined", "range"),
    ("comparison", "index_date", "C2,2024-06-16,,1985,woman,white,declined", "after_as_of"),
    ("comparison", "index_date", "C2,,,1985,woman,white,declined", "required"),
    ("comparison", "index_offense", "C2,2024-01-05,theft,1985,woman,white,declined", "allowed_values"),
    ("comparison", "birth_year", "C2,2024-01-05,,2010,woman,white,declined", "age_at_index"),
    ("comparison", "birth_year", "C2,2024-01-05,,,woman,white,declined", "required"),
    ("comparison", "gender", "C2,2024-01-05,,1985,female,white,declined", "allowed_values"),
    ("comparison", "gender", "C2,2024-01-05,,1985,,white,declined", "required"),
    ("comparison", "race_ethnicity", "C2,2024-01-05,,1985,woman,purple,declined", "allowed_values"),
    ("comparison", "race_ethnicity", "C2,2024-01-05,,1985,woman,,declined", "required"),
    ("comparison", "not_referred_reason", "C2,2024-01-05,,1985,woman,white,moved", "allowed_values"),
    ("comparison", "not_referred_reason", "C2,2024-01-05,,1985,woman,white,", "required"),
    ("comparison_justice", "comparison_id", ",2024-02-02,arrest,misdemeanor,", "required"),
    ("comparison_justice", "comparison_id", "P1,2024-02-02,arrest,misdemeanor,", "unknown_comparison"),
    ("comparison_justice", "event_date", "C1,2024-06-16,arrest,misdemeanor,", "after_as_of"),
    ("comparison_justice", "event_date", "C1,,arrest,misdemeanor,", "required"),
    ("comparison_justice", "event_type", "C1,2024-02-02,citation,misdemeanor,", "allowed_values"),
    ("comparison_justice", "event_type", "C1,2024-02-02,,misdemeanor,", "required"),
    ("comparison_justice", "level", "C1,2024-02-02,arrest,petty,", "allowed_values"),
    ("comparison_justice", "level", "C1,2024-02-02,arrest,,", "required"),
    ("comparison_justice", "release_date", "C1,2024-02-02,booking,felony,2024-02-01", "before_booking"),
    ("comparison_justice", "release_date", "C1,2024-02-02,booking,felony,2024-06-16", "after_as_of"),
    ("comparison_justice", "release_date", "C1,2024-02-02,arrest,felony,2024-02-03", "release_not_booking"),
]


@pytest.mark.parametrize("case", COMPARISON_BROKEN, ids=lambda c: "-".join((c[0], c[1], c[3])))
def test_comparison_rule_fires_on_the_broken_row(home, case):
    table, column, bad, rule = case
    drop(home, "s", "participants", [GOOD["participants"]])
    people = [COMPARISON_GOOD] + ([bad] if table == "comparison" else [])
    drop(home, "s", "comparison", people, header=COMPARISON_HEADER)
    if table == "comparison_justice":
        drop(home, "s", table, [COMPARISON_JUSTICE_GOOD, bad], header=COMPARISON_JUSTICE_HEADER)
    result = run(home, AS_OF)
    assert result.published, result.error
    entries = query(home, "select table_name, row_number, column_name, rule, participant_id from quarantine")
    assert entries == [(table, 3, column, rule, None)]
    [(loaded,)] = query(home, f"select count(*) from {table}")  # noqa: S608 - a fixed table name
    assert loaded == 1


def test_every_rule_of_every_model_is_exercised():
    """A rule added to a model without a row above that breaks it fails here."""
    covered = (
        {(t, c, r) for t, c, _, r, *_ in BROKEN}
        | {("justice", "release_date", r) for _, r in RELEASE_BROKEN}
        | {(t, c, r) for t, c, _, r in COMPARISON_BROKEN}
        | {(t, "participant_id", "participant_quarantined") for t in MODELS if t != "participants"}
        | {("comparison_justice", "comparison_id", "comparison_quarantined")}
    )  # participant_quarantined: test_validate.py; comparison_quarantined: test_comparison_tables.py
    names = {"isin": "allowed_values", "str_matches": "format", "greater_than_or_equal_to": "range"}
    rules = {
        (table, name, names.get(check.name, check.name))
        for table, model in MODELS.items()
        for name, column in model.to_schema().columns.items()
        for check in column.checks
    } | {
        (table, name, "required")
        for table, model in MODELS.items()
        for name, column in model.to_schema().columns.items()
        if not column.nullable
    }
    assert rules - covered == set()


def test_every_rule_tells_the_coordinator_how_to_fix_it():
    """A rule added to a model without advice in checks/fixes.py fails here."""
    from checks.fixes import FIXES

    names = {"isin": "allowed_values", "str_matches": "format", "greater_than_or_equal_to": "range"}
    rules = {
        names.get(check.name, check.name)
        for model in MODELS.values()
        for column in model.to_schema().columns.values()
        for check in column.checks
    }
    assert rules - set(FIXES) == set()
