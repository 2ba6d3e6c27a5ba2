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
from statsmodels.stats.proportion import confint_proportions_2indep
from streamlit.testing.v1 import AppTest

from checks.labels import RACE, label
from dashboard.charts import equity as charts
from dashboard.charts.equity import forest_chart, ratio_ticks
from dashboard.formatting import md_text
from dashboard.queries import equity
from dashboard.queries.equity import (
    ALL_OTHERS,
    REFERENCE_SMALL_FLAG,
    WHITE,
    equity_table,
    race_months,
    race_rates,
    rate_metrics,
    referrals_by_race,
    size_flag,
)
from dashboard.small_numbers import SMALL_FLAG
from dashboard.stats import LOG, SCORE, score_ratio
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
LABELS = ["Asian", "Black", "White", "More than one race", "Unknown"]


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


def koopman(a: int, n1: int, c: int, n2: int) -> tuple[float, float, float]:
    """The ratio and its score interval straight from statsmodels (Koopman, no correction)."""
    low, high = confint_proportions_2indep(a, n1, c, n2, compare="ratio", method="score", correction=False)
    return (a / n1) / (c / n2), max(float(low), 0.0), float(high)


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
    # Every numerator here is under 10: each ratio takes the score interval, as statsmodels gives it
    # (the log interval would be 0.183163 to 5.459617 for black).
    assert (black["ratio"], black["low"], black["high"]) == pytest.approx(koopman(2, 4, 1, 2))
    assert black["method"] == SCORE
    # Multiracial: 1 of 1 against 1 of 2 is a group at 100%, found by inverting the score test.
    multiracial = rows["multiracial"]
    assert (multiracial["ratio"], multiracial["method"]) == (2.0, SCORE)
    assert (multiracial["low"], multiracial["high"]) == pytest.approx(score_ratio(1, 1, 1, 2)[1:])
    assert multiracial["low"] < 1 < multiracial["high"]
    white = rows["white"]
    assert white["is_reference"] and white["ratio"] == 1 and white["low"] is None
    assert white["note"] == "reference group" and white["method"] is None
    # No one arrested among Asian and unknown participants: a ratio of 0 and a score interval from 0
    # (the log interval had none).
    for race in ("asian", "unknown"):
        row = rows[race]
        assert (row["ratio"], row["low"], row["method"], row["note"]) == (0.0, 0.0, SCORE, None)
        assert row["high"] == pytest.approx(koopman(0, 1, 1, 2)[2])
    # Every denominator here is under 11, the reference's too: all flagged, all hollow.
    assert rows["black"]["flag"] == f"{SMALL_FLAG}; {REFERENCE_SMALL_FLAG}"
    assert rows["white"]["flag"] == SMALL_FLAG
    assert table["small"].all()
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
    assert (rows["black"]["low"], rows["black"]["high"]) == pytest.approx(koopman(2, 4, 2, 5)[1:])
    # White 1/2 vs (2+0+1+0)/(4+1+1+1) = 3/7 -> 7/6; multiracial 1/1 vs 3/8 -> 8/3.
    assert rows["white"]["ratio"] == pytest.approx(7 / 6)
    assert rows["multiracial"]["ratio"] == pytest.approx(8 / 3)
    assert (rows["multiracial"]["reference_numerator"], rows["multiracial"]["reference_denominator"]) == (
        3,
        8,
    )
    assert rows["asian"]["ratio"] == 0 and rows["unknown"]["ratio"] == 0
    assert set(table["method"]) == {SCORE}


def test_small_cells_take_the_score_interval_large_ones_keep_katz() -> None:
    # Black: 9 counted (under 10), score. Asian: 12 of 30 against 40 of 100, log (Katz).
    rates = rates_frame({"white": (40, 100), "black": (9, 30), "asian": (12, 30)})
    rows = {row["race"]: row for row in equity_table(rates, referrals_frame({}), WHITE).iter_rows(named=True)}
    assert rows["black"]["method"] == SCORE
    assert (rows["black"]["ratio"], rows["black"]["low"], rows["black"]["high"]) == pytest.approx(
        koopman(9, 30, 40, 100)
    )
    assert rows["asian"]["method"] == LOG
    assert (rows["asian"]["ratio"], rows["asian"]["low"], rows["asian"]["high"]) == pytest.approx(
        katz(12, 30, 40, 100), abs=1e-6
    )
    # A small reference numerator switches every comparison with it.
    few = equity_table(rates_frame({"white": (8, 100), "black": (60, 100)}), referrals_frame({}), WHITE)
    assert few.filter(pl.col("race") == "black")["method"].to_list() == [SCORE]
    # The page's table says which, row by row (the reference row has no interval).
    view = equity.table_view(equity_table(rates, referrals_frame({}), WHITE))
    assert dict(zip(view["race"], view["method"], strict=True)) == {
        "Asian": equity.INTERVAL_NAMES[LOG],
        "Black": equity.INTERVAL_NAMES[SCORE],
        "White": None,
    }


