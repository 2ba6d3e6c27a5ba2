"""Data quality's plain summary per site (issue 15): fresh or stale, open problems by table, time
to fix, in sentences worked out by hand from test_data_quality's two runs; engineering detail only
inside the "Technical detail" expander; clean data says so in sentences, with no chart."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.queries.quality_summary import overall_sentence, site_quality
from pipelines.core import audit as audit_log
from pipelines.core.scope import PROGRAM, Scope
from pipelines.core.settings import Home
from pipelines.nightly import report
from tests import apptest
from tests.conftest import Downloads, drop, run
from tests.dashboard.test_data_quality import P1, P2, two_runs
from tests.download_files import read_download

PAGE = "app_pages/data_quality.py"
JUNE_21 = date(2024, 6, 21)


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with pytest.MonkeyPatch.context() as patch:
        yield two_runs(tmp_path_factory.mktemp("dq-summary") / "home", patch)


def test_each_site_in_sentences(con) -> None:  # noqa: ANN001 - the conftest's connection
    north, south = site_quality(con, PROGRAM, JUNE_21)
    # north: participants accepted on 06-15 (6 days before 06-21: stale), treatment never sent;
    # P2's tent open since the first run (5 days at the as-of date); P1's couch fixed in 5 days.
    assert north.sentence() == (
        "**north** is stale: Participants last accepted 6 days ago and Treatment never accepted. "
        "1 open data problem (1 in Housing), the oldest open for 5 days. "
        "1 problem fixed so far, in a median of 5 days from first seen to fixed."
    )
    # south: its housing file was refused, so only participants is in force; S2's walk_in open.
    assert south.sentence() == (
        "**south** is stale: Participants last accepted 6 days ago, Housing never accepted, Treatment "
        "never accepted and Employment never accepted. 1 open data problem (1 in Participants), the "
        "oldest open for 5 days. No problem fixed yet."
    )
    assert overall_sentence([north, south]) == "2 of 2 sites are stale; 2 data problems are open at 2 sites."


def test_a_site_up_to_date_and_the_scope(con) -> None:  # noqa: ANN001
    # On 06-16 north's exports of 06-15 are a day old, but treatment was never sent: still stale.
    (north,) = site_quality(con, Scope("north"), date(2024, 6, 16))
    assert not north.fresh and "Treatment never accepted" in north.sentence()
    assert "Participants" not in north.sentence().split(".")[0]  # a day old is up to date


def page(email: str = apptest.LEADERSHIP) -> AppTest:
    at = apptest.open_page(PAGE, email)
    assert not at.exception
    return at


def texts(node) -> list[str]:  # noqa: ANN001 - an AppTest block
    return [e.value for kind in (node.markdown, node.caption, node.info, node.success) for e in kind]


def test_the_page_opens_with_the_summary_and_keeps_engineering_detail_in_an_expander(page_home: Home) -> None:
    at = page()
    assert [h.value for h in at.header][0] == "Summary by site"
    shown = "\n".join(texts(at))
    assert "2 of 2 sites are stale; 2 data problems are open at 2 sites." in shown
    assert "1 open data problem (1 in Housing)" in shown and "No problem fixed yet." in shown
    (detail,) = [e for e in at.expander if e.label == "Technical detail"]
    inside = "\n".join(texts(detail))
    with apptest.release_connection(page_home) as connection:
        run_ids = [r for (r,) in connection.execute("select run_id from runs").fetchall()]
    # The page itself (the sidebar names the release's run on every page, for every reader).
    outside = [t for t in texts(at.main) if t not in texts(detail)]
    assert any(r in inside for r in run_ids)
    assert not [t for t in outside if any(r in t for r in run_ids)]
    # Tables with run IDs or file paths are inside the expander, but for the refused files: there
    # the file is what the site must replace, beside why ("error").
    inner = {id(f.proto) for f in detail.dataframe}
    outer = [f.value for f in at.dataframe if id(f.proto) not in inner]
    assert len(outer) == len(at.dataframe) - len(detail.dataframe) > 0
    assert not [f for f in outer if "run_id" in f.columns]
    assert all("error" in f.columns for f in outer if "path" in f.columns)
    assert [f for f in detail.dataframe if "run_id" in f.value.columns]


@pytest.fixture
def clean_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    # Accepted now (the module's two runs fix the nightly's clock for the whole module).
    monkeypatch.setattr(report, "now_utc", lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    home = Home(tmp_path / "clean")
    drop(home, "north", "participants", [P1, P2])
    drop(home, "north", "housing", ["P1,2024-02-01,unsheltered"])
    drop(home, "north", "treatment", ["P1,E1,outpatient,2024-02-01,,"])
    drop(home, "north", "employment", ["P1,2024-02-01,part_time,yes"])
    assert run(home, "2024-06-15").published
    apptest.serve(monkeypatch, home.root)
    return home


def test_clean_data_says_so_in_sentences_and_draws_no_chart(clean_home: Home) -> None:
    at = page()
    shown = "\n".join(texts(at))
    assert "The site is up to date, and there are no open data problems." in shown
    assert "**north** is up to date: its latest export was accepted today. No open data problems." in shown
    assert not at.get("plotly_chart")
    assert "no open data problems" in shown
    assert "No row has been quarantined at any run" in shown
    assert "There are no data problems for these filters" in shown


def test_open_problems_download_as_csv_and_excel_each_audited(page_home: Home, downloads: Downloads) -> None:
    at = page()
    buttons = {b.label: b for b in at.download_button}
    csv_button = buttons["Download open problems, all sites (CSV)"]
    excel_button = buttons["Download open problems, all sites (Excel)"]
    log = audit_log.log_path(page_home)
    before = len(log.read_text(encoding="utf-8").splitlines())
    csv_data, csv_name = downloads.fetch(csv_button)
    book, excel_name = downloads.fetch(excel_button)
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()[before:]]
    assert [(e["event"], e["page"], e["filters"]["file"]) for e in entries] == [
        ("export", "data-quality", csv_name),
        ("export", "data-quality", excel_name),
    ]
    assert excel_name == csv_name.removesuffix(".csv") + ".xlsx"
    csv, excel = read_download(csv_data, csv_name), read_download(book, excel_name)
    assert excel.columns == csv.columns and "Participant" in excel.columns
    assert sorted(excel["Participant"].to_list()) == sorted(csv["Participant"].to_list()) == ["P2", "S2"]
    assert excel["First seen"].dtype == pl.Date  # a date, not text
