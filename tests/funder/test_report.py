"""A snapshot's report.html and report.pdf: the same numbers as metrics.csv, offline, nothing hidden shown."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
from playwright.sync_api import Browser, Route
from plotly.offline import get_plotlyjs

from pipelines.core import settings
from pipelines.core.metrics import SMALL_COUNT
from pipelines.core.settings import Home
from pipelines.funder import pdf
from pipelines.funder.report import report_html
from pipelines.funder.snapshot import metrics_csv, take_snapshot
from tests.conftest import SNAPSHOT_AS_OF, SNAPSHOT_PERIOD, snapshot_demo

AS_OF = SNAPSHOT_AS_OF
PERIOD = SNAPSHOT_PERIOD
MISSING_CHROMIUM = "/nonexistent/chromium"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """A small demo program published as of AS_OF (2024-Q1 complete)."""
    return snapshot_demo(tmp_path_factory.mktemp("report") / "home")


@pytest.fixture(scope="module")
def snap(home: Home) -> Path:
    """A snapshot taken where there is no Chromium: the HTML report only."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings.CHROMIUM_ENV, MISSING_CHROMIUM)
        return take_snapshot(home, PERIOD)


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


class Page(HTMLParser):
    """The report's tables (attributes and cell texts), figures (JSON), and every tag's attributes."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tables: list[tuple[dict, list[list[str]]]] = []
        self.figures: list[tuple[dict, dict]] = []
        self.tags: list[tuple[str, dict]] = []
        self._cell: list[str] | None = None
        self._figure: dict | None = None
        self._text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "table":
            self.tables.append((attrs, []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "script" and attrs.get("type") == "application/json":
            self._figure, self._text = attrs, []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "script" and self._figure is not None:
            self.figures.append((self._figure, json.loads("".join(self._text))))
            self._figure = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._figure is not None:
            self._text.append(data)


def table_of(page: Page, metric: str, dimension: str) -> list[list[str]]:
    wanted = (metric, dimension)
    [rows] = [r for a, r in page.tables if (a.get("data-metric"), a.get("data-dimension")) == wanted]
    return rows[1:]  # the header row


def figure_points(page: Page, metric: str, dimension: str) -> list[tuple]:
    """(x, trace name, y, customdata) of every bar of the chart of (metric, dimension)."""
    points = []
    for attrs, figure in page.figures:
        if (attrs["data-metric"], attrs["data-dimension"]) == (metric, dimension):
            for trace in figure["data"]:
                for x, y, c in zip(trace["x"], trace["y"], trace["customdata"], strict=True):
                    points.append((x, trace.get("name"), y, tuple(c)))
    return points


def expected_cells(row: dict[str, str], is_count: bool) -> list[str]:
    """A metrics.csv row as the report's table should show it, worked out from the counts alone."""
    if row["suppressed"] == "true":
        # The numerator and value go; the denominator stays unless it is hidden too.
        shown = f"{int(row['denominator']):,}" if row["denominator"] else "suppressed"
        return ["suppressed", shown, "suppressed"]
    n, d = int(row["numerator"]), int(row["denominator"])
    return [f"{n:,}", f"{d:,}", f"{n:,}" if is_count else f"{n / d:.1%}"]


def test_the_report_states_definitions_rules_and_provenance(snap):
    page = (snap / "report.html").read_text(encoding="utf-8")
    manifest = json.loads((snap / "manifest.json").read_text())
    assert '<html lang="en">' in page
    for m in manifest["metrics"].values():
        for text in (m["label"], m["numerator"], m["denominator"]):
            assert html.escape(text) in page
    for key in ("quarter_definition", "suppression_rule"):
        assert html.escape(manifest[key]) in page
    for key in ("snapshot_id", "created_at", "run_id", "as_of", "release_sha256", "metrics_csv_sha256"):
        assert manifest[key] in page, key
    for f in manifest["archived_files"]:
        assert f"<td>{f['site_id']}</td><td>{f['table']}</td><td><code>{f['sha256'][:12]}</code>" in page
    assert f"{len(manifest['archived_files'])} (listed at the end)" in page
    # The manifest lists the report it was written with, and says why there is no PDF.
    assert manifest["reports"] == [
        {"name": "report.html", "sha256": hashlib.sha256((snap / "report.html").read_bytes()).hexdigest()}
    ]
    assert manifest["report_pdf"] is False and MISSING_CHROMIUM in manifest["report_pdf_reason"]
    assert not (snap / "report.pdf").exists()
    assert (snap / "report.html").stat().st_mode & 0o777 == 0o444


