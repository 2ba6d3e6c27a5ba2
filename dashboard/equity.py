"""Equity: each race group's rate of a metric in one month, its rate ratio against a reference
group with a 95% CI, and the group's share of referrals.

Queries take a read-only connection and return Polars frames; `equity_table` puts the numbers
together; `forest_chart` draws them.
"""

from __future__ import annotations

from datetime import date
from math import ceil, floor, log2, log10

import duckdb
import plotly.graph_objects as go
import polars as pl

from checks.vocab import RACES
from dashboard import stats
from pipelines.core.metrics import METRICS
from pipelines.core.palette import FONT_FAMILY, OKABE_ITO
from pipelines.core.periods import add_months

WHITE = "white"
ALL_OTHERS = "all others"
REFERENCES = (WHITE, ALL_OTHERS)
REFERENCE_SHORT = {WHITE: "White", ALL_OTHERS: "all others"}
REFERRAL_WINDOW_MONTHS = 12
# Rates on fewer people than these are flagged, never hidden: under 30 reads with care; under
# 11 is where funder snapshots suppress a rate (DESIGN s.7).
SMALL_DENOMINATOR = 30
VERY_SMALL_DENOMINATOR = 11
# The groups participant_months gives (DESIGN s.5), in the contract's order.
RACE_GROUPS = (*(race for race in RACES if race != "unknown"), "multiracial", "unknown")
RACE_LABELS = {
    "american_indian_alaska_native": "American Indian or Alaska Native",
    "asian": "Asian",
    "black": "Black",
    "hispanic_latino": "Hispanic or Latino",
    "middle_eastern_north_african": "Middle Eastern or North African",
    "native_hawaiian_pacific_islander": "Native Hawaiian or Pacific Islander",
    "white": "White",
    "multiracial": "Multiracial",
    "unknown": "Unknown",
}
RATIO_COLOUR, SMALL_COLOUR, REFERENCE_COLOUR = OKABE_ITO[0], OKABE_ITO[3], OKABE_ITO[6]


def rate_metrics() -> list[str]:
    """The metrics a ratio makes sense for: rates, not the count of active participants."""
    return [name for name, metric in METRICS.items() if not metric.is_count]


def race_label(race: str) -> str:
    """A race group as the page names it."""
    return RACE_LABELS.get(race, race)


def race_order(race: str) -> int:
    """A group's place in tables and charts: the contract's order, anything else last."""
    return RACE_GROUPS.index(race) if race in RACE_GROUPS else len(RACE_GROUPS)


def race_months(con: duckdb.DuckDBPyConnection, metric: str, through: date) -> list[date]:
    """The months, newest first and no later than `through`, with race rows for a metric."""
    rows = con.sql(
        """
        select distinct month
        from metric_values
        where metric = $metric and dimension = 'race' and month <= $through
        order by month desc
        """,
        params={"metric": metric, "through": through},
    ).fetchall()
    return [month for (month,) in rows]


def race_rates(con: duckdb.DuckDBPyConnection, metric: str, month: date) -> pl.DataFrame:
    """One metric's rate per race group in one month: race, numerator, denominator, value."""
    return con.sql(
        """
        select grp as race, numerator, denominator, value
        from metric_values
        where metric = $metric and month = $month and dimension = 'race'
        order by grp
        """,
        params={"metric": metric, "month": month},
    ).pl()


def referrals_by_race(
    con: duckdb.DuckDBPyConnection, month: date, months: int = REFERRAL_WINDOW_MONTHS
) -> pl.DataFrame:
    """Participants referred in the `months` months up to and including `month`, by race.

    Counted from each participant's referral month in participant_months, so a participant's
    race follows the same rule as the metrics (the single race given, 'multiracial' for
    several, 'unknown' when none is known). Columns: race, referred.
    """
    return con.sql(
        """
        select race, count(*) as referred
        from participant_months
        where months_since_referral = 0
          and month > $start
          and month <= $month
        group by race
        order by race
        """,
        params={"start": add_months(month, -months), "month": month},
    ).pl()


def size_flag(denominator: int | None, reference_denominator: int | None = None) -> str | None:
    """Why a row's numbers are fragile, in words; None when the counts are large enough."""
    flags = []
    if denominator is not None and denominator < VERY_SMALL_DENOMINATOR:
        flags.append(f"rate on fewer than {VERY_SMALL_DENOMINATOR} people")
    elif denominator is not None and denominator < SMALL_DENOMINATOR:
        flags.append(f"denominator under {SMALL_DENOMINATOR}")
    if reference_denominator is not None and reference_denominator < SMALL_DENOMINATOR:
        flags.append(f"reference denominator under {SMALL_DENOMINATOR}")
    return "; ".join(flags) or None


