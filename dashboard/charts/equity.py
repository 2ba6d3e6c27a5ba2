"""Equity's forest plot: rate ratios with their CIs on a log axis, one row per race group.

A frame in (`queries.equity.equity_table`), a Plotly figure out.
"""

from __future__ import annotations

from math import ceil, floor, log2, log10

import plotly.graph_objects as go
import polars as pl

from checks.labels import label
from dashboard.charts.style import describe, finish
from dashboard.queries.equity import REFERENCE_SHORT
from pipelines.core.metrics import METRICS, SMALL_COUNT
from pipelines.core.palette import MUTED_TEXT, OKABE_ITO, REFERENCE_LINE

__all__ = ["add_reference_and_gaps", "describe", "forest_chart", "ratio_ticks", "tick_label"]

RATIO_COLOUR, SMALL_COLOUR, REFERENCE_COLOUR = OKABE_ITO[0], OKABE_ITO[3], OKABE_ITO[6]


def ratio_ticks(table: pl.DataFrame) -> list[float]:
    """Ticks at powers of two around 1 that span every interval: 0.25, 0.5, 1, 2, 4, ...

    A ratio or limit of 0 has no place on a log axis: it is drawn at the left edge instead.
    """
    values = [
        value for column in ("low", "high", "ratio") for value in table[column].drop_nulls() if value > 0
    ] + [1.0]
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


def add_reference_and_gaps(figure: go.Figure, table: pl.DataFrame, edge: float, **cell: int) -> None:
    """The parts every ratio forest shares: the reference group's diamond at 1, the words "no
    ratio" at the left edge for a group without one, and the dashed line of no difference.

    `cell` (row=, col=) places them in one panel of a figure made with make_subplots.
    """
    references = table.filter(pl.col("is_reference"))
    if not references.is_empty():
        figure.add_trace(
            go.Scatter(
                x=[1.0] * references.height,
                y=[label("race", race) for race in references["race"]],
                mode="markers",
                name="Reference group",
                marker={"color": REFERENCE_COLOUR, "size": 11, "symbol": "diamond"},
                hovertemplate="%{y}: the reference group<extra></extra>",
            ),
            **cell,
        )
    missing = table.filter(pl.col("ratio").is_null())
    if not missing.is_empty():
        figure.add_trace(
            go.Scatter(
                # At the left edge, reading rightwards: the row has no marker to overlap.
                x=[edge] * missing.height,
                y=[label("race", race) for race in missing["race"]],
                mode="text",
                text=["no ratio: see the table"] * missing.height,
                textposition="middle right",
                textfont={"color": MUTED_TEXT},
                name="No ratio",
                showlegend=False,
                customdata=missing["note"].to_list(),
                hovertemplate="%{y}: %{customdata}<extra></extra>",
            ),
            **cell,
        )
    # The line of no difference (Plotly 7 places shapes on a log axis by value, not log10).
    figure.add_vline(x=1, line={"color": REFERENCE_LINE, "width": 1, "dash": "dash"}, **cell)


def forest_chart(table: pl.DataFrame, metric: str, reference: str) -> go.Figure:
    """Rate ratios with their CIs on a log axis, a line at 1 (no difference), one row per group.

    A ratio that rests on a rate of fewer than SMALL_COUNT people (the group's or the reference's)
    is hollow, with a colour and legend entry of its own (dashboard/small_numbers.py). A ratio of 0
    (no one counted in the group) is a left-pointing triangle at the left edge, its interval
    reaching right to its upper limit. A group without a ratio keeps its row, with the words "no
    ratio" where the marker would be.
    """
    measure = METRICS[metric].label
    groups = [label("race", race) for race in table["race"]]
    figure = go.Figure()
    ticks = ratio_ticks(table)
    edge = ticks[0]
    estimable = table.filter(pl.col("ratio").is_not_null() & ~pl.col("is_reference"))
    for small, name, colour in (
        (False, "Rate ratio (95% CI)", RATIO_COLOUR),
        (True, f"Rests on a rate of fewer than {SMALL_COUNT} people (hollow)", SMALL_COLOUR),
    ):
        part = estimable.filter(pl.col("small") == small)
        if part.is_empty():
            continue
        ratios, lows, highs = part["ratio"].to_list(), part["low"].to_list(), part["high"].to_list()
        # `small` is the one rule's verdict on either rate (queries.equity.size_flag): hollow.
        shape = "-open" if small else ""
        x = [ratio if ratio > 0 else edge for ratio in ratios]
        figure.add_trace(
            go.Scatter(
                x=x,
                y=[label("race", race) for race in part["race"]],
                mode="markers",
                name=name,
                marker={
                    "color": colour,
                    "size": 11,
                    "symbol": [("triangle-left" if ratio == 0 else "circle") + shape for ratio in ratios],
                    "line": {"width": 2, "color": colour},
                },
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [high - at for high, at in zip(highs, x, strict=True)],
                    "arrayminus": [
                        at - low if ratio > 0 else 0 for at, low, ratio in zip(x, lows, ratios, strict=True)
                    ],
                    "color": colour,
                    "thickness": 2,
                    "width": 6,
                },
                customdata=part.select(
                    "low", "high", "rate", "numerator", "denominator", "ratio", "method"
                ).rows(),
                hovertemplate=(
                    "%{y}<br>Rate ratio %{customdata[5]:.2f} (95% CI %{customdata[0]:.2f} to "
                    "%{customdata[1]:.2f}, %{customdata[6]})"
                    f"<br>{measure}: " + "%{customdata[2]:.1%} (%{customdata[3]:,} of %{customdata[4]:,})"
                    "<extra></extra>"
                ),
            )
        )
    add_reference_and_gaps(figure, table, edge)
    figure.update_layout(
        title={"text": None},
        colorway=list(OKABE_ITO),
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "left", "x": 0},
        # Room above the legend for the toolbar Plotly shows on hover.
        margin={"l": 10, "r": 10, "t": 80, "b": 10},
        height=200 + 40 * max(len(groups), 1),
    )
    figure.update_xaxes(
        type="log",
        title_text=f"Rate ratio vs. {REFERENCE_SHORT[reference]}<br>(log scale)",
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
    return finish(
        figure,
        f"Forest plot of {measure.lower()} rate ratios against {REFERENCE_SHORT[reference]}, "
        "one row per race group, on a log scale where 1 is no difference",
    )
