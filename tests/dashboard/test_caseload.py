"""The Caseload page, its queries and its charts, on a small release built by the pipeline.

Two nightly runs: as of 2024-06-01 (site a's participants and a first housing export; site b),
then as of 2024-06-15 (site a's full housing, treatment, employment and justice exports). Every
day count below is to 2024-06-15.

Site a, case manager CM1:

| id | referred          | housing (days since)        | treatment         | employment (days)    | arrest |
|----|-------------------|-----------------------------|-------------------|----------------------|--------|
| P1 | 2024-01-10 social | 05-01 unsheltered (45)      | moud (1)          | part_time, yes (14)  | 05-16  |
| P2 | 2023-06-01 arrest | 03-17 rental_w_subsidy (90) | mental_health (2) | none                 | 05-15  |
| P3 | 2023-01-05 comm.  | 03-16 hotel_motel (91)      | none              | full_time, yes (157) | none   |
| P4 | 2024-05-01 social | none                        | none              | none                 | none   |
| P5 | 2022-01-01 arrest | 2023-12-01 owned (197)      | none              | none                 | none   |

Prompts: P1 unsheltered and arrest record (30 days is inside the window, 31 outside); P3 and P4
housing check due (91 days, none); P2 none (90 days is inside); P5 housing due and exited
(2024-02-01). P2's residential episode ends on the as-of date (still current); a booking is not
an arrest.

CM2 at a: Q1 (unsheltered 2024-06-10, arrest 2024-06-14) and Q2; P6's row has a bad referral
date (quarantined, its problem is CM2's). CM3 at a: 26 current participants, 1 exited. Site b:
CM1 with its own P1 (unsheltered 2024-06-01) and R1; CM8 with 12 and CM9 with 25 participants.

Open problems as of 2024-06-15 (age in days): a/CM1: P1's housing 'nowhere' (14); P2's housing
'somewhere' was fixed by the second export. a/CM2: P6's referral date (14), Q1's has_income
'maybe' (0). a, no case manager: P7's missing case manager (14), unknown participant ZZ9 (14).
b/CM1: its P1's housing 'nowhere' (14).
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from checks.labels import NOT_RECORDED, label
from dashboard.charts.caseload import (
    HOUSING_COLOURS,
    JUSTICE_SYMBOLS,
    OVER_COLOUR,
    TREATMENT_COLOUR,
    WITHIN_COLOUR,
    caseload_chart,
    timeline_chart,
)
from dashboard.queries.caseload import (
    CASELOAD_COLUMNS,
    CASELOAD_VOCABULARIES,
    FLAGS,
    PROBLEM_COLUMNS,
    TIMELINE_COLUMNS,
    caseload,
    caseload_problems,
    caseload_sizes,
    filter_caseload,
    flag_counts,
    problem_counts,
    sites,
    timeline,
    timeline_table,
    unassigned_problems,
)
from pipelines.core.problems import tracks_problems
from pipelines.core.release import live_release
from pipelines.core.scope import PROGRAM, Scope, ScopeError
from pipelines.core.settings import Home
from tests import apptest
from tests.conftest import Downloads, drop, run
from tests.download_files import read_download

PAGE = "app_pages/caseload.py"
FIRST_AS_OF, AS_OF = "2024-06-01", "2024-06-15"
TODAY = date.fromisoformat(AS_OF)
D = date.fromisoformat


def participant(pid: str, cm: str, referred: str, referral_type: str, exit_date: str = "") -> str:
    exit_reason = "graduated" if exit_date else ""
    return f"{pid},{cm},{referred},{referral_type},,,{exit_date},{exit_reason},1980,woman,black"


SITE_A_PARTICIPANTS = [
    participant("P1", "CM1", "2024-01-10", "social_contact"),
    participant("P2", "CM1", "2023-06-01", "arrest_diversion"),
    participant("P3", "CM1", "2023-01-05", "community"),
    participant("P4", "CM1", "2024-05-01", "social_contact"),
    participant("P5", "CM1", "2022-01-01", "arrest_diversion", exit_date="2024-02-01"),
    participant("Q1", "CM2", "2024-02-01", "social_contact"),
    participant("Q2", "CM2", "2024-03-01", "community"),
    participant("P6", "CM2", "2024-13-01", "community"),
    participant("P7", "", "2024-01-01", "community"),
    *[participant(f"G{n:02d}", "CM3", "2024-01-01", "arrest_diversion") for n in range(1, 27)],
    participant("G27", "CM3", "2024-01-01", "arrest_diversion", exit_date="2024-05-01"),
]
HOUSING_A = [
    "P1,2024-02-01,emergency_shelter",
    "P1,2024-05-01,unsheltered",
    "P1,2024-04-01,nowhere",
    "P2,2024-03-17,rental_with_subsidy",
    "P3,2024-03-16,hotel_motel_self_paid",
    "P5,2023-12-01,owned_no_subsidy",
    "ZZ9,2024-04-01,unsheltered",
]
# The first export also has a problem (P2's) that the second export no longer has.
HOUSING_A_FIRST = [*HOUSING_A, "P2,2024-04-02,somewhere"]
HOUSING_A_SECOND = [*HOUSING_A, "Q1,2024-06-10,unsheltered"]
TREATMENT_A = [
    "P1,E1,outpatient,2024-02-01,2024-03-01,completed",
    "P1,E2,moud,2024-04-01,,",
    "P2,E3,residential,2024-01-01,2024-06-15,completed",
    "P2,E4,mental_health,2024-05-01,,",
    "P3,E5,outpatient,2023-06-01,2023-12-01,completed",
]
EMPLOYMENT_A = [
    "P1,2024-03-01,unemployed_seeking,no",
    "P1,2024-06-01,part_time,yes",
    "P3,2024-01-10,full_time,yes",
    "Q1,2024-06-01,unemployed_seeking,maybe",
]
JUSTICE_A = [
    "P1,2024-05-16,arrest,misdemeanor",
    "P2,2024-05-15,arrest,misdemeanor",
    "P2,2024-06-01,booking,misdemeanor",
    "Q1,2024-06-14,arrest,warrant",
]
SITE_B_PARTICIPANTS = [
    participant("P1", "CM1", "2024-01-01", "social_contact"),
    participant("R1", "CM1", "2024-02-01", "community"),
    *[participant(f"H{n:02d}", "CM8", "2024-01-01", "community") for n in range(1, 13)],
    *[participant(f"K{n:02d}", "CM9", "2024-01-01", "community") for n in range(1, 26)],
]
HOUSING_B = ["P1,2024-06-01,unsheltered", "P1,2024-04-01,nowhere"]

# The caseload query's hand-worked rows for CM1 at a (CASELOAD_COLUMNS, exited P5 last).
EXPECTED_CM1 = {
    "P1": (False, True, True, False, D("2024-01-10"), "social_contact", "unsheltered", "homeless",
           D("2024-05-01"), 45, "moud", D("2024-04-01"), 1, "part_time", "yes", D("2024-06-01"), 14,
           D("2024-05-16"), None),
    "P2": (False, False, False, False, D("2023-06-01"), "arrest_diversion", "rental_with_subsidy",
           "permanent", D("2024-03-17"), 90, "mental_health", D("2024-05-01"), 2, None, None, None,
           None, D("2024-05-15"), None),
    "P3": (True, False, False, False, D("2023-01-05"), "community", "hotel_motel_self_paid", "temporary",
           D("2024-03-16"), 91, None, None, 0, "full_time", "yes", D("2024-01-10"), 157, None, None),
    "P4": (True, False, False, False, D("2024-05-01"), "social_contact", None, None, None, None, None,
           None, 0, None, None, None, None, None, None),
    "P5": (True, False, False, True, D("2022-01-01"), "arrest_diversion", "owned_no_subsidy", "permanent",
           D("2023-12-01"), 197, None, None, 0, None, None, None, None, None, D("2024-02-01")),
}  # fmt: skip
EXPECTED_TIMELINE_P1 = [
    ("referral", D("2024-01-10"), None, "social_contact", None),
    ("housing", D("2024-02-01"), None, "emergency_shelter", "homeless"),
    ("treatment", D("2024-02-01"), D("2024-03-01"), "outpatient", "completed"),
    ("employment", D("2024-03-01"), None, "unemployed_seeking", "no"),
    ("treatment", D("2024-04-01"), None, "moud", None),
    ("housing", D("2024-05-01"), None, "unsheltered", "homeless"),
    ("justice", D("2024-05-16"), None, "arrest", "misdemeanor"),
    ("employment", D("2024-06-01"), None, "part_time", "yes"),
]
# (participant_id, table_name, column_name, value, age_days) of each open problem.
EXPECTED_PROBLEMS = {
    ("a", "CM1"): [("P1", "housing", "living_situation", "nowhere", 14)],
    ("a", "CM2"): [
        ("P6", "participants", "referral_date", "2024-13-01", 14),
        ("Q1", "employment", "has_income", "maybe", 0),
    ],
    ("b", "CM1"): [("P1", "housing", "living_situation", "nowhere", 14)],
}
EXPECTED_UNASSIGNED_A = [
    ("P7", "participants", "case_manager_id", None, 14),
    ("ZZ9", "housing", "participant_id", "ZZ9", 14),
]


def build(root: Path) -> Home:
    """The release of the module docstring, through two nightly runs."""
    home = Home(root)
    drop(home, "a", "participants", SITE_A_PARTICIPANTS)
    drop(home, "a", "housing", HOUSING_A_FIRST)
    drop(home, "b", "participants", SITE_B_PARTICIPANTS)
    drop(home, "b", "housing", HOUSING_B)
    first = run(home, FIRST_AS_OF)
    assert first.published, first.error
    drop(home, "a", "housing", HOUSING_A_SECOND)
    drop(home, "a", "treatment", TREATMENT_A)
    drop(home, "a", "employment", EMPLOYMENT_A)
    drop(home, "a", "justice", JUSTICE_A)
    second = run(home, AS_OF)
    assert second.published, second.error
    return home


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Home:
    return build(tmp_path_factory.mktemp("caseload") / "home")


def open_page() -> AppTest:
    return apptest.open_page(PAGE)


def problem_rows(frame: pl.DataFrame) -> list[tuple]:
    return frame.select("participant_id", "table_name", "column_name", "value", "age_days").rows()


def as_shown(rows: list[tuple]) -> list[tuple]:
    """Expected problem rows as the page shows them: each table by its label."""
    return [(p, label("table", table), *rest) for p, table, *rest in rows]


def caseload_shown(row: tuple) -> tuple:
    """An EXPECTED_CM1 row as the page's table shows it: codes as labels, a status never assessed
    "Not recorded", a prompt as "Yes" or blank (never a checkbox)."""
    columns = CASELOAD_COLUMNS[1:]
    vocabularies = CASELOAD_VOCABULARIES

    def shown(column: str, value: object) -> object:
        if column in FLAGS:
            return "Yes" if value else None
        return label(vocabularies[column], value) if column in vocabularies else value

    return tuple(shown(c, v) for c, v in zip(columns, row, strict=True))


# A table's proto carries no key: each of the page's tables is known by a column of its own.
def tables(at: AppTest) -> dict[str, list[pl.DataFrame]]:
    found: dict[str, list[pl.DataFrame]] = {}
    marks = {"caseload": "housing_check_due", "timeline": "record", "sizes": "guidance", "problems": "fix"}
    for element in at.dataframe:
        # Dates come back through pandas as datetimes: make them dates again.
        frame = pl.from_pandas(element.value).with_columns(pl.col(pl.Datetime).dt.date())
        (name,) = [name for name, column in marks.items() if column in frame.columns]
        found.setdefault(name, []).append(frame)
    return found


def chart_specs(at: AppTest) -> dict[str, dict]:
    return {chart.proto.id: json.loads(chart.proto.spec) for chart in at.get("plotly_chart")}


def spec_of(at: AppTest, key: str) -> dict:
    (spec,) = [spec for chart_id, spec in chart_specs(at).items() if key in chart_id]
    return spec


# --- queries ------------------------------------------------------------------------------


def test_sites(con: duckdb.DuckDBPyConnection) -> None:
    assert sites(con, PROGRAM) == ["a", "b"]


def test_caseload_hand_worked(con: duckdb.DuckDBPyConnection) -> None:
    table = caseload(con, Scope("a", "CM1"), TODAY)
    assert table.columns == CASELOAD_COLUMNS
    assert {row[0]: row[1:] for row in table.rows()} == {
        pid: EXPECTED_CM1[pid] for pid in ("P1", "P2", "P3", "P4")
    }
    assert table["participant_id"].to_list() == ["P1", "P2", "P3", "P4"]


def test_caseload_with_exited(con: duckdb.DuckDBPyConnection) -> None:
    table = caseload(con, Scope("a", "CM1"), TODAY, include_exited=True)
    assert {row[0]: row[1:] for row in table.rows()} == EXPECTED_CM1
    assert flag_counts(table) == {"housing_check_due": 3, "unsheltered": 1, "recent_arrest": 1, "exited": 1}


def test_caseload_flag_boundaries_move_with_the_as_of_date(con: duckdb.DuckDBPyConnection) -> None:
    """A day later, P2's housing is 91 days old and P1's arrest 31 days: both prompts change."""
    table = caseload(con, Scope("a", "CM1"), D("2024-06-16"))
    by_id = {row["participant_id"]: row for row in table.iter_rows(named=True)}
    assert by_id["P2"]["housing_check_due"] and by_id["P2"]["days_since_housing"] == 91
    assert not by_id["P1"]["recent_arrest"]
    # Before P1's latest assessment, the one before it is the latest.
    earlier = caseload(con, Scope("a", "CM1"), D("2024-04-30"))
    p1 = earlier.row(by_predicate=pl.col("participant_id") == "P1", named=True)
    assert (p1["living_situation"], p1["housing_assessed_on"], p1["unsheltered"]) == (
        "emergency_shelter",
        D("2024-02-01"),
        False,
    )


def test_caseload_of_another_case_manager(con: duckdb.DuckDBPyConnection) -> None:
    table = caseload(con, Scope("a", "CM2"), TODAY)
    assert table.select("participant_id", *FLAGS, "living_situation", "days_since_housing").rows() == [
        ("Q1", False, True, True, False, "unsheltered", 5),
        ("Q2", True, False, False, False, None, None),
    ]


def test_caseload_scope_is_the_site_and_the_case_manager(con: duckdb.DuckDBPyConnection) -> None:
    """Site b's CM1 has its own P1: neither site's CM1 sees the other's participants or records."""
    a_ids = set(caseload(con, Scope("a", "CM1"), TODAY, include_exited=True)["participant_id"])
    b_table = caseload(con, Scope("b", "CM1"), TODAY, include_exited=True)
    assert a_ids == {"P1", "P2", "P3", "P4", "P5"}
    assert set(b_table["participant_id"]) == {"P1", "R1"}
    b_p1 = b_table.row(by_predicate=pl.col("participant_id") == "P1", named=True)
    assert (b_p1["housing_assessed_on"], b_p1["treatment_service"], b_p1["last_arrest"]) == (
        D("2024-06-01"),
        None,
        None,
    )
    assert caseload(con, Scope("a", "CM9"), TODAY, include_exited=True).is_empty()
    assert caseload(con, Scope("b", "CM2"), TODAY, include_exited=True).is_empty()


