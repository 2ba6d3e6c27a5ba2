"""Every SQL file of the project runs against a small published release, its parameters bound."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import pytest

from pipelines.core.periods import parse_quarter
from pipelines.evaluate import windows
from pipelines.funder.snapshot import SNAPSHOT_DIMENSIONS, SNAPSHOT_METRICS
from pipelines.nightly.build import MACRO_PARAMETERS
from tests.conftest import drop, run

ROOT = Path(__file__).parents[2]
SQL_FILES = sorted(p for folder in ("pipelines", "dashboard") for p in (ROOT / folder).rglob("*.sql"))
# A table macro's body runs as a temporary macro of that text, over the participant-months.
# The SQL that builds a release (marts) or a snapshot's cells: each holds the one participant.
MARTS = (ROOT / "pipelines" / "nightly" / "sql", ROOT / "pipelines" / "funder" / "sql")
EVALUATE = ROOT / "pipelines" / "evaluate" / "sql"
MONTHLY_UNITS = (
    "with monthly_units as ("
    "select month as period, * exclude (month, participant_id, months_since_referral) from metric_flags) "
    "select * from {macro}('monthly_units')"
)
# How each table macro's body is run: metric_cells over the participant-months, custody over the
# participant's justice rows.
MACRO_QUERIES = {
    "metric_cells": MONTHLY_UNITS,
    "custody": (
        "with events as (select site_id, participant_id as person_id, event_date, event_type, "
        "release_date from justice) select * from {macro}('events', 'justice')"
    ),
}


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    from pipelines.core.settings import Home

    home = Home(tmp_path_factory.mktemp("sql") / "home")
    drop(home, "s", "participants", ["P1,CM1,2024-01-10,social_contact,,,,,1990,man,black"])
    drop(home, "s", "housing", ["P1,2024-02-01,unsheltered"])
    drop(home, "s", "treatment", ["P1,E1,outpatient,2024-02-01,,"])
    drop(home, "s", "employment", ["P1,2024-02-01,part_time,yes"])
    drop(
        home,
        "s",
        "justice",
        ["P1,2024-02-01,arrest,misdemeanor,", "P1,2024-02-01,booking,misdemeanor,2024-02-03"],
        header="participant_id,event_date,event_type,level,release_date",
    )
    drop(
        home,
        "s",
        "comparison",
        ["C1,2024-01-05,drug_possession,1985,woman,white,not_eligible_shift"],
        header="comparison_id,index_date,index_offense,birth_year,gender,race_ethnicity,not_referred_reason",
    )
    drop(
        home,
        "s",
        "comparison_justice",
        ["C1,2024-02-01,arrest,misdemeanor,", "C1,2024-02-01,booking,misdemeanor,2024-02-03"],
        header="comparison_id,event_date,event_type,level,release_date",
    )
    assert run(home, "2024-06-15").published
    con = duckdb.connect(str(home.current), read_only=True)
    yield con
    con.close()


def test_there_are_sql_files():
    assert {p.name for p in SQL_FILES} >= {"participant_months.sql", "metric_flags.sql", "metric_values.sql"}


# A value for every parameter the project's SQL binds, fitting the release above (one
# participant at site "s", case manager CM1): each file's query asks for that participant.
PARAMS = {
    "as_of": dt.date(2024, 6, 15),
    "today": dt.date(2024, 6, 15),
    "month": dt.date(2024, 2, 1),
    "prior_month": dt.date(2024, 1, 1),
    "last_month": 24,
    "last_complete_month": dt.date(2024, 5, 1),
    "through": dt.date(2024, 5, 1),
    "since": dt.date(2023, 6, 1),
    "start": dt.date(2023, 1, 1),
    "end": dt.date(2024, 5, 31),
    "months": 6,
    "windows": [[-6, 0], [0, 6]],
    "metric": "active_participants",
    "numerator_flag": "active",
    "denominator_flag": "active",
    "is_count": True,
    "split_column": None,
    "cohorts": [],
    "referral_types": [],
    "sites": [],
    "types": [],
    "tables": [],
    "participant_id": "P1",
    "include_exited": True,
    "unassigned": False,
    "housing_due_days": 90,
    "recent_arrest_days": 30,
    "low": 12,
    "high": 25,
    "limit": 200,
    "scope_site": "s",
    "source": "run_files",
    "scope_case_manager": "CM1",
}


def parameters(path: Path, sql: str) -> dict:
    """The values `sql` binds: from PARAMS, except a funder quarter, which is asked of 2024-Q1."""
    if path.name == "quarter_cells.sql":
        quarter = parse_quarter("2024-Q1")
        return {
            "start": quarter.start,
            "end": quarter.end,
            "label": quarter.label,
            "dimensions": list(SNAPSHOT_DIMENSIONS),
            "metrics": list(SNAPSHOT_METRICS),
        }
    return {name: PARAMS[name] for name in sorted(set(re.findall(r"\$([a-z_]+)", sql)))}


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_sql_file_runs(release, path):
    text = path.read_text(encoding="utf-8")
    if path.stem in MACRO_PARAMETERS:
        macro = f"{path.stem}_under_test"
        arguments = ", ".join(MACRO_PARAMETERS[path.stem])
        release.sql(f"create or replace temp macro {macro}({arguments}) as table {text}")
        text = MACRO_QUERIES[path.stem].format(macro=macro)
    if path.parent == EVALUATE:
        # The evaluation's SQL runs through its table macro; the macro's own file runs as the
        # participants' windows do.
        windows.create_macro(release)
        if path.stem == windows.MACRO:
            text = windows.sql("participant_windows")
    if "$run_id" in text:
        [(run_id,)] = release.sql("select run_id from release").fetchall()
        PARAMS["run_id"] = run_id
    rows = release.sql(text, params=parameters(path, text)).fetchall()
    # A query for the pages may rightly return nothing on a release this small (no refused file,
    # no problem): it must run.
    if path.parent in MARTS:
        assert rows, f"{path.name} returned no rows on a release with one participant"
