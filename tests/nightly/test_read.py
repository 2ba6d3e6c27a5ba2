"""The reader over folders of sample files: each readable fault reads the same; each bad file is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipelines.nightly.read import Refused, identify, read_export
from tests.conftest import query, run

SAMPLES = Path(__file__).parent / "samples"
READABLE = sorted((SAMPLES / "readable").iterdir())
REFUSED = sorted((SAMPLES / "refused").iterdir())
EXPECTED = [
    ("00042", "CM-José", "2024-01-10", "social_contact", None, None, 1990, "man", "black"),
    (
        "00043",
        "CM-José",
        "2024-02-11",
        "arrest_diversion",
        "drug_possession",
        "2024-02-12",
        1985,
        "woman",
        "black;white",
    ),
]


def sample_file(case: Path) -> Path:
    [path] = [p for p in case.iterdir() if p.name != "EXPECT"]
    return path


@pytest.mark.parametrize("case", READABLE, ids=lambda p: p.name)
def test_readable_faults_read_the_same(home, case):
    source = sample_file(case)
    target = home.inbox / "s" / source.name
    target.parent.mkdir(parents=True)
    shutil.copy(source, target)
    result = run(home)
    assert [f.error for f in result.files] == [None]
    assert result.totals()["rows_quarantined"] == 0, query(home, "select * from quarantine")
    rows = query(
        home,
        "select participant_id, case_manager_id, referral_date::varchar, referral_type, referral_offense, "
        "intake_date::varchar, birth_year, gender, race_ethnicity from participants order by participant_id",
    )
    assert rows == EXPECTED


@pytest.mark.parametrize("case", REFUSED, ids=lambda p: p.name)
def test_bad_files_are_refused_with_a_message(case):
    path = sample_file(case)
    expected = (case / "EXPECT").read_text().strip()
    with pytest.raises(Refused) as refused:
        read_export(path, identify(path, case.parent).table)
    assert expected in str(refused.value)


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("s/housing_v2.csv", "unknown table 'housing_v2'"),
        ("s/housing.txt", "not a .csv or .xlsx file"),
        ("Site One/housing.csv", "not a valid site id"),
        ("housing.csv", "put each export in a folder named for its site"),
        ("s/extra/housing.csv", "put each export in a folder named for its site"),
    ],
)
def test_file_names_say_site_and_table(tmp_path, relative, expected):
    with pytest.raises(Refused, match=expected):
        identify(tmp_path / relative, tmp_path)


def test_table_names_match_case_insensitively(tmp_path):
    export = identify(tmp_path / "king-south" / "Housing.CSV", tmp_path)
    assert (export.site_id, export.table) == ("king-south", "housing")


def test_a_refused_file_stays_in_the_inbox_and_is_not_archived(home):
    source = sample_file(SAMPLES / "refused" / "direct_identifier")
    target = home.inbox / "s" / source.name
    target.parent.mkdir(parents=True)
    shutil.copy(source, target)
    result = run(home)
    assert not result.published
    [refused] = result.files
    assert refused.status == "refused" and "first_name" in refused.error
    assert target.exists()
    assert not any(p.is_file() and p.name != "index.jsonl" for p in home.archive.rglob("*"))
