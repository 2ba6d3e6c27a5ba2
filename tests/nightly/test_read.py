"""The reader over folders of sample files: each readable fault reads the same; each bad file is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import xlsxwriter

from pipelines.nightly import read
from pipelines.nightly.read import ROW, Refused, identify, read_export
from tests.conftest import HEADERS, PARTICIPANTS_HEADER, query, run

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


JOSE = "P{},CM-José,2024-01-10,social_contact,,,,,1990,man,black"


def drop_bytes(home, table, lines: list[bytes], bom: bytes = b"") -> None:
    """An export written byte by byte (encodings mixed as a real file can have them)."""
    path = home.inbox / "s" / f"{table}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bom + b"\n".join([HEADERS[table].encode(), *lines]) + b"\n")


def quarantine(home):
    return query(home, "select row_number, column_name, rule, value from quarantine order by all")


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["utf8", "utf8_bom"])
def test_a_stray_latin1_byte_in_a_utf8_file_quarantines_its_row_not_the_file(home, bom):
    """One value pasted from an older program does not turn every José into JosÃ©."""
    good = [JOSE.format(i).encode() for i in (1, 2, 4)]
    bad = b"P3,CM-Jos\xe9,2024-01-10,social_contact,,,,,1990,man,black"
    drop_bytes(home, "participants", [good[0], bad, *good[1:]], bom)
    result = run(home)
    assert result.published
    assert query(home, "select participant_id, case_manager_id from participants order by 1") == [
        ("P1", "CM-José"),
        ("P2", "CM-José"),
        ("P4", "CM-José"),
    ]
    assert quarantine(home) == [(3, "case_manager_id", "encoding", "CM-Jos\ufffd")]
    [(message,)] = query(home, "select message from quarantine")
    assert (
        message.startswith("case_manager_id holds characters saved in another encoding")
        and "UTF-8" in message
    )
    [(fix,)] = query(home, "select fix from problems")
    assert "saved in another encoding" in fix  # its own advice, not the general pointer
    [file] = result.files
    assert (file.rows_read, file.rows_loaded, file.rows_quarantined) == (4, 3, 1)


def test_a_windows_1252_file_with_an_accidental_utf8_pair_is_still_windows_1252(home):
    """More bytes that are not UTF-8 than UTF-8 characters: the file is Windows-1252, whole."""
    lines = [JOSE.format(i).encode("cp1252") for i in (1, 2, 3)]
    lines.append("P4,CM-Ã©,2024-01-10,social_contact,,,,,1990,man,black".encode("cp1252"))  # bytes C3 A9
    drop_bytes(home, "participants", lines)
    run(home)
    assert quarantine(home) == []
    assert query(home, "select distinct case_manager_id from participants order by 1") == [
        ("CM-José",),
        ("CM-Ã©",),
    ]


def test_an_ascii_file_with_one_stray_byte_reads_exactly_as_windows_1252(home):
    drop_bytes(home, "participants", [b"P1,CM-Jos\xe9,2024-01-10,social_contact,,,,,1990,man,black"])
    run(home)
    assert quarantine(home) == []
    assert query(home, "select case_manager_id from participants") == [("CM-José",)]


@pytest.mark.parametrize("batch", [read.BATCH_CHARS, 60, 1])
def test_quoted_newlines_stray_bytes_blank_and_ragged_rows_across_batches(home, monkeypatch, batch):
    """Rows are numbered as a spreadsheet shows them, however the file is cut into batches."""
    monkeypatch.setattr(read, "BATCH_CHARS", batch)
    drop_bytes(
        home,
        "participants",
        [
            b'P1,"CM\r\n1",2024-01-10,social_contact,,,,,1990,man,black',  # row 2, over two lines
            b"P2,CM-Jos\xe9,2024-01-10,social_contact,,,,,1990,man,black",  # row 3
            '"P3","José, CM",2024-01-10,social_contact,,,,,1990,man,black'.encode(),  # row 4
            b"",  # row 5, blank
            b"P5,CM5,2024-01-10,social_contact,,,,,1990,man",  # row 6, a value short
            b'P6,"CM\n6\n",2024-01-10,social_contact,,,,,1990,man,black',  # row 7, over three lines
            b"P7,CM7,2024-01-10,social_contact,,,,,1990,man,black",  # row 8
        ],
    )
    [file] = run(home).files
    assert quarantine(home) == [
        (3, "case_manager_id", "encoding", "CM-Jos\ufffd"),
        (6, None, "ragged_row", "P5,CM5,2024-01-10,social_contact,,,,,1990,man,"),
    ]
    assert query(home, "select participant_id, case_manager_id from participants order by 1") == [
        ("P1", "CM\n1"),
        ("P3", "José, CM"),
        ("P6", "CM\n6"),
        ("P7", "CM7"),
    ]
    assert (file.rows_read, file.rows_loaded, file.rows_quarantined, file.blank_rows) == (6, 4, 2, 1)


def test_a_quote_never_closed_is_refused_naming_its_row(tmp_path):
    """Everything after an open quote would be one value, too long to be one: refused, not a crash."""
    lines = [HEADERS["participants"], JOSE.format(1), 'P2,"CM2,2024-01-10', *["x" * 80] * 2000]
    path = tmp_path / "participants.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(Refused, match="row 3 cannot be read as CSV"):
        read_export(path, "participants")


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
