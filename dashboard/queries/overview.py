"""Overview: the headline metrics at the latest complete month, and their monthly series.

Program-wide aggregates of metric_values: every query refuses a narrower scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import duckdb
import polars as pl

from dashboard.queries.sql import load
from pipelines.core.periods import add_months, latest_complete_month
from pipelines.core.scope import Scope

KPI_LOOKBACK_MONTHS = 3

SERIES_SQL = load("metric_series")

KPIS_SQL = load("kpis")


def metric_series(
    con: duckdb.DuckDBPyConnection, scope: Scope, metric: str, through: date | None = None
) -> pl.DataFrame:
    """One metric's monthly values program-wide: month, numerator, denominator, value."""
    scope.require_program()
    return con.sql(SERIES_SQL, params={"metric": metric, "through": through}).pl()


def kpis(con: duckdb.DuckDBPyConnection, scope: Scope, metrics: Sequence[str], as_of: date) -> pl.DataFrame:
    """Each metric at the latest complete month and three months earlier, with the change.

    One row per metric, in the order given, even when the release has no value for it:
    metric, month, numerator, denominator, value, prior_month, prior_numerator,
    prior_denominator, prior_value, change (value minus prior value).
    """
    scope.require_program()
    month = latest_complete_month(as_of)
    prior_month = add_months(month, -KPI_LOOKBACK_MONTHS)
    found = con.sql(KPIS_SQL, params={"month": month, "prior_month": prior_month}).pl()
    wanted = pl.DataFrame({"metric": list(metrics)}, schema={"metric": pl.String})
    return (
        wanted.join(found, on="metric", how="left", maintain_order="left")
        .with_columns(
            pl.lit(month, dtype=pl.Date).alias("month"),
            pl.lit(prior_month, dtype=pl.Date).alias("prior_month"),
        )
        .select(
            "metric",
            "month",
            "numerator",
            "denominator",
            "value",
            "prior_month",
            "prior_numerator",
            "prior_denominator",
            "prior_value",
            "change",
        )
    )
