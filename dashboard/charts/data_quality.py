"""The Data quality page's charts: rows quarantined over runs, and problems per site. A frame in
(from dashboard.queries.data_quality), a Plotly figure out, nothing drawn here."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from dashboard.charts.style import describe, finish
from dashboard.queries.data_quality import NAMED_SITES, OTHER_SITES
from pipelines.core.palette import OKABE_ITO

__all__ = ["describe", "problems_chart", "quarantine_chart"]

SITE_COLOURS = OKABE_ITO[:NAMED_SITES]
OTHER_COLOUR = OKABE_ITO[6]  # black: the seventh colour, never yellow
OPEN_COLOUR, FIXED_COLOUR = OKABE_ITO[0], OKABE_ITO[2]
# Up to this many, a count axis has a tick at every whole number (Plotly would repeat "0", "1").
SMALL_COUNT = 5


def style(figure: go.Figure, height: int, what: str) -> go.Figure:
    """The look every chart of the page shares, and the chart's summary in words."""
    figure.update_layout(
        colorway=list(OKABE_ITO),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        height=height,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
    )
    return finish(figure, what)


def count_axis(top: int) -> dict[str, object]:
    """A count axis from 0: whole-number ticks, one per unit when the counts are small (all 0 too)."""
    axis: dict[str, object] = {"tickformat": ",d", "rangemode": "tozero"}
    if top <= SMALL_COUNT:
        axis |= {"dtick": 1, "range": [0, max(top, 1) * 1.05]}
    return axis


def quarantine_chart(frame: pl.DataFrame) -> go.Figure:
    """Rows quarantined per run, oldest run on the left; stacked by site when `frame` has sites.

    `frame` is `quarantine_by_run` (after `lump_sites` when by site).
    """
    runs = frame.select("run_label", "started_at", "run_id").unique("run_id").sort("started_at", "run_id")
    order = runs["run_label"].to_list()
    sites = frame["site_id"].unique(maintain_order=True).to_list()
    named = [site for site in sites if site not in ("all", OTHER_SITES)]
    figure = go.Figure()
    for index, site in enumerate([*named, *[s for s in sites if s in ("all", OTHER_SITES)]]):
        part = frame.filter(pl.col("site_id") == site)
        if site == OTHER_SITES:
            colour = OTHER_COLOUR
        else:
            colour = SITE_COLOURS[index % len(SITE_COLOURS)]
        figure.add_trace(
            go.Bar(
                x=part["run_label"].to_list(),
                y=part["rows_quarantined"].to_list(),
                name="All sites" if site == "all" else site,
                marker={"color": colour},
                customdata=part.select("rows_read", pl.col("share").fill_null(0.0), "status").rows(),
                hovertemplate=(
                    "%{x}<br>%{fullData.name}: %{y:,} rows quarantined"
                    "<br>of %{customdata[0]:,} read (%{customdata[1]:.1%})<extra></extra>"
                ),
            )
        )
    figure.update_layout(barmode="stack", showlegend=sites != ["all"])
    figure.update_xaxes(
        title_text="Nightly run (as-of date)", type="category", categoryorder="array", categoryarray=order
    )
    top = frame.group_by("run_id").agg(pl.col("rows_quarantined").sum())["rows_quarantined"].max() or 0
    figure.update_yaxes(title_text="Rows quarantined", **count_axis(int(top)))
    return style(figure, 340, "Bar chart of rows quarantined per nightly run, oldest run first")


def problems_chart(summary: pl.DataFrame) -> go.Figure:
    """Open and fixed problems per site, side by side; the site with most open problems on top."""
    # Plotly draws the first category at the bottom: reverse, so the table's first row is on top.
    shown = summary.reverse()
    figure = go.Figure()
    # Within a site too the first trace is drawn lowest: Fixed first puts Open on top; the
    # legend, reversed, still reads Open, Fixed.
    for column, name, colour in (
        ("fixed_problems", "Fixed", FIXED_COLOUR),
        ("open_problems", "Open", OPEN_COLOUR),
    ):
        figure.add_trace(
            go.Bar(
                x=shown[column].to_list(),
                y=shown["site_id"].to_list(),
                name=name,
                orientation="h",
                marker={"color": colour},
                hovertemplate="%{y}: %{x:,} " + name.lower() + " problems<extra></extra>",
            )
        )
    figure.update_layout(barmode="group", legend={"traceorder": "reversed"})
    top = max(summary["open_problems"].max() or 0, summary["fixed_problems"].max() or 0)
    figure.update_xaxes(title_text="Problems", **count_axis(int(top)))
    figure.update_yaxes(title_text="Site", type="category")
    return style(
        figure, max(240, 60 + 40 * summary.height), "Bar chart of open and fixed data problems per site"
    )
