"""Issue 15, items 2 and 6, on the leadership pages: each opens with what it found, in a sentence
whose numbers are the page's own; method notes in plain words, technical names only in the
expander's last paragraph; period presets on Trends and Overview; choices kept across pages;
an empty filter said in a sentence.

The demo's release (as of 2024-06-30, 18 months) is served as in test_plain_words.py. Expected
numbers are read from each page's own tables, never copied from the code's output.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterator

import polars as pl
import pytest
from google.protobuf.json_format import MessageToDict
from streamlit.testing.v1 import AppTest

from dashboard import choices, stats, survival
from dashboard.app_pages.overview import OVERVIEW_METRICS
from dashboard.app_pages.trends import NO_DATA
from dashboard.findings import is_clear
from dashboard.queries import cohorts
from pipelines.core.settings import Home
from pipelines.demo import write_demo
from pipelines.nightly.run import nightly
from tests import apptest
from tests.visible import SHOWN_FIELDS, _strings, chart_text, table_text

AS_OF = dt.date(2024, 6, 30)
LATEST = dt.date(2024, 6, 1)
PAGES = ("overview", "trends", "cohorts", "before_after", "equity")
METHOD_LABEL = "How this is calculated"
# What a program director should not have to read outside "How this is calculated".
JARGON = (
    "Kaplan-Meier",
    "product-limit",
    "Greenwood",
    "log-log",
    "Newcombe",
    "method 10",
    "phi correlation",
    "McNemar",
    "Katz",
    "Koopman",
    "Wilson",
    "HMIS",
    "4xx",
    "lifelines",
    "scipy",
    "statsmodels",
    "censored",
    "bootstrap",
)
TEXT_KINDS = ("Markdown", "Caption", "Info", "Warning", "Success", "Error")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Home:
    home = Home(tmp_path_factory.mktemp("openers"))
    write_demo(home.inbox, participants=240, sites=2, months=18, seed=5, as_of=AS_OF)
    assert nightly(home, AS_OF, settle=0).published
    return home


@pytest.fixture
def served(demo: Home, monkeypatch: pytest.MonkeyPatch) -> Home:
    apptest.serve(monkeypatch, demo.root)
    return demo


def page(name: str) -> AppTest:
    at = apptest.open_page(f"app_pages/{name}.py")
    assert not at.exception, [e.value for e in at.exception]
    return at


def in_order(at: AppTest) -> Iterator[tuple[str, object]]:
    """The main area's elements in the order shown, by class name."""

    def walk(node: object) -> Iterator[tuple[str, object]]:
        yield type(node).__name__, node
        for child in getattr(node, "children", {}).values():
            yield from walk(child)

    yield from walk(at.main)


def opening(at: AppTest) -> tuple[str, str]:
    """The first text after the page's title: (its kind, its words without markdown escapes)."""
    elements = list(in_order(at))
    title = next(i for i, (kind, _) in enumerate(elements) if kind == "Title")
    kind, element = next((k, e) for k, e in elements[title + 1 :] if k in TEXT_KINDS)
    return kind, re.sub(r"\\(.)", r"\1", element.value)


def outside_expanders(at: AppTest) -> list[str]:
    """Every text the main area shows outside an expander (as tests/visible.py reads a page)."""
    found: list[str] = []

    def walk(node: object) -> None:
        if type(node).__name__ == "Expander":
            return
        kind, proto = getattr(node, "type", ""), getattr(node, "proto", None)
        if kind == "dataframe":
            found.extend(item.text for item in table_text(node))
        elif kind == "plotly_chart":
            found.extend(item.text for item in chart_text(json.loads(proto.spec)))
        elif proto is not None:
            fields = MessageToDict(proto, preserving_proto_field_name=True)
            found.extend(s for name in SHOWN_FIELDS for s in _strings(fields.get(name)))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.main)
    return found


def jargon(text: str) -> list[str]:
    return [word for word in JARGON if word.lower() in text.lower()]


# Each table the tests read, by a column only it has (an unselectable table's element has no id).
TABLE_COLUMN = {
    "trends-table": "group",
    "housing-summary": "housed_at_referral",
    "housing-milestones": "share_housed",
    "before-after-measures": "measure",
    "equity-table": "reference_rate",
}


def frame(at: AppTest, key: str) -> pl.DataFrame:
    """A table of the page: by its key's column, or an Overview trend's by its metric."""
    if key.startswith("table-"):  # the Overview's trend tables, in the order of its metrics
        found = at.dataframe[OVERVIEW_METRICS.index(key.removeprefix("table-"))].value
    else:
        (found,) = [t.value for t in at.dataframe if TABLE_COLUMN[key] in t.value.columns]
    return pl.from_pandas(found.reset_index(drop=True))


