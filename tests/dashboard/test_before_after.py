"""The Before-and-after page, its queries and its chart, on a small release built by the pipeline.

As of 2024-06-15, so 6 months of follow-up means referred on or before 2023-12-15.
Site a sends justice records; site b does not, so its participant is left out.

| participant | referral type    | referred   | arrests (and other records)         | counts as   |
|-------------|------------------|------------|-------------------------------------|-------------|
| a:P1        | arrest_diversion | 2023-06-01 | 2023-03-10, 2023-09-01              | both        |
| a:P2        | arrest_diversion | 2023-07-15 | 2023-05-01; a booking 2023-08-01    | before only |
| a:P3        | social_contact   | 2023-08-01 | 2023-01-31 (a day early), 2023-08-01 | after only |
| a:P4        | social_contact   | 2023-10-01 | 2023-09-30, 2024-04-01 (a day late) | before only |
| a:P5        | community        | 2023-12-15 | exited 2024-01-10; arrest 2024-03-01 | after only |
| a:P6        | community        | 2023-12-16 | 2024-01-01                          | too recent  |
| a:P7        | social_contact   | 2023-03-01 | none                                | neither     |
| b:Q1        | arrest_diversion | 2023-01-01 | site b sends no justice records     | left out    |

P3's 2023-01-31 is a day before the window [2023-02-01, 2023-08-01); P4's 2024-04-01 is the
first day after [2023-10-01, 2024-04-01); P5 is counted after exiting (follow-up by calendar)
and was referred exactly 6 months before the as-of date.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import stats
from dashboard.charts.before_after import before_after_chart
from dashboard.queries import before_after
from dashboard.queries.before_after import (
    Coverage,
    arrest_pairs,
    coverage,
    followed_since,
    with_intervals,
)
from pipelines.core.palette import OKABE_ITO
from pipelines.core.scope import PROGRAM
from pipelines.core.settings import Home
from tests import apptest
from tests.conftest import drop, run

PAGE = "app_pages/before_after.py"
AS_OF = "2024-06-15"
COLUMNS = ["referral_type", "participants", "both", "before_only", "after_only", "neither"]
EXPECTED = [
    ("all", 6, 1, 2, 2, 1),
    ("arrest_diversion", 2, 1, 1, 0, 0),
    ("social_contact", 3, 0, 1, 1, 1),
    ("community", 1, 0, 0, 1, 0),
]


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


def open_page() -> AppTest:
    return apptest.open_page(PAGE)


def page_text(at: AppTest) -> str:
    parts = [e.value for kind in ("title", "caption", "info", "markdown") for e in getattr(at, kind)]
    return "\n".join(str(part) for part in parts)


# --- queries ------------------------------------------------------------------------------


def test_arrest_pairs_hand_worked(con: duckdb.DuckDBPyConnection) -> None:
    pairs = arrest_pairs(con, PROGRAM, date.fromisoformat(AS_OF))
    assert pairs.columns == COLUMNS
    assert pairs.rows() == EXPECTED


def test_coverage_names_the_sites_left_out(con: duckdb.DuckDBPyConnection) -> None:
    assert coverage(con, PROGRAM, date.fromisoformat(AS_OF)) == Coverage(
        referred_by=date(2023, 12, 15),
        sites=2,
        sites_with_justice=("a",),
        sites_without_justice=("b",),
        followed=6,
    )


def test_an_earlier_as_of_date_follows_fewer(con: duckdb.DuckDBPyConnection) -> None:
    # As of 2024-02-01 only referrals up to 2023-08-01 have 6 months: P1, P2, P3 and P7.
    pairs = arrest_pairs(con, PROGRAM, date(2024, 2, 1))
    assert pairs.row(0) == ("all", 4, 1, 1, 1, 1)


def test_no_one_followed_gives_no_rows(con: duckdb.DuckDBPyConnection) -> None:
    assert arrest_pairs(con, PROGRAM, date(2023, 6, 1)).is_empty()
    assert coverage(con, PROGRAM, date(2023, 6, 1)).followed == 0


@pytest.mark.parametrize(
    ("as_of", "referred_by"),
    [
        (date(2024, 6, 15), date(2023, 12, 15)),
        (date(2024, 2, 29), date(2023, 8, 31)),  # a month's last day: every later day qualifies
        (date(2023, 2, 28), date(2022, 8, 31)),
        (date(2024, 3, 31), date(2023, 9, 30)),
        (date(2024, 3, 30), date(2023, 9, 30)),
        (date(2024, 8, 30), date(2024, 2, 29)),
        (date(2024, 1, 5), date(2023, 7, 5)),
    ],
)
def test_followed_since_agrees_with_duckdb(as_of: date, referred_by: date) -> None:
    assert followed_since(as_of) == referred_by
    # The day itself has 6 months by the as-of date; the next day does not (DuckDB's arithmetic).
    ((has, next_has),) = duckdb.sql(
        "select $d + to_months(6) <= $as_of, $d + 1 + to_months(6) <= $as_of",
        params={"d": referred_by, "as_of": as_of},
    ).fetchall()
    assert has and not next_has


def test_with_intervals_adds_shares_and_newcombe(con: duckdb.DuckDBPyConnection) -> None:
    table = with_intervals(arrest_pairs(con, PROGRAM, date.fromisoformat(AS_OF)))
    overall = table.row(0, named=True)
    # Arrested before: both 1 + before only 2 = 3 of 6; after: both 1 + after only 2 = 3 of 6.
    assert (overall["arrested_before"], overall["arrested_after"]) == (3, 3)
    assert (overall["before"], overall["after"]) == (0.5, 0.5)
    assert overall["difference"] == 0
    expected = stats.newcombe_paired_difference(1, 2, 2, 1)
    assert (overall["difference"], overall["low"], overall["high"]) == pytest.approx(expected)
    assert overall["low"] < 0 < overall["high"]
    social = table.row(2, named=True)
    assert social["referral_type"] == "social_contact"
    assert (social["before"], social["after"]) == pytest.approx((1 / 3, 1 / 3))
    community = table.row(3, named=True)
    assert community["difference"] == pytest.approx(1.0)
    assert community["high"] == pytest.approx(1.0)


def test_with_intervals_leaves_an_empty_group_null() -> None:
    pairs = pl.DataFrame([("community", 0, 0, 0, 0, 0)], schema=COLUMNS, orient="row")
    row = with_intervals(pairs).row(0, named=True)
    assert row["difference"] is None and row["low"] is None and row["before"] is None


# --- chart --------------------------------------------------------------------------------


def test_chart_carries_the_numbers(con: duckdb.DuckDBPyConnection) -> None:
    table = with_intervals(arrest_pairs(con, PROGRAM, date.fromisoformat(AS_OF)))
    figure = before_after_chart(table)
    by_name = {trace.name: trace for trace in figure.data if trace.name}
    before = by_name["6 months before referral"]
    after = by_name["6 months after referral"]
    difference = by_name["Difference (95% CI)"]
    labels = [
        "All referral types (n=6)",
        "Arrest diversion (n=2)",
        "Social contact (n=3)",
        "Community (n=1)",
    ]
    assert list(before.y) == labels and list(after.y) == labels and list(difference.y) == labels
    assert list(before.x) == pytest.approx([3 / 6, 2 / 2, 1 / 3, 0])
    assert list(after.x) == pytest.approx([3 / 6, 1 / 2, 1 / 3, 1])
    # The difference in percentage points, with the CI as asymmetric error bars.
    rows = table.select("difference", "low", "high").rows()
    assert list(difference.x) == pytest.approx([100 * d for d, _, _ in rows])
    assert list(difference.error_x.array) == pytest.approx([100 * (h - d) for d, _, h in rows])
    assert list(difference.error_x.arrayminus) == pytest.approx([100 * (d - lo) for d, lo, _ in rows])
    assert before.marker.color in OKABE_ITO and after.marker.color in OKABE_ITO
    assert before.marker.symbol != after.marker.symbol  # told apart without colour too
    assert figure.layout.xaxis.title.text == "Share of participants arrested"
    assert figure.layout.xaxis2.title.text == "Percentage points"
    assert figure.layout.yaxis.title.text == "Referral type"
    low, high = figure.layout.xaxis2.range
    assert low < min(100 * lo for _, lo, _ in rows) and high > max(0, *(100 * h for _, _, h in rows))


def test_chart_skips_empty_groups() -> None:
    pairs = pl.DataFrame([("all", 4, 1, 1, 1, 1), ("community", 0, 0, 0, 0, 0)], schema=COLUMNS, orient="row")
    figure = before_after_chart(with_intervals(pairs))
    assert {tuple(trace.y) for trace in figure.data if trace.name} == {("All referral types (n=4)",)}


# --- the page -----------------------------------------------------------------------------


def test_page_shows_the_table_and_chart(page_home: Home) -> None:
    at = open_page()
    assert not at.exception
    assert at.title[0].value == "Before and after referral"
    (table,) = at.dataframe
    frame = table.value
    assert list(frame["referral_type"]) == [
        "All referral types",
        "Arrest diversion",
        "Social contact",
        "Community",
    ]
    counts = frame[["participants", "both", "before_only", "after_only", "neither"]]
    assert [tuple(int(v) for v in row) for row in counts.itertuples(index=False)] == [
        row[1:] for row in EXPECTED
    ]
    assert list(frame["arrested_before"]) == [3, 2, 1, 0]
    assert list(frame["arrested_after"]) == [3, 1, 1, 1]
    assert list(frame["before"]) == pytest.approx([50.0, 100.0, 100 / 3, 0.0])  # percent
    assert list(frame["after"]) == pytest.approx([50.0, 50.0, 100 / 3, 100.0])
    expected = [stats.newcombe_paired_difference(*row[2:]) for row in EXPECTED]
    assert list(frame["difference"]) == pytest.approx([100 * d for d, _, _ in expected])
    assert list(frame["low"]) == pytest.approx([100 * lo for _, lo, _ in expected])
    assert list(frame["high"]) == pytest.approx([100 * h for _, _, h in expected])


def test_page_names_the_method_the_window_and_who_is_left_out(page_home: Home) -> None:
    at = open_page()
    text = page_text(at)
    assert "Newcombe" in text and "method 10" in text
    assert "referred on or before 2023-12-15" in text
    assert "by calendar" in text and "after a program exit" in text
    assert "Left out: 1 of 2 sites send no justice records (b)" in text
    assert "Numerator:" in text and "denominator:" in text
    assert "McNemar" in text


def test_page_wording_is_neutral(page_home: Home) -> None:
    text = page_text(open_page()).lower()
    assert "arrest (a justice record of type arrest) in the 6 months before referral" in text
    for word in ("fail", "recidiv", "relapse", "offender", "success"):
        assert word not in text


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
