"""Overview: the headline metrics at the latest complete month, and their monthly series.

Program-wide aggregates of metric_values: every query refuses a narrower scope. `kpis` gives each
metric's change against three months earlier with its 95% interval; `headline` says in words what
changed over the last year.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import duckdb
import polars as pl

from dashboard import stats
from dashboard.findings import is_clear, share_change
from dashboard.formatting import month_label
from dashboard.queries.sql import load
from dashboard.small_numbers import small_flag
from pipelines.core.metrics import is_count
from pipelines.core.periods import add_months, latest_complete_month
from pipelines.core.scope import Scope

KPI_LOOKBACK_MONTHS = 3
HEADLINE_MONTHS = 12
# The measures the opening sentence reports, as a sentence names them.
HEADLINE = {
    "permanent_housing": "the share in permanent housing",
    "unsheltered": "the share unsheltered",
}

SERIES_SQL = load("metric_series")

KPIS_SQL = load("kpis")


def metric_series(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    metric: str,
    through: date | None = None,
    since: date | None = None,
) -> pl.DataFrame:
    """One metric's monthly values program-wide, from `since` to `through` (both included, None:
    no bound): month, numerator, denominator, value."""
    scope.require_program()
    return con.sql(SERIES_SQL, params={"metric": metric, "through": through, "since": since}).pl()


def trend_table(series: pl.DataFrame, metric: str) -> pl.DataFrame:
    """A trend's numbers as the table beside its chart shows them: newest month first; a rate in
    percent with the small-numbers flag; a count's numerator and denominator are the count itself,
    so one column says it."""
    shown = series.sort("month", descending=True)
    if is_count(metric):
        return shown.select("month", "value")
    return shown.select("month", "numerator", "denominator", pl.col("value") * 100, small_flag())


def change_interval(
    metric: str, counts: tuple[int | None, int | None, int | None, int | None]
) -> tuple[float | None, float | None]:
    """The 95% interval of a rate's change, latest minus prior, from (numerator, denominator) of
    each month; (None, None) for a count or when either month has no rate."""
    numerator, denominator, prior_numerator, prior_denominator = counts
    if is_count(metric) or not denominator or not prior_denominator:
        return None, None
    assert numerator is not None and prior_numerator is not None
    _, low, high = stats.proportion_difference(numerator, denominator, prior_numerator, prior_denominator)
    return low, high


def kpis(con: duckdb.DuckDBPyConnection, scope: Scope, metrics: Sequence[str], as_of: date) -> pl.DataFrame:
    """Each metric at the latest complete month and three months earlier, with the change.

    One row per metric, in the order given, even when the release has no value for it:
    metric, month, numerator, denominator, value, prior_month, prior_numerator,
    prior_denominator, prior_value, change (value minus prior value), change_low and
    change_high (its 95% interval, rates only) and clear (the interval leaves out 0).
    """
    scope.require_program()
    month = latest_complete_month(as_of)
    prior_month = add_months(month, -KPI_LOOKBACK_MONTHS)
    found = con.sql(KPIS_SQL, params={"month": month, "prior_month": prior_month}).pl()
    wanted = pl.DataFrame({"metric": list(metrics)}, schema={"metric": pl.String})
    table = (
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
    intervals = [
        change_interval(row[0], row[1:])
        for row in table.select(
            "metric", "numerator", "denominator", "prior_numerator", "prior_denominator"
        ).iter_rows()
    ]
    lows, highs = [low for low, _ in intervals], [high for _, high in intervals]
    return table.with_columns(
        pl.Series("change_low", lows, dtype=pl.Float64),
        pl.Series("change_high", highs, dtype=pl.Float64),
        pl.Series("clear", [is_clear(low, high) for low, high in intervals], dtype=pl.Boolean),
    )


def _at(series: pl.DataFrame, month: date) -> tuple[int, int] | None:
    row = series.filter(pl.col("month") == month)
    return None if row.is_empty() else (int(row["numerator"][0]), int(row["denominator"][0]))


def headline(series: Mapping[str, pl.DataFrame], month: date, since: date | None = None) -> str | None:
    """One or two sentences of what the Overview found: active participants in `month` (the latest
    complete month, or the end of the period chosen), and how the HEADLINE shares changed from
    `since` (by default 12 months earlier; or from the first month the series has, if later). None
    when the release has nothing for that month."""
    sentences = []
    active = series.get("active_participants")
    count = None if active is None else _at(active, month)
    if count is not None:
        sentences.append(f"{count[0]:,} participants were active in {month_label(month)}.")
    changes = []
    for name in HEADLINE:
        values = series.get(name)
        now = None if values is None else _at(values, month)
        if values is None or now is None:
            continue
        start = add_months(month, -HEADLINE_MONTHS) if since is None else since
        earlier = values.filter((pl.col("month") >= start) & (pl.col("month") < month))
        if earlier.is_empty():
            continue
        first = earlier["month"].min()
        then = _at(values, first)
        assert then is not None
        changes.append((first, share_change(HEADLINE[name], now, then)))
    if changes:
        earliest = min(first for first, _ in changes)
        span = (
            f"Over the {HEADLINE_MONTHS} months to {month_label(month)}"
            if earliest == add_months(month, -HEADLINE_MONTHS)
            else f"From {month_label(earliest)} to {month_label(month)}"
        )
        text = "; ".join(
            words if first == earliest else f"{words} (from {month_label(first)})" for first, words in changes
        )
        sentences.append(f"{span}, {text}.")
    return " ".join(sentences) or None
