"""How the Cohorts page shows small numbers (dashboard/small_numbers.py), worked out by hand:
the partial as-of month is not drawn, a rate on few people is hollow and flagged, and a survival
number read where fewer than 20 are at risk says "too few at risk", its curve dashed from there."""

from __future__ import annotations

import math

import polars as pl
import pytest

from dashboard import survival
from dashboard.charts import cohorts as charts
from dashboard.queries import cohorts
from dashboard.small_numbers import SMALL_FLAG
from pipelines.core.scope import PROGRAM
from pipelines.core.settings import Home
from tests import apptest
from tests.conftest import drop, run


@pytest.mark.parametrize(("as_of", "months"), [("2024-05-30", [0, 1]), ("2024-05-31", [0, 1, 2])])
def test_the_as_of_month_is_drawn_only_once_it_is_complete(home: Home, as_of: str, months: list[int]) -> None:
    # Referred in March: month 0 is March, 1 April, 2 May. As of May 30, May is in progress (the
    # last complete month is April); as of May 31, its last day, May is complete.
    drop(home, "north", "participants", ["A1,CM1,2024-03-10,arrest_diversion,,,,,1980,man,white"])
    drop(home, "north", "housing", ["A1,2024-03-12,unsheltered"])
    assert run(home, as_of).published
    with apptest.release_connection(home) as connection:
        for metric in ("active_participants", "permanent_housing"):
            curves = cohorts.cohort_curves(connection, PROGRAM, metric)
            assert curves.select("cohort", "months_since_referral").rows() == [("2024-Q1", m) for m in months]


def housed_and_waiting(group: str, *spells: tuple[int, int, bool]) -> pl.DataFrame:
    """Durations of one referral type: (how many, days, housed) at a time."""
    rows = [(group, days, housed) for count, days, housed in spells for _ in range(count)]
    return pl.DataFrame(
        rows, schema={"referral_type": pl.String, "days": pl.Int64, "housed": pl.Boolean}, orient="row"
    )


def test_housing_chart_is_dashed_where_too_few_are_at_risk() -> None:
    # Arrest diversion, 25 followed: 5 move in on day 30 (S = 20/25), 15 censored on day 200, 3 of
    # the last 5 move in on day 400 (S = 0.8 * 2/5 = 0.32), 2 censored on day 900. At risk: 25 at
    # day 30, 20 at day 200, 5 at day 400: the curve is read until day 200, dashed after it.
    # Community, 40 followed: 10 move in on day 60, 30 censored on day 900: never under 20.
    durations = pl.concat(
        [
            housed_and_waiting(
                "arrest_diversion", (5, 30, True), (15, 200, False), (3, 400, True), (2, 900, False)
            ),
            housed_and_waiting("community", (10, 60, True), (30, 900, False)),
        ]
    )
    figure = charts.housing_chart(survival.kaplan_meier(durations).curve)
    month = survival.DAYS_PER_MONTH
    upper, lower, line, dashed = figure.data[:4]
    assert lower.fill == "tonexty" and upper.fill is None
    assert line.name == "Arrest diversion" and line.line.dash in (None, "solid")  # not the dashed tail
    assert list(line.x) == pytest.approx([0, 30 / month, 200 / month])
    assert list(line.y) == pytest.approx([0, 0.2, 0.2])
    assert list(upper.x) == list(line.x)  # the band stops where the solid line does
    # Dashed from day 200, drawn to 24 months: the step at 400 days is held flat to the axis' end.
    assert dashed.name == "Arrest diversion: fewer than 20 still followed" and dashed.line.dash == "dash"
    assert dashed.showlegend is False and dashed.legendgroup == "arrest_diversion"
    assert list(dashed.x) == pytest.approx([200 / month, 400 / month, 24])
    assert list(dashed.y) == pytest.approx([0.2, 0.68, 0.68])
    assert [tuple(c) for c in dashed.customdata] == [(20,), (5,), (5,)]
    # Community stays solid, with its band, to 24 months; it has no dashed part.
    community = figure.data[4:]
    assert [t.name for t in community] == [
        "Community referral upper 95% limit",
        "Community referral lower 95% limit",
        "Community referral",
    ]
    assert list(community[2].x) == pytest.approx([0, 60 / month, 24])
    assert list(community[2].y) == pytest.approx([0, 0.25, 0.25])
    assert community[2].line.color == charts.REFERRAL_COLOURS["community"]
    assert [t.name for t in figure.data if t.showlegend is not False] == [
        "Arrest diversion",
        "Community referral",
    ]
    assert figure.layout.yaxis.title.text == "Share permanently housed"
    assert figure.layout.xaxis.title.text == "Months since referral"
    assert tuple(figure.layout.yaxis.range) == (0, 1)


def test_housing_chart_past_the_axis_draws_no_dashed_part() -> None:
    # 25 followed: 5 move in on day 30; 20 censored on day 800, past 24 months (730.5 days): the
    # last 20 are at risk through 24 months, so the drawn curve is all solid.
    durations = housed_and_waiting("social_contact", (5, 30, True), (20, 800, False))
    figure = charts.housing_chart(survival.kaplan_meier(durations).curve)
    assert [t.name for t in figure.data] == [
        "Social contact upper 95% limit",
        "Social contact lower 95% limit",
        "Social contact",
    ]
    assert list(figure.data[2].x) == pytest.approx([0, 30 / survival.DAYS_PER_MONTH, 24])


