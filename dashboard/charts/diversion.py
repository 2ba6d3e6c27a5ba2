"""Who is diverted: the mix of each group as stacked bars, and each race group's referral rate and
rate ratio as a two-panel forest plot. Frames in (`queries.diversion`), Plotly figures out.

A share or rate on fewer than SMALL_COUNT people is drawn hollow (a hatched bar, an open marker)
and says so in its legend or label (dashboard/small_numbers.py); nothing is left out.
"""

from __future__ import annotations

from math import log10

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from checks.labels import label
from dashboard.charts.equity import add_reference_and_gaps, ratio_ticks, tick_label
from dashboard.charts.style import describe, finish
from dashboard.queries.diversion import GROUP_LABELS, GROUPS, MIX_LABELS, category_label
from dashboard.queries.equity import WHITE
from dashboard.small_numbers import is_small
from pipelines.core.metrics import SMALL_COUNT
from pipelines.core.palette import OKABE_ITO, UNKNOWN

__all__ = ["describe", "mix_chart", "referral_chart"]

UNKNOWN_COLOUR = UNKNOWN
RATE_COLOUR, SMALL_COLOUR = OKABE_ITO[0], OKABE_ITO[3]
SMALL_GROUP = f"(fewer than {SMALL_COUNT} people)"
ESTIMATE_NAME = "Estimate (95% CI)"
SMALL_NAME = f"Rests on fewer than {SMALL_COUNT} people (hollow)"


def group_name(arm: str, total: int) -> str:
    """A bar's label: the group, its number of people, and the flag when they are few."""
    flag = f" {SMALL_GROUP}" if is_small(total) else ""
    return f"{GROUP_LABELS[arm]}, {total:,}{flag}"


