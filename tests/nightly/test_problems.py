"""Data problems tracked across runs, and the feedback CSV a site's data coordinator opens."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys

import duckdb

from pipelines.core.export import FORMULA_STARTS
from pipelines.core.problems import open_problems
from pipelines.core.release import live_release
from pipelines.core.scope import Scope
from tests.apptest import release_connection
from tests.conftest import drop, query, run

P1 = "P1,CM1,2024-01-10,social_contact,,,,,1990,man,black"
P2 = "P2,CM2,2024-01-10,community,,,,,1985,woman,white"


def problems(home):
    return query(
        home,
        "select participant_id, column_name, rule, value, status, first_seen::varchar, fixed_on::varchar, "
        "age_days, days_to_fix, case_manager_ids from problems order by participant_id, rule, first_seen",
    )


def test_a_problem_is_tracked_from_first_sighting_until_a_later_export_fixes_it(home):
    drop(home, "s", "participants", [P1, P2])
    drop(home, "s", "housing", ["P1,2024-02-01,couch", "P2,2024-02-01,tent"])
    assert run(home, "2024-06-15").published
    assert problems(home) == [
        ("P1", "living_situation", "allowed_values", "couch", "open", "2024-06-15", None, 0, None, ["CM1"]),
        ("P2", "living_situation", "allowed_values", "tent", "open", "2024-06-15", None, 0, None, ["CM2"]),
    ]
    # Five days later the site fixes P1's row; P2's stays as it was.
    drop(home, "s", "housing", ["P1,2024-02-01,unsheltered", "P2,2024-02-01,tent"])
    assert run(home, "2024-06-20").published
    assert problems(home) == [
        (
            "P1",
            "living_situation",
            "allowed_values",
            "couch",
            "fixed",
            "2024-06-15",
            "2024-06-20",
            None,
            5,
            ["CM1"],
        ),
        ("P2", "living_situation", "allowed_values", "tent", "open", "2024-06-15", None, 5, None, ["CM2"]),
    ]
    # A run with nothing new keeps the history as it is, and ages the open problem.
    assert run(home, "2024-06-25").published
    assert [(p, s, a, d) for p, _, _, _, s, _, _, a, d, _ in problems(home)] == [
        ("P1", "fixed", None, 5),
        ("P2", "open", 10, None),
    ]
    # The same mistake made again is a new occurrence beside the fixed one, not a reopening.
    drop(home, "s", "housing", ["P1,2024-02-01,couch", "P2,2024-02-01,tent"])
    assert run(home, "2024-06-30").published
    assert [(p, s, f, a, d) for p, _, _, _, s, f, _, a, d, _ in problems(home)] == [
        ("P1", "fixed", "2024-06-15", None, 5),
        ("P1", "open", "2024-06-30", 0, None),
        ("P2", "open", "2024-06-15", 15, None),
    ]


def test_a_problem_of_a_quarantined_participant_reaches_its_case_manager(home):
    drop(home, "s", "participants", [P1, "P3,CM7,2024-01-10,walk_in,,,,,1990,man,black"])
    drop(home, "s", "housing", ["P3,2024-02-01,unsheltered"])
    run(home, "2024-06-15")
    rows = query(home, "select table_name, rule, case_manager_ids, fix from problems order by table_name")
    assert [(t, r, c) for t, r, c, _ in rows] == [
        ("housing", "participant_quarantined", ["CM7"]),
        ("participants", "allowed_values", ["CM7"]),
    ]
    assert all(fix for *_, fix in rows)


def test_feedback_writes_the_sites_open_problems_without_formulas(home, tmp_path):
    drop(
        home,
        "s",
        "participants",
        [P1, P2, "=cmd|' /C calc'!A0,CM1,2024-01-10,social_contact,,,,,1990,man,black"],
    )
    drop(home, "s", "housing", ["P1,2024-02-01,+couch", "P2,2024-02-01,-tent", "P1,2024-03-01,@sofa"])
    drop(home, "t", "participants", ["P9,CM1,2024-01-10,nowhere,,,,,1990,man,black"])
    run(home, "2024-06-15")
    out = tmp_path / "feedback.csv"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines",
            "--home",
            str(home.root),
            "feedback",
            "--site",
            "s",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "4 open problems of site s" in done.stdout
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    header, body = rows[0], rows[1:]
    # Headers and cells a data coordinator reads: labels, not codes (the Column cells keep the
    # contract's column names: they are what to correct).
    assert header[:3] == ["Export", "File", "Row"]
    assert {row[header.index("Export")] for row in body} == {"Participants", "Housing"}
    assert not {c for row in rows for c in (row[0], *row[3:5]) if re.fullmatch(r"[a-z]+_[a-z_]+", c)} - {
        "living_situation",
        "referral_type",
        "participant_id",
    }
    assert len(body) == 4  # site t's problem is not in site s's file
    assert all(not cell.startswith(FORMULA_STARTS) for row in rows for cell in row)
    values = {row[header.index("Value")] for row in body}
    assert {"'+couch", "'-tent", "'@sofa"} <= values
    unknown = subprocess.run(
        [sys.executable, "-m", "pipelines", "--home", str(home.root), "feedback", "--site", "nope"],
        capture_output=True,
        text=True,
    )
    assert unknown.returncode == 2 and "unknown site 'nope'" in unknown.stderr


# Issue 12, item 16: two rows of one participant naming different case managers.
CONFLICT = [
    "P1,CM-A,2024-01-10,social_contact,,,,,1990,man,black",
    "P1,CM-B,2024-01-10,social_contact,,,,,1991,man,black",
    "P2,CM-C,2024-01-10,community,,,,,1985,woman,white",
]


def test_a_conflicting_duplicate_reaches_both_case_managers(home):
    """Every problem of P1 (the conflict, and its housing row set aside with it) is in CM-A's and
    CM-B's caseloads, not the first row's alone; CM-C, at the same site, sees none of them."""
    drop(home, "s", "participants", CONFLICT)
    drop(home, "s", "housing", ["P1,2024-02-01,unsheltered"])
    run(home, "2024-06-15")
    assert query(home, "select table_name, rule, case_manager_ids from problems order by 1") == [
        ("housing", "participant_quarantined", ["CM-A", "CM-B"]),
        ("participants", "conflicting_duplicate", ["CM-A", "CM-B"]),
    ]
    with release_connection(home) as con:
        for case_manager in ("CM-A", "CM-B"):
            found = open_problems(con, Scope("s", case_manager))
            assert found.select("participant_id", "table_name", "rule", "case_manager_id").rows() == [
                ("P1", "housing", "participant_quarantined", "CM-A, CM-B"),
                ("P1", "participants", "conflicting_duplicate", "CM-A, CM-B"),
            ]
        assert open_problems(con, Scope("s", "CM-C")).is_empty()
        assert open_problems(con, Scope("s"), unassigned=True).is_empty()


def test_problems_of_a_release_from_before_several_case_managers_carry_forward(home):
    """A live release whose problems have one case_manager_id: the next run reads it as a list."""
    drop(home, "s", "participants", [P1])
    drop(home, "s", "housing", ["P1,2024-02-01,couch"])
    run(home, "2024-06-15")
    with duckdb.connect(str(live_release(home.current))) as con:
        con.sql("alter table problems add column case_manager_id varchar")
        con.sql("update problems set case_manager_id = case_manager_ids[1]")
        con.sql("alter table problems drop column case_manager_ids")
    run(home, "2024-06-20")
    assert problems(home) == [
        ("P1", "living_situation", "allowed_values", "couch", "open", "2024-06-15", None, 5, None, ["CM1"])
    ]
