"""pipelines.core.export.xlsx_bytes: a table as an .xlsx people open: labels as headers, dates as
dates, percentages and counts formatted, no cell a spreadsheet would run, the same bytes each time."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from xml.etree import ElementTree

import polars as pl
import pytest

from pipelines.core.export import FORMULA_STARTS, csv_bytes, xlsx_bytes

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
ESCAPED = re.compile(r"_x([0-9A-F]{4})_")
RISKY = [start + "SUM(A1)" for start in FORMULA_STARTS]


def frame() -> pl.DataFrame:
    n = len(RISKY)
    return pl.DataFrame(
        {
            "Month": [dt.date(2024, 1 + i, 1) for i in range(n)],
            "Group": RISKY,
            "Participants": list(range(1_000, 1_000 + n)),
            "Percent": [12.5 * (i + 1) for i in range(n)],
            "Share": [0.1 * (i + 1) for i in range(n)],
            "Days per participant": [1.25] * n,
            "Flag": [True, False] * (n // 2),
            "Note": [None, "kept"] * (n // 2),
        }
    )


def cells(data: bytes, sheet: int = 1) -> dict[str, tuple[str | None, str, str]]:
    """Each cell of a sheet by reference: (type attribute, number format, raw text or value)."""
    book = zipfile.ZipFile(io.BytesIO(data))
    strings = [  # OOXML writes a control character as _xHHHH_
        ESCAPED.sub(lambda m: chr(int(m[1], 16)), "".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")))
        for si in ElementTree.fromstring(book.read("xl/sharedStrings.xml"))
    ]
    styles = ElementTree.fromstring(book.read("xl/styles.xml"))
    codes = {int(f.get("numFmtId")): f.get("formatCode") for f in styles.iterfind("m:numFmts/m:numFmt", NS)}
    formats = [
        codes.get(int(xf.get("numFmtId", 0)), "builtin") for xf in styles.iterfind("m:cellXfs/m:xf", NS)
    ]
    root = ElementTree.fromstring(book.read(f"xl/worksheets/sheet{sheet}.xml"))
    found = {}
    for c in root.iter(f"{{{NS['m']}}}c"):
        assert c.find("m:f", NS) is None, "a formula"
        value = c.findtext("m:v", default="", namespaces=NS)
        kind = c.get("t")
        text = strings[int(value)] if kind == "s" else value
        found[c.get("r")] = (kind, formats[int(c.get("s", 0))], text)
    return found


def test_headers_dates_formats_and_no_formula() -> None:
    data = xlsx_bytes(frame(), sheet="Trends", per_hundred=("Percent",), percent=("Share",))
    sheet = cells(data)
    assert [sheet[f"{col}1"][2] for col in "ABCDEFGH"] == frame().columns
    # Dates are numbers under a date format: 2024-01-01 is Excel day 45292.
    assert sheet["A2"][1:] == ("yyyy-mm-dd", str((dt.date(2024, 1, 1) - dt.date(1899, 12, 30)).days))
    # Text that a spreadsheet would run is text, behind a single quote; never a formula (cells()).
    assert [sheet[f"B{row}"] for row in range(2, 2 + len(RISKY))] == [
        ("s", "builtin", "'" + text) for text in RISKY
    ]
    assert sheet["C2"][1:] == ("#,##0", "1000")
    # A percent (12.5) and a share (0.1) are both stored as shares, shown as percentages.
    assert sheet["D2"][1] == "0.0%" and float(sheet["D2"][2]) == pytest.approx(0.125)
    assert sheet["E3"][1] == "0.0%" and float(sheet["E3"][2]) == pytest.approx(0.2)
    assert sheet["F2"][1] == "#,##0.0"
    assert (sheet["G2"][2], sheet["G3"][2]) == ("Yes", "No")
    assert "H2" not in sheet and sheet["H3"][2] == "kept"  # a null is an empty cell


def test_read_back_with_polars() -> None:
    data = xlsx_bytes(frame(), sheet="Trends", per_hundred=("Percent",))
    back = pl.read_excel(io.BytesIO(data), sheet_name="Trends")
    assert back.columns == frame().columns
    assert back["Month"].dtype == pl.Date and back["Month"].to_list() == frame()["Month"].to_list()
    assert back["Participants"].to_list() == frame()["Participants"].to_list()
    assert back["Percent"].to_list() == pytest.approx([v / 100 for v in frame()["Percent"]])


def test_same_bytes_for_the_same_frame_and_a_readme_sheet() -> None:
    first = xlsx_bytes(frame(), sheet="Data")
    assert xlsx_bytes(frame(), sheet="Data") == first
    assert xlsx_bytes(frame().with_columns(pl.col("Participants") + 1), sheet="Data") != first
    with_readme = xlsx_bytes(frame(), sheet="Data", readme=[("What this is", "=HYPERLINK(1)")])
    names = pl.read_excel(io.BytesIO(with_readme), sheet_id=0)
    assert list(names) == ["README", "Data"]
    assert cells(with_readme, 1)["B3"][2] == "'=HYPERLINK(1)"


def test_a_header_that_a_spreadsheet_would_run_is_neutralised_as_in_the_csv() -> None:
    risky = pl.DataFrame({"=cmd": ["a"], "Sheet [1]": [1]})
    sheet = cells(xlsx_bytes(risky, sheet="Open problems: [all]"))
    assert sheet["A1"][2] == csv_bytes(risky).decode().split(",")[0] == "'=cmd"
