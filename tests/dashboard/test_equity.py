"""The Equity page, its queries, table and forest plot, on a small release built by the pipeline.

As of 2024-06-15: the latest complete month is May 2024. Site a, no exits:

| participant | race          | referred   | arrested in May 2024 |
|-------------|---------------|------------|----------------------|
| B1, B2      | black         | 2024-01    | yes                  |
| B3, B4      | black         | 2024-02/03 | no                   |
| W1          | white         | 2024-01-20 | yes                  |
| W2          | white         | 2023-05-20 | no (referred before the 12-month window) |
| A1          | asian         | 2024-02-10 | no                   |
| M1          | black;white   | 2024-02-15 | yes (multiracial)    |
| U1          | unknown       | 2024-03-10 | no                   |
| X1          | black         | 2024-06-01 | not active in May; arrested in June |

Arrested in May: black 2/4, white 1/2, asian 0/1, multiracial 1/1, unknown 0/1.
Referred June 2023 to May 2024: black 4, white 1, asian 1, multiracial 1, unknown 1 (8 in all).
"""

from __future__ import annotations

from datetime import date
from math import exp, sqrt
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.charts import equity as charts
from dashboard.charts.equity import forest_chart, ratio_ticks
from dashboard.queries import equity
from dashboard.queries.equity import (
    ALL_OTHERS,
    WHITE,
    equity_table,
    race_months,
    race_rates,
    rate_metrics,
    referrals_by_race,
    size_flag,
)
from pipelines.core.metrics import METRICS, Kind
from pipelines.core.palette import OKABE_ITO
from pipelines.core.scope import PROGRAM
from pipelines.core.settings import Home
from tests import apptest
from tests.conftest import drop, run

PAGE = "app_pages/equity.py"
AS_OF = "2024-06-15"
MAY = date(2024, 5, 1)
Z = 1.959964
# race -> (arrested in May, active in May)
ARRESTED_MAY = {"asian": (0, 1), "black": (2, 4), "multiracial": (1, 1), "unknown": (0, 1), "white": (1, 2)}
REFERRED = {"asian": 1, "black": 4, "multiracial": 1, "unknown": 1, "white": 1}
ORDER = ["asian", "black", "white", "multiracial", "unknown"]  # the contract's order
LABELS = ["Asian", "Black", "White", "Multiracial", "Unknown"]


def participant(pid: str, referred: str, race: str) -> str:
    return f"{pid},CM1,{referred},social_contact,,,,,1980,woman,{race}"


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Home:
    home = Home(tmp_path_factory.mktemp("equity") / "home")
    drop(
        home,
        "a",
        "participants",
        [
            participant("B1", "2024-01-10", "black"),
            participant("B2", "2024-01-15", "black"),
            participant("B3", "2024-02-01", "black"),
            participant("B4", "2024-03-01", "black"),
            participant("W1", "2024-01-20", "white"),
            participant("W2", "2023-05-20", "white"),
            participant("A1", "2024-02-10", "asian"),
            participant("M1", "2024-02-15", "black;white"),
            participant("U1", "2024-03-10", "unknown"),
            participant("X1", "2024-06-01", "black"),
        ],
    )
    drop(
        home,
        "a",
        "justice",
        [
            "B1,2024-05-03,arrest,misdemeanor",
            "B2,2024-05-10,arrest,misdemeanor",
            "W1,2024-05-20,arrest,felony",
            "M1,2024-05-25,arrest,misdemeanor",
            "X1,2024-06-05,arrest,misdemeanor",
        ],
    )
    result = run(home, AS_OF)
    assert result.published, result.error
    assert result.totals()["rows_quarantined"] == 0
    return home


def open_page() -> AppTest:
    return apptest.open_page(PAGE)


def katz(a: int, n1: int, c: int, n2: int) -> tuple[float, float, float]:
    """The ratio and its interval, written out: (a/n1)/(c/n2) × exp(± z·SE)."""
    ratio = (a / n1) / (c / n2)
    se = sqrt(1 / a - 1 / n1 + 1 / c - 1 / n2)
    return ratio, ratio * exp(-Z * se), ratio * exp(Z * se)