def test_values_are_bound_not_spliced(con: duckdb.DuckDBPyConnection) -> None:
    """A quote in a case manager's ID is a value like any other, never SQL."""
    sneaky = "CM1' or '1'='1"
    assert caseload(con, Scope("a", sneaky), TODAY, include_exited=True).is_empty()
    assert timeline(con, Scope("a", sneaky), "P1").is_empty()
    assert caseload_problems(con, Scope("a", sneaky)).is_empty()


def test_caseload_sizes(con: duckdb.DuckDBPyConnection) -> None:
    assert caseload_sizes(con, Scope("a"), TODAY).rows() == [
        ("CM1", 4, 1, "fewer than 12"),
        ("CM2", 2, 0, "fewer than 12"),
        ("CM3", 26, 1, "more than 25"),
    ]
    assert caseload_sizes(con, Scope("b"), TODAY).rows() == [
        ("CM1", 2, 0, "fewer than 12"),
        ("CM8", 12, 0, "12 to 25"),
        ("CM9", 25, 0, "12 to 25"),
    ]


def test_timeline_hand_worked(con: duckdb.DuckDBPyConnection) -> None:
    events = timeline(con, Scope("a", "CM1"), "P1")
    assert events.columns == TIMELINE_COLUMNS
    assert events.rows() == EXPECTED_TIMELINE_P1


