"""report.pdf of the demo's quarter, as Chromium prints it: the summary alone on page 1, results
before the appendix, at most 20 pages, and no code or 'None' in its text (issue 15, item 3)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from pipelines.core import settings
from pipelines.core.settings import Home
from pipelines.demo import write_demo
from pipelines.funder.snapshot import take_snapshot
from pipelines.nightly.run import nightly
from tests.funder.test_report import NONE, SNAKE, Page

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