def test_table_flags_small_denominators() -> None:
    rates = rates_frame({"white": (40, 100), "black": (3, 10), "asian": (4, 11), "hispanic_latino": (12, 30)})
    table = equity_table(rates, referrals_frame({}), WHITE)
    assert dict(table.select("race", "flag").rows()) == {
        "asian": None,  # 11: not small
        "black": SMALL_FLAG,  # 10: small
        "hispanic_latino": None,
        "white": None,
    }
    assert dict(table.select("race", "small").rows()) == {
        "asian": False,
        "black": True,
        "hispanic_latino": False,
        "white": False,
    }
    # A small reference flags every comparison with it.
    for white, flagged in (((4, 10), REFERENCE_SMALL_FLAG), ((4, 11), None)):
        small_reference = equity_table(
            rates_frame({"white": white, "black": (30, 100)}), referrals_frame({}), WHITE
        )
        assert dict(small_reference.select("race", "flag").rows())["black"] == flagged


@pytest.mark.parametrize(
    ("denominator", "reference", "flag"),
    [
        (10, None, SMALL_FLAG),
        (11, None, None),
        (29, None, None),  # no second threshold: the interval says how wide it is
        (30, 10, REFERENCE_SMALL_FLAG),
        (30, 11, None),
        (5, 5, f"{SMALL_FLAG}; {REFERENCE_SMALL_FLAG}"),
        (0, None, None),  # no one: no rate to flag (the note says so)
    ],
)
def test_size_flag(denominator: int, reference: int | None, flag: str | None) -> None:
    assert size_flag(denominator, reference) == flag


def test_chart_and_table_hollow_and_flagged_at_ten_not_eleven() -> None:
    table = equity_table(
        rates_frame({"white": (40, 100), "black": (5, 10), "asian": (5, 11)}), referrals_frame({}), WHITE
    )
    figure = forest_chart(table, "arrested", WHITE)
    points = {
        y: (symbol, trace.name)
        for trace in figure.data
        if trace.mode == "markers" and trace.name != "Reference group"
        for y, symbol in zip(trace.y, trace.marker.symbol, strict=True)
    }
    assert points["Black"][0] == "circle-open" and "fewer than 11" in points["Black"][1]
    assert points["Asian"] == ("circle", "Rate ratio (95% CI)")
    view = equity.table_view(table)
    assert dict(zip(view["race"], view["flag"], strict=True)) == {
        "Asian": None,
        "Black": SMALL_FLAG,
        "White": None,
    }


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
    # Every ratio here rests on a small denominator: open markers of their own.
    small = traces["Rests on a rate of fewer than 11 people (hollow)"]
    edge = min(figure.layout.xaxis.tickvals)
    assert list(small.y) == ["Asian", "Black", "More than one race", "Unknown"]
    # A ratio of 0 has no place on a log axis: a triangle at the left edge, its interval reaching right.
    assert list(small.x) == pytest.approx([edge, 1.0, 2.0, edge])
    assert list(small.marker.symbol) == [
        "triangle-left-open",
        "circle-open",
        "circle-open",
        "triangle-left-open",
    ]
    assert small.marker.color in OKABE_ITO
    _, black_low, black_high = koopman(2, 4, 1, 2)
    assert small.error_x.array[1] == pytest.approx(black_high - 1.0)
    assert small.error_x.arrayminus[1] == pytest.approx(1.0 - black_low)
    asian_high = koopman(0, 1, 1, 2)[2]
    assert small.error_x.array[0] == pytest.approx(asian_high - edge) and small.error_x.arrayminus[0] == 0
    assert "Rate ratio (95% CI)" not in traces and "No ratio" not in traces
    assert list(traces["Reference group"].y) == ["White"] and list(traces["Reference group"].x) == [1.0]
    assert list(figure.layout.yaxis.categoryarray) == LABELS
    assert figure.layout.xaxis.type == "log"
    assert figure.layout.xaxis.title.text.replace("<br>", " ") == "Rate ratio vs. White (log scale)"
    assert 1.0 in figure.layout.xaxis.tickvals
    (line,) = figure.layout.shapes
    # The line of no difference, the plot's full height.
    assert (line.x0, line.x1, line.yref, line.y0, line.y1) == (1, 1, "y domain", 0, 1)
    assert edge <= black_low and max(figure.layout.xaxis.tickvals) >= max(table["high"].drop_nulls())


def test_forest_chart_keeps_a_row_without_a_ratio() -> None:
    table = equity_table(rates_frame({"white": (0, 50), "black": (3, 50)}), referrals_frame({}), WHITE)
    figure = forest_chart(table, "arrested", WHITE)
    missing = next(t for t in figure.data if t.name == "No ratio")
    assert list(missing.y) == ["Black"] and set(missing.text) == {"no ratio: see the table"}
    assert set(missing.x) == {min(figure.layout.xaxis.tickvals)}  # at the left edge, no marker there


