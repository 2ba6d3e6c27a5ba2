"""Every chart carries its text alternative: the figure's one-line summary, for screen readers,
right after the chart (dashboard/page.show_chart), never drawn for sighted readers."""

from __future__ import annotations

import html
import json
from datetime import date

import plotly.io as pio
import pytest

from dashboard.charts.style import describe
from dashboard.page import VISUALLY_HIDDEN
from pipelines.core.settings import Home
from pipelines.demo import write_demo
from pipelines.nightly.run import nightly
from tests import apptest

AS_OF = date(2025, 6, 30)
PAGES = ("overview", "trends", "cohorts", "before_after", "equity", "impact")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Home:
    home = Home(tmp_path_factory.mktemp("chart-text"))
    write_demo(home.inbox, participants=240, sites=2, months=18, seed=5, as_of=AS_OF)
    assert nightly(home, AS_OF, settle=0).published
    return home


@pytest.mark.parametrize("name", PAGES)
def test_each_chart_is_followed_by_its_summary(
    demo: Home, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    apptest.serve(monkeypatch, demo.root)
    at = apptest.open_page(f"app_pages/{name}.py")
    assert not at.exception, [e.value for e in at.exception]
    charts = at.get("plotly_chart")
    notes = [e.proto.body for e in at.get("html") if 'class="chart-summary"' in e.proto.body]
    assert charts and len(notes) == len(charts), (len(charts), len(notes))
    for chart, note in zip(charts, notes, strict=True):
        figure = pio.from_json(json.dumps(json.loads(chart.proto.spec)))
        # The summary of this very figure, hidden from view but not from a screen reader.
        assert html.escape(f"Chart: {describe(figure)}") in note
        assert f'style="{VISUALLY_HIDDEN}"' in note and "display:none" not in note
        assert len(describe(figure).split()) >= 4
