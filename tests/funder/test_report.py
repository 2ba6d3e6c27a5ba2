"""A snapshot's report.html: results first (page 1's sentences are metrics.csv's numbers), labels not
codes, the same numbers as metrics.csv, a hidden group kept in its place, offline, nothing hidden shown."""

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
from pipelines.core.metrics import METRICS, SMALL_COUNT
from pipelines.core.settings import Home
from pipelines.funder import names, pdf
from pipelines.funder.report import report_html
from pipelines.funder.snapshot import metrics_csv, take_snapshot
from tests.conftest import SNAPSHOT_AS_OF, SNAPSHOT_PERIOD, snapshot_demo

AS_OF = SNAPSHOT_AS_OF
PERIOD = SNAPSHOT_PERIOD  # 2024-Q1: the quarter before is 2023-Q4, a year earlier 2023-Q1
BEFORE, YEAR_AGO = "2023-Q4", "2023-Q1"
MISSING_CHROMIUM = "/nonexistent/chromium"
MARK = f"fewer than {SMALL_COUNT}"
SNAKE = re.compile(r"\b[A-Za-z0-9]+_[A-Za-z0-9_]+\b")
NONE = re.compile(r"\bNone\b")


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
    """The report's tables, figures (JSON), headline items, every tag and the visible text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tables: list[tuple[dict, list[list[str]]]] = []
        self.figures: dict[str, dict] = {}
        self.tags: list[tuple[str, dict]] = []
        self.headlines: dict[str, str] = {}
        self.sections: list[str] = []
        self.visible: list[str] = []
        self._cell: list[str] | None = None
        self._figure: dict | None = None
        self._item: tuple[str, list[str]] | None = None
        self._text: list[str] = []
        self._hidden = 0
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag in ("script", "style", "title"):
            self._hidden += 1
        if tag == "section":
            self.sections.append(attrs.get("id", ""))
        if tag == "table":
            self.tables.append((attrs, []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "li" and "data-metric" in attrs:
            self._item = (attrs["data-metric"], [])
        elif tag == "script" and attrs.get("type") == "application/json":
            self._figure, self._text = attrs, []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "title"):
            self._hidden -= 1
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "li" and self._item is not None:
            self.headlines[self._item[0]] = "".join(self._item[1])
            self._item = None
        elif tag == "script" and self._figure is not None:
            self.figures[self._figure["data-figure"]] = json.loads("".join(self._text))
            self._figure = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(" " + data)
        if self._item is not None:
            self._item[1].append(data)
        if self._figure is not None:
            self._text.append(data)
        if not self._hidden:
            self.visible.append(data)

    def table(self, name: str) -> list[list[str]]:
        [rows] = [r for a, r in self.tables if a.get("data-table") == name]
        return rows


def read(snap: Path) -> tuple[list[dict[str, str]], Page, dict]:
    rows = csv_rows((snap / "metrics.csv").read_bytes())
    page = Page((snap / "report.html").read_text(encoding="utf-8"))
    return rows, page, json.loads((snap / "manifest.json").read_text())


def figure_strings(figure: dict) -> list[str]:
    """Every text a figure draws: titles, tick labels, categories, trace names and texts, notes."""
    out: list[str] = []
    layout = figure["layout"]
    for key, axis in layout.items():
        if key.startswith(("xaxis", "yaxis")):
            out += [str(t) for t in axis.get("ticktext", []) + axis.get("categoryarray", [])]
            out.append(str((axis.get("title") or {}).get("text", "")))
    out += [str(a.get("text", "")) for a in layout.get("annotations", [])]
    for trace in figure["data"]:
        out.append(str(trace.get("name", "")))
        out += [str(t) for t in trace.get("text") or []]
        if trace.get("orientation") == "h" or trace.get("type") == "scatter":
            out += [str(y) for y in trace.get("y") or [] if isinstance(y, str)]
    return out


# --- page 1 ---------------------------------------------------------------------------------------


def last_month(quarter: str) -> str:
    year, q = quarter.split("-Q")
    return f"{year}-{3 * int(q):02d}"


def expected_cell(rows: list[dict[str, str]], metric: str, quarter: str) -> dict[str, str]:
    """The published row a headline reads, worked out here: a status at the end of the quarter (its
    last month), the rest over the whole quarter."""
    status = metric in {"permanent_housing", "unsheltered", "employed", "income_or_benefits"}
    period = last_month(quarter) if status else quarter
    [row] = [r for r in rows if (r["metric"], r["period"], r["dimension"]) == (metric, period, "all")]
    return row


def test_page_one_says_the_headlines_with_the_numbers_of_metrics_csv(snap):
    rows, page, _ = read(snap)
    assert page.sections[0] == "summary"
    assert set(page.headlines) == {
        "active_participants",
        "permanent_housing",
        "unsheltered",
        "treatment_engaged",
        "employed",
        "income_or_benefits",
        "arrested",
    }
    compared = 0
    for metric, sentence in page.headlines.items():
        now, before, year = (expected_cell(rows, metric, q) for q in (PERIOD, BEFORE, YEAR_AGO))
        at_end = metric in {"permanent_housing", "unsheltered", "employed", "income_or_benefits"}
        if now["suppressed"] == "true":  # a small program: hidden even program-wide, and never said
            assert f"{MARK}*" in sentence and not re.search(r"\d+%|\d+ of \d+", sentence), sentence
            continue
        before_when = "at the end of December 2023" if at_end else "the quarter before"
        if metric == "active_participants":
            n = int(now["numerator"])
            assert sentence.startswith(f"{n:,} participants were active in Q1 2024")
            if before["suppressed"] == "false":
                b = int(before["numerator"])
                change = "up from" if n > b else "down from" if n < b else None
                assert (
                    f"{change} {b:,} the quarter before" if change else "the same as the quarter before"
                ) in sentence
            if year["suppressed"] == "false":
                assert sentence.endswith(f"a year earlier, {int(year['numerator']):,} were.")
            continue
        n, d = int(now["numerator"]), int(now["denominator"])
        share = int(now["numerator"]) / int(now["denominator"])
        assert sentence.startswith(f"{share:.0%} of "), sentence
        assert f"({n:,} of {d:,})" in sentence
        assert ("at the end of March 2024" if at_end else "in the quarter") in sentence
        if before["suppressed"] == "false":
            then = int(before["numerator"]) / int(before["denominator"])
            if round(share * 100) != round(then * 100):
                direction = "up" if round(share * 100) > round(then * 100) else "down"
                assert f"{direction} from {then:.0%} {before_when}" in sentence, sentence
            else:
                assert f"the same as {before_when}" in sentence
            compared += 1
        else:  # a hidden number is never said
            assert before_when not in sentence
        if year["suppressed"] == "false":
            then = int(year["numerator"]) / int(year["denominator"])
            assert sentence.endswith(f"), {then:.0%}."), sentence
            assert ("(at the end of March 2023)" if at_end else "(Q1 2023)") in sentence
            compared += 1
        else:
            assert "a year earlier" not in sentence
    assert compared >= 4  # comparisons are shown, so the checks above could fail
    # The chart of page 1 draws those shares, this quarter, the quarter before and a year earlier.
    drawn = {
        (t["meta"]["period"], y, x)
        for t in page.figures["summary"]["data"]
        if "period" in (t.get("meta") or {})
        for y, x in zip(t["y"], t["x"], strict=True)
    }
    for metric in set(page.headlines) - {"active_participants"}:
        for key, quarter in (("now", PERIOD), ("before", BEFORE), ("year_ago", YEAR_AGO)):
            r = expected_cell(rows, metric, quarter)
            if r["suppressed"] == "false":
                assert (key, METRICS[metric].label, int(r["numerator"]) / int(r["denominator"])) in drawn
            else:
                assert not [k for k in drawn if k[:2] == (key, METRICS[metric].label)]


def test_the_report_leads_with_results_and_keeps_methods_for_the_appendix(snap):
    rows, page, manifest = read(snap)
    assert page.sections == [
        "summary",
        "months",
        "by-referral_type",
        "by-cohort",
        "by-site",
        "by-race",
        "by-gender",
        "by-age_band",
        "methods",
        "provenance",
    ]
    text = (snap / "report.html").read_text(encoding="utf-8")
    summary = text[: text.index('id="months"')]
    # Page 1 holds no hash, no counting rule, no suppression rule in full.
    assert "SHA-256" not in summary and manifest["release_sha256"] not in summary
    assert html.escape(manifest["suppression_rule"]) not in summary
    assert text.index('id="by-cohort"') < text.index('id="appendix"') < text.index('id="by-race"')
    appendix = text[text.index('id="appendix"') :]
    for m in manifest["metrics"].values():
        for part in (m["label"], m["numerator"], m["denominator"]):
            assert html.escape(part) in appendix
    for key in ("quarter_definition", "suppression_rule"):
        assert html.escape(manifest[key]) in appendix
    for key in (
        "snapshot_id",
        "created_at",
        "run_id",
        "release_sha256",
        "metrics_csv_sha256",
        "metrics_xlsx_sha256",
    ):
        assert manifest[key] in appendix, key
    files = page.table("archived-files")[1:]
    assert files == [
        [names.site_label(f["site_id"]), names.table_label(f["table"]), f["sha256"][:12]]
        for f in manifest["archived_files"]
    ]
    assert manifest["reports"] == [
        {"name": "report.html", "sha256": hashlib.sha256((snap / "report.html").read_bytes()).hexdigest()}
    ]
    assert manifest["report_pdf"] is False and MISSING_CHROMIUM in manifest["report_pdf_reason"]
    assert not (snap / "report.pdf").exists()
    assert (snap / "report.html").stat().st_mode & 0o777 == 0o444


def test_no_code_rule_id_or_none_is_visible(snap):
    rows, page, _ = read(snap)
    visible = " ".join(page.visible)
    for figure in page.figures.values():
        visible += " " + " ".join(figure_strings(figure))
    assert not SNAKE.findall(visible), sorted(set(SNAKE.findall(visible)))[:20]
    assert not NONE.search(visible)
    # The codes are in metrics.csv, so the check above could have failed.
    codes = {r["group"] for r in rows} | {r["metric"] for r in rows}
    assert {"arrest_diversion", "permanent_housing"} <= codes
    assert "Arrest diversion" in visible and "In permanent housing" in visible


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


# --- the numbers ----------------------------------------------------------------------------------


def expected_text(row: dict[str, str] | None, count: bool) -> str:
    """A metrics.csv row as a table cell reads, worked out from the counts alone."""
    if row is None:
        return names.NO_ROW
    if row["suppressed"] == "true":
        return f"{MARK}*" + (f" of {int(row['denominator']):,}" if row["denominator"] else "")
    n, d = int(row["numerator"]), int(row["denominator"])
    return f"{n:,}" if count else f"{n / d:.1%} {n:,} of {d:,}"


def test_every_table_has_the_numbers_of_metrics_csv(snap):
    rows, page, manifest = read(snap)
    metrics = list(manifest["metrics"])
    index = {(r["metric"], r["period"], r["dimension"], r["group"]): r for r in rows}
    months = page.table("months")
    assert months[0][1:] == ["Jan 2024", "Feb 2024", "Mar 2024", "Whole quarter (Q1 2024)"]
    for line, metric in zip(months[1:], metrics, strict=True):
        periods = ["2024-01", "2024-02", "2024-03", PERIOD]
        count = metric == "active_participants"
        assert line == [METRICS[metric].label] + [
            expected_text(index.get((metric, p, "all", "all")), count) for p in periods
        ]
    for dimension in ("referral_type", "cohort", "site", "race", "gender", "age_band"):
        table = page.table(f"by-{dimension}")
        groups = {r["group"] for r in rows if r["dimension"] == dimension}
        assert len(table) == len(groups) + 1  # every group, shown or hidden, and the header
        by_label = {names.group_label(dimension, g): g for g in groups}
        for line in table[1:]:
            group = by_label[line[0]]
            assert line[1:] == [
                expected_text(index.get((m, PERIOD, dimension, group)), m == "active_participants")
                for m in metrics
            ], (dimension, group)


def bars(figure: dict) -> set[tuple]:
    """(metric, group label, value, (numerator, denominator)) of every bar of a breakdown figure."""
    return {
        (t["meta"]["metric"], y, x, tuple(c))
        for t in figure["data"]
        if t["type"] == "bar"
        for x, y, c in zip(t["x"], t["y"], t["customdata"], strict=True)
    }


def test_charts_hold_only_the_shown_values(snap):
    rows, page, _ = read(snap)
    for dimension in ("referral_type", "cohort", "site", "race", "gender", "age_band"):
        shown = {
            (
                r["metric"],
                names.group_label(dimension, r["group"]),
                float(r["value"]),
                (int(r["numerator"]), int(r["denominator"])),
            )
            for r in rows
            if (r["period"], r["dimension"], r["suppressed"]) == (PERIOD, dimension, "false")
        }
        assert bars(page.figures[f"by-{dimension}"]) == shown, dimension
    # Program-wide: the months as bars, the quarter as a marker apart, one colour per measure.
    months = page.figures["months"]["data"]
    for metric in {r["metric"] for r in rows}:
        traces = [t for t in months if (t.get("meta") or {}).get("metric") == metric]
        assert {t["meta"]["periods"]: t["type"] for t in traces} == {"months": "bar", "quarters": "scatter"}
        assert len({t["marker"]["color"] for t in traces}) == 1
        [quarter] = [t for t in traces if t["type"] == "scatter"]
        assert quarter["marker"]["symbol"] == "diamond" and min(quarter["x"]) > max(
            x for t in traces if t["type"] == "bar" for x in t["x"]
        )
    colours: dict[str, set[str]] = {}
    for f in page.figures.values():
        for t in f["data"]:
            if "metric" in (t.get("meta") or {}):
                colours.setdefault(t["meta"]["metric"], set()).add(t["marker"]["color"])
    # One colour per measure, the same in every chart, and no two measures alike.
    assert all(len(c) == 1 for c in colours.values()) and len(set.union(*colours.values())) == len(colours)


def test_no_chart_draws_a_rate_on_fewer_than_eleven(snap):
    """The one small-numbers rule: the other pages draw a rate on fewer than 11 hollow; a snapshot
    suppresses it, so the report never draws it at all."""
    rows, page, _ = read(snap)
    assert all(int(r["denominator"]) >= SMALL_COUNT for r in rows if r["denominator"])
    drawn = [
        c[1]
        for f in page.figures.values()
        for t in f["data"]
        if (t.get("meta") or {}).get("metric") not in (None, "active_participants")
        for c in t["customdata"]
    ]
    assert drawn and min(drawn) >= SMALL_COUNT


def crafted_cells() -> pl.DataFrame:
    """A quarter where site 'b' has 7 of 20 in permanent housing, site 'c' only 5 people, and group
    labels that are HTML."""
    cells = [
        ("permanent_housing", "all", "all", 40, 105),
        ("permanent_housing", "site", "a", 33, 80),
        ("permanent_housing", "site", "b", 7, 20),
        ("permanent_housing", "site", "c", 0, 5),
        ("permanent_housing", "gender", "<b>woman</b>", 25, 50),
        ("permanent_housing", "gender", '"><script>alert(1)</script>', 15, 55),
        ("active_participants", "all", "all", 125, 125),
        ("active_participants", "site", "a", 90, 90),
        ("active_participants", "site", "b", 30, 30),
        ("active_participants", "site", "c", 5, 5),
    ]
    # The quarter and its three months alike (a quarter counts at least each month, at most their sum).
    periods = ["2024-01", "2024-02", "2024-03", PERIOD]
    return pl.DataFrame(
        [(m, p, d, g, n, den) for m, d, g, n, den in cells for p in periods],
        schema=["metric", "period", "dimension", "group", "numerator", "denominator"],
        orient="row",
    ).with_columns(
        value=pl.when(pl.col("metric") == "active_participants")
        .then(pl.col("numerator").cast(pl.Float64))
        .otherwise(pl.col("numerator") / pl.col("denominator"))
    )


def hidden_marks(figure: dict) -> set[tuple[str, str]]:
    """(metric, group label) of every mark of a hidden cell, by the panel its axes belong to."""
    panels = {
        (t.get("xaxis", "x"), t.get("yaxis", "y")): t["meta"]["metric"]
        for t in figure["data"]
        if "metric" in (t.get("meta") or {})
    }
    return {
        (panels[(a["xref"].removesuffix(" domain"), a["yref"])], a["y"])
        for a in figure["layout"].get("annotations", [])
        if a.get("text") == html.escape(names.HIDDEN) and (a.get("xref"), a.get("yref")) != (None, None)
    }


def test_a_hidden_group_keeps_its_place_with_the_mark(snap):
    manifest = json.loads((snap / "manifest.json").read_text())
    data = metrics_csv(crafted_cells())
    rows = csv_rows(data)
    hidden = {
        (r["metric"], r["group"]) for r in rows if r["dimension"] == "site" and r["suppressed"] == "true"
    }
    # Site 'c' is hidden whole (5 people), and 'b' (7 of 20) in permanent housing.
    assert {("active_participants", "c"), ("permanent_housing", "c"), ("permanent_housing", "b")} <= hidden
    page = Page(report_html(data, manifest))
    figure = page.figures["by-site"]
    for key, axis in figure["layout"].items():
        if key.startswith("yaxis"):
            assert axis["categoryarray"] == ["A", "B", "C"]  # every site in its place, drawn or not
    assert hidden_marks(figure) == {(m, g.upper()) for m, g in hidden}
    shown = {(r["metric"], r["group"].upper()) for r in rows if r["dimension"] == "site"} - {
        (m, g.upper()) for m, g in hidden
    }
    assert {(m, y) for m, y, _, _ in bars(figure)} == shown and shown
    index = {(r["metric"], r["group"]): r for r in rows if r["dimension"] == "site" and r["period"] == PERIOD}
    crafted_metrics = [m for m in manifest["metrics"] if m in {r["metric"] for r in rows}]
    assert page.table("by-site")[1:] == [
        [g.upper()] + [expected_text(index.get((m, g)), m == "active_participants") for m in crafted_metrics]
        for g in "abc"
    ]
    assert page.table("by-site")[3][1] == f"{MARK}*"
    # In the demo's own snapshot too: each hidden cell of the quarter is marked in its panel.
    rows, page, _ = read(snap)
    for dimension in ("referral_type", "cohort", "race"):
        expected = {
            (r["metric"], html.escape(names.group_label(dimension, r["group"])))
            for r in rows
            if (r["period"], r["dimension"], r["suppressed"]) == (PERIOD, dimension, "true")
        }
        assert expected and hidden_marks(page.figures[f"by-{dimension}"]) == expected, dimension


def test_a_suppressed_cell_is_nowhere_in_the_report_and_labels_are_escaped(snap):
    manifest = json.loads((snap / "manifest.json").read_text())
    data = metrics_csv(crafted_cells())
    text = report_html(data, manifest)
    page = Page(text)
    secrets = {(33, 80), (7, 20), (0, 5)}
    for figure in page.figures.values():
        for trace in figure["data"]:
            assert not secrets & {tuple(c) for c in trace.get("customdata") or []}
            assert not {33 / 80, 7 / 20} & set(trace.get("x") or [])
    everything = " ".join(c for _, t in page.tables for row in t for c in row)
    assert not re.search(r"\b(7|33|41\.[23]%|35\.0%)\b", everything)
    assert "90" in page.table("by-site")[1]  # the shown counts are there
    for label in ("<b>woman</b>", '"><script>alert(1)</script>'):
        assert label not in text and label[:1].upper() + label[1:] not in text
    labels = [
        html.escape(names.group_label("gender", g)) for g in ("<b>woman</b>", '"><script>alert(1)</script>')
    ]
    assert {y for _, y, _, _ in bars(page.figures["by-gender"])} == set(labels)


# --- in a browser ---------------------------------------------------------------------------------


def test_offline_in_chromium_the_page_draws_every_chart(snap, browser: Browser):
    _, page_of, _ = read(snap)
    bars_drawn = sum(len(t["x"]) for f in page_of.figures.values() for t in f["data"] if t["type"] == "bar")
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
                   .filter(p => p.querySelector('.main-svg')).map(p => p.dataset.figure)"""
        )
        assert sorted(drawn) == sorted(page_of.figures)
        assert page.locator(".js-plotly-plot .trace.bars .point").count() == bars_drawn
        # Each hidden group's mark is drawn where its bar would be.
        assert page.get_by_text(f"{MARK}*").count() > 0
    finally:
        context.close()
    assert problems == [] and blocked == []
    assert set(requests) == {url}


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
    assert sorted(p.name for p in folder.iterdir()) == [
        "manifest.json",
        "metrics.csv",
        "metrics.xlsx",
        "report.html",
    ]


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