def month_of(value: object) -> dt.date:
    return dt.date.fromisoformat(str(value)[:10])


def said_change(sentence: str, numerator: tuple[int, int], earlier: tuple[int, int]) -> None:
    """A share's change is said as the page's numbers bear it out: 'rose' or 'fell' beyond its
    interval, 'within the uncertainty' otherwise, with both shares."""
    then, now = earlier[0] / earlier[1], numerator[0] / numerator[1]
    _, low, high = stats.proportion_difference(*numerator, *earlier)
    assert f"{then:.0%} to {now:.0%}" in sentence, sentence
    if is_clear(low, high):
        assert f"{'rose' if now > then else 'fell'} from {then:.0%} to {now:.0%}" in sentence
    else:
        assert f"from {then:.0%} to {now:.0%}, a change within the uncertainty" in sentence


# --- every page ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_each_page_opens_with_a_sentence_and_keeps_methods_in_the_expander(served: Home, name: str) -> None:
    at = page(name)
    kind, words = opening(at)
    assert kind == "Markdown" and re.search(r"\d", words) and words.endswith("."), (kind, words)
    assert not jargon(" ".join(outside_expanders(at))), jargon(" ".join(outside_expanders(at)))
    methods = [e for e in at.expander if e.label == METHOD_LABEL]
    assert methods
    for expander in methods:
        paragraphs = "\n\n".join(m.value for m in expander.markdown).strip().split("\n\n")
        # Plain words first; technical names, if any, only in a last paragraph for analysts.
        assert not jargon(" ".join(paragraphs[:-1])), jargon(" ".join(paragraphs[:-1]))
        if jargon(paragraphs[-1]):
            assert paragraphs[-1].startswith("For analysts:"), paragraphs[-1][:80]


# --- the opening's numbers are the page's own -------------------------------------------------


def test_trends_opening_matches_its_table(served: Home) -> None:
    at = page("trends")
    table = frame(at, "trends-table")
    first, last = table.sort("month").row(0, named=True), table.sort("month").row(-1, named=True)
    _, words = opening(at)
    assert f"{int(last['value']):,} in {month_of(last['month']):%b %Y}" in words
    assert f"against {int(first['value']):,} in {month_of(first['month']):%b %Y}" in words
    said = {True: 0, False: 0}
    for metric in ("permanent_housing", "unsheltered", "arrested", "employed", "treatment_engaged"):
        at.selectbox(key="trends-metric").set_value(metric).run()
        for period in (choices.LAST_24, choices.LAST_12, choices.YEAR_TO_DATE):
            at.selectbox(key="trends-period").set_value(period).run()
            rows = frame(at, "trends-table").sort("month")
            first, last = rows.row(0, named=True), rows.row(-1, named=True)
            _, words = opening(at)
            now, then = (last["numerator"], last["denominator"]), (first["numerator"], first["denominator"])
            said_change(words, now, then)
            said["within the uncertainty" in words] += 1
    assert said[True] and said[False]  # both wordings are reached on the demo


def test_trends_opening_for_a_split_names_the_largest_groups(served: Home) -> None:
    at = page("trends")
    at.selectbox(key="trends-metric").set_value("permanent_housing").run()
    at.selectbox(key="trends-split").set_value("referral_type").run()
    rows = frame(at, "trends-table")
    last_month = rows["month"].max()
    latest = rows.filter(pl.col("month") == last_month).sort("denominator", descending=True)
    _, words = opening(at)
    for group in latest["group"].head(2):
        ordered = rows.filter(pl.col("group") == group).sort("month")
        now, then = ordered.row(-1, named=True), ordered.row(0, named=True)
        part = next(p for p in words.split("; ") if group in p)
        said_change(part, (now["numerator"], now["denominator"]), (then["numerator"], then["denominator"]))


def test_overview_opening_matches_its_tables(served: Home) -> None:
    at = page("overview")
    _, words = opening(at)
    active = frame(at, "table-active_participants").sort("month")
    last = active.row(-1, named=True)
    assert words.startswith(
        f"{int(last['value']):,} participants were active in {month_of(last['month']):%b %Y}."
    )
    year_before = dt.date(LATEST.year - 1, LATEST.month, 1)
    assert f"Over the 12 months to {LATEST:%b %Y}" in words
    for key, subject in (("permanent_housing", "permanent housing"), ("unsheltered", "unsheltered")):
        rows = frame(at, f"table-{key}")
        now = rows.filter(pl.col("month").map_elements(month_of, return_dtype=pl.Date) == LATEST).row(
            0, named=True
        )
        then = rows.filter(pl.col("month").map_elements(month_of, return_dtype=pl.Date) == year_before).row(
            0, named=True
        )
        part = next(p for p in words.split("; ") if subject in p)
        said_change(part, (now["numerator"], now["denominator"]), (then["numerator"], then["denominator"]))