def mix_chart(mix: pl.DataFrame, dimension: str) -> go.Figure:
    """One 100% bar per group (LEAD participants, comparison group, eligible pool), split by the
    categories of `dimension`; a group of fewer than SMALL_COUNT people is hatched and labelled.

    `mix` is `queries.diversion.mix_table`'s frame.
    """
    totals = {arm: total for arm, total in mix.select("arm", "total").unique().iter_rows()}
    arms = [arm for arm in GROUPS if arm in totals]
    names = [group_name(arm, totals[arm]) for arm in arms]
    figure = go.Figure()
    categories = list(dict.fromkeys(mix["category"]))
    colours = iter(OKABE_ITO)
    for category in categories:
        rows = {row["arm"]: row for row in mix.filter(pl.col("category") == category).iter_rows(named=True)}
        colour = UNKNOWN_COLOUR if category == "unknown" else next(colours, UNKNOWN_COLOUR)
        figure.add_trace(
            go.Bar(
                x=[(rows[arm]["share"] or 0) * 100 for arm in arms],
                y=names,
                orientation="h",
                name=category_label(dimension, category),
                marker={
                    "color": colour,
                    "line": {"color": colour, "width": 1},
                    "pattern": {
                        "shape": ["/" if is_small(totals[arm]) else "" for arm in arms],
                        "fillmode": "replace",
                    },
                },
                customdata=[(rows[arm]["people"], rows[arm]["total"]) for arm in arms],
                hovertemplate=(
                    "%{y}<br>%{fullData.name}: %{x:.1f}% (%{customdata[0]:,} of %{customdata[1]:,})"
                    "<extra></extra>"
                ),
            )
        )
    figure.update_layout(
        barmode="stack",
        showlegend=True,  # one category still says which it is
        legend={
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.0,
            "xanchor": "left",
            "x": 0,
            "traceorder": "normal",
            "title": {"text": MIX_LABELS[dimension]},
        },
        margin={"l": 10, "r": 10, "t": 80, "b": 10},
        height=260 + 20 * ((len(categories) + 2) // 3),
    )
    figure.update_xaxes(
        title_text="Share of the group's people",
        range=[0, 101],
        tickvals=[0, 20, 40, 60, 80, 100],
        ticksuffix="%",
        automargin=True,
    )
    figure.update_yaxes(
        type="category", categoryorder="array", categoryarray=names, autorange="reversed", automargin=True
    )
    return finish(
        figure,
        f"Stacked bar chart of each group's people by {MIX_LABELS[dimension].lower()}, in percent",
    )


def _marker(symbols: list[str], small: bool, colour: str) -> dict[str, object]:
    shape = "-open" if small else ""
    return {
        "color": colour,
        "size": 11,
        "symbol": [symbol + shape for symbol in symbols],
        "line": {"width": 2, "color": colour},
    }


def referral_chart(table: pl.DataFrame, reference: str) -> go.Figure:
    """Top: each race group's referral rate (referred / eligible pool) with its 95% interval.
    Below: its rate ratio against the reference on a log axis, with its 95% interval and a line
    at 1 (stacked, not side by side: each panel keeps the page's width, on a phone too).
    Hollow: a rate (top) or either rate behind a ratio (below) on fewer than SMALL_COUNT
    people. A ratio of 0 is a triangle at the left edge; a group without a ratio keeps its row.

    `table` is `queries.diversion.referral_table`'s frame.
    """
    reference_short = "White" if reference == WHITE else "all others"
    figure = make_subplots(
        rows=2,
        cols=1,
        vertical_spacing=0.12,
        subplot_titles=(
            "Referred, % of the eligible pool (95% CI)",
            f"Rate ratio vs. {reference_short} (95% CI, log scale)",
        ),
    )
    # Titles end at the plot's right edge and reach left over the race labels: long labels narrow
    # the plot, and a title centred over it would run off a phone's screen.
    figure.update_annotations(x=1, xanchor="right", xref="paper")
    groups = [label("race", race) for race in table["race"]]
    small_rate = [is_small(n) for n in table["denominator"]]
    for small in (False, True):
        part = table.filter(pl.Series(small_rate) == small)
        if part.is_empty():
            continue
        rates = [rate * 100 for rate in part["rate"]]
        figure.add_trace(
            go.Scatter(
                x=rates,
                y=[label("race", race) for race in part["race"]],
                mode="markers",
                name=SMALL_NAME if small else ESTIMATE_NAME,
                legendgroup="small" if small else "estimate",
                marker=_marker(["circle"] * part.height, small, SMALL_COLOUR if small else RATE_COLOUR),
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [high * 100 - at for high, at in zip(part["rate_high"], rates, strict=True)],
                    "arrayminus": [at - low * 100 for low, at in zip(part["rate_low"], rates, strict=True)],
                    "thickness": 2,
                    "width": 6,
                },
                customdata=part.select("numerator", "denominator").rows(),
                hovertemplate=(
                    "%{y}: %{x:.1f}% referred (%{customdata[0]:,} of %{customdata[1]:,} eligible)"
                    "<extra></extra>"
                ),
            ),
            row=1,
            col=1,
        )
    ticks = ratio_ticks(table)
    edge = ticks[0]
    estimable = table.filter(pl.col("ratio").is_not_null() & ~pl.col("is_reference"))
    for small in (False, True):
        part = estimable.filter(pl.col("small") == small)
        if part.is_empty():
            continue
        ratios = part["ratio"].to_list()
        x = [ratio if ratio > 0 else edge for ratio in ratios]
        figure.add_trace(
            go.Scatter(
                x=x,
                y=[label("race", race) for race in part["race"]],
                mode="markers",
                name=SMALL_NAME if small else ESTIMATE_NAME,
                legendgroup="small" if small else "estimate",
                # One legend entry for both panels: the rate's, unless the rates drew none of this kind.
                showlegend=not any(
                    trace.name == (SMALL_NAME if small else ESTIMATE_NAME) for trace in figure.data
                ),
                marker=_marker(
                    ["triangle-left" if ratio == 0 else "circle" for ratio in ratios],
                    small,
                    SMALL_COLOUR if small else RATE_COLOUR,
                ),
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [high - at for high, at in zip(part["high"], x, strict=True)],
                    "arrayminus": [
                        at - low if ratio > 0 else 0
                        for at, low, ratio in zip(x, part["low"], ratios, strict=True)
                    ],
                    "thickness": 2,
                    "width": 6,
                },
                customdata=part.select("low", "high", "method").rows(),
                hovertemplate=(
                    "%{y}: rate ratio %{x:.2f} (95% CI %{customdata[0]:.2f} to %{customdata[1]:.2f}, "
                    "%{customdata[2]})<extra></extra>"
                ),
            ),
            row=2,
            col=1,
        )
    add_reference_and_gaps(figure, table, edge, row=2, col=1)
    figure.update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.06, "xanchor": "left", "x": 0},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        height=300 + 2 * 34 * max(len(groups), 1),
    )
    # A little room either side, so a rate of 0% or 100% is not cut in half by the frame.
    figure.update_xaxes(range=[-3, 103], tickvals=[0, 20, 40, 60, 80, 100], ticksuffix="%", row=1, col=1)
    figure.update_xaxes(
        type="log",
        tickvals=ticks,
        ticktext=[tick_label(tick) for tick in ticks],
        tickangle=0,
        range=[log10(ticks[0]) - 0.05, log10(ticks[-1]) + 0.05],
        row=2,
        col=1,
    )
    figure.update_yaxes(
        type="category",
        categoryorder="array",
        categoryarray=groups,
        autorange="reversed",
        automargin=True,
    )
    return finish(
        figure,
        "Referral rate by race group, in percent, and each group's rate ratio on a log scale "
        "where 1 is no difference",
    )
