"""Read the published release: plain functions from a read-only connection to Polars frames."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from pipelines.publish import open_release  # noqa: F401 - the pages' way to open a release
from pipelines.settings import Home

KPI_LOOKBACK_MONTHS = 3


@dataclass(frozen=True)
class Release:
    """The release row: which nightly run built the warehouse, and for which as-of date."""

    run_id: str
    as_of: date
    built_at: datetime | None
    metrics_version: str | None


def release_path(home: Home) -> Path | None:
    """The release file `current.duckdb` points to, or None when nothing is published yet."""
    current = home.current
    # exists() follows the link, so a dangling link also counts as "no release".
    if not current.exists():
        return None
    return current.resolve()


def release_info(con: duckdb.DuckDBPyConnection) -> Release | None:
    """The release's run id, as-of date, build time and metrics version."""
    rows = con.sql(
        """
        select run_id, as_of, built_at, metrics_version
        from release
        order by built_at desc nulls last
        limit 1
        """
    ).fetchall()
    if not rows:
        return None
    run_id, as_of, built_at, metrics_version = rows[0]
    return Release(run_id=run_id, as_of=as_of, built_at=built_at, metrics_version=metrics_version)


def month_start(day: date) -> date:
    """The first day of the month holding `day`."""
    return day.replace(day=1)


def add_months(month: date, months: int) -> date:
    """The first day of the month `months` after (or before, if negative) `month`."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def latest_complete_month(as_of: date) -> date:
    """The last month that ended before the as-of date's month began."""
    return add_months(month_start(as_of), -1)


def metric_series(con: duckdb.DuckDBPyConnection, metric: str, through: date | None = None) -> pl.DataFrame:
    """One metric's monthly values program-wide: month, numerator, denominator, value."""
    return con.sql(
        """
        select month, numerator, denominator, value
        from metric_values
        where metric = $metric
          and dimension = 'all'
          and grp = 'all'
          and ($through is null or month <= $through)
        order by month
        """,
        params={"metric": metric, "through": through},
    ).pl()


def kpis(con: duckdb.DuckDBPyConnection, metrics: Sequence[str], as_of: date) -> pl.DataFrame:
    """Each metric at the latest complete month and three months earlier, with the change.

    One row per metric, in the order given, even when the release has no value for it:
    metric, month, numerator, denominator, value, prior_month, prior_numerator,
    prior_denominator, prior_value, change (value minus prior value).
    """
    month = latest_complete_month(as_of)
    prior_month = add_months(month, -KPI_LOOKBACK_MONTHS)
    found = con.sql(
        """
        with
        program_wide as (
            select metric, month, numerator, denominator, value
            from metric_values
            where dimension = 'all' and grp = 'all'
        ),
        latest as (
            select * from program_wide where month = $month
        ),
        prior as (
            select * from program_wide where month = $prior_month
        ),
        final as (
            select
                coalesce(latest.metric, prior.metric) as metric,
                latest.numerator,
                latest.denominator,
                latest.value,
                prior.numerator as prior_numerator,
                prior.denominator as prior_denominator,
                prior.value as prior_value,
                latest.value - prior.value as change,
            from latest
            full outer join prior on prior.metric = latest.metric
        )
        select * from final
        """,
        params={"month": month, "prior_month": prior_month},
    ).pl()
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