def hand_fit(at_risk_at_a_year: int) -> survival.HousingCurves:
    """25 followed: 5 move in on day 100, `at_risk_at_a_year` are censored on day 400 and, when that
    is 19, the 25th on day 300 (before a year, after six months)."""
    spells = [(5, 100, True), (at_risk_at_a_year, 400, False)]
    if at_risk_at_a_year == 19:
        spells.append((1, 300, False))
    return survival.kaplan_meier(housed_and_waiting("arrest_diversion", *spells))


def test_a_milestone_on_19_at_risk_is_too_few_on_20_it_is_shown() -> None:
    # With 20 waiting at a year: S(12 months) = 20/25 after the 5 moves on day 100 (n = 25, d = 5);
    # Greenwood's sum 5 / (25 * 20) = 0.01; log-log band S ** exp(+-1.96 * 0.1 / |log 0.8|).
    c = 1.959963984540054 * 0.1 / abs(math.log(0.8))
    low_s, high_s = 0.8 ** math.exp(c), 0.8 ** math.exp(-c)
    assert (1 - high_s, 1 - low_s) == pytest.approx((0.0885, 0.4155), abs=1e-4)
    twenty = cohorts.milestone_table(hand_fit(20).milestones).filter(pl.col("months") == 12).row(0)
    assert twenty == (
        "Arrest diversion",
        12,
        "20.0%",
        f"{(1 - high_s) * 100:.1f}% to {(1 - low_s) * 100:.1f}%",
        20,
    )
    # With 19 waiting at a year (one censored at day 300), S is still 0.8, but it is not shown.
    nineteen = cohorts.milestone_table(hand_fit(19).milestones).filter(pl.col("months") == 12).row(0)
    assert nineteen == ("Arrest diversion", 12, "too few at risk", "—", 19)
    # Earlier milestones rest on 24 or more and are shown.
    assert cohorts.milestone_table(hand_fit(19).milestones)["share_housed"].to_list()[:3] == [
        "0.0%",
        "20.0%",
        "too few at risk",
    ]


def test_a_median_on_19_at_risk_is_too_few_on_20_it_is_shown() -> None:
    # As in test_survival: the 20th of 39 moves in on day 20 with 20 at risk; the 19th of 37 on
    # day 19 with 19 at risk. Both medians are reached; only the first is shown.
    twenty = housed_and_waiting("community", *[(1, d, True) for d in range(1, 21)], (19, 500, False))
    nineteen = housed_and_waiting("community", *[(1, d, True) for d in range(1, 20)], (18, 500, False))
    shown = cohorts.housing_summary_table(survival.kaplan_meier(twenty).summary)
    assert shown["median"].to_list() == ["20 days (0.7 months)"]
    hidden = cohorts.housing_summary_table(survival.kaplan_meier(nineteen).summary)
    assert hidden["median"].to_list() == ["too few at risk"]


def test_the_finding_reads_the_share_housed_within_a_year() -> None:
    durations = housed_and_waiting("arrest_diversion", (5, 100, True), (20, 400, False))
    housed = pl.DataFrame(
        {"referral_type": ["social_contact"] * 7, "days": [None] * 7, "housed": [None] * 7},
        schema={"referral_type": pl.String, "days": pl.Int64, "housed": pl.Boolean},
    )
    everyone = pl.concat(
        [
            durations.with_columns(housed_at_referral=pl.lit(False)),
            housed.with_columns(housed_at_referral=pl.lit(True)),
        ]
    ).with_columns(referral_type=pl.lit(cohorts.EVERYONE))
    text = cohorts.housing_finding(survival.kaplan_meier(everyone))
    # 20% (the band above: 8.9% to 41.5%, rounded to whole percents), by 6 months (the five moves
    # are at 100 days) and still by 12.
    assert text == (
        "Of the 25 participants not in permanent housing at referral, an estimated 20% had moved into "
        "permanent housing within 6 months of referral (95% CI 9% to 42%), and 20% within 12 months "
        "(95% CI 9% to 42%). Already in permanent housing at referral: 7 (counted apart, not in the "
        "curve)."
    )
    assert cohorts.housing_finding(survival.kaplan_meier(everyone.head(0))) is None


def test_small_denominators_are_flagged_and_hollow() -> None:
    curves = pl.DataFrame(
        {
            "cohort": ["2024-Q1"] * 3,
            "months_since_referral": [0, 1, 2],
            "numerator": [5, 5, 3],
            "denominator": [12, 11, 10],
        },
        schema_overrides={"months_since_referral": pl.Int64},
    ).with_columns(value=pl.col("numerator") / pl.col("denominator"))
    assert cohorts.cohort_table(curves, "permanent_housing", ["2024-Q1"])["flag"].to_list() == [
        "",
        "",
        SMALL_FLAG,
    ]
    figure = charts.cohort_chart(curves, "permanent_housing", ["2024-Q1"])
    assert list(figure.data[0].marker.symbol) == ["circle", "circle", "circle-open"]
