"""report.pdf of the demo's quarter, as Chromium prints it: the summary alone on page 1, results
before the appendix, at most 20 pages, and no code or 'None' in its text (issue 15, item 3); the
report drawn offline in Chromium; a failing or hung Chromium costs only the PDF."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Route
from pypdf import PdfReader

from pipelines.core import settings
from pipelines.core.settings import Home
from pipelines.demo import write_demo
from pipelines.funder import pdf
from pipelines.funder.snapshot import take_snapshot
from pipelines.nightly.run import nightly
from tests.funder.report_page import MARK, NONE, SNAKE, Page, read

# The demo as `outcomes demo` writes it (its defaults), published as of a fixed day: its quarter is
# the last complete one.
AS_OF = dt.date(2025, 11, 15)
PERIOD = "2025-Q3"
MAX_PAGES = 20


def plain(text: str) -> str:
    """PDF text as words: ligatures undone, line breaks and runs of spaces made one space."""
    return " ".join(text.replace("\ufb01", "fi").replace("\ufb02", "fl").split())


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory, chromium: Path) -> Path:
    home = Home(tmp_path_factory.mktemp("demo") / "home")
    write_demo(home.inbox, as_of=AS_OF)
    assert nightly(home, AS_OF, settle=0).published
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings.CHROMIUM_ENV, str(chromium))
        return take_snapshot(home, PERIOD)


def test_the_demo_quarter_prints_in_at_most_twenty_pages_summary_first(printed):
    data = (printed / "report.pdf").read_bytes()
    pages = [plain(p.extract_text()) for p in PdfReader(printed / "report.pdf").pages]
    assert 5 <= len(pages) <= MAX_PAGES, len(pages)
    first = pages[0]
    assert first.startswith("LEAD outcomes: July to September 2025") and "Summary" in first
    # Every headline sentence is on page 1, with the headline table and the small-numbers rule.
    html_page = Page((printed / "report.html").read_text(encoding="utf-8"))
    assert len(html_page.headlines) == 7
    for sentence in html_page.headlines.values():
        assert plain(sentence) in first, sentence
    assert "The headline numbers, all participants" in first and "Arrested" in first
    assert "are in the appendix" in first
    assert "SHA-256" not in first and "Appendix" not in first
    assert pages[1].startswith("All participants, month by month")
    # Results, then the appendix; the provenance last.
    where = {
        heading: next(i for i, text in enumerate(pages) if heading in text)
        for heading in (
            "Outcomes by referral type",
            "Outcomes by cohort",
            "Appendix: by site",
            "Appendix: what each measure counts",
            "Appendix: where the numbers come from",
        )
    }
    assert list(where.values()) == sorted(where.values()) and where["Outcomes by referral type"] == 2
    everything = " ".join(pages)
    assert not SNAKE.findall(everything), sorted(set(SNAKE.findall(everything)))
    assert not NONE.search(everything)
    manifest = json.loads((printed / "manifest.json").read_text())
    assert manifest["report_pdf"] is True and manifest["report_pdf_reason"] is None
    assert [r["name"] for r in manifest["reports"]] == ["report.html", "report.pdf"]
    assert manifest["reports"][1]["sha256"] == hashlib.sha256(data).hexdigest()
    assert (printed / "report.pdf").stat().st_mode & 0o777 == 0o444
    assert re.match(rb"%PDF-", data)


def test_offline_in_chromium_the_page_draws_every_chart(printed, browser: Browser):
    snap = printed
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


def test_a_failing_chromium_costs_only_the_pdf(printed, tmp_path, monkeypatch):
    home = Home(printed.parents[1])
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
