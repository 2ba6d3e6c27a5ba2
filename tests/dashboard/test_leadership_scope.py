"""The leadership pages' queries read program-wide aggregates: a narrower scope is refused in
the query itself, before any SQL runs; the one query that returns participant rows filters on
its scope in SQL instead (tests/dashboard/test_survival.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import duckdb
import pytest

from dashboard.queries import before_after, cohorts, equity, impact, overview, trends
from pipelines.core.scope import Scope, ScopeError

MAY = date(2024, 5, 1)
CASE_MANAGER = Scope("north", "CM-07")
SITE = Scope("north")

# Every program-wide query of the leadership pages, with the arguments after its scope.
QUERIES: list[tuple[Callable, tuple]] = [
    (overview.metric_series, ("arrested",)),
    (overview.kpis, (("arrested",), MAY)),
    (trends.trend_options, ()),
    (trends.trend_values, ("arrested",)),
    (cohorts.filter_options, ()),
    (cohorts.cohort_curves, ("arrested",)),
    (before_after.missing_tables, ()),
    (before_after.justice_sites, ()),
    (before_after.evaluation, (MAY, 6)),
    (impact.missing_tables, ()),
    (impact.impact_estimates, (MAY, None)),
    (equity.race_months, ("arrested", MAY)),
    (equity.race_rates, ("arrested", MAY)),
    (equity.referrals_by_race, (MAY,)),
]


@pytest.mark.parametrize("scope", [CASE_MANAGER, SITE], ids=["case manager", "site"])
@pytest.mark.parametrize(("query", "args"), QUERIES, ids=[q.__qualname__ for q, _ in QUERIES])
def test_a_narrower_scope_is_refused(query: Callable, args: tuple, scope: Scope) -> None:
    # An empty database: the refusal comes before any table is read.
    with duckdb.connect() as con, pytest.raises(ScopeError, match="whole program"):
        query(con, scope, *args)