def test_timeline_with_exit(con: duckdb.DuckDBPyConnection) -> None:
    assert timeline(con, Scope("a", "CM1"), "P5").rows() == [
        ("referral", D("2022-01-01"), None, "arrest_diversion", None),
        ("housing", D("2023-12-01"), None, "owned_no_subsidy", "permanent"),
        ("exit", D("2024-02-01"), None, "graduated", None),
    ]


def test_timeline_only_of_this_caseload(con: duckdb.DuckDBPyConnection) -> None:
    assert timeline(con, Scope("a", "CM2"), "P1").is_empty()
    assert timeline(con, Scope("a", "CM1"), "Q1").is_empty()
    # Site b's P1 has its own records, none of site a's.
    assert timeline(con, Scope("b", "CM1"), "P1").rows() == [
        ("referral", D("2024-01-01"), None, "social_contact", None),
        ("housing", D("2024-06-01"), None, "unsheltered", "homeless"),
    ]


def test_problems_of_each_caseload(con: duckdb.DuckDBPyConnection) -> None:
    assert tracks_problems(con)
    for (site, cm), expected in EXPECTED_PROBLEMS.items():
        found = caseload_problems(con, Scope(site, cm))
        assert found.columns == PROBLEM_COLUMNS
        assert sorted(problem_rows(found)) == sorted(expected), (site, cm)
        assert all(path.startswith(f"archive/{site}/") for path in found["file"])
    assert caseload_problems(con, Scope("a", "CM3")).is_empty()


