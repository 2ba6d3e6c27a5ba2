"""Chart builders: a Polars frame in, a Plotly figure out, nothing drawn here."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from dashboard.charts.style import describe, finish, wrap
from dashboard.small_numbers import marker_symbols
from pipelines.core.metrics import METRICS
from pipelines.core.palette import OKABE_ITO

__all__ = ["describe", "metric_colour", "trend_chart"]


def metric_colour(metric: str) -> str:
    """The colour a metric keeps on every page (the first seven colours, never yellow).

    Nine metrics share seven colours; a chart holds one metric, so two never meet.
    """
    names = list(METRICS)
    index = names.index(metric) if metric in names else 0
    return OKABE_ITO[index % 7]


def trend_chart(series: pl.DataFrame, metric: str, *, titled: bool = True) -> go.Figure:
    """A metric's value by month: a percentage for rates, a count for active participants.

    `series` has the columns month (date), numerator, denominator and value. `titled=False`
    leaves the title to the page around the chart. A rate on fewer than SMALL_COUNT people is a
    hollow point (dashboard/small_numbers.py); the table beside the chart flags it.
    """
    definition = METRICS[metric]
    months = series["month"].to_list()
    values = series["value"].to_list()
    customdata = series.select("numerator", "denominator").rows()
    if definition.is_count:
        y_title = "Participants"
        hover = "%{x|%B %Y}<br>%{y:,.0f} participants<extra></extra>"
        tickformat = ",d"
    else:
        y_title = "Percent of denominator"
        hover = "%{x|%B %Y}<br>%{y:.1%} (%{customdata[0]:,} of %{customdata[1]:,})<extra></extra>"
        tickformat = ".0%"
    figure = go.Figure(
        go.Scatter(
            x=months,
            y=values,
            customdata=customdata,
            mode="lines+markers",
            name=definition.label,
            line={"color": metric_colour(metric), "width": 2},
            marker={
                "size": 7,
                "symbol": marker_symbols(series["denominator"], is_count=definition.is_count),
            },
            hovertemplate=hover,
        )
    )
    figure.update_layout(
        title={"text": wrap(definition.label) if titled else None},
        colorway=list(OKABE_ITO),
        showlegend=False,
        margin={"l": 10, "r": 10, "t": 40 if titled else 10, "b": 10},
        height=320,
    )
    figure.update_xaxes(title_text="Month", type="date", tickformat="%b %Y", hoverformat="%B %Y")
    figure.update_yaxes(title_text=y_title, tickformat=tickformat, rangemode="tozero")
    return finish(figure, f"Line chart of {definition.label.lower()} by month")
