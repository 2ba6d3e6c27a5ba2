"""A snapshot's report.html: results first (page 1's sentences are metrics.csv's numbers), labels not
codes, the same numbers as metrics.csv, a hidden group kept in its place, offline, nothing hidden shown."""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path

import polars as pl
import pytest
from plotly.offline import get_plotlyjs
from statsmodels.stats.proportion import confint_proportions_2indep

from pipelines.core import settings
from pipelines.core.metrics import METRICS, SMALL_COUNT
from pipelines.core.settings import Home
from pipelines.funder import names
from pipelines.funder.figures import MEASURE_COLOURS
from pipelines.funder.report import report_html
from pipelines.funder.snapshot import metrics_csv, take_snapshot
from tests.conftest import SNAPSHOT_AS_OF, SNAPSHOT_PERIOD, snapshot_demo
from tests.funder.report_page import (
    MARK,
    NONE,
    SNAKE,
    Page,
    bars,
    csv_rows,
    figure_strings,
    hidden_marks,
    read,
)

AS_OF = SNAPSHOT_AS_OF
PERIOD = SNAPSHOT_PERIOD  # 2024-Q1: the quarter before is 2023-Q4, a year earlier 2023-Q1
BEFORE, YEAR_AGO = "2023-Q4", "2023-Q1"
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
            bn, bd = int(before["numerator"]), int(before["denominator"])
            then = bn / bd
            # Said to rise or fall only when the 95% interval of the difference leaves out 0.
            low, high = confint_proportions_2indep(n, d, bn, bd, compare="diff", method="newcomb")
            if not (low > 0 or high < 0):
                assert f"against {then:.0%} {before_when} (a change within the uncertainty)" in sentence
            elif round(share * 100) != round(then * 100):
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


def test_every_measure_colour_is_at_least_three_to_one_against_white():
    """WCAG 2.1 contrast for graphics (1.4.11), from the relative luminance of each colour."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    assert set(MEASURE_COLOURS) >= set(METRICS) - {
        "jail_days",
        "booked",
        "felony_charged",
        "new_offense_arrest",
    }
    for metric, colour in MEASURE_COLOURS.items():
        assert 1.05 / (luminance(colour) + 0.05) >= 3, metric