def test_problem_rows_say_where_and_how_to_fix(con: duckdb.DuckDBPyConnection) -> None:
    (row,) = caseload_problems(con, Scope("a", "CM1")).iter_rows(named=True)
    # The second housing export: header row 1, P1's bad row is its 4th line.
    assert (row["row_number"], row["first_seen"]) == (4, D(FIRST_AS_OF))
    assert row["file"].startswith("archive/a/housing/")
    assert "living situation" in row["message"] and row["fix"]


def test_unassigned_problems(con: duckdb.DuckDBPyConnection) -> None:
    found = unassigned_problems(con, Scope("a"))
    assert found.columns == PROBLEM_COLUMNS
    assert sorted(problem_rows(found)) == EXPECTED_UNASSIGNED_A
    assert unassigned_problems(con, Scope("b")).is_empty()


# --- scope in the queries (DESIGN s.7): each filter of the SQL has a test that fails without it ---


def test_a_case_managers_caseload_sizes_are_their_own_row(con: duckdb.DuckDBPyConnection) -> None:
    """A case manager's sizes come from SQL holding their row only, never the site's others."""
    assert caseload_sizes(con, Scope("a", "CM1"), TODAY).rows() == [("CM1", 4, 1, "fewer than 12")]
    assert caseload_sizes(con, Scope("b", "CM1"), TODAY).rows() == [("CM1", 2, 0, "fewer than 12")]
    assert caseload_sizes(con, Scope("a", "CM9"), TODAY).is_empty()


