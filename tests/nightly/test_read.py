"""The reader over folders of sample files: each readable fault reads the same; each bad file is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipelines.nightly import read
from pipelines.nightly.read import Refused, identify, read_export
from tests.conftest import HEADERS, query, run

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
