"""A snapshot's metrics.xlsx: metrics.csv's rows for people (labels, dates, formats), never a
formula, a README sheet, and the same bytes for the same numbers and as-of."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import polars as pl
import pytest

from pipelines.core import settings
from pipelines.core.metrics import METRICS
from pipelines.funder.snapshot import take_snapshot
from pipelines.funder.workbook import metrics_xlsx
from tests.conftest import SNAPSHOT_AS_OF, SNAPSHOT_PERIOD, snapshot_demo

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
SNAKE = re.compile(r"\b[A-Za-z0-9]+_[A-Za-z0-9_]+\b")
EXCEL_EPOCH = dt.date(1899, 12, 30)


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = snapshot_demo(tmp_path_factory.mktemp("workbook") / "home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings.CHROMIUM_ENV, "/nonexistent/chromium")
        return take_snapshot(home, SNAPSHOT_PERIOD)


class Workbook:
    """An xlsx file read as its XML: sheets by name, each cell's text or number and number format."""

    def __init__(self, data: bytes) -> None:
        self.zip = zipfile.ZipFile(io.BytesIO(data))
        shared = self._xml("xl/sharedStrings.xml")
        self.strings = ["".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")) for si in shared]
        styles = self._xml("xl/styles.xml")
        formats = {
            int(f.get("numFmtId")): f.get("formatCode") for f in styles.iterfind("m:numFmts/m:numFmt", NS)
        }
        formats |= {0: "General", 3: "#,##0", 10: "0.00%", 14: "mm-dd-yy"}
        self.cell_formats = [
            formats.get(int(xf.get("numFmtId", 0)), "?") for xf in styles.iterfind("m:cellXfs/m:xf", NS)
        ]
        book = self._xml("xl/workbook.xml")
        self.names = [s.get("name") for s in book.iterfind("m:sheets/m:sheet", NS)]

    def _xml(self, name: str) -> ElementTree.Element:
        return ElementTree.fromstring(self.zip.read(name))

    def sheet(self, name: str) -> list[list[tuple[object, str, bool]]]:
        """Rows of (value, number format, is a formula) per cell; text is a str, a number a float."""
        root = self._xml(f"xl/worksheets/sheet{self.names.index(name) + 1}.xml")
        rows = []
        for row in root.iterfind("m:sheetData/m:row", NS):
            cells = []
            for c in row.iterfind("m:c", NS):
                v = c.find("m:v", NS)
                text = None if v is None else v.text
                value: object = (
                    self.strings[int(text)] if c.get("t") == "s" else (None if text is None else float(text))
                )
                cells.append(
                    (
                        self._column(c.get("r")),
                        value,
                        self.cell_formats[int(c.get("s", 0))],
                        c.find("m:f", NS) is not None,
                    )
                )
            rows.append(cells)
        return rows

    @staticmethod
    def _column(ref: str) -> int:
        letters = re.match(r"[A-Z]+", ref)[0]
        index = 0
        for ch in letters:
            index = index * 26 + ord(ch) - 64
        return index - 1


def by_column(cells: list[tuple]) -> dict[int, tuple[object, str, bool]]:
    return {col: (value, fmt, formula) for col, value, fmt, formula in cells}


def test_metrics_sheet_has_every_row_of_metrics_csv_with_labels_dates_and_formats(snap):
    rows = list(csv.DictReader(io.StringIO((snap / "metrics.csv").read_text(encoding="utf-8"))))
    book = Workbook((snap / "metrics.xlsx").read_bytes())
    assert book.names == ["README", "Metrics"]
    sheet = book.sheet("Metrics")
    header = [value for _, value, _, _ in sheet[0]]
    assert header[:3] == ["Measure", "Period", "Month or quarter"] and "Value" in header
    assert not [h for h in header if SNAKE.search(str(h))]
    assert len(sheet) == len(rows) + 1
    formats_seen = set()
    for r, cells in zip(rows, sheet[1:], strict=True):
        c = by_column(cells)
        assert c[0][0] == METRICS[r["metric"]].label
        assert not any(formula for _, _, formula in c.values())
        # Dates are dates: a day number with a date format, the period's first and last days.
        if "Q" in r["period"]:
            year, q = r["period"].split("-Q")
            first = dt.date(int(year), 3 * int(q) - 2, 1)
            assert c[2][0] == "Quarter" and c[1][0] == f"Q{q} {year}"
        else:
            first = dt.date.fromisoformat(r["period"] + "-01")
            assert c[2][0] == "Month" and c[1][0] == first.strftime("%b %Y")
        assert c[3][0] == (first - EXCEL_EPOCH).days and c[3][1] == "yyyy-mm-dd"
        assert c[4][1] == "yyyy-mm-dd" and c[4][0] > c[3][0]
        hidden = r["suppressed"] == "true"
        assert c[10][0] == ("Yes" if hidden else "No")
        if hidden:
            assert 7 not in c and 9 not in c  # no numerator, no value: never a hidden number
            assert (8 in c) == (r["denominator"] != "")
            continue
        assert c[7][0] == int(r["numerator"]) and c[8][0] == int(r["denominator"])
        assert c[9][0] == pytest.approx(float(r["value"]))
        expected = "#,##0" if r["metric"] == "active_participants" else "0.0%"
        assert c[9][1] == expected
        formats_seen.add(expected)
    assert formats_seen == {"#,##0", "0.0%"}
    texts = [s for s in book.strings]
    assert not [s for s in texts if SNAKE.search(s) or s == "None"], [s for s in texts if SNAKE.search(s)][:5]
    assert "Arrest diversion" in texts and "Referral type" in texts


def test_polars_reads_the_periods_as_dates(snap):
    frame = pl.read_excel(snap / "metrics.xlsx", sheet_name="Metrics")
    assert frame.schema["From"] in (pl.Date, pl.Datetime("ms"), pl.Datetime("us"), pl.Datetime("ns"))
    assert frame["From"].min().year == 2023  # a year before 2024-Q1: the comparison quarter


def test_readme_says_what_the_file_is_the_quarter_the_rule_and_where_the_methods_are(snap):
    book = Workbook((snap / "metrics.xlsx").read_bytes())
    readme = {by_column(r).get(0, (None,))[0]: by_column(r).get(1, (None,))[0] for r in book.sheet("README")}
    assert "metrics.csv" in readme["What this file is"] and "Metrics" in readme["What this file is"]
    assert readme["Quarter"] == "Q1 2024 (January to March 2024)"
    assert readme["Data as of"] == (SNAPSHOT_AS_OF - EXCEL_EPOCH).days
    rule = readme["Suppression"]
    assert "1 to 10" in rule and "fewer than 11" in rule and rule.count(". ") <= 1
    assert "report.html" in readme["Methods"] and "appendix" in readme["Methods"]


def test_text_that_a_spreadsheet_would_run_is_neutralised():
    header = "metric,period,dimension,group,numerator,denominator,value,suppressed\n"
    lines = [
        "active_participants,2024-Q1,all,all,50,50,50.000000,false",
        'active_participants,2024-Q1,site,=HYPERLINK("http://x"),20,20,20.000000,false',
        "active_participants,2024-Q1,site,+1,30,30,30.000000,false",
        "active_participants,2024-Q1,site,@SUM(A1),,,,true",
        "active_participants,2024-Q1,gender,-2,,,,true",
    ]
    book = Workbook(metrics_xlsx((header + "\n".join(lines) + "\n").encode(), "2024-Q1", "2024-06-15"))
    groups = [by_column(r)[6][0] for r in book.sheet("Metrics")[1:]]
    assert groups[1:] == ['\'=HYPERLINK("http://x")', "'+1", "'@SUM(A1)", "'-2"]
    assert not any(formula for r in book.sheet("Metrics") for _, _, _, formula in r)


def test_the_same_numbers_and_as_of_give_the_same_bytes(snap):
    data = (snap / "metrics.csv").read_bytes()
    first = metrics_xlsx(data, SNAPSHOT_PERIOD, SNAPSHOT_AS_OF.isoformat())
    assert metrics_xlsx(data, SNAPSHOT_PERIOD, SNAPSHOT_AS_OF.isoformat()) == first
    # The document's own dates are the as-of date, not the time it was written.
    core = zipfile.ZipFile(io.BytesIO(first)).read("docProps/core.xml").decode()
    assert re.findall(r"<dcterms:(?:created|modified)[^>]*>([^<]+)<", core) == ["2024-06-15T00:00:00Z"] * 2
    assert {i.date_time for i in zipfile.ZipFile(io.BytesIO(first)).infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert metrics_xlsx(data, SNAPSHOT_PERIOD, "2024-06-16") != first