def test_queries_of_a_site_or_caseload_refuse_a_wider_scope(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ScopeError):
        caseload_sizes(con, PROGRAM, TODAY)
    for wider in (PROGRAM, Scope("a")):
        with pytest.raises(ScopeError):
            caseload(con, wider, TODAY)
        with pytest.raises(ScopeError):
            timeline(con, wider, "P1")
        with pytest.raises(ScopeError):
            caseload_problems(con, wider)


def test_sites_inside_a_scope(con: duckdb.DuckDBPyConnection) -> None:
    assert sites(con, Scope("b")) == ["b"]
    assert sites(con, Scope("b", "CM9")) == ["b"]
    assert sites(con, Scope("a", "CM9")) == []  # CM9 works at b


def test_a_caseload_never_takes_another_sites_records(con: duckdb.DuckDBPyConnection) -> None:
    """Site b's P1 has no employment record; site a's P1 has: b's caseload shows none of a's."""
    b_p1 = caseload(con, Scope("b", "CM1"), TODAY).row(
        by_predicate=pl.col("participant_id") == "P1", named=True
    )
    assert (b_p1["employment_status"], b_p1["current_episodes"], b_p1["days_since_housing"]) == (None, 0, 14)
    a_p1 = caseload(con, Scope("a", "CM1"), TODAY).row(
        by_predicate=pl.col("participant_id") == "P1", named=True
    )
    assert (a_p1["living_situation"], a_p1["housing_assessed_on"]) == ("unsheltered", D("2024-05-01"))


def test_unassigned_problems_are_never_inside_a_caseload(con: duckdb.DuckDBPyConnection) -> None:
    """Problems without a case manager are the site's; a caseload's scope returns none of them."""
    assert unassigned_problems(con, Scope("a", "CM1")).is_empty()
    assert sorted(problem_rows(unassigned_problems(con, PROGRAM))) == EXPECTED_UNASSIGNED_A


def test_a_caseloads_problems_are_only_its_own(con: duckdb.DuckDBPyConnection) -> None:
    """Site b's CM1 has a problem of its own P1; site a's CM1 never sees it (nor CM2's)."""
    found = caseload_problems(con, Scope("a", "CM1"))
    assert problem_rows(found) == EXPECTED_PROBLEMS[("a", "CM1")]
    assert all(path.startswith("archive/a/") for path in found["file"])


# --- plain functions ----------------------------------------------------------------------


def test_filter_caseload_any_of_the_flags_and_search(con: duckdb.DuckDBPyConnection) -> None:
    table = caseload(con, Scope("a", "CM1"), TODAY, include_exited=True)
    assert filter_caseload(table)["participant_id"].to_list() == ["P1", "P2", "P3", "P4", "P5"]
    assert filter_caseload(table, ["unsheltered"])["participant_id"].to_list() == ["P1"]
    assert filter_caseload(table, ["recent_arrest", "exited"])["participant_id"].to_list() == ["P1", "P5"]
    assert filter_caseload(table, ["housing_check_due"], " p3 ")["participant_id"].to_list() == ["P3"]
    assert filter_caseload(table, search="zz").is_empty()
    with pytest.raises(ValueError, match="unknown flags"):
        filter_caseload(table, ["housing_check_due; drop table"])


def test_problem_counts() -> None:
    table = pl.DataFrame({"participant_id": ["P1", "P2"]})
    problems = pl.DataFrame({"participant_id": ["P1", "P1", "X"]})
    assert problem_counts(table, problems).rows() == [("P1", 2), ("P2", 0)]


def test_timeline_table_in_words(con: duckdb.DuckDBPyConnection) -> None:
    table = timeline_table(timeline(con, Scope("a", "CM1"), "P1"))
    assert table.columns == ["date", "end_date", "record", "detail", "note"]
    assert table.height == len(EXPECTED_TIMELINE_P1)
    assert table.row(2) == (
        D("2024-02-01"),
        D("2024-03-01"),
        "Treatment episode",
        "Outpatient",
        "Discharge: Completed",
    )
    assert table.row(4)[2:] == ("Treatment episode", "Medication for opioid use disorder", "Open")
    assert table.row(6)[2:] == ("Justice record", "Arrest", "Level: Misdemeanor")