def test_cohorts_opening_matches_its_tables(served: Home) -> None:
    at = page("cohorts")
    _, words = opening(at)
    summary = frame(at, "housing-summary")
    followed, already = summary["participants"].sum(), summary["housed_at_referral"].sum()
    assert words.startswith(f"Of the {followed:,} participants not in permanent housing at referral")
    assert f"Already in permanent housing at referral: {already:,}" in words
    # Which referral type was housed fastest: from the milestones table, where it can be read.
    milestones = frame(at, "housing-milestones").filter(pl.col("share_housed") != "too few at risk")
    for months in (12, 6):
        readable = milestones.filter(pl.col("months") == months)
        if readable.height >= 2:
            break
    shares = {
        r["referral_type"]: float(r["share_housed"].rstrip("%")) for r in readable.iter_rows(named=True)
    }
    fastest, slowest = max(shares, key=shares.get), min(shares, key=shares.get)
    said = re.search(
        rf"{fastest} referrals were housed fastest: (\d+)% within (\d+) months, against (\d+)% of "
        rf"{slowest.lower()} referrals",
        words,
    )
    assert said, words
    # The table shows one decimal, the sentence whole percents: equal within the rounding.
    assert int(said[2]) == months
    assert abs(int(said[1]) - shares[fastest]) <= 0.55 and abs(int(said[3]) - shares[slowest]) <= 0.55


def test_before_after_opening_matches_its_table(served: Home) -> None:
    at = page("before_after")
    _, words = opening(at)
    share = frame(at, "before-after-measures").row(0, named=True)
    assert share["measure"] == "Share arrested"
    assert words.startswith(f"Of the {share['people']:,} participants followed for 6 months")
    assert f"{share['after']} were arrested in the 6 months after it, against {share['before']}" in words


def test_equity_opening_names_the_largest_gap_from_its_table(served: Home) -> None:
    at = page("equity")
    _, words = opening(at)
    rows = [
        r
        for r in frame(at, "equity-table").iter_rows(named=True)
        if r["ratio"] != "1 (reference)" and r["denominator"] >= 11
    ]
    parsed = {r["race"]: [float(x) for x in re.findall(r"\d+\.\d+", r["ratio"])] for r in rows}
    gap = {race: math.inf if ratio == 0 else abs(math.log(ratio)) for race, (ratio, _, _) in parsed.items()}
    top = max(gap, key=gap.get)
    ratio, low, high = parsed[top]
    assert f"is for the {top} group" in words
    rate = next(r["rate"] for r in rows if r["race"] == top)
    assert (
        f"{rate / 100:.0%} against" in words and f"({ratio:.2f} times their rate, 95% CI {low:.2f}" in words
    )
    assert words.endswith("beyond the uncertainty." if low > 1 or high < 1 else "(the interval includes 1).")


def test_fastest_referral_type_is_said_only_beyond_the_uncertainty() -> None:
    def spells(group: str, housed: int, waiting: int) -> list[tuple[str, int, bool]]:
        return [(group, 60, True)] * housed + [(group, 500, False)] * waiting

    def fit(*groups: list[tuple[str, int, bool]]) -> survival.HousingCurves:
        rows = [row for group in groups for row in group]
        durations = pl.DataFrame(
            rows, schema={"referral_type": pl.String, "days": pl.Int64, "housed": pl.Boolean}, orient="row"
        ).with_columns(housed_at_referral=pl.lit(False))
        return survival.kaplan_meier(durations)

    # Planted: 60% of social contact housed within 2 months against 10% of arrest diversion.
    clear = cohorts.fastest_finding(
        fit(spells("social_contact", 120, 80), spells("arrest_diversion", 20, 180))
    )
    assert clear == (
        "Social contact referrals were housed fastest: 60% within 12 months, against 10% of arrest "
        "diversion referrals."
    )
    # 30% against 25% on 40 people each: within the uncertainty.
    close = cohorts.fastest_finding(fit(spells("social_contact", 12, 28), spells("arrest_diversion", 10, 30)))
    assert close is not None and close.endswith("a difference within the uncertainty.")
    assert cohorts.fastest_finding(fit(spells("social_contact", 12, 28))) is None  # one type only


