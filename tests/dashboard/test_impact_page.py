"""The Impact page, its queries and its charts, on a release with a comparison group and a planted
program effect (tests/dashboard/impact_release.py): the headline reads the estimates, every part
has its chart and table, labels not codes, and only leadership may open it."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.charts.impact import costs_chart, forest_chart
from dashboard.queries import impact as queries
from dashboard.queries.impact import (
    costs_view,
    default_window,
    effects_view,
    subgroups_view,
    survival_view,
    too_few,
)
from pipelines.core.audit import log_path
from pipelines.core.scope import PROGRAM
from pipelines.core.settings import Home
from pipelines.evaluate.costs import costs_file, read_costs
from pipelines.evaluate.impact import Impact
from pipelines.evaluate.measures import MIN_SUBGROUP
from tests import apptest
from tests.conftest import drop, run
from tests.dashboard.impact_release import AS_OF, COSTS, publish

PAGE = "app_pages/impact.py"
SNAKE = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Home:
    return publish(tmp_path_factory.mktemp("impact-page") / "home")


@pytest.fixture(scope="module")
def result(release: Home) -> Impact:
    with apptest.release_connection(release) as con:
        found = queries.impact_estimates(
            con, PROGRAM, date.fromisoformat(AS_OF), read_costs(costs_file(release))
        )
    assert found is not None
    return found


def texts(at: AppTest) -> str:
    """Every text the page shows in its main area (the sidebar's release caption left out)."""
    kinds = ("title", "markdown", "caption", "info", "warning", "error", "subheader")
    parts = [str(e.value) for kind in kinds for e in getattr(at.main, kind)]
    parts += [e.label for e in at.main.expander]
    return "\n".join(parts)


def chart_strings(at: AppTest) -> list[str]:
    """The strings each chart shows: its traces' names, labels and text, its axis titles."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        walk(spec["data"])
        layout = spec["layout"]
        for key, axis in layout.items():
            if key.startswith(("xaxis", "yaxis")):
                walk(axis.get("title", {}))
        walk([a.get("text") for a in layout.get("annotations", [])])
    return found


def table_strings(at: AppTest) -> list[str]:
    return [
        str(v)
        for frame in at.dataframe
        for c in frame.value.columns
        for v in frame.value[c]
        if isinstance(v, str)
    ]


@pytest.fixture(scope="module")
def leadership(release: Home) -> AppTest:
    """The page as leadership sees it by default (served for the module: one AppTest run)."""
    with pytest.MonkeyPatch.context() as patch:
        apptest.serve(patch, release.root)
        at = apptest.open_page(PAGE)
    assert not at.exception, at.exception
    return at


# --- the estimates and the views ------------------------------------------------------------------


def test_the_planted_effect_is_found_and_twelve_months_is_the_default(result: Impact) -> None:
    assert default_window(result) == 12
    odds = result.windows[12].effects["any_arrest"].estimate
    assert odds.ci_high < 1  # fewer arrests planted for participants: clearly lower odds
    assert result.windows[24].problem is not None  # only a few people followed 24 months


def test_the_default_falls_back_to_the_longest_window_with_estimates(result: Impact) -> None:
    windows = dict(result.windows)
    windows[12] = dataclasses.replace(windows[12], problem="too few people", effects={})
    assert default_window(dataclasses.replace(result, windows=windows)) == 6
    windows[6] = dataclasses.replace(windows[6], problem="too few people", effects={})
    assert default_window(dataclasses.replace(result, windows=windows)) == 12  # none: say why, at 12


def test_effects_view_names_numerator_and_denominator(result: Impact) -> None:
    window = result.windows[12]
    view = effects_view(window)
    assert view.height == len(window.effects)
    assert view["numerator"].null_count() == 0 and view["denominator"].null_count() == 0
    first = view.row(0, named=True)
    effect = window.effects["any_arrest"]
    assert first["measure"] == "Any arrest" and first["estimate"] == effect.estimate.estimate
    assert first["lead_after"] == pytest.approx(100 * effect.lead_after)
    figure = forest_chart(view, 12)
    assert list(figure.data[0].x) == pytest.approx(view["estimate"].to_list())
    assert figure.layout.xaxis.type == "log"


def test_subgroups_keep_only_groups_with_enough_people(result: Impact) -> None:
    window = result.windows[12]
    counts = window.subgroups.unique(["dimension", "group"]).select("group", "n_lead", "n_comparison")
    enough = {g for g, a, b in counts.iter_rows() if min(a, b) >= MIN_SUBGROUP}
    few = {g for g, a, b in counts.iter_rows() if min(a, b) < MIN_SUBGROUP}
    assert enough and "Asian" in few
    shown = {label.split(": ", 1)[1] for label in subgroups_view(window)["subgroup"]}
    assert shown == enough
    listed = too_few(window)
    assert {entry.split(": ", 1)[1].split(" (")[0] for entry in listed} == few


def test_the_number_at_risk_table(result: Impact) -> None:
    view = survival_view(result.first_arrest)
    assert view["month"].to_list()[:3] == [0, 3, 6]
    first = view.row(0, named=True)
    assert first["lead"] == pytest.approx(100.0) and first["comparison_weighted"] == pytest.approx(100.0)
    assert first["lead_at_risk"] == result.first_arrest.n_lead
    assert first["comparison_at_risk"] == result.first_arrest.n_comparison
    assert view["lead_at_risk"].is_sorted(descending=True)


def test_costs_view_and_chart_say_the_costs_are_illustrative(result: Impact) -> None:
    window = result.windows[12]
    assert window.costs is not None and window.costs.illustrative
    view = costs_view(window)
    assert view.filter("in_chart")["amount"].to_list() == pytest.approx(
        [window.costs.lead, window.costs.comparison, window.costs.program_per_participant_year]
    )
    figure = costs_chart(view, "USD", illustrative=True)
    assert "illustrative figures, not real costs" in figure.layout.yaxis.title.text


# --- the page -------------------------------------------------------------------------------------


def test_the_headline_reads_the_estimates(leadership: AppTest, result: Impact) -> None:
    odds = result.windows[12].effects["any_arrest"].estimate
    lower, low, high = (round(100 * (1 - v)) for v in (odds.estimate, odds.ci_high, odds.ci_low))
    first = leadership.markdown[0].value
    assert first.startswith("**In the 12 months after referral, LEAD participants had")
    assert f"had {lower}% lower odds of arrest than comparable people who were not diverted" in first
    assert f"(95% CI {low}% to {high}%)" in first
    rate = result.windows[12].effects["arrests"].estimate
    assert f"{round(100 * (1 - rate.estimate))}% lower than that of comparable people" in texts(leadership)


def test_the_page_shows_each_part_with_its_chart_and_table(leadership: AppTest) -> None:
    assert leadership.title[0].value == "Impact"
    assert [s.value for s in leadership.subheader] == [
        "Every measure",
        "Why the comparison group matters",
        "Time to a first arrest",
        "Are the groups alike? Balance",
        "Subgroups",
        "Justice costs",
    ]
    assert len(leadership.get("plotly_chart")) == 6 and len(leadership.dataframe) == 6
    text = texts(leadership)
    assert "Sites compared: east, west. Left out: solo" in text
    assert "Too few people to estimate" in text and "Race: Asian" in text
    assert leadership.radio(key="impact-months").value == 12
    assert [e.label for e in leadership.expander] == ["How this is calculated"]


def test_labels_not_codes(leadership: AppTest) -> None:
    shown = [texts(leadership), *table_strings(leadership), *chart_strings(leadership)]
    shown += [str(o) for r in leadership.radio for o in r.options]
    shown += [str(o) for s in leadership.selectbox for o in s.options]
    codes = sorted({m for s in shown for m in SNAKE.findall(s)})
    assert not codes, codes


def test_the_method_says_what_it_cannot_do(leadership: AppTest) -> None:
    method = leadership.expander[0].markdown[0].value
    for words in (
        "ATT",
        "truncated",
        "sandwich",
        "treated as known",
        "observational",
        "motivation",
        "officer",
    ):
        assert words in method, words


def test_the_imbalance_warning_follows_the_balance(leadership: AppTest, result: Impact) -> None:
    flagged = result.windows[12].imbalanced()
    warnings = [w.value for w in leadership.warning if "still differ after weighting" in w.value]
    assert bool(warnings) == bool(flagged)
    for label in flagged:
        assert label in warnings[0]


def test_costs_are_labelled_illustrative(leadership: AppTest) -> None:
    assert any(w.value.startswith("**Illustrative figures, not real costs.**") for w in leadership.warning)
    assert any("per participant-year" in m.value for m in leadership.markdown)


def test_real_costs_carry_no_label(page_home: Home) -> None:
    path = costs_file(page_home)
    path.write_text(COSTS.replace("illustrative = true", "illustrative = false"), encoding="utf-8")
    try:
        at = apptest.open_page(PAGE)
    finally:
        path.write_text(COSTS, encoding="utf-8")
    assert not at.exception
    assert not [w for w in at.warning if "Illustrative" in w.value]
    assert any("The program costs USD 10,800 per participant-year" in m.value for m in at.markdown)


def test_a_window_with_a_problem_says_it_in_words(page_home: Home) -> None:
    at = apptest.open_page(PAGE)
    at.radio(key="impact-months").set_value(24).run()
    assert not at.exception
    assert any(w.value.startswith("Too few people followed 24 months") for w in at.warning)
    assert "Time to a first arrest" in [s.value for s in at.subheader]
    assert "Every measure" not in [s.value for s in at.subheader]
    views = [json.loads(line) for line in log_path(page_home).read_text(encoding="utf-8").splitlines()]
    last = [v for v in views if v["event"] == "page_view"][-1]
    assert (last["page"], last["filters"]["months"]) == ("impact", 24)


@pytest.mark.parametrize("email", [apptest.FUNDER, apptest.CASE_MANAGER])
def test_only_leadership_may_open_it(page_home: Home, email: str) -> None:
    apptest.grant(page_home.root, "east", "CM1")
    at = apptest.open_page(PAGE, email)
    assert not at.exception
    assert any("does not include the page" in e.value for e in at.error)
    assert not at.get("plotly_chart") and not at.dataframe


# --- without a comparison group, and an older release ---------------------------------------------


def small_release(root: Path) -> Home:
    home = Home(root)
    drop(home, "north", "participants", ["P1,CM1,2024-01-10,social_contact,,,,,1980,man,black"])
    drop(home, "north", "justice", ["P1,2024-02-01,arrest,misdemeanor"])
    assert run(home, AS_OF).published
    return home


def test_without_a_comparison_group_the_page_says_what_to_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = small_release(tmp_path / "home")
    apptest.serve(monkeypatch, home.root)
    at = apptest.open_page(PAGE)
    assert not at.exception
    (info,) = at.info
    assert "`comparison`" in info.value and "`comparison_justice`" in info.value
    assert "Data contract page" in info.value
    assert not at.get("plotly_chart") and not at.dataframe


def test_an_older_release_asks_for_the_nightly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = small_release(tmp_path / "home")
    with duckdb.connect(str(home.current)) as con:
        con.sql("drop table comparison_custody_spells")
    apptest.serve(monkeypatch, home.root)
    at = apptest.open_page(PAGE)
    assert not at.exception
    assert any("Run `outcomes nightly`" in i.value for i in at.info)