def test_timeline_chart(con: duckdb.DuckDBPyConnection) -> None:
    figure = timeline_chart(timeline(con, Scope("a", "CM1"), "P1"), TODAY)
    traces = {trace.name: trace for trace in figure.data if trace.name}
    assert traces["Housing: Homeless"].marker.color == HOUSING_COLOURS["homeless"]
    assert [str(x) for x in traces["Housing: Homeless"].x] == ["2024-02-01", "2024-05-01"]
    bars = traces["Treatment episode"]
    assert bars.marker.color == TREATMENT_COLOUR
    assert [str(b) for b in bars.base] == ["2024-02-01", "2024-04-01"]
    # The open episode runs to the as-of date: 75 days from 2024-04-01.
    assert list(bars.x) == [29 * 86_400_000, 75 * 86_400_000]
    moud = f"Treatment: {label('service_type', 'moud')}"
    assert list(bars.y) == ["Treatment: Outpatient", moud]
    assert traces["Justice: Arrest"].marker.symbol == JUSTICE_SYMBOLS["arrest"]
    assert "Employment assessment" in traces
    lines = [shape.x0 for shape in figure.layout.shapes]
    assert [str(x) for x in lines] == ["2024-01-10", AS_OF]
    assert figure.layout.xaxis.title.text and figure.layout.yaxis.title.text
    assert list(figure.layout.yaxis.categoryarray)[::-1] == [
        "Housing",
        moud,
        "Treatment: Outpatient",
        "Employment",
        "Justice record",
    ]


def test_caseload_chart(con: duckdb.DuckDBPyConnection) -> None:
    sizes = caseload_sizes(con, Scope("a"), TODAY)
    figure = caseload_chart(sizes, "CM1")
    within, over = figure.data
    assert (list(within.x), list(within.y), within.marker.color) == (["CM1", "CM2"], [4, 2], WITHIN_COLOUR)
    assert (list(over.x), list(over.y), over.marker.color) == (["CM3"], [26], OVER_COLOUR)
    assert list(within.marker.line.width) == [3, 0]
    assert any(shape.y0 == 25 and shape.y1 == 25 for shape in figure.layout.shapes)
    assert figure.layout.xaxis.type == "category"
    assert figure.layout.yaxis.title.text == "Current participants"


def test_caseload_chart_without_anyone_over() -> None:
    sizes = pl.DataFrame({"case_manager_id": ["007"], "current": [3], "exited": [0], "guidance": ["x"]})
    (bars,) = caseload_chart(sizes).data
    assert list(bars.x) == ["007"]


def test_caseload_chart_shows_a_tag_in_a_case_manager_id_as_text() -> None:
    attack = '<a href="https://evil.example">CM</a>'
    sizes = pl.DataFrame({"case_manager_id": [attack], "current": [3], "exited": [0], "guidance": ["x"]})
    (bars,) = caseload_chart(sizes, attack).data
    assert list(bars.x) == ["&lt;a href=&quot;https://evil.example&quot;&gt;CM&lt;/a&gt;"]
    assert list(bars.marker.line.width) == [3]  # still the selected bar


# --- the page -----------------------------------------------------------------------------


def test_page_defaults_by_hand(page_home: Home, downloads: Downloads) -> None:
    at = open_page()
    assert not at.exception
    assert [title.value for title in at.title] == ["Caseload"]
    assert at.selectbox(key="caseload-site").value == "a"
    assert at.selectbox(key="caseload-case-manager").value == "CM1"
    found = tables(at)
    (table,) = found["caseload"]
    assert table.columns == [*CASELOAD_COLUMNS, "open_problems"]
    # Prompts are words, not booleans a table would draw as (greyed, clickable-looking) checkboxes.
    assert not [c for c, dtype in table.schema.items() if dtype == pl.Boolean]
    assert set(table["housing_check_due"].drop_nulls()) == {"Yes"}
    assert {row[0]: row[1:-1] for row in table.rows()} == {
        p: caseload_shown(EXPECTED_CM1[p]) for p in ("P1", "P2", "P3", "P4")
    }
    assert dict(zip(table["participant_id"], table["open_problems"], strict=True)) == {
        "P1": 1,
        "P2": 0,
        "P3": 0,
        "P4": 0,
    }
    # The timeline of the first participant, its chart and the same records in its table.
    assert at.selectbox(key="caseload-participant").value == "P1"
    (events,) = found["timeline"]
    assert events.height == len(EXPECTED_TIMELINE_P1)
    assert spec_of(at, "caseload-timeline")["data"]
    (sizes,) = found["sizes"]
    assert sizes.rows() == [
        ("CM1", 4, 1, "fewer than 12"),
        ("CM2", 2, 0, "fewer than 12"),
        ("CM3", 26, 1, "more than 25"),
    ]
    assert spec_of(at, "caseload-sizes-chart")["data"]
    caseload_table, site_table = found["problems"]
    assert problem_rows(caseload_table) == as_shown(EXPECTED_PROBLEMS[("a", "CM1")])
    assert sorted(problem_rows(site_table)) == as_shown(EXPECTED_UNASSIGNED_A)
    buttons = {button.proto.label: button for button in at.download_button}
    assert len(at.download_button) == 4 and set(buttons) == {"Download (CSV)", "Download (Excel)"}
    data, name = downloads.fetch(at.download_button[0])
    assert name == f"problems-a-CM1-{AS_OF}.csv"
    csv = pl.read_csv(data, infer_schema=False)  # headers and tables as the page shows them
    assert csv["Participant"].to_list() == ["P1"] and csv["Value"].to_list() == ["nowhere"]
    assert csv["Export"].to_list() == ["Housing"]
    # The same table as Excel, under the same headers.
    book, excel_name = downloads.fetch(at.download_button[1])
    assert (at.download_button[1].label, excel_name) == ("Download (Excel)", f"problems-a-CM1-{AS_OF}.xlsx")
    excel = read_download(book, excel_name)
    assert excel.columns == csv.columns and excel["Participant"].to_list() == ["P1"]
    assert excel["Value"].to_list() == ["nowhere"] and excel["Export"].to_list() == ["Housing"]
    assert not at.error