# --- presets, kept choices and empty states ----------------------------------------------------


def shown_months(at: AppTest, key: str) -> list[dt.date]:
    return sorted({month_of(m) for m in frame(at, key)["month"]})


def test_trends_presets_change_the_months_shown(served: Home) -> None:
    at = page("trends")
    assert at.selectbox(key="trends-period").value == choices.LAST_24  # as before presets
    every = shown_months(at, "trends-table")
    expected = {
        choices.LAST_12: [m for m in every if m > dt.date(LATEST.year - 1, LATEST.month, 1)],
        choices.YEAR_TO_DATE: [m for m in every if m.year == LATEST.year],
        # July to June: the fiscal year that ended with the latest complete month (June 2024).
        choices.FISCAL_YEAR: [m for m in every if dt.date(2023, 7, 1) <= m <= dt.date(2024, 6, 1)],
        choices.ALL_MONTHS: every,
    }
    for preset, months in expected.items():
        at.selectbox(key="trends-period").set_value(preset).run()
        assert shown_months(at, "trends-table") == months, preset
        assert at.select_slider(key="trends-months").value == (months[0], months[-1])
    assert len(expected[choices.LAST_12]) == 12 and len(expected[choices.YEAR_TO_DATE]) == 6
    assert "July to June" in choices.PRESET_LABELS[choices.FISCAL_YEAR]
    # Moving the slider makes the period the months chosen.
    at.select_slider(key="trends-months").set_value((every[2], every[5])).run()
    assert at.selectbox(key="trends-period").value == choices.CUSTOM
    assert shown_months(at, "trends-table") == every[2:6]


def test_overview_presets_change_the_months_shown(served: Home) -> None:
    at = page("overview")
    assert at.selectbox(key="overview-period").value == choices.ALL_MONTHS
    every = shown_months(at, "table-permanent_housing")
    assert every[-1] == LATEST and len(every) == 18
    at.selectbox(key="overview-period").set_value(choices.LAST_12).run()
    assert shown_months(at, "table-permanent_housing") == every[-12:]
    _, words = opening(at)
    assert f"From {every[-12]:%b %Y} to {LATEST:%b %Y}" in words  # the sentence follows the period
    at.selectbox(key="overview-period").set_value(choices.YEAR_TO_DATE).run()
    assert shown_months(at, "table-active_participants") == [m for m in every if m.year == LATEST.year]


def test_choices_on_trends_stay_chosen_on_the_other_pages(served: Home) -> None:
    at = page("trends")
    at.selectbox(key="trends-metric").set_value("permanent_housing").run()
    at.multiselect(key="trends-referral-types").set_value(["arrest_diversion"]).run()
    at.selectbox(key="trends-period").set_value(choices.LAST_12).run()
    at.switch_page("app_pages/overview.py").run()
    assert not at.exception
    assert at.selectbox(key="overview-period").value == choices.LAST_12
    assert len(shown_months(at, "table-permanent_housing")) == 12
    at.switch_page("app_pages/cohorts.py").run()
    assert at.selectbox(key="cohorts-metric").value == "permanent_housing"
    assert at.multiselect(key="cohorts-referral-types").value == ["arrest_diversion"]
    at.switch_page("app_pages/equity.py").run()
    assert at.selectbox(key="equity-metric").value == "permanent_housing"
    at.switch_page("app_pages/before_after.py").run()
    assert at.selectbox(key="before-after-baseline-type").value == "arrest_diversion"
    # A choice on another page comes back to Trends.
    at.switch_page("app_pages/cohorts.py").run()
    at.selectbox(key="cohorts-metric").set_value("unsheltered").run()
    at.switch_page("app_pages/trends.py").run()
    assert at.selectbox(key="trends-metric").value == "unsheltered"
    assert at.multiselect(key="trends-referral-types").value == ["arrest_diversion"]
    assert at.selectbox(key="trends-period").value == choices.LAST_12


def test_an_empty_filter_is_said_in_a_sentence(served: Home) -> None:
    at = page("trends")
    cohort = at.multiselect(key="trends-cohorts").options[-1]  # the latest quarter, 2024-Q2
    at.multiselect(key="trends-cohorts").set_value([cohort]).run()
    early = (dt.date(2023, 1, 1), dt.date(2023, 2, 1))  # the demo's first months, before that quarter
    at.select_slider(key="trends-months").set_value(early).run()
    kind, words = opening(at)
    assert (kind, words) == ("Info", NO_DATA)
    assert not at.dataframe and not at.get("plotly_chart")
