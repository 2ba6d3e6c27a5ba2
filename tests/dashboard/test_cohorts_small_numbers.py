"""How the Cohorts page shows small numbers (dashboard/small_numbers.py), worked out by hand:
the partial as-of month is not drawn, and a rate on few people is hollow and flagged."""

from __future__ import annotations

import polars as pl
import pytest

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