def reference_counts(rates: pl.DataFrame, race: str, reference: str) -> tuple[int, int] | None:
    """The reference group's numerator and denominator for one group's ratio.

    'white': the White row (None when the month has none). 'all others': every other group's
    numerator and denominator pooled.
    """
    if reference == WHITE:
        white = rates.filter(pl.col("race") == WHITE)
        if white.is_empty():
            return None
        return int(white["numerator"][0]), int(white["denominator"][0])
    if reference == ALL_OTHERS:
        others = rates.filter(pl.col("race") != race)
        return int(others["numerator"].sum()), int(others["denominator"].sum())
    raise ValueError(f"unknown reference group: {reference!r}")


def ratio_row(numerator: int, denominator: int, counts: tuple[int, int] | None, confidence: float) -> dict:
    """One group's ratio, CI and, when there is no ratio, the reason why."""
    empty = {"ratio": None, "low": None, "high": None}
    if denominator == 0:
        return {**empty, "note": "no one in this group's denominator this month: no rate, no ratio"}
    if counts is None:
        return {**empty, "note": "no White participants in this month's denominator: no reference rate"}
    reference_numerator, reference_denominator = counts
    if reference_denominator == 0:
        return {**empty, "note": "the reference group is empty this month: no ratio"}
    if numerator == 0:
        return {**empty, "note": "0 counted in this group's numerator: no ratio (its logarithm is undefined)"}
    if reference_numerator == 0:
        return {**empty, "note": "0 counted in the reference group's numerator: no ratio (division by zero)"}
    result = stats.rate_ratio(numerator, denominator, reference_numerator, reference_denominator, confidence)
    assert result is not None  # every zero count was answered above
    ratio, low, high = result
    return {"ratio": ratio, "low": low, "high": high, "note": None}


def equity_table(
    rates: pl.DataFrame, referrals: pl.DataFrame, reference: str, confidence: float = 0.95
) -> pl.DataFrame:
    """Every race group with a rate or a referral: its rate, its ratio to the reference, the
    ratio's CI, its share of referrals, a size flag and a note when there is no ratio.

    Columns: race, numerator, denominator, rate, reference_numerator, reference_denominator,
    reference_rate, ratio, low, high, is_reference, referred, referral_share, flag, note.
    A group with referrals but no rate row has a denominator of 0 and a note; a group with a
    rate but no referrals in the window has 0 referred. No group is dropped.
    """
    if reference not in REFERENCES:
        raise ValueError(f"unknown reference group: {reference!r}")
    races = sorted(set(rates["race"].to_list()) | set(referrals["race"].to_list()), key=race_order)
    counted = {row["race"]: row for row in rates.iter_rows(named=True)}
    referred = {row["race"]: row["referred"] for row in referrals.iter_rows(named=True)}
    total_referred = sum(referred.values())
    rows = []
    for race in races:
        numerator = int(counted[race]["numerator"]) if race in counted else 0
        denominator = int(counted[race]["denominator"]) if race in counted else 0
        is_reference = reference == WHITE and race == WHITE
        counts = reference_counts(rates, race, reference)
        if is_reference:
            ratio = {"ratio": 1.0, "low": None, "high": None, "note": "reference group"}
            counts = (numerator, denominator)
        else:
            ratio = ratio_row(numerator, denominator, counts, confidence)
        reference_numerator, reference_denominator = counts if counts is not None else (None, None)
        rows.append(
            {
                "race": race,
                "numerator": numerator,
                "denominator": denominator,
                "rate": numerator / denominator if denominator else None,
                "reference_numerator": reference_numerator,
                "reference_denominator": reference_denominator,
                "reference_rate": (
                    reference_numerator / reference_denominator if reference_denominator else None
                ),
                **ratio,
                "is_reference": is_reference,
                "referred": referred.get(race, 0),
                "referral_share": referred.get(race, 0) / total_referred if total_referred else None,
                "flag": size_flag(denominator, None if is_reference else reference_denominator),
            }
        )
    schema = {
        "race": pl.String,
        "numerator": pl.Int64,
        "denominator": pl.Int64,
        "rate": pl.Float64,
        "reference_numerator": pl.Int64,
        "reference_denominator": pl.Int64,
        "reference_rate": pl.Float64,
        "ratio": pl.Float64,
        "low": pl.Float64,
        "high": pl.Float64,
        "note": pl.String,
        "is_reference": pl.Boolean,
        "referred": pl.Int64,
        "referral_share": pl.Float64,
        "flag": pl.String,
    }
    columns = [
        "race",
        "numerator",
        "denominator",
        "rate",
        "reference_numerator",
        "reference_denominator",
        "reference_rate",
        "ratio",
        "low",
        "high",
        "is_reference",
        "referred",
        "referral_share",
        "flag",
        "note",
    ]
    return pl.DataFrame(rows, schema=schema).select(columns)


def reference_name(reference: str) -> str:
    """The reference group as the axis and captions say it."""
    return "White participants" if reference == WHITE else "all other groups"


