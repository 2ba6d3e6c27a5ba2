"""The reader over folders of sample files: each readable fault reads the same; each bad file is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import xlsxwriter

from pipelines.nightly.read import ROW, Refused, identify, read_export
from tests.conftest import PARTICIPANTS_HEADER, query, run

SAMPLES = Path(__file__).parent / "samples"
READABLE = sorted((SAMPLES / "readable").iterdir())
REFUSED = sorted((SAMPLES / "refused").iterdir())
P1 = "P1,CM1,2024-01-10,social_contact,,,,,1990,man,black"
P2 = "P2,CM1,2024-02-10,community,,,,,1980,woman,white"
P3 = "P3,CM2,2024-03-10,community,,,,,1985,man,asian"
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


# Issue 12, item 7: a refusal never quotes the file's content, and reading never follows a link.
PASSWD = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
CONTENT = ("root", "bash", "daemon", "nologin", "00042", "José", "Elm", "1990", "social_contact")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (PASSWD, "no header row"),
        # A first row of data: its cells include some shaped like column names and identifiers.
        ("00042,CM-José,2024-01-10,social_contact,Elm Street,,,,1990,man,black\n", "no header row"),
        ("participant_id,root:x:0:0:root:/root:/bin/bash\n", "unknown column(s) column 2:"),
        (f"{PARTICIPANTS_HEADER},Elm St. 1990\n", "unknown column(s) column 12:"),
        ("participant_id,root:x:0:0:root:/bin/bash_name\n", "direct identifiers in column(s) column 2:"),
        ("participant_id,1990,1990\n", "column(s) column 2 appear more than once"),
    ],
)
def test_a_refusal_never_quotes_the_files_content(tmp_path, text, expected):
    path = tmp_path / "participants.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(Refused) as refused:
        read_export(path, "participants")
    message = str(refused.value)
    assert expected in message
    assert not [word for word in CONTENT if word in message], message


def test_header_cells_that_look_like_column_names_are_named(tmp_path):
    path = tmp_path / "participants.csv"
    path.write_text(f"{PARTICIPANTS_HEADER},Notes,Client Last Name\n", encoding="utf-8")
    with pytest.raises(Refused, match=r"direct identifiers in column\(s\) client_last_name:"):
        read_export(path, "participants")


@pytest.mark.parametrize("name", ["participants.csv", "participants.xlsx"])
def test_reading_never_follows_a_link(tmp_path, name):
    """The inbox is checked before reading; a file swapped for a link after the check is refused
    when it is opened."""
    target = tmp_path / "elsewhere.csv"
    target.write_text(PASSWD)
    link = tmp_path / name
    link.symlink_to(target)
    with pytest.raises(Refused, match="symbolic link") as refused:
        read_export(link, "participants")
    assert "root" not in str(refused.value)


# Issue 12, item 9: hidden sheets are never read; two visible sheets of the table are refused.
def workbook(path: Path, sheets: list[tuple[str, list[str], str]]) -> Path:
    """An .xlsx of (name, CSV lines, visibility: visible, hidden or very hidden) sheets."""
    book = xlsxwriter.Workbook(path)
    for name, lines, visibility in sheets:
        sheet = book.add_worksheet(name)
        for r, line in enumerate(lines):
            sheet.write_row(r, 0, line.split(","))
        if visibility == "hidden":
            sheet.hide()
        elif visibility == "very hidden":
            sheet.very_hidden()
    book.close()
    return path


ALL = [PARTICIPANTS_HEADER, P1, P2, P3]
STALE = [PARTICIPANTS_HEADER, P1]


@pytest.mark.parametrize("visibility", ["hidden", "very hidden"])
def test_a_hidden_sheet_named_after_the_table_is_never_read(home, visibility):
    path = home.inbox / "s" / "participants.xlsx"
    path.parent.mkdir(parents=True)
    workbook(path, [("Export", ALL, "visible"), ("participants", STALE, visibility)])
    result = run(home)
    assert [f.error for f in result.files] == [None]
    assert query(home, "select participant_id from participants order by 1") == [("P1",), ("P2",), ("P3",)]


@pytest.mark.parametrize(
    "sheets",
    [
        [("participants", ALL, "visible")],
        [("Notes", ["Exported from the case system", "ask about P2"], "visible"), ("Data", ALL, "visible")],
        [("Sheet1", ALL, "visible"), ("Sheet2", [], "visible")],
        [("Data", ALL, "visible"), ("participants", [], "visible")],
    ],
    ids=["one sheet", "notes first", "an empty sheet beside", "an empty sheet named as the table"],
)
def test_the_one_visible_sheet_with_the_header_is_read(tmp_path, sheets):
    path = workbook(tmp_path / "participants.xlsx", sheets)
    rows = read_export(path, "participants").rows
    assert rows["participant_id"].to_list() == ["P1", "P2", "P3"]
    assert rows[ROW].to_list() == [2, 3, 4]


def test_two_visible_sheets_with_the_header_are_refused_naming_them(tmp_path):
    path = workbook(
        tmp_path / "participants.xlsx",
        [("Notes", ["read me"], "visible"), ("March", ALL, "visible"), ("April", STALE, "visible")],
    )
    expected = r"2 visible sheets with a participants header row \('March', 'April'\)"
    with pytest.raises(Refused, match=expected):
        read_export(path, "participants")


def test_a_workbook_whose_rows_are_only_on_a_hidden_sheet_is_refused(tmp_path):
    path = workbook(
        tmp_path / "participants.xlsx", [("Notes", ["read me"], "visible"), ("participants", ALL, "hidden")]
    )
    with pytest.raises(Refused, match="no header row"):
        read_export(path, "participants")


def test_rows_above_the_header_keep_the_sheets_row_numbers(tmp_path):
    """A blank first row is refused as in a CSV (and not dropped, which shifted every row number)."""
    path = workbook(tmp_path / "participants.xlsx", [("participants", ["", *ALL], "visible")])
    with pytest.raises(Refused, match="first row is blank"):
        read_export(path, "participants")