def test_the_report_loads_nothing_from_anywhere(snap):
    text = (snap / "report.html").read_text(encoding="utf-8")
    # plotly.js is inline once; its own source mentions URLs, nothing else in the page may.
    bundle = get_plotlyjs()
    assert text.count(bundle) == 1
    rest = text.replace(bundle, "")
    assert "http://" not in rest and "https://" not in rest and "//cdn" not in rest
    page = Page(text)
    for tag, attrs in page.tags:
        assert "src" not in attrs and tag not in ("link", "img", "iframe", "object", "embed"), (tag, attrs)
        assert attrs.get("href", "#").startswith("#"), attrs
    [csp] = [a["content"] for t, a in page.tags if a.get("http-equiv") == "Content-Security-Policy"]
    assert "default-src 'none'" in csp


def test_every_table_has_the_numbers_of_metrics_csv(snap):
    rows = csv_rows((snap / "metrics.csv").read_bytes())
    page = Page((snap / "report.html").read_text(encoding="utf-8"))
    keys = {(r["metric"], r["dimension"]) for r in rows}
    assert len(page.tables) == len(keys) + 1  # and the archived files
    for metric, dimension in keys:
        table = table_of(page, metric, dimension)
        mine = [r for r in rows if (r["metric"], r["dimension"]) == (metric, dimension)]
        expected = {
            (r["group"], r["period"]): expected_cells(r, metric == "active_participants") for r in mine
        }
        if dimension == "all":
            shown = {("all", cells[0]): cells[1:] for cells in table}
        else:
            shown = {(cells[0], cells[1]): cells[2:] for cells in table}
        assert shown == expected and len(table) == len(mine)


def test_charts_hold_only_the_shown_values(snap):
    rows = csv_rows((snap / "metrics.csv").read_bytes())
    page = Page((snap / "report.html").read_text(encoding="utf-8"))
    for metric, dimension in {(r["metric"], r["dimension"]) for r in rows}:
        shown = [
            r
            for r in rows
            if (r["metric"], r["dimension"]) == (metric, dimension) and r["suppressed"] == "false"
        ]
        expected = sorted(
            (
                r["period"] if dimension == "all" else r["group"],
                None if dimension == "all" else r["period"],
                float(r["value"]),
                (int(r["numerator"]), int(r["denominator"])),
            )
            for r in shown
        )
        points = sorted(figure_points(page, metric, dimension))
        assert points == expected, (metric, dimension)
    for _, figure in page.figures:
        # Periods like '2024-01' would be dates to Plotly 7 on a date axis.
        assert figure["layout"]["xaxis"]["type"] == "category"


def test_no_chart_draws_a_rate_on_fewer_than_eleven(snap):
    """The one small-numbers rule (a rate on fewer than SMALL_COUNT people): the other pages draw
    it hollow; a snapshot suppresses it, so the report never draws it at all."""
    rows = csv_rows((snap / "metrics.csv").read_bytes())
    # No shown denominator is under 11; rows whose denominator was small hide it, and their rate.
    assert all(int(r["denominator"]) >= SMALL_COUNT for r in rows if r["denominator"])
    hidden = [r for r in rows if not r["denominator"]]
    assert hidden and {r["suppressed"] for r in hidden} == {"true"}
    page = Page((snap / "report.html").read_text(encoding="utf-8"))
    drawn = [
        denominator
        for attrs, figure in page.figures
        if attrs["data-metric"] != "active_participants"
        for trace in figure["data"]
        for _, denominator in trace["customdata"]
    ]
    assert drawn and min(drawn) >= SMALL_COUNT


def crafted_cells() -> pl.DataFrame:
    """A month where site 'b' has 7 of 20 in permanent housing, and a group label that is HTML."""
    cells = [
        ("permanent_housing", "all", "all", 40, 100),
        ("permanent_housing", "site", "a", 33, 80),
        ("permanent_housing", "site", "b", 7, 20),
        ("permanent_housing", "gender", "<b>woman</b>", 25, 50),
        ("permanent_housing", "gender", '"><script>alert(1)</script>', 15, 50),
        ("active_participants", "all", "all", 120, 120),
        ("active_participants", "site", "a", 90, 90),
        ("active_participants", "site", "b", 30, 30),
    ]
    return pl.DataFrame(
        [(m, "2024-01", d, g, n, den) for m, d, g, n, den in cells],
        schema=["metric", "period", "dimension", "group", "numerator", "denominator"],
        orient="row",
    ).with_columns(
        value=pl.when(pl.col("metric") == "active_participants")
        .then(pl.col("numerator").cast(pl.Float64))
        .otherwise(pl.col("numerator") / pl.col("denominator"))
    )


