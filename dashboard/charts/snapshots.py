"""Snapshots: a published measure for one breakdown, its months and its quarter drawn apart.

The figures are the funder report's own (pipelines/funder/figures.py): one colour for the measure,
the months as bars and each whole quarter apart (a diamond past a divider program-wide, a panel of
its own by group), and a group whose number is hidden keeps its place on the axis with the mark
"fewer than 11*". No rate on fewer than SMALL_COUNT people is ever drawn: a snapshot suppresses it
(pipelines/funder/suppression.py), which is stricter than the hollow point of the other pages' charts.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from dashboard.charts.style import describe, finish
from pipelines.funder import names
from pipelines.funder.catalog import period_key
from pipelines.funder.figures import groups_figure, months_figure

__all__ = ["describe", "snapshot_chart"]


def snapshot_chart(rows: pl.DataFrame, metric: str, label: str, dimension: str) -> go.Figure:
    """The measure's rows of one breakdown (`dashboard.queries.snapshots.metric_rows`: text, as
    published) as a figure: program-wide, every month then every quarter apart; by group, a panel
    per month and one for the whole quarter, each group in its place on a shared axis."""
    periods = sorted(rows["period"].unique().to_list(), key=period_key)
    months = [p for p in periods if not names.is_quarter(p)]
    quarters = [p for p in periods if names.is_quarter(p)]
    if dimension == "all":
        figure = months_figure(rows, [metric], {metric: label}, months, quarters, columns=1)
        return finish(figure.update_layout(height=340), f"Bar chart of {label.lower()} by month and quarter")
    groups = names.group_order(dimension, rows["group"].to_list())
    panels = [(names.period_label(m), metric, m) for m in months] + [
        (f"Whole quarter ({names.period_label(q)})", metric, q) for q in quarters
    ]
    figure = groups_figure(rows, dimension, groups, panels, columns=2)
    return finish(
        figure, f"Bar charts of {label.lower()} by group, a panel per month and one for the quarter"
    )
