"""Every SQL file of the project runs against a small published release."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.conftest import drop, run

ROOT = Path(__file__).parents[2]
SQL_FILES = sorted(p for folder in ("pipelines", "dashboard") for p in (ROOT / folder).rglob("*.sql"))
# A table macro's body runs as a temporary macro of that text, over the participant-months.
MONTHLY_UNITS = (
    "with monthly_units as ("
    "select month as period, * exclude (month, participant_id, months_since_referral) from metric_flags) "
    "select * from {macro}('monthly_units')"
)


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    from pipelines.core.settings import Home

    home = Home(tmp_path_factory.mktemp("sql") / "home")
    drop(home, "s", "participants", ["P1,CM1,2024-01-10,social_contact,,,,,1990,man,black"])
    drop(home, "s", "housing", ["P1,2024-02-01,unsheltered"])
    drop(home, "s", "treatment", ["P1,E1,outpatient,2024-02-01,,"])
    drop(home, "s", "employment", ["P1,2024-02-01,part_time,yes"])
    drop(home, "s", "justice", ["P1,2024-02-01,arrest,misdemeanor"])
    assert run(home, "2024-06-15").published
    con = duckdb.connect(str(home.current), read_only=True)
    yield con
    con.close()


def test_there_are_sql_files():
    assert {p.name for p in SQL_FILES} >= {"participant_months.sql", "metric_flags.sql", "metric_values.sql"}


def parameters(path: Path) -> dict:
    """The values a file's parameters are bound to: a funder query is asked of 2024-Q1."""
    from pipelines.core.periods import parse_quarter
    from pipelines.funder.snapshot import SNAPSHOT_DIMENSIONS

    if path.name != "quarter_cells.sql":
        return {}
    quarter = parse_quarter("2024-Q1")
    return {
        "start": quarter.start,
        "end": quarter.end,
        "label": quarter.label,
        "dimensions": list(SNAPSHOT_DIMENSIONS),
    }


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_sql_file_runs(release, path):
    from pipelines.nightly.build import MACRO_PARAMETERS

    text = path.read_text(encoding="utf-8")
    if path.stem in MACRO_PARAMETERS:
        macro = f"{path.stem}_under_test"
        arguments = ", ".join(MACRO_PARAMETERS[path.stem])
        release.sql(f"create or replace temp macro {macro}({arguments}) as table {text}")
        text = MONTHLY_UNITS.format(macro=macro)
    rows = release.sql(text, params=parameters(path)).fetchall()
    assert rows, f"{path.name} returned no rows on a release with one participant"