def rates_frame(rows: dict[str, tuple[int, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(race, n, d, n / d) for race, (n, d) in rows.items()],
        schema={"race": pl.String, "numerator": pl.Int64, "denominator": pl.Int64, "value": pl.Float64},
        orient="row",
    )


def referrals_frame(rows: dict[str, int]) -> pl.DataFrame:
    return pl.DataFrame(list(rows.items()), schema={"race": pl.String, "referred": pl.Int64}, orient="row")


# --- queries ------------------------------------------------------------------------------


def test_race_rates_read_metric_values(con: duckdb.DuckDBPyConnection) -> None:
    rates = race_rates(con, PROGRAM, "arrested", MAY)
    assert rates.columns == ["race", "numerator", "denominator", "value"]
    assert {r: (n, d) for r, n, d, _ in rates.rows()} == ARRESTED_MAY
    # No housing records: no race row has a denominator, so there are none.
    assert race_rates(con, PROGRAM, "permanent_housing", MAY).is_empty()


def test_race_months_stop_at_the_month_asked(con: duckdb.DuckDBPyConnection) -> None:
    months = race_months(con, PROGRAM, "arrested", MAY)
    assert months[0] == MAY and months[-1] == date(2023, 5, 1)
    assert len(months) == 13 and months == sorted(months, reverse=True)
    assert race_months(con, PROGRAM, "permanent_housing", MAY) == []


def test_metric_name_is_bound_not_spliced(con: duckdb.DuckDBPyConnection) -> None:
    assert race_rates(con, PROGRAM, "arrested' or '1'='1", MAY).is_empty()
    assert race_months(con, PROGRAM, "x'; drop table metric_values; --", MAY) == []


def test_referrals_in_the_twelve_months_up_to_the_month(con: duckdb.DuckDBPyConnection) -> None:
    referrals = referrals_by_race(con, PROGRAM, MAY)
    assert dict(referrals.rows()) == REFERRED  # W2 (May 2023) and X1 (June 2024) are outside
    # A window that ends in June takes X1 in and leaves nothing of May 2023 either.
    assert dict(referrals_by_race(con, PROGRAM, date(2024, 6, 1)).rows())["black"] == 5
    assert dict(referrals_by_race(con, PROGRAM, date(2024, 4, 1)).rows())["white"] == 2


def test_referral_race_follows_participant_months(con: duckdb.DuckDBPyConnection) -> None:
    # Whatever the window, each participant's race is the one participant_months gives them.
    everyone = dict(referrals_by_race(con, PROGRAM, date(2024, 6, 1), months=1000).rows())
    expected = dict(
        con.sql(
            "select race, count(distinct participant_id) from participant_months group by race"
        ).fetchall()
    )
    assert everyone == expected


# --- the table ----------------------------------------------------------------------------


def test_table_against_white(con: duckdb.DuckDBPyConnection) -> None:
    table = equity_table(
        race_rates(con, PROGRAM, "arrested", MAY), referrals_by_race(con, PROGRAM, MAY), WHITE
    )
    assert table["race"].to_list() == ORDER
    rows = {row["race"]: row for row in table.iter_rows(named=True)}
    black = rows["black"]
    assert (black["numerator"], black["denominator"], black["rate"]) == (2, 4, 0.5)
    assert (black["reference_numerator"], black["reference_denominator"]) == (1, 2)
    # (2/4)/(1/2) = 1; SE = sqrt(1/2 − 1/4 + 1/1 − 1/2) = sqrt(0.75) = 0.866025;
    # exp(± 1.959964 × 0.866025) = exp(± 1.697379): 0.183163 to 5.459617.
    assert (black["ratio"], black["low"], black["high"]) == pytest.approx((1.0, 0.183163, 5.459617), abs=1e-5)
    assert (black["ratio"], black["low"], black["high"]) == pytest.approx(katz(2, 4, 1, 2), abs=1e-5)
    multiracial = rows["multiracial"]
    # (1/1)/(1/2) = 2; SE = sqrt(1 − 1 + 1 − 1/2) = 0.707107: 0.500195 to 7.996876.
    assert (multiracial["ratio"], multiracial["low"], multiracial["high"]) == pytest.approx(
        (2.0, 0.500195, 7.996876), abs=1e-5
    )
    white = rows["white"]
    assert white["is_reference"] and white["ratio"] == 1 and white["low"] is None
    assert white["note"] == "reference group"
    for race in ("asian", "unknown"):
        assert rows[race]["ratio"] is None
        assert "0 counted in this group's numerator" in rows[race]["note"]
    # Every denominator here is under 11, and the reference's under 30: all flagged.
    assert rows["black"]["flag"] == "rate on fewer than 11 people; reference denominator under 30"
    assert rows["white"]["flag"] == "rate on fewer than 11 people"
    assert [rows[race]["referred"] for race in ORDER] == [REFERRED[race] for race in ORDER]
    assert [rows[race]["referral_share"] for race in ORDER] == pytest.approx(
        [1 / 8, 4 / 8, 1 / 8, 1 / 8, 1 / 8]
    )


def test_table_against_all_others(con: duckdb.DuckDBPyConnection) -> None:
    table = equity_table(
        race_rates(con, PROGRAM, "arrested", MAY), referrals_by_race(con, PROGRAM, MAY), ALL_OTHERS
    )
    rows = {row["race"]: row for row in table.iter_rows(named=True)}
    assert not table["is_reference"].any()
    # Each group against the pooled rest: black 2/4 vs (1+0+1+0)/(2+1+1+1) = 2/5 -> 1.25.
    assert (rows["black"]["reference_numerator"], rows["black"]["reference_denominator"]) == (2, 5)
    assert rows["black"]["ratio"] == pytest.approx(1.25)
    assert (rows["black"]["low"], rows["black"]["high"]) == pytest.approx(katz(2, 4, 2, 5)[1:])
    # White 1/2 vs (2+0+1+0)/(4+1+1+1) = 3/7 -> 7/6; multiracial 1/1 vs 3/8 -> 8/3.
    assert rows["white"]["ratio"] == pytest.approx(7 / 6)
    assert rows["multiracial"]["ratio"] == pytest.approx(8 / 3)
    assert (rows["multiracial"]["reference_numerator"], rows["multiracial"]["reference_denominator"]) == (
        3,
        8,
    )
    assert rows["asian"]["ratio"] is None and rows["unknown"]["ratio"] is None


def test_table_flags_small_denominators() -> None:
    rates = rates_frame({"white": (40, 100), "black": (3, 5), "asian": (8, 20), "hispanic_latino": (12, 30)})
    table = equity_table(rates, referrals_frame({}), WHITE)
    flags = dict(table.select("race", "flag").rows())
    assert flags == {
        "asian": "denominator under 30",
        "black": "rate on fewer than 11 people",
        "hispanic_latino": None,
        "white": None,
    }
    # A small reference flags every comparison with it.
    small_reference = equity_table(
        rates_frame({"white": (4, 20), "black": (30, 100)}), referrals_frame({}), WHITE
    )
    assert dict(small_reference.select("race", "flag").rows())["black"] == "reference denominator under 30"


@pytest.mark.parametrize(
    ("denominator", "reference", "flag"),
    [
        (10, None, "rate on fewer than 11 people"),
        (11, None, "denominator under 30"),
        (29, None, "denominator under 30"),
        (30, None, None),
        (30, 29, "reference denominator under 30"),
        (5, 5, "rate on fewer than 11 people; reference denominator under 30"),
    ],
)
def test_size_flag(denominator: int, reference: int | None, flag: str | None) -> None:
    assert size_flag(denominator, reference) == flag


def test_table_without_a_white_row_says_so() -> None:
    table = equity_table(
        rates_frame({"black": (3, 50), "asian": (1, 40)}), referrals_frame({"black": 5}), WHITE
    )
    assert table["ratio"].is_null().all()
    assert all("no White participants" in note for note in table["note"])
    # Against all others there is a ratio again.
    others = equity_table(rates_frame({"black": (3, 50), "asian": (1, 40)}), referrals_frame({}), ALL_OTHERS)
    assert others["ratio"].is_not_null().all()


def test_table_zero_reference_numerator() -> None:
    table = equity_table(rates_frame({"white": (0, 50), "black": (3, 50)}), referrals_frame({}), WHITE)
    black = table.filter(pl.col("race") == "black").row(0, named=True)
    assert black["ratio"] is None and "reference group's numerator" in black["note"]


def test_table_with_one_group_has_no_others_to_compare() -> None:
    table = equity_table(rates_frame({"black": (3, 40)}), referrals_frame({"black": 2}), ALL_OTHERS)
    (row,) = table.iter_rows(named=True)
    assert row["ratio"] is None and row["reference_denominator"] == 0
    assert row["note"] == "the reference group is empty this month: no ratio"
    figure = forest_chart(table, "arrested", ALL_OTHERS)
    assert [t.name for t in figure.data] == ["No ratio"]


def test_table_keeps_every_group() -> None:
    # Referred but not in the month's denominator; in the denominator but not referred lately.
    table = equity_table(
        rates_frame({"white": (5, 50), "black": (6, 40)}),
        referrals_frame({"white": 3, "native_hawaiian_pacific_islander": 1}),
        WHITE,
    )
    rows = {row["race"]: row for row in table.iter_rows(named=True)}
    assert set(rows) == {"white", "black", "native_hawaiian_pacific_islander"}
    islander = rows["native_hawaiian_pacific_islander"]
    assert islander["denominator"] == 0 and islander["rate"] is None and islander["ratio"] is None
    assert "no one in this group's denominator" in islander["note"]
    assert islander["referral_share"] == pytest.approx(0.25)
    assert rows["black"]["referred"] == 0 and rows["black"]["referral_share"] == 0


def test_table_refuses_an_unknown_reference() -> None:
    with pytest.raises(ValueError):
        equity_table(rates_frame({"white": (1, 2)}), referrals_frame({}), "black")


def test_rate_metrics_leave_out_counts_and_days() -> None:
    assert "active_participants" not in rate_metrics()
    assert "jail_days" not in rate_metrics()
    assert set(rate_metrics()) == {name for name, metric in METRICS.items() if metric.kind is Kind.SHARE}


# --- the chart ----------------------------------------------------------------------------


def test_forest_chart(con: duckdb.DuckDBPyConnection) -> None:
    table = equity_table(
        race_rates(con, PROGRAM, "arrested", MAY), referrals_by_race(con, PROGRAM, MAY), WHITE
    )
    figure = forest_chart(table, "arrested", WHITE)
    traces = {trace.name: trace for trace in figure.data}
    # Every estimable ratio here rests on a small denominator: an open marker of its own.
    small = traces["Under 30 in a denominator: read with care"]
    assert list(small.y) == ["Black", "Multiracial"]
    assert list(small.x) == pytest.approx([1.0, 2.0])
    assert small.marker.symbol == "circle-open" and small.marker.color in OKABE_ITO
    black_low, black_high = katz(2, 4, 1, 2)[1:]
    assert small.error_x.array[0] == pytest.approx(black_high - 1.0, abs=1e-5)
    assert small.error_x.arrayminus[0] == pytest.approx(1.0 - black_low, abs=1e-5)
    assert "Rate ratio (95% CI)" not in traces
    assert list(traces["Reference group"].y) == ["White"] and list(traces["Reference group"].x) == [1.0]
    # Groups without a ratio keep their row, with words instead of a marker.
    missing = traces["No ratio"]
    assert list(missing.y) == ["Asian", "Unknown"] and set(missing.text) == {"no ratio: see the table"}
    assert set(missing.x) == {min(figure.layout.xaxis.tickvals)}  # at the left edge, no marker there
    assert list(figure.layout.yaxis.categoryarray) == LABELS
    assert figure.layout.xaxis.type == "log"
    assert figure.layout.xaxis.title.text == "Rate ratio vs. White (log scale)"
    assert 1.0 in figure.layout.xaxis.tickvals
    (line,) = figure.layout.shapes
    assert (line.x0, line.x1, line.yref) == (1, 1, "paper")  # the line of no difference
    assert min(figure.layout.xaxis.tickvals) <= black_low and max(figure.layout.xaxis.tickvals) >= 7.996876


def test_forest_chart_large_denominators_use_the_filled_marker() -> None:
    table = equity_table(
        rates_frame({"white": (40, 100), "black": (60, 100)}), referrals_frame({}), ALL_OTHERS
    )
    figure = forest_chart(table, "arrested", ALL_OTHERS)
    (trace,) = [t for t in figure.data if t.name == "Rate ratio (95% CI)"]
    assert trace.marker.symbol == "circle" and list(trace.y) == ["Black", "White"]
    assert figure.layout.xaxis.title.text == "Rate ratio vs. all others (log scale)"


@pytest.mark.parametrize(
    ("values", "ticks"),
    [
        ([], [0.5, 1.0, 2.0]),
        ([0.8, 1.3], [0.5, 1.0, 2.0]),
        ([0.18, 5.5], [0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0]),
        ([0.004, 300.0], [2.0**p for p in range(-8, 11, 2)]),  # wide: every other power, 1024 > 300
    ],
)
def test_ratio_ticks(values: list[float], ticks: list[float]) -> None:
    table = pl.DataFrame(
        {"ratio": values, "low": values, "high": values},
        schema={c: pl.Float64 for c in ("ratio", "low", "high")},
    )
    assert ratio_ticks(table) == ticks
    assert 1.0 in ratio_ticks(table)


def test_tick_labels() -> None:
    ticks = [0.0625, 0.125, 0.25, 0.5, 1.0, 2.0, 16.0]
    assert [charts.tick_label(t) for t in ticks] == ["1/16", "1/8", "1/4", "0.5", "1", "2", "16"]


# --- the page -----------------------------------------------------------------------------


def test_page_defaults_and_says_when_a_metric_has_no_breakdown(page_home: Home) -> None:
    at = open_page()
    assert not at.exception
    assert at.title[0].value == "Equity"
    metric = at.selectbox(key="equity-metric")
    assert metric.value == "permanent_housing"  # the first rate metric; no housing records here
    assert any("no race breakdown of in permanent housing" in info.value for info in at.info)
    assert not at.dataframe
    assert "active_participants" not in metric.options and "Active participants" not in metric.options


def test_page_shows_the_latest_complete_month_against_white(page_home: Home) -> None:
    at = open_page()
    at.selectbox(key="equity-metric").set_value("arrested").run()
    assert not at.exception
    assert at.selectbox(key="equity-month").value == MAY
    assert at.radio(key="equity-reference").value == WHITE
    assert at.subheader[0].value == "Arrested by race, May 2024"
    captions = " ".join(c.value for c in at.caption)
    assert (
        f"Numerator: {METRICS['arrested'].numerator}; denominator: {METRICS['arrested'].denominator}."
        in captions
    )
    assert "Katz" in captions and "Jun 2023 to May 2024" in captions
    (table,) = at.dataframe
    frame = table.value
    assert list(frame["race"]) == LABELS
    assert list(frame["numerator"]) == [ARRESTED_MAY[r][0] for r in ORDER]
    assert list(frame["denominator"]) == [ARRESTED_MAY[r][1] for r in ORDER]
    assert list(frame["rate"]) == pytest.approx([0.0, 50.0, 50.0, 100.0, 0.0])  # percent
    assert list(frame["ratio"]) == [
        "no ratio: see note",
        "1.00 (0.18 to 5.46)",
        "1 (reference)",
        "2.00 (0.50 to 8.00)",
        "no ratio: see note",
    ]
    assert list(frame["referral_share"]) == pytest.approx([12.5, 50.0, 12.5, 12.5, 12.5])
    assert list(frame["referred"]) == [1, 4, 1, 1, 1]
    assert all(flag.startswith("rate on fewer than 11 people") for flag in frame["flag"])
    assert at.get("plotly_chart")


def test_page_against_all_other_groups(page_home: Home) -> None:
    at = open_page()
    at.selectbox(key="equity-metric").set_value("arrested").run()
    at.radio(key="equity-reference").set_value(ALL_OTHERS).run()
    assert not at.exception
    frame = at.dataframe[0].value
    ratios = dict(zip(frame["race"], frame["ratio"], strict=True))
    low, high = katz(2, 4, 2, 5)[1:]
    assert ratios["Black"] == f"1.25 ({low:.2f} to {high:.2f})"
    assert ratios["White"].startswith("1.17 (")
    assert ratios["Multiracial"].startswith("2.67 (")
    assert list(frame["reference_denominator"]) == [8, 5, 7, 8, 8]


def test_page_handles_zero_numerators_everywhere(page_home: Home) -> None:
    # No treatment records: every group's numerator is 0, the reference's too. Notes, no error.
    at = open_page()
    at.selectbox(key="equity-metric").set_value("treatment_engaged").run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert set(frame["ratio"]) == {"no ratio: see note", "1 (reference)"}
    assert len(frame) == len(ORDER)


def test_page_earlier_month(page_home: Home) -> None:
    at = open_page()
    at.selectbox(key="equity-metric").set_value("arrested").run()
    at.selectbox(key="equity-month").set_value(date(2024, 3, 1)).run()
    assert not at.exception
    assert at.subheader[0].value == "Arrested by race, Mar 2024"
    frame = at.dataframe[0].value
    assert list(frame["numerator"]) == [0, 0, 0, 0, 0]


def test_page_without_a_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    apptest.serve(monkeypatch, tmp_path / "empty")
    at = open_page()
    assert not at.exception
    assert any("outcomes nightly" in info.value for info in at.info)
    assert not at.dataframe and not at.selectbox


def test_race_labels_cover_every_group() -> None:
    assert set(equity.RACE_GROUPS) == set(equity.RACE_LABELS)
