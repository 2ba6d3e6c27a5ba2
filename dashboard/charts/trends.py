"""Trends' chart: one line per group over the months; a frame in, a Plotly figure out."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from dashboard.charts.style import describe, finish, legend_below
from dashboard.queries.trends import group_label
from dashboard.small_numbers import marker_symbols
from pipelines.core.metrics import DIMENSION_LABELS, METRICS, Kind, Metric
from pipelines.core.palette import OKABE_ITO, line_look

__all__ = ["describe", "line_style", "trend_chart"]

# Seven colours, never the olive on white; every group has a dash and a marker of its own too.
LINE_COLOURS = OKABE_ITO[:7]
ALL_GROUP_NAME = group_label("all", "all")
HEIGHT = 420


def line_style(index: int) -> dict[str, object]:
    """The colour and dash of the index-th group's line (its marker: `line_look(index)`)."""
    look = line_look(index)
    return {"color": look["color"], "dash": look["dash"], "width": 2}


def hover_template(definition: Metric) -> str:
    """What a point says on hover: the group, the month, the value and its counts."""
    if definition.is_count:
        body = "%{y:,.0f} participants"
    elif definition.kind is Kind.DAYS:
        body = "%{y:.2f} days per participant (%{customdata[0]:,} days, %{customdata[1]:,} participants)"
    else:
        body = "%{y:.1%} (%{customdata[0]:,} of %{customdata[1]:,})"
    return "<b>%{fullData.name}</b><br>%{x|%B %Y}<br>" + body + "<extra></extra>"


def trend_chart(values: pl.DataFrame, metric: str, split: str = "all") -> go.Figure:
    """One line per group over the months: a percentage for rates, a count for participants.

    `values` is what `queries.trends.trend_values` returns. The legend sits below the plot, so a
    phone keeps the plot's width; each group has a colour, a dash and a marker of its own. A rate
    on fewer than SMALL_COUNT people is a hollow point (dashboard/small_numbers.py); the table
    flags it too.
    """
    definition = METRICS[metric]
    figure = go.Figure()
    groups = values["group"].unique(maintain_order=False).sort().to_list()
    for index, group in enumerate(groups):
        rows = values.filter(pl.col("group") == group).sort("month")
        figure.add_trace(
            go.Scatter(
                x=rows["month"].to_list(),
                y=rows["value"].to_list(),
                customdata=rows.select("numerator", "denominator").rows(),
                mode="lines+markers",
                name=group_label(split, str(group)),
                line=line_style(index),
                marker={
                    "size": 7,
                    "symbol": marker_symbols(
                        rows["denominator"], line_look(index)["symbol"], is_count=definition.is_count
                    ),
                },
                hovertemplate=hover_template(definition),
            )
        )
    if definition.is_count:
        y_title, tickformat = "Participants", ",d"
    elif definition.kind is Kind.DAYS:
        y_title, tickformat = "Days per participant", ".1f"
    else:
        y_title, tickformat = "Percent of denominator", ".0%"
    figure.update_layout(
        colorway=list(LINE_COLOURS),
        showlegend=split != "all",
        legend=legend_below(HEIGHT, title=DIMENSION_LABELS[split]),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        height=HEIGHT,
    )
    figure.update_xaxes(title_text="Month", type="date", tickformat="%b %Y", hoverformat="%B %Y")
    figure.update_yaxes(title_text=y_title, tickformat=tickformat, rangemode="tozero")
    what = f"Line chart of {definition.label.lower()} by month"
    if split != "all":
        what += f", one line per {DIMENSION_LABELS[split].lower()}"
    return finish(figure, what)
