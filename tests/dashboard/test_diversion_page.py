"""Who is diverted, on the Equity page: the section for leadership with and without comparison
data, in words (labels, never codes), with one audit entry per view. The pool is that of
tests/diversion_pool.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.sections.diversion import NO_COMPARISON
from pipelines.core import audit as audit_log
from pipelines.core.settings import Home
from tests import apptest
from tests.diversion_pool import ORDER, RATES, publish

PAGE = "app_pages/equity.py"
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Home:
    return publish(tmp_path_factory.mktemp("diversion-page") / "home")


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """The same participants, and no site sends a comparison group."""
    return publish(tmp_path_factory.mktemp("no-comparison") / "home", comparison=False)


def page_text(at: AppTest) -> str:
    """Everything the page says in words, Markdown escapes removed, and its tables' text cells."""
    parts = [
        e.value for kind in ("title", "subheader", "markdown", "caption", "info") for e in getattr(at, kind)
    ]
    parts += [e.label for e in at.expander]
    for frame in at.dataframe:
        data = frame.value
        parts += [str(v) for column in data.columns if data[column].dtype == object for v in data[column]]
    return " ".join(parts).replace("\\", "")


def equity_views(home: Home) -> list[dict]:
    """The audit log's page views of the Equity page, oldest first."""
    path = audit_log.log_path(home)
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    entries = [json.loads(line) for line in lines]
    return [e for e in entries if e["event"] == "page_view" and e["page"] == "equity"]


def test_page_shows_the_section_for_leadership(page_home: Home) -> None:
    before = len(equity_views(page_home))
    at = apptest.open_page(PAGE)
    assert not at.exception
    # One page view, written before anything is shown, names what the section shows.
    (view,) = equity_views(page_home)[before:]
    assert view["filters"] == {"diversion_site": None, "diversion_year": None, "diversion_by": "race"}
    assert at.subheader[-1].value.startswith("Who is diverted")
    text = page_text(at)
    assert "Black people were" in text and "Sites with a comparison group: a, b" in text
    assert "Left out, no comparison group: c" in text and "2 participants at these sites" in text
    assert "How the eligible pool is compared" in [e.label for e in at.expander]
    mix, rates = (frame.value for frame in at.dataframe[-2:])
    assert list(mix["people"][mix["arm"] == "Eligible pool"]) == [3, 45, 50, 2, 1]
    assert list(rates["race"]) == ["Asian", "Black", "White", "More than one race", "Unknown"]
    assert list(rates["numerator"]) == [RATES[r][0] for r in ORDER]
    assert list(rates["denominator"]) == [RATES[r][1] for r in ORDER]
    assert not SNAKE.search(text), SNAKE.findall(text)
    # Another breakdown, one site, one year: each narrows what is counted.
    at.radio(key="diversion-by").set_value("gender").run()
    assert "Non-binary" in list(at.dataframe[-2].value["category"])
    at.selectbox(key="diversion-site").set_value("a").run()
    assert not at.exception
    assert equity_views(page_home)[-1]["filters"]["diversion_site"] == "a"
    assert list(at.dataframe[-1].value["denominator"]) == [3, 40, 45, 2, 1]
    at.selectbox(key="diversion-year").set_value(2024).run()
    assert not at.exception
    assert list(at.dataframe[-1].value["denominator"]) == [5]
    text = page_text(at)
    assert "no group has a referral rate ratio" in text and not SNAKE.search(text), SNAKE.findall(text)


def test_page_without_comparison_data_says_what_to_export(
    bare: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    apptest.serve(monkeypatch, bare.root)
    at = apptest.open_page(PAGE)
    assert not at.exception
    assert NO_COMPARISON in [info.value for info in at.info]
    assert "Data contract page" in NO_COMPARISON and "`comparison`" in NO_COMPARISON
    assert not at.dataframe
    assert not SNAKE.search(page_text(at))


def test_page_with_an_empty_home(empty_home: Path) -> None:
    at = apptest.open_page(PAGE)
    assert not at.exception and not at.dataframe
