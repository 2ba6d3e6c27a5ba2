"""The Cohorts page, its queries and its charts, against a small release built through the pipeline.

The release (as of 2024-06-15), worked out by hand:

  north A1  2023-11-10 arrest_diversion  unsheltered 2023-11-15, rental_with_subsidy 2024-01-20
  north A2  2023-12-05 social_contact    emergency_shelter 2023-12-05; exit 2024-02-10
  north B1  2024-01-08 social_contact    permanent_with_family 2024-01-08
  north B2  2024-02-20 arrest_diversion  no housing assessment (status unknown)
  south C1  2024-04-02 community         owned_no_subsidy 2024-03-20 (before referral)

Months since referral count from each participant's referral month (A1's month 0 is November,
A2's December). A status holds for 182 days, so every assessment above is still known in May.
June, the as-of month, is not complete: no cohort curve reads it (the last month is May 2024).
B1 (permanent on the referral date) and C1 (permanent 13 days before it) are already housed at
referral: counted apart, not followed to housing.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import survival
from dashboard.charts import cohorts as charts
from dashboard.findings import plain_definition
from dashboard.queries import cohorts
from dashboard.small_numbers import SMALL_FLAG
from pipelines.core.metrics import METRICS
from pipelines.core.palette import OKABE_ITO
from pipelines.core.scope import PROGRAM
from pipelines.core.settings import Home
from tests import apptest
from tests.conftest import drop, run

APP = "../dashboard/app.py"
PAGE = "app_pages/cohorts.py"
AS_OF = date(2024, 6, 15)

# In permanent housing: (cohort, months since referral, numerator, denominator).
#   2023-Q4 month 0: A1 unsheltered (Nov), A2 shelter (Dec); month 1 the same; month 2: A1
#   permanent since Jan 20, A2 still in shelter (exit Feb 10, so active in February);
#   months 3-6 (Feb-May): A1 alone; month 7 is June. 2024-Q1: B1 permanent from referral,
#   months 0-4 (Jan-May); B2 never known. 2024-Q2: C1, months 0-1 (Apr-May).
PERMANENT_HOUSING = [
    ("2023-Q4", 0, 0, 2),
    ("2023-Q4", 1, 0, 2),
    ("2023-Q4", 2, 1, 2),
    *[("2023-Q4", m, 1, 1) for m in range(3, 7)],
    *[("2024-Q1", m, 1, 1) for m in range(0, 5)],
    *[("2024-Q2", m, 1, 1) for m in range(0, 2)],
]
# Active participants (a count): (cohort, months since referral, participants).
#   2023-Q4: A1 Nov-May (months 0-6), A2 Dec-Feb (0-2). 2024-Q1: B1 Jan-May (0-4), B2 Feb-May
#   (0-3). 2024-Q2: C1 Apr-May (0-1). June is left out of every cohort.
ACTIVE = [
    *[("2023-Q4", m, 2) for m in range(0, 3)],
    *[("2023-Q4", m, 1) for m in range(3, 7)],
    *[("2024-Q1", m, 2) for m in range(0, 4)],
    ("2024-Q1", 4, 1),
    *[("2024-Q2", m, 1) for m in range(0, 2)],
]
# Time to permanent housing (days, housed): A1 71 days (Nov 10 to Jan 20), B2 censored at the
# as-of date after 116 days; A2 censored at exit after 67 days. B1 and C1 housed at referral.
# arrest_diversion: S = 1/2 at 71 days, but only 2 were at risk then: too few at risk.
# social_contact: A2 alone, never housed: not reached. community: nobody to follow.
SUMMARY = [
    ("Arrest diversion", 0, 2, 1, 1, "too few at risk"),
    ("Social contact", 1, 1, 0, 1, "not reached"),
    ("Community referral", 1, 0, 0, 0, "—"),
]
SUMMARY_COLUMNS = ("referral_type", "housed_at_referral", "participants", "events", "censored", "median")


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """The release above, built once through the nightly: the tests only read it."""
    home = Home(tmp_path_factory.mktemp("cohorts") / "home")
    drop(
        home,
        "north",
        "participants",
        [
            "A1,CM1,2023-11-10,arrest_diversion,,,,,1980,man,white",
            "A2,CM1,2023-12-05,social_contact,,,2024-02-10,moved,1985,woman,black",
            "B1,CM2,2024-01-08,social_contact,,,,,1990,man,hispanic_latino",
            "B2,CM2,2024-02-20,arrest_diversion,,,,,1975,woman,white",
        ],
    )
    drop(
        home,
        "north",
        "housing",
        [
            "A1,2023-11-15,unsheltered",
            "A1,2024-01-20,rental_with_subsidy",
            "A2,2023-12-05,emergency_shelter",
            "B1,2024-01-08,permanent_with_family",
        ],
    )
    drop(home, "south", "participants", ["C1,CM7,2024-04-02,community,,,,,1995,non_binary,asian"])
    drop(home, "south", "housing", ["C1,2024-03-20,owned_no_subsidy"])
    assert run(home, AS_OF.isoformat()).published
    return home


def cohorts_page() -> AppTest:
    at = apptest.open_page(PAGE)
    assert not at.exception, at.exception
    return at


# A table's proto carries no key: each of the page's tables is known by a column of its own.
TABLE_COLUMNS = {"cohorts-table": "cohort", "housing-summary": "median", "housing-milestones": "at_risk"}


def table(at: AppTest, key: str) -> pl.DataFrame:
    (found,) = [frame.value for frame in at.dataframe if TABLE_COLUMNS[key] in frame.value.columns]
    return pl.from_pandas(found)


def chart_traces(at: AppTest, key: str) -> list[dict]:
    (chart,) = [c for c in at.get("plotly_chart") if key in c.proto.id]
    return json.loads(chart.proto.spec)["data"]


def infos(at: AppTest) -> list[str]:
    return [info.value for info in at.info]


# --- the page -----------------------------------------------------------------------------


def test_cohort_table_holds_the_hand_counts(page_home: Home) -> None:
    at = cohorts_page()
    assert [t.value for t in at.title] == ["Cohorts"]
    assert at.selectbox(key="cohorts-metric").value == "permanent_housing"
    # Fewer than eight cohorts: all are drawn.
    assert at.multiselect(key="cohorts-cohorts").value == ["2023-Q4", "2024-Q1", "2024-Q2"]
    shown = table(at, "cohorts-table")
    assert shown.columns == ["cohort", "months_since_referral", "numerator", "denominator", "value", "flag"]
    assert shown.select("cohort", "months_since_referral", "numerator", "denominator").rows() == (
        PERMANENT_HOUSING
    )
    assert shown["value"].to_list() == pytest.approx([100 * n / d for _, _, n, d in PERMANENT_HOUSING])
    # Every denominator here is under 11: every row flagged, every point hollow.
    assert set(shown["flag"]) == {SMALL_FLAG}
    traces = chart_traces(at, "cohorts-chart")
    assert [t["name"] for t in traces] == ["2023-Q4", "2024-Q1", "2024-Q2"]
    assert traces[0]["y"] == pytest.approx([0, 0, 0.5, 1, 1, 1, 1])
    assert set(traces[0]["marker"]["symbol"]) == {"circle-open"}


def test_caption_defines_the_metric(page_home: Home) -> None:
    at = cohorts_page()
    captions = " ".join(c.value for c in at.caption)
    assert plain_definition(METRICS["permanent_housing"]) in captions
    assert "Drawn through May 2024, the last complete month" in captions
    # Methods in words, out of the way: one expander under each section.
    assert [e.label for e in at.expander] == ["How this is calculated"] * 2
    cohort_method, housing_method = (" ".join(m.value for m in e.markdown) for e in at.expander)
    assert "last day" in cohort_method and "fewer than 11 people" in cohort_method
    for words in ("Kaplan-Meier", "Greenwood", "censored", "on or before the referral date", "182 days"):
        assert words in housing_method
    assert "Kaplan-Meier" not in captions


def test_page_opens_with_what_it_found(page_home: Home) -> None:
    at = cohorts_page()
    # A1, A2 and B2 were not housed at referral; nobody was followed 6 months (B2's 116 days
    # are the longest); B1 and C1 were housed at referral.
    assert at.markdown[0].value == (
        "Of the 3 participants not in permanent housing at referral, too few have been followed 6 "
        "months to say what share moved into permanent housing by then (too few at risk). Already in "
        "permanent housing at referral: 2 (counted apart, not in the curve)."
    )


def test_changing_metric_and_cohorts(page_home: Home) -> None:
    at = cohorts_page()
    at.selectbox(key="cohorts-metric").set_value("active_participants").run()
    assert not at.exception
    shown = table(at, "cohorts-table")
    assert shown.columns == ["cohort", "months_since_referral", "value"]
    assert [(c, m, int(v)) for c, m, v in shown.rows()] == ACTIVE
    assert plain_definition(METRICS["active_participants"]) in " ".join(c.value for c in at.caption)
    at.multiselect(key="cohorts-cohorts").set_value(["2024-Q1"]).run()
    assert not at.exception
    shown = table(at, "cohorts-table")
    assert [(c, m, int(v)) for c, m, v in shown.rows()] == [r for r in ACTIVE if r[0] == "2024-Q1"]
    assert [t["name"] for t in chart_traces(at, "cohorts-chart")] == ["2024-Q1"]


def test_no_cohort_chosen_says_so(page_home: Home) -> None:
    at = cohorts_page()
    at.multiselect(key="cohorts-cohorts").set_value([]).run()
    assert not at.exception
    assert any("at least one referral cohort" in text for text in infos(at))
    assert not [c for c in at.get("plotly_chart") if "cohorts-chart" in c.proto.id]


def test_housing_tables_hold_the_hand_fit(page_home: Home) -> None:
    at = cohorts_page()
    summary = table(at, "housing-summary")
    assert summary.select(SUMMARY_COLUMNS).rows() == SUMMARY
    milestones = table(at, "housing-milestones")
    # Arrest diversion at 3 months: S = 1/2 after A1's 71 days, but only B2 still followed (116
    # days); social contact: nobody followed 3 months (A2 censored at 67 days). Every milestone
    # rests on fewer than 20: too few at risk. Community has nobody in its curve: no rows.
    assert milestones.select("referral_type", "months", "share_housed", "interval", "at_risk").rows() == [
        ("Arrest diversion", 3, "too few at risk", "—", 1),
        *[("Arrest diversion", m, "too few at risk", "—", 0) for m in (6, 12, 18, 24)],
        *[("Social contact", m, "too few at risk", "—", 0) for m in (3, 6, 12, 18, 24)],
    ]
    # Two curves (community has none), each under 20 at risk from the start: dashed throughout.
    traces = chart_traces(at, "housing-chart")
    legend = [t for t in traces if t.get("showlegend") is not False]
    assert [t["name"] for t in legend] == ["Arrest diversion", "Social contact"]
    dashed = [t for t in traces if t.get("line", {}).get("dash") == "dash"]
    assert [t["name"] for t in dashed] == [
        "Arrest diversion: fewer than 20 still followed",
        "Social contact: fewer than 20 still followed",
    ]


def test_filters_narrow_both_sections(page_home: Home) -> None:
    at = cohorts_page()
    at.multiselect(key="cohorts-referral-types").set_value(["community"]).run()
    assert not at.exception
    assert at.multiselect(key="cohorts-cohorts").value == ["2024-Q2"]
    assert table(at, "cohorts-table")["cohort"].unique().to_list() == ["2024-Q2"]
    assert table(at, "housing-summary")["referral_type"].to_list() == ["Community referral"]
    assert table(at, "housing-milestones").is_empty()  # C1 was housed at referral: no curve
    assert at.markdown[0].value.startswith("Every participant here was already in permanent housing")


def test_filters_leaving_no_data_say_so(page_home: Home) -> None:
    at = cohorts_page()
    at.multiselect(key="cohorts-referral-types").set_value(["community"])
    at.multiselect(key="cohorts-sites").set_value(["north"]).run()
    assert not at.exception
    messages = infos(at)
    assert any("No participant-months match these filters" in m for m in messages)
    # Said once, at the top; the housing section says what it cannot draw, not the same again.
    assert sum("No participants match these filters" in m for m in messages) == 1, messages
    assert any("No one to follow to permanent housing" in m for m in messages)
    assert not at.dataframe
    assert not at.get("plotly_chart")


@pytest.mark.parametrize("state", ["no warehouse", "dangling link"])
def test_no_release_says_how_to_make_one(empty_home: Path, state: str) -> None:
    if state == "dangling link":
        (empty_home / "warehouse").mkdir()
        (empty_home / "warehouse" / "current.duckdb").symlink_to("release-gone.duckdb")
    at = cohorts_page()
    assert any("outcomes nightly" in text for text in infos(at))
    assert not at.dataframe and not at.get("plotly_chart")


def test_unreadable_release_is_reported_not_raised(empty_home: Path) -> None:
    warehouse = empty_home / "warehouse"
    warehouse.mkdir()
    (warehouse / "release-broken.duckdb").write_text("not a database\n")
    (warehouse / "current.duckdb").symlink_to("release-broken.duckdb")
    at = cohorts_page()
    assert any("could not be read" in error.value for error in at.error)


# --- queries ------------------------------------------------------------------------------


def test_cohort_curves(con: duckdb.DuckDBPyConnection) -> None:
    curves = cohorts.cohort_curves(con, PROGRAM, "permanent_housing")
    assert curves.columns == list(cohorts.CURVES_SCHEMA)
    assert curves.select("cohort", "months_since_referral", "numerator", "denominator").rows() == (
        PERMANENT_HOUSING
    )
    assert curves["value"].to_list() == pytest.approx([n / d for _, _, n, d in PERMANENT_HOUSING])
    active = cohorts.cohort_curves(con, PROGRAM, "active_participants")
    assert [(c, m, n) for c, m, n, _, _ in active.rows()] == ACTIVE
    assert active["value"].to_list() == [float(n) for _, _, n in ACTIVE]  # a count is its own value


def test_cohort_curves_stop_at_the_last_month(con: duckdb.DuckDBPyConnection) -> None:
    curves = cohorts.cohort_curves(con, PROGRAM, "active_participants", last_month=2)
    assert curves["months_since_referral"].max() == 2
    assert curves.height == 8  # 2023-Q4 and 2024-Q1 months 0-2, 2024-Q2 months 0-1 (June is partial)


def test_cohort_curves_filter_by_bound_values(con: duckdb.DuckDBPyConnection) -> None:
    by_type = cohorts.cohort_curves(con, PROGRAM, "active_participants", referral_types=["social_contact"])
    # A2 (2023-Q4, months 0-2) and B1 (2024-Q1, months 0-4: January to May).
    assert by_type.select("cohort", "months_since_referral").rows() == [
        *[("2023-Q4", m) for m in range(3)],
        *[("2024-Q1", m) for m in range(5)],
    ]
    by_site = cohorts.cohort_curves(con, PROGRAM, "active_participants", sites=["south"])
    assert by_site["cohort"].unique().to_list() == ["2024-Q2"]
    assert cohorts.cohort_curves(con, PROGRAM, "arrested", sites=["south' or '1'='1"]).is_empty()
    assert cohorts.cohort_curves(
        con, PROGRAM, "arrested", referral_types=["x'); drop table participants; --"]
    ).is_empty()


def test_metric_is_an_allowlist(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError, match="unknown metric"):
        cohorts.cohort_curves(con, PROGRAM, "active from participants; --")


def test_filter_options(con: duckdb.DuckDBPyConnection) -> None:
    assert cohorts.filter_options(con, PROGRAM) == (
        ["arrest_diversion", "social_contact", "community"],
        ["north", "south"],
    )


def test_recent_cohorts() -> None:
    curves = pl.DataFrame({"cohort": [f"{y}-Q{q}" for y in (2022, 2023, 2024) for q in (1, 2, 3, 4)] * 2})
    assert cohorts.recent_cohorts(curves) == [f"{y}-Q{q}" for y in (2023, 2024) for q in (1, 2, 3, 4)]
    assert cohorts.recent_cohorts(curves, 2) == ["2024-Q3", "2024-Q4"]
    assert cohorts.recent_cohorts(curves.head(3)) == ["2022-Q1", "2022-Q2", "2022-Q3"]


def test_tables_as_the_page_shows_them(con: duckdb.DuckDBPyConnection) -> None:
    curves = cohorts.cohort_curves(con, PROGRAM, "permanent_housing")
    shown = cohorts.cohort_table(curves, "permanent_housing", ["2024-Q2"])
    assert shown.rows() == [("2024-Q2", m, 1, 1, 100.0, SMALL_FLAG) for m in range(2)]
    fit = survival.kaplan_meier(cohorts.housing_durations(con, PROGRAM))
    summary = cohorts.housing_summary_table(fit.summary)
    assert summary.select(SUMMARY_COLUMNS).rows() == SUMMARY
    milestones = cohorts.milestone_table(fit.milestones)
    assert milestones.columns == ["referral_type", "months", "share_housed", "interval", "at_risk"]
    assert milestones["referral_type"].unique(maintain_order=True).to_list() == [
        "Arrest diversion",
        "Social contact",
    ]


@pytest.mark.parametrize(
    ("lower", "upper", "at_risk", "text"),
    [
        (12.0, 140.0, (300, 20), "12 to 140 days"),
        (1059.0, None, (20, None), "1,059 days to not reached"),
        (None, None, (None, None), "not reached"),
        (817.0, 1574.0, (25, 19), "817 days to too few at risk"),
        (1200.0, 1574.0, (19, 2), "too few at risk"),
    ],
)
def test_interval_text(
    lower: float | None, upper: float | None, at_risk: tuple[int | None, int | None], text: str
) -> None:
    assert cohorts.interval_text(lower, upper, *at_risk) == text


def test_median_text() -> None:
    assert cohorts.median_text(None, None) == "not reached"
    assert cohorts.median_text(365.25, 20) == "365 days (12.0 months)"
    # The case: a 1,574-day median from one move among 2 still at risk.
    assert cohorts.median_text(1574.0, 2) == "too few at risk"
    assert cohorts.median_text(365.25, 19) == "too few at risk"


# --- charts -------------------------------------------------------------------------------


def test_cohort_chart_draws_one_line_per_cohort(con: duckdb.DuckDBPyConnection) -> None:
    curves = cohorts.cohort_curves(con, PROGRAM, "permanent_housing")
    figure = charts.cohort_chart(curves, "permanent_housing", ["2023-Q4", "2024-Q2"])
    assert [t.name for t in figure.data] == ["2023-Q4", "2024-Q2"]
    first = figure.data[0]
    assert list(first.x) == list(range(7))
    assert list(first.y) == pytest.approx([0, 0, 0.5, 1, 1, 1, 1])
    assert [tuple(c) for c in first.customdata][:3] == [(0, 2), (0, 2), (1, 2)]
    assert figure.layout.xaxis.title.text.startswith("Months since referral")
    assert figure.layout.yaxis.title.text == "Percent of denominator"
    assert figure.layout.yaxis.tickformat == ".0%"
    assert {t.line.color for t in figure.data} <= set(OKABE_ITO)


def test_cohort_chart_counts_participants(con: duckdb.DuckDBPyConnection) -> None:
    curves = cohorts.cohort_curves(con, PROGRAM, "active_participants")
    figure = charts.cohort_chart(curves, "active_participants", ["2024-Q1"])
    assert list(figure.data[0].y) == [2, 2, 2, 2, 1]
    assert set(figure.data[0].marker.symbol) == {"circle"}  # a count is no rate: never hollow
    assert figure.layout.yaxis.title.text == "Participants"


def test_many_cohorts_stay_distinguishable() -> None:
    names = [f"{y}-Q{q}" for y in (2021, 2022, 2023) for q in (1, 2, 3, 4)]
    curves = pl.DataFrame(
        {"cohort": names, "months_since_referral": [0] * 12, "numerator": [1] * 12, "denominator": [2] * 12},
        schema_overrides={"months_since_referral": pl.Int64},
    ).with_columns(value=pl.lit(0.5))
    figure = charts.cohort_chart(curves, "arrested", names)
    styles = [(t.line.color, t.line.dash) for t in figure.data]
    assert len(set(styles)) == 12
    assert "#F0E442" not in {colour for colour, _ in styles}  # no yellow on white


def test_rgba() -> None:
    assert charts.rgba("#0072B2", 0.15) == "rgba(0, 114, 178, 0.15)"
