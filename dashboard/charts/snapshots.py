"""Snapshots: a published metric by period, one colour per group, suppressed cells not drawn."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from dashboard.queries.trends import group_label
from pipelines.core.metrics import DIMENSION_LABELS, is_count
from pipelines.core.palette import FONT_FAMILY, OKABE_ITO
from pipelines.funder.catalog import period_key

# Colours for groups: Okabe-Ito without yellow, which is hard to see on white.
GROUP_COLOURS = OKABE_ITO[:7]


def snapshot_chart(rows: pl.DataFrame, metric: str, label: str, dimension: str) -> go.Figure:
    """Bars of the metric's value by period, one colour per group; suppressed cells are not drawn.

    `rows` is what `dashboard.queries.snapshots.metric_rows` returns (text, as published). The
    period axis is a category: months and the quarter are labels, never dates. No rate on fewer
    than SMALL_COUNT people is ever drawn: a snapshot suppresses it (pipelines/funder/suppression.py),
    which is stricter than the hollow point of the other pages' charts.
    """
    count = is_count(metric)
    periods = sorted(rows["period"].unique().to_list(), key=period_key)
    shown = rows.filter(pl.col("suppressed") == "false")
    figure = go.Figure()
    for index, group in enumerate(sorted(rows["group"].unique().to_list())):
        cells = shown.filter(pl.col("group") == group)
        figure.add_trace(
            go.Bar(
                x=cells["period"].to_list(),
                y=[float(v) for v in cells["value"]],
                customdata=[
                    (int(n), int(d)) for n, d in cells.select("numerator", "denominator").iter_rows()
                ],
                name=label if dimension == "all" else group_label(dimension, str(group)),
                marker={"color": GROUP_COLOURS[index % len(GROUP_COLOURS)]},
                hovertemplate=(
                    "%{x}<br>%{y:,.0f} participants<extra>%{fullData.name}</extra>"
                    if count
                    else "%{x}<br>%{y:.1%} (%{customdata[0]:,} of %{customdata[1]:,})"
                    "<extra>%{fullData.name}</extra>"
                ),
            )
        )
    figure.update_layout(
        barmode="group",
        colorway=list(GROUP_COLOURS),
        font={"family": FONT_FAMILY},
        showlegend=dimension != "all",
        legend={"title": {"text": DIMENSION_LABELS.get(dimension, dimension)}},
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        height=380,
    )
    figure.update_xaxes(title_text="Period", type="category", categoryorder="array", categoryarray=periods)
    figure.update_yaxes(
        title_text="Participants" if count else "Percent of denominator",
        tickformat=",d" if count else ".0%",
        rangemode="tozero",
    )
    return figure