def test_a_suppressed_cell_is_nowhere_in_the_report_and_labels_are_escaped(snap):
    manifest = json.loads((snap / "manifest.json").read_text())
    data = metrics_csv(crafted_cells())
    rows = csv_rows(data)
    hidden = {(r["metric"], r["dimension"], r["group"]) for r in rows if r["suppressed"] == "true"}
    # 7 is a small count, and 'a' goes with it, or it would be 40 - 33.
    assert {("permanent_housing", "site", "b"), ("permanent_housing", "site", "a")} <= hidden
    text = report_html(data, manifest)
    page = Page(text)

    table = table_of(page, "permanent_housing", "site")
    # The denominators (80 and 20 with a known housing status) are no small count: they stay.
    assert table == [
        ["a", "2024-01", "suppressed", "80", "suppressed"],
        ["b", "2024-01", "suppressed", "20", "suppressed"],
    ]
    assert figure_points(page, "permanent_housing", "site") == []
    secrets = {(33, 80), (7, 20)}
    for _, figure in page.figures:
        for trace in figure["data"]:
            assert not secrets & {tuple(c) for c in trace["customdata"]}
            assert not {33 / 80, 7 / 20} & set(trace["y"])
    everything = " ".join(c for _, t in page.tables for row in t for c in row)
    assert not re.search(r"\b(7|33|41\.[23]%|35\.0%)\b", everything)
    # The shown counts are there, so the check above could have failed.
    assert ["a", "2024-01", "90", "90", "90"] in table_of(page, "active_participants", "site")

    for label in ("<b>woman</b>", '"><script>alert(1)</script>'):
        assert label not in text
        assert html.escape(label) in text
        assert any(html.escape(label) == x for x, *_ in figure_points(page, "permanent_housing", "gender"))
    assert [c[0] for c in table_of(page, "permanent_housing", "gender")] == sorted(
        ["<b>woman</b>", '"><script>alert(1)</script>']
    )


def test_offline_in_chromium_the_page_draws_every_chart(snap, browser: Browser):
    rows = csv_rows((snap / "metrics.csv").read_bytes())
    charts = {(r["metric"], r["dimension"]) for r in rows if r["suppressed"] == "false"}
    bars = sum(r["suppressed"] == "false" for r in rows)
    url = (snap / "report.html").as_uri()
    blocked: list[str] = []

    def file_only(route: Route) -> None:
        if route.request.url == url:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
    context.route("**/*", file_only)
    requests: list[str] = []
    problems: list[str] = []
    try:
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(url, wait_until="load")
        page.wait_for_function(
            "Array.from(document.querySelectorAll('.plot')).every(p => p.querySelector('.main-svg'))",
            timeout=30_000,
        )
        drawn = page.evaluate(
            """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
                   .filter(p => p.querySelector('.main-svg'))
                   .map(p => [p.dataset.metric, p.dataset.dimension])"""
        )
        assert page.locator(".js-plotly-plot .main-svg").count() > 0
        assert len(drawn) == len(charts) and {tuple(d) for d in drawn} == charts
        assert page.locator(".js-plotly-plot .trace.bars .point").count() == bars
    finally:
        context.close()
    assert problems == [] and blocked == []
    assert set(requests) == {url}


def test_report_pdf_is_printed_where_chromium_is(home, chromium, monkeypatch):
    monkeypatch.setenv(settings.CHROMIUM_ENV, str(chromium))
    folder = take_snapshot(home, PERIOD)
    report = folder / "report.pdf"
    data = report.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 100_000
    # One page at least per metric: each starts a page.
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", data))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert pages > len(manifest["metrics"])
    assert manifest["report_pdf"] is True and manifest["report_pdf_reason"] is None
    assert [r["name"] for r in manifest["reports"]] == ["report.html", "report.pdf"]
    assert manifest["reports"][1]["sha256"] == hashlib.sha256(data).hexdigest()
    assert report.stat().st_mode & 0o777 == 0o444
    assert not [p for p in home.snapshots.iterdir() if p.name.startswith(".")]


def fake_chromium(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "chromium"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return script


def test_a_failing_chromium_costs_only_the_pdf(home, tmp_path, monkeypatch):
    # It writes half a file and fails, as a crash would.
    chromium = fake_chromium(
        tmp_path, 'for a in "$@"; do case $a in --print-to-pdf=*) echo junk > "${a#*=}";; esac; done; exit 3'
    )
    monkeypatch.setenv(settings.CHROMIUM_ENV, str(chromium))
    folder = take_snapshot(home, PERIOD)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["report_pdf"] is False and "code 3" in manifest["report_pdf_reason"]
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "metrics.csv", "report.html"]


def test_a_hung_chromium_is_killed_and_leaves_no_pdf(tmp_path, monkeypatch):
    pid_file = tmp_path / "pid"
    chromium = fake_chromium(tmp_path, f'echo $$ > "{pid_file}"\nexec sleep 60')
    monkeypatch.setenv(settings.CHROMIUM_ENV, str(chromium))
    page = tmp_path / "report.html"
    page.write_text("<!doctype html><title>x</title>")
    reason = pdf.print_pdf(page, tmp_path / "report.pdf", timeout_s=1)
    assert reason is not None and "within 1 s" in reason
    assert not (tmp_path / "report.pdf").exists()
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)