def test_page_toggle_filters_and_search(page_home: Home) -> None:
    at = open_page()
    at.toggle(key="caseload-exited").set_value(True).run()
    (table,) = tables(at)["caseload"]
    assert table["participant_id"].to_list() == ["P1", "P2", "P3", "P4", "P5"]
    at.multiselect(key="caseload-flags").set_value(["housing_check_due"]).run()
    (table,) = tables(at)["caseload"]
    assert table["participant_id"].to_list() == ["P3", "P4", "P5"]
    # The timeline offers the participants shown.
    assert at.selectbox(key="caseload-participant").options == ["P3", "P4", "P5"]
    at.text_input(key="caseload-search").input("p5").run()
    (table,) = tables(at)["caseload"]
    assert table["participant_id"].to_list() == ["P5"]
    at.text_input(key="caseload-search").input("nobody").run()
    assert "caseload" not in tables(at)
    assert any("matches these filters" in info.value for info in at.info)
    assert not at.exception


def test_page_of_another_case_manager_shows_only_theirs(page_home: Home) -> None:
    """CM2's page: never a participant, record or problem of CM1's (scope in the queries)."""
    at = open_page()
    at.selectbox(key="caseload-case-manager").set_value("CM2").run()
    at.toggle(key="caseload-exited").set_value(True).run()
    found = tables(at)
    (table,) = found["caseload"]
    assert table["participant_id"].to_list() == ["Q1", "Q2"]
    theirs = {"Q1", "Q2", "P6"}
    caseload_table, _ = found["problems"]
    assert set(caseload_table["participant_id"]) <= theirs
    assert sorted(problem_rows(caseload_table)) == sorted(as_shown(EXPECTED_PROBLEMS[("a", "CM2")]))
    for participant_id in at.selectbox(key="caseload-participant").options:
        assert participant_id in theirs
    (events,) = found["timeline"]
    assert events.select("date", "record", "detail").rows() == [
        (D("2024-02-01"), "Referral", "Social contact"),
        (D("2024-06-10"), "Housing assessment", label("living_situation", "unsheltered")),
        (D("2024-06-14"), "Justice record", "Arrest"),
    ]
    assert not at.exception


def test_page_other_site(page_home: Home) -> None:
    at = open_page()
    at.selectbox(key="caseload-site").set_value("b").run()
    assert at.selectbox(key="caseload-case-manager").value == "CM1"
    found = tables(at)
    (table,) = found["caseload"]
    assert table.select("participant_id", "living_situation", "housing_assessed_on").rows() == [
        ("P1", label("living_situation", "unsheltered"), D("2024-06-01")),
        ("R1", NOT_RECORDED, None),
    ]
    (sizes,) = found["sizes"]
    assert sizes["guidance"].to_list() == ["fewer than 12", "12 to 25", "12 to 25"]
    (caseload_table,) = found["problems"]
    assert problem_rows(caseload_table) == as_shown(EXPECTED_PROBLEMS[("b", "CM1")])
    assert any("No such problem at b" in message.value for message in at.success)
    assert not at.exception


def test_page_filter_that_leaves_nobody(page_home: Home) -> None:
    """Site b's CM1 has two current participants, neither with an arrest record: the page says so."""
    at = open_page()
    at.selectbox(key="caseload-site").set_value("b").run()
    at.multiselect(key="caseload-flags").set_value(["recent_arrest"]).run()
    assert "caseload" not in tables(at)
    assert any("Pick a participant" in info.value for info in at.info)
    assert not at.exception


def test_page_without_a_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    apptest.serve(monkeypatch, tmp_path / "empty")
    at = open_page()
    assert not at.exception
    assert any("No release has been published yet" in info.value for info in at.info)
    assert not at.dataframe