def ratio_ticks(table: pl.DataFrame) -> list[float]:
    """Ticks at powers of two around 1 that span every interval: 0.25, 0.5, 1, 2, 4, ..."""
    values = [1.0, *table["low"].drop_nulls(), *table["high"].drop_nulls(), *table["ratio"].drop_nulls()]
    low = floor(log2(min(values)))
    high = ceil(log2(max(values)))
    # A range of one power of two either way at least, so that a lone 1 is not the only tick.
    low, high = min(low, -1), max(high, 1)
    # Wide intervals get every other power (0.25, 1, 4, ...) so the labels keep apart; 1 stays.
    step = 1 if high - low <= 6 else 2
    return [2.0**power for power in range(low - (low % step), high + step, step)]


def tick_label(tick: float) -> str:
    """A power of two as a short label: 1/8, 1/4, 0.5, 1, 2, 4."""
    return f"1/{round(1 / tick)}" if tick < 0.5 else f"{tick:g}"


def forest_chart(table: pl.DataFrame, metric: str, reference: str) -> go.Figure:
    """Rate ratios with their CIs on a log axis, a line at 1 (no difference), one row per group.

    Groups on small denominators get an open marker of their own colour and legend entry; a
    group without a ratio keeps its row, with the words "no ratio" where the marker would be.
    """
    label = METRICS[metric].label
    groups = [race_label(race) for race in table["race"]]
    figure = go.Figure()
    estimable = table.filter(pl.col("ratio").is_not_null() & ~pl.col("is_reference"))
    for small, name, colour, symbol in (
        (False, "Rate ratio (95% CI)", RATIO_COLOUR, "circle"),
        (True, f"Under {SMALL_DENOMINATOR} in a denominator: read with care", SMALL_COLOUR, "circle-open"),
    ):
        part = estimable.filter(pl.col("flag").is_not_null() == small)
        if part.is_empty():
            continue
        figure.add_trace(
            go.Scatter(
                x=part["ratio"].to_list(),
                y=[race_label(race) for race in part["race"]],
                mode="markers",
                name=name,
                marker={"color": colour, "size": 11, "symbol": symbol, "line": {"width": 2, "color": colour}},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": (part["high"] - part["ratio"]).to_list(),
                    "arrayminus": (part["ratio"] - part["low"]).to_list(),
                    "color": colour,
                    "thickness": 2,
                    "width": 6,
                },
                customdata=part.select("low", "high", "rate", "numerator", "denominator").rows(),
                hovertemplate=(
                    "%{y}<br>Rate ratio %{x:.2f} (95% CI %{customdata[0]:.2f} to %{customdata[1]:.2f})"
                    f"<br>{label}: " + "%{customdata[2]:.1%} (%{customdata[3]:,} of %{customdata[4]:,})"
                    "<extra></extra>"
                ),
            )
        )
    references = table.filter(pl.col("is_reference"))
    if not references.is_empty():
        figure.add_trace(
            go.Scatter(
                x=[1.0] * references.height,
                y=[race_label(race) for race in references["race"]],
                mode="markers",
                name="Reference group",
                marker={"color": REFERENCE_COLOUR, "size": 11, "symbol": "diamond"},
                hovertemplate="%{y}: the reference group<extra></extra>",
            )
        )
    ticks = ratio_ticks(table)
    missing = table.filter(pl.col("ratio").is_null())
    if not missing.is_empty():
        figure.add_trace(
            go.Scatter(
                # At the left edge, reading rightwards: the row has no marker to overlap.
                x=[ticks[0]] * missing.height,
                y=[race_label(race) for race in missing["race"]],
                mode="text",
                text=["no ratio: see the table"] * missing.height,
                textposition="middle right",
                textfont={"color": "#555555"},
                name="No ratio",
                showlegend=False,
                customdata=missing["note"].to_list(),
                hovertemplate="%{y}: %{customdata}<extra></extra>",
            )
        )
    # The line of no difference (Plotly 7 places shapes on a log axis by value, not log10).
    figure.add_shape(
        type="line",
        xref="x",
        yref="paper",
        x0=1,
        x1=1,
        y0=0,
        y1=1,
        line={"color": "#555555", "width": 1, "dash": "dash"},
    )
    figure.update_layout(
        title={"text": None},
        font={"family": FONT_FAMILY},
        colorway=list(OKABE_ITO),
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "left", "x": 0},
        # Room above the legend for the toolbar Plotly shows on hover.
        margin={"l": 10, "r": 10, "t": 80, "b": 10},
        height=200 + 40 * max(len(groups), 1),
    )
    figure.update_xaxes(
        type="log",
        title_text=f"Rate ratio vs. {REFERENCE_SHORT[reference]} (log scale)",
        tickvals=ticks,
        ticktext=[tick_label(tick) for tick in ticks],
        tickangle=0,
        range=[log10(ticks[0]) - 0.05, log10(ticks[-1]) + 0.05],
    )
    figure.update_yaxes(
        type="category",
        categoryorder="array",
        categoryarray=groups,
        autorange="reversed",
        title_text="Race",
    )
    return figure
