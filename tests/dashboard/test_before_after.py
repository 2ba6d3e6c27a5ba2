"""The Before-and-after page, its queries and its charts, on a small release built by the pipeline.

As of 2024-06-15, so 6 months of follow-up means referred on or before 2023-12-15. "6 months
before" is [referral - 6 months, referral - 1 day], "6 months after" [referral + 1 day, referral +
6 months]: the referral date is in neither. Site a sends justice records without release dates
(contract v1: no custody reported); site b sends none, so its participant is left out.

| who  | referral type    | referred   | arrests (and other records)                       | counts as   |
|------|------------------|------------|---------------------------------------------------|-------------|
| a:P1 | arrest_diversion | 2023-06-01 | 2023-03-10, 2023-09-01                            | both        |
| a:P2 | arrest_diversion | 2023-07-15 | 2023-05-01; a booking 2023-08-01                  | before only |
| a:P3 | social_contact   | 2023-08-01 | 2023-01-31 (a day early), 2023-08-01 (referral)   | neither     |
| a:P4 | social_contact   | 2023-10-01 | 2023-09-30, 2024-04-01 (the last day after)       | both        |
| a:P5 | community        | 2023-12-15 | exited 2024-01-10; arrest 2024-03-01              | after only  |
| a:P6 | community        | 2023-12-16 | 2024-01-01                                        | too recent  |
| a:P7 | social_contact   | 2023-03-01 | none                                              | neither     |
| b:Q1 | arrest_diversion | 2023-01-01 | site b sends no justice records                   | left out    |

McNemar's counts of all six: both 2 (P1, P4), before only 1 (P2), after only 1 (P5), neither 2.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.charts.before_after import baseline_chart, comparison_chart
from dashboard.queries import before_after
from dashboard.queries.before_after import (
    comparison_view,
    evaluation,
    findings,
    measures_view,
    window_label,
)
from pipelines.core.palette import OKABE_ITO
from pipelines.core.scope import PROGRAM
from pipelines.core.settings import Home
from pipelines.core.stats import newcombe_paired_difference
from pipelines.evaluate.estimate import MEASURES
from tests import apptest
from tests.conftest import drop, run

PAGE = "app_pages/before_after.py"
AS_OF = "2024-06-15"
# Per group: people, arrested before, arrested after, and McNemar's (both, before only, after only, neither).
EXPECTED = {
    "All referral types": (6, 3, 3, (2, 1, 1, 2)),
    "Arrest diversion": (2, 2, 1, (1, 1, 0, 0)),
    "Social contact": (3, 1, 1, (1, 0, 0, 2)),
    "Community referral": (1, 0, 1, (0, 0, 1, 0)),
}


def participant(pid: str, referral_type: str, referred: str, exit_date: str = "", race: str = "black") -> str:
    exit_reason = "moved" if exit_date else ""
    return f"{pid},CM1,{referred},{referral_type},,,{exit_date},{exit_reason},1980,man,{race}"


def build(root: Path) -> Home:
    """The release of the module docstring."""
    home = Home(root)
    drop(
        home,
        "a",
        "participants",
        [
            participant("P1", "arrest_diversion", "2023-06-01"),
            participant("P2", "arrest_diversion", "2023-07-15"),
            participant("P3", "social_contact", "2023-08-01"),
            participant("P4", "social_contact", "2023-10-01"),
            participant("P5", "community", "2023-12-15", exit_date="2024-01-10"),
            participant("P6", "community", "2023-12-16"),
            participant("P7", "social_contact", "2023-03-01"),
        ],
    )
    drop(
        home,
        "a",
        "justice",
        [
            "P1,2023-03-10,arrest,misdemeanor",
            "P1,2023-09-01,arrest,felony",
            "P2,2023-05-01,arrest,misdemeanor",
            "P2,2023-08-01,booking,misdemeanor",
            "P3,2023-01-31,arrest,misdemeanor",
            "P3,2023-08-01,arrest,misdemeanor",
            "P4,2023-09-30,arrest,warrant",
            "P4,2024-04-01,arrest,misdemeanor",
            "P5,2024-03-01,arrest,misdemeanor",
            "P6,2024-01-01,arrest,misdemeanor",
        ],
    )
    drop(home, "b", "participants", [participant("Q1", "arrest_diversion", "2023-01-01")])
    result = run(home, AS_OF)
    assert result.published, result.error
    assert result.totals()["rows_quarantined"] == 0
    return home


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Home:
    return build(tmp_path_factory.mktemp("before-after") / "home")


@pytest.fixture
def six(con: duckdb.DuckDBPyConnection):  # noqa: ANN201 - an Evaluation
    return evaluation(con, PROGRAM, date.fromisoformat(AS_OF), 6)


def open_page() -> AppTest:
    return apptest.open_page(PAGE)


def page_text(at: AppTest) -> str:
    parts = [
        e.value for kind in ("title", "caption", "info", "markdown", "subheader") for e in getattr(at, kind)
    ]
    return "\n".join(str(part) for part in parts)


# --- queries ------------------------------------------------------------------------------


def test_share_arrested_hand_worked(six) -> None:  # noqa: ANN001
    view = comparison_view(six, "arrested")
    assert view["referral_type"].to_list() == list(EXPECTED)
    for row in view.iter_rows(named=True):
        people, before, after, pairs = EXPECTED[row["referral_type"]]
        assert (row["people"], row["before_numerator"], row["after_numerator"]) == (people, before, after)
        assert (row["before_value"], row["after_value"]) == pytest.approx(
            (100 * before / people, 100 * after / people)
        )
        expected = [100 * x for x in newcombe_paired_difference(*pairs)]
        assert (row["difference"], row["low"], row["high"]) == pytest.approx(expected)
        assert row["flag"] == "Fewer than 11 people"  # every group here is small


def test_arrests_per_person_year_at_a_site_without_custody(six) -> None:  # noqa: ANN001
    view = comparison_view(six, "arrests")
    everyone = view.row(0, named=True)
    # Site a reports no custody: every day alive is at risk. Before: P1, P2, P4 one arrest each;
    # after: P1, P4 and P5 (P3's arrest is on the referral date).
    assert (everyone["before_numerator"], everyone["after_numerator"]) == (3, 3)
    assert comparison_view(six, "jail_days")["after_numerator"].to_list() == [0, 0, 0, 0]


def test_an_earlier_as_of_date_follows_fewer(con: duckdb.DuckDBPyConnection) -> None:
    # As of 2024-02-01 only referrals up to 2023-08-01 have 6 months: P1, P2, P3 and P7.
    result = evaluation(con, PROGRAM, date(2024, 2, 1), 6)
    assert comparison_view(result, "arrested")["people"][0] == 4
    assert result.referred_by == {6: date(2023, 8, 1)}


def test_no_one_followed_gives_no_rows(con: duckdb.DuckDBPyConnection) -> None:
    assert evaluation(con, PROGRAM, date(2023, 6, 1), 6).comparisons.is_empty()


def test_sites_say_who_is_counted_and_who_reports_custody(con: duckdb.DuckDBPyConnection) -> None:
    sites = before_after.justice_sites(con, PROGRAM)
    assert (sites.with_justice, sites.without_justice, sites.custody_not_reported) == (("a",), ("b",), ("a",))
    assert before_after.missing_tables(con, PROGRAM) == frozenset()


def test_findings_are_computed_from_the_numbers(six) -> None:  # noqa: ANN001
    text = findings(six, 6)
    assert text.startswith("Of the 6 participants followed for 6 months after referral, 50.0% were arrested")
    assert "against 50.0% in the 6 months before (+0.0 percentage points" in text
    assert "18 to 12 months before referral" in text


def test_measures_view_reads_each_measure_in_its_unit(six) -> None:  # noqa: ANN001
    view = measures_view(six)
    assert view["measure"].to_list() == [
        "Share arrested",
        "Arrests per person-year at risk",
        "New-offense arrests per person-year at risk",
        "Warrant arrests per person-year at risk",
        "Bookings per person-year at risk",
        "Jail days per person-year",
        "Felony charges per person-year at risk",
    ]
    share = view.row(0, named=True)
    assert (share["before"], share["after"], share["difference"]) == ("50.0%", "50.0%", "+0.0 points")
    assert share["interval"].endswith(" points") and share["interval"].count("points") == 1


@pytest.mark.parametrize(
    ("window", "label"),
    [
        ((-18, -12), "18 to 12 months before"),
        ((-6, 0), "6 months before"),
        ((-12, 0), "12 months before"),
        ((0, 6), "6 months after"),
        ((6, 12), "6 to 12 months after"),
    ],
)
def test_window_labels(window: tuple[int, int], label: str) -> None:
    assert window_label(*window) == label


# --- charts -------------------------------------------------------------------------------


def test_comparison_chart_carries_the_numbers(six) -> None:  # noqa: ANN001
    view = comparison_view(six, "arrested")
    figure = comparison_chart(view, MEASURES["arrested"], 6)
    by_name = {trace.name: trace for trace in figure.data if trace.name}
    before, after = by_name["6 months before referral"], by_name["6 months after referral"]
    difference = by_name["Difference (95% CI)"]
    labels = [f"{t} (n={n})" for t, (n, *_) in EXPECTED.items()]
    assert list(before.y) == labels and list(after.y) == labels and list(difference.y) == labels
    assert list(before.x) == pytest.approx([50.0, 100.0, 100 / 3, 0.0])
    assert list(after.x) == pytest.approx([50.0, 50.0, 100 / 3, 100.0])
    rows = view.select("difference", "low", "high").rows()
    assert list(difference.error_x.array) == pytest.approx([h - d for d, _, h in rows])
    assert list(difference.error_x.arrayminus) == pytest.approx([d - lo for d, lo, _ in rows])
    # Every group has fewer than 11 people: hollow markers.
    assert list(before.marker.symbol) == ["circle-open"] * 4
    assert list(after.marker.symbol) == ["diamond-open"] * 4
    assert before.marker.color in OKABE_ITO and after.marker.color in OKABE_ITO
    assert figure.layout.xaxis.title.text == "Share arrested (%)"
    assert figure.layout.xaxis2.title.text == "Percentage points"


def test_comparison_chart_of_a_rate(six) -> None:  # noqa: ANN001
    figure = comparison_chart(comparison_view(six, "arrests"), MEASURES["arrests"], 6)
    assert figure.layout.xaxis.title.text.replace("<br>", " ") == "Arrests per person-year at risk"
    assert "person-years at risk" in figure.data[-2].hovertemplate


def test_baseline_chart_marks_referral(six) -> None:  # noqa: ANN001
    view = before_after.baseline_view(six)
    figure = baseline_chart(view)
    share, rate = figure.data
    assert list(share.x) == [
        "18 to 12 months before",
        "12 to 6 months before",
        "6 months before",
        "6 months after",
    ]
    assert list(share.y) == pytest.approx(view["share"].to_list())
    assert list(rate.y) == pytest.approx(view["rate"].to_list())
    assert [shape.x0 for shape in figure.layout.shapes] == [2.5, 2.5]  # between before and after
    assert figure.layout.annotations[-1].text == "Referral"


# --- the page -----------------------------------------------------------------------------


def test_page_opens_with_findings_then_the_caveat(page_home: Home) -> None:
    at = open_page()
    assert not at.exception
    assert at.title[0].value == "Before and after referral"
    assert at.markdown[0].value.startswith("Of the 6 participants followed for 6 months after referral")
    (caveat,) = at.info
    assert "regression to the mean" in caveat.value and "comparison" in caveat.value


def test_page_shows_the_tables(page_home: Home) -> None:
    at = open_page()
    comparison, measures, baseline = (table.value for table in at.dataframe)
    assert list(comparison["referral_type"]) == list(EXPECTED)
    assert list(comparison["before_numerator"]) == [before for _, before, _, _ in EXPECTED.values()]
    assert list(comparison["after_numerator"]) == [after for _, _, after, _ in EXPECTED.values()]
    assert list(comparison["flag"]) == ["Fewer than 11 people"] * 4
    assert len(measures) == len(MEASURES)
    assert list(baseline["window"]) == [
        "18 to 12 months before",
        "12 to 6 months before",
        "6 months before",
        "6 months after",
    ]
    assert list(baseline["arrested"]) == [0, 1, 3, 3]


def test_page_switches_measure_and_months(page_home: Home) -> None:
    at = open_page()
    at.selectbox(key="before-after-measure").set_value("arrests").run()
    assert not at.exception
    assert list(at.dataframe[0].value["before_numerator"]) == [3, 2, 1, 0]
    at.radio(key="before-after-months").set_value(12).run()
    assert not at.exception
    # As of 2024-06-15, 12 months after referral: P1 and P7 only.
    assert at.markdown[0].value.startswith("Of the 2 participants followed for 12 months")


def test_page_names_the_method_windows_and_sites(page_home: Home) -> None:
    text = page_text(open_page())
    assert "Newcombe" in text and "scipy.stats.bootstrap" in text
    assert "referred on or before\n2023-12-15" in text or "referred on or before 2023-12-15" in text
    assert "The referral date itself is in neither window" in text
    assert "Left out: 1 of 2 sites send no justice records (b)" in text
    assert "Not reported by: a" in text
    assert "Numerator:" in text and "denominator:" in text
    assert "hollow point" in text.lower()


def test_page_wording_is_neutral(page_home: Home) -> None:
    text = page_text(open_page()).lower()
    for word in ("fail", "recidiv", "relapse", "offender", "success", "_"):
        assert word not in text.replace("scipy.stats", "")


def test_page_without_a_release_says_how_to_make_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    apptest.serve(monkeypatch, tmp_path / "empty")
    at = open_page()
    assert not at.exception
    assert any("outcomes nightly" in info.value for info in at.info)
    assert not at.dataframe


def test_page_without_justice_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = Home(tmp_path / "home")
    drop(home, "b", "participants", [participant("Q1", "arrest_diversion", "2023-01-01")])
    assert run(home, AS_OF).published
    apptest.serve(monkeypatch, home.root)
    at = open_page()
    assert not at.exception
    assert any("No site has sent justice records" in info.value for info in at.info)
    assert not at.dataframe and not at.get("plotly_chart")


def test_page_when_no_one_has_six_months(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = Home(tmp_path / "home")
    drop(home, "a", "participants", [participant("P1", "social_contact", "2024-03-01")])
    drop(home, "a", "justice", ["P1,2024-04-01,arrest,misdemeanor"])
    assert run(home, AS_OF).published
    apptest.serve(monkeypatch, home.root)
    at = open_page()
    assert not at.exception
    assert any("no one to compare yet" in info.value for info in at.info)
    assert not at.dataframe


def test_page_on_a_release_built_before_custody_spells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = Home(tmp_path / "home")
    home.warehouse.mkdir(parents=True)
    with duckdb.connect(str(home.warehouse / "release-old.duckdb")) as old:
        old.sql(
            "create table release as select 'old' as run_id, date '2024-06-15' as as_of, "
            "now()::timestamp as built_at, 'v1' as metrics_version"
        )
        old.sql("create table participants (site_id varchar, participant_id varchar)")
        old.sql("create table justice (site_id varchar, participant_id varchar)")
    home.current.symlink_to("release-old.duckdb")
    apptest.serve(monkeypatch, home.root)
    at = open_page()
    assert not at.exception
    assert any("built by an older version" in info.value for info in at.info)
    assert not at.dataframe and not at.error


def test_unreadable_release_is_reported_not_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = Home(tmp_path / "home")
    home.warehouse.mkdir(parents=True)
    (home.warehouse / "release-broken.duckdb").write_text("not a database\n")
    home.current.symlink_to("release-broken.duckdb")
    apptest.serve(monkeypatch, home.root)
    at = open_page()
    assert not at.exception
    assert any("could not be read" in error.value for error in at.error)
    assert not at.dataframe


def test_referral_type_labels_cover_the_contract() -> None:
    from checks.vocab import REFERRAL_TYPES

    assert set(REFERRAL_TYPES) < set(before_after.REFERRAL_TYPE_LABELS)


def test_every_measure_has_a_title() -> None:
    titles = [before_after.measure_title(m) for m in MEASURES.values()]
    assert len(set(titles)) == len(titles) and all("_" not in t for t in titles)
    assert pl.Series(titles).str.contains("per person-year").sum() == len(titles) - 1