def test_page_on_a_release_from_before_problem_tracking(
    release: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An older release has no `problems` table: the rest of the page works, and says so."""
    copy = tmp_path / "old" / "warehouse" / "release-old.duckdb"
    copy.parent.mkdir(parents=True)
    shutil.copy(live_release(release.current), copy)
    with duckdb.connect(str(copy)) as writable:
        writable.sql("drop table problems")
    (copy.parent / "current.duckdb").symlink_to(copy.name)
    apptest.serve(monkeypatch, tmp_path / "old")
    at = open_page()
    assert not at.exception
    (table,) = tables(at)["caseload"]
    assert "open_problems" not in table.columns
    assert any("before data problems were tracked" in info.value for info in at.info)


def test_timeline_chart_without_treatment_marks_referral_exit_and_as_of(
    con: duckdb.DuckDBPyConnection,
) -> None:
    figure = timeline_chart(timeline(con, Scope("a", "CM1"), "P5"), TODAY)
    assert [str(shape.x0) for shape in figure.layout.shapes] == ["2022-01-01", "2024-02-01", AS_OF]
    assert [a.text for a in figure.layout.annotations] == ["Referral", "Exit", "As of"]
    # The treatment lane stays, empty: no episode on record is worth seeing too.
    assert "Treatment" in list(figure.layout.yaxis.categoryarray)
    assert not [trace for trace in figure.data if trace.name == "Treatment episode"]


# --- the page, as a case manager ------------------------------------------------------------


def open_as_case_manager(home: Home, site_id: str, case_manager_id: str) -> AppTest:
    apptest.grant(home.root, site_id, case_manager_id)
    at = apptest.open_page(PAGE, apptest.CASE_MANAGER)
    assert not at.exception
    return at


def sizes_chart_managers(at: AppTest) -> list[str]:
    return [x for trace in spec_of(at, "caseload-sizes-chart")["data"] for x in trace.get("x") or []]


@pytest.mark.parametrize(
    ("site_id", "case_manager_id", "own"),
    [("a", "CM1", ("CM1", 4, 1, "fewer than 12")), ("b", "CM1", ("CM1", 2, 0, "fewer than 12"))],
)
def test_a_case_managers_page_shows_their_own_caseload_size_only(
    page_home: Home, site_id: str, case_manager_id: str, own: tuple
) -> None:
    """The chart and its table hold the case manager's own row: no colleague's caseload size."""
    at = open_as_case_manager(page_home, site_id, case_manager_id)
    assert not [s for s in at.selectbox if s.key in ("caseload-site", "caseload-case-manager")]
    found = tables(at)
    (sizes,) = found["sizes"]
    assert sizes.rows() == [own]
    assert sizes_chart_managers(at) == [case_manager_id]
    # Their own problems only; the site's problems without a case manager are not theirs.
    (problems,) = found["problems"]
    assert problem_rows(problems) == as_shown(EXPECTED_PROBLEMS[(site_id, case_manager_id)])
    assert all(path.startswith(f"archive/{site_id}/") for path in problems["file"])


def test_a_case_managers_page_shows_only_their_participants(page_home: Home) -> None:
    at = open_as_case_manager(page_home, "a", "CM2")
    at.toggle(key="caseload-exited").set_value(True).run()
    found = tables(at)
    (table,) = found["caseload"]
    assert table["participant_id"].to_list() == ["Q1", "Q2"]
    assert at.selectbox(key="caseload-participant").options == ["Q1", "Q2"]
    (events,) = found["timeline"]
    assert events["record"].to_list() == ["Referral", "Housing assessment", "Justice record"]
    (problems,) = found["problems"]
    assert sorted(problem_rows(problems)) == sorted(as_shown(EXPECTED_PROBLEMS[("a", "CM2")]))


def test_a_conflict_between_two_case_managers_is_on_both_their_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12, item 16: P1's two rows name CM1 and CM2 (a conflicting duplicate, so P1 is on
    neither caseload): the conflict is on each one's Caseload page, and not on CM3's."""
    home = Home(tmp_path / "home")
    drop(
        home,
        "a",
        "participants",
        [
            participant("P1", "CM1", "2024-01-10", "social_contact"),
            participant("P1", "CM2", "2024-01-10", "community"),
            participant("P2", "CM3", "2024-01-10", "community"),
        ],
    )
    assert run(home, AS_OF).published
    apptest.serve(monkeypatch, home.root)
    for case_manager in ("CM1", "CM2", "CM3"):
        email = f"{case_manager.lower()}@example.org"
        apptest.grant(home.root, "a", case_manager, email)
        at = apptest.open_page(PAGE, email)
        assert not at.exception
        found = tables(at).get("problems", [])
        shown = [frame.select("participant_id", "table_name", "value").rows() for frame in found]
        expected = [] if case_manager == "CM3" else [[("P1", "Participants", "participant_id=P1")]]
        assert shown == expected, case_manager