def test_forest_chart_large_denominators_use_the_filled_marker() -> None:
    table = equity_table(
        rates_frame({"white": (40, 100), "black": (60, 100)}), referrals_frame({}), ALL_OTHERS
    )
    figure = forest_chart(table, "arrested", ALL_OTHERS)
    (trace,) = [t for t in figure.data if t.name == "Rate ratio (95% CI)"]
    assert set(trace.marker.symbol) == {"circle"} and list(trace.y) == ["Black", "White"]
    assert figure.layout.xaxis.title.text.replace("<br>", " ") == "Rate ratio vs. all others (log scale)"


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
    assert "Jun 2023 to May 2024" in captions
    (expander,) = at.expander
    assert expander.label == "How this is calculated"
    method = " ".join(m.value for m in expander.markdown)
    assert "Katz" in method and "Koopman" in method and "fewer than 10 people" in method
    # The page opens with what it found: the largest gap, within the uncertainty here.
    assert at.markdown[0].value.startswith(md_text("Arrested, May 2024: the largest gap against White"))
    assert at.markdown[0].value.endswith(md_text("within the uncertainty (the interval includes 1)."))
    (table,) = at.dataframe
    frame = table.value
    assert list(frame["race"]) == LABELS
    assert list(frame["numerator"]) == [ARRESTED_MAY[r][0] for r in ORDER]
    assert list(frame["denominator"]) == [ARRESTED_MAY[r][1] for r in ORDER]
    assert list(frame["rate"]) == pytest.approx([0.0, 50.0, 50.0, 100.0, 0.0])  # percent
    zero, black, multiracial = score_ratio(0, 1, 1, 2), score_ratio(2, 4, 1, 2), score_ratio(1, 1, 1, 2)
    assert list(frame["ratio"]) == [
        f"0.00 (0.00 to {zero[2]:.2f})",
        f"1.00 ({black[1]:.2f} to {black[2]:.2f})",
        "1 (reference)",
        f"2.00 ({multiracial[1]:.2f} to {multiracial[2]:.2f})",
        f"0.00 (0.00 to {zero[2]:.2f})",
    ]
    assert (
        list(frame["method"])
        == [equity.INTERVAL_NAMES[SCORE]] * 2 + [None] + [equity.INTERVAL_NAMES[SCORE]] * 2
    )
    assert list(frame["referral_share"]) == pytest.approx([12.5, 50.0, 12.5, 12.5, 12.5])
    assert list(frame["referred"]) == [1, 4, 1, 1, 1]
    assert all(flag.startswith(SMALL_FLAG) for flag in frame["flag"])
    assert at.get("plotly_chart")


def test_page_against_all_other_groups(page_home: Home) -> None:
    at = open_page()
    at.selectbox(key="equity-metric").set_value("arrested").run()
    at.radio(key="equity-reference").set_value(ALL_OTHERS).run()
    assert not at.exception
    frame = at.dataframe[0].value
    ratios = dict(zip(frame["race"], frame["ratio"], strict=True))
    low, high = koopman(2, 4, 2, 5)[1:]
    assert ratios["Black"] == f"1.25 ({low:.2f} to {high:.2f})"
    assert ratios["White"].startswith("1.17 (")
    assert ratios["More than one race"].startswith("2.67 (")
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


def test_every_race_group_has_its_own_label() -> None:
    """Each group the release makes reads as a label of the registry, and no two read the same."""
    shown = [label("race", race) for race in equity.RACE_GROUPS]
    assert all("_" not in name for name in shown) and len(set(shown)) == len(shown)
    assert set(equity.RACE_GROUPS) <= set(RACE)


def test_finding_names_the_groups_that_differ_clearly() -> None:
    rates = rates_frame({"white": (100, 1000), "black": (300, 1000), "asian": (11, 100), "unknown": (2, 40)})
    table = equity_table(rates, referrals_frame({}), WHITE)
    ratio, low, high = katz(300, 1000, 100, 1000)
    # Black, three times White's rate, is the largest gap and beyond the uncertainty; Asian 11%
    # against 10% (interval spans 1) is not; unknown, 5% on 40 people (score interval spans 1), is
    # a gap of 0.5 times, smaller than 3 times.
    assert low > 1
    assert equity.finding(table, "arrested", MAY, WHITE) == (
        "Arrested, May 2024: the largest gap against White participants is for the Black group, 30% "
        f"against 10% ({ratio:.2f} times their rate, 95% CI {low:.2f} to {high:.2f}), beyond the "
        "uncertainty."
    )
    lower = equity_table(
        rates_frame({"white": (300, 1000), "black": (100, 1000), "asian": (50, 100)}),
        referrals_frame({}),
        WHITE,
    )
    said = equity.finding(lower, "arrested", MAY, WHITE)
    assert "is for the Black group, 10% against 30% (0.33 times their rate" in said
    assert said.endswith("beyond the uncertainty. 1 other group also differs clearly.")  # Asian, 50%
    # A gap inside its interval is said to be so.
    level = equity_table(rates_frame({"white": (10, 100), "black": (13, 100)}), referrals_frame({}), WHITE)
    assert equity.finding(level, "arrested", MAY, WHITE).endswith(
        "within the uncertainty (the interval includes 1)."
    )
    nothing = equity_table(rates_frame({"white": (0, 10), "black": (1, 10)}), referrals_frame({}), WHITE)
    assert equity.finding(nothing, "arrested", MAY, WHITE) is None  # no ratio at all: nothing to say
