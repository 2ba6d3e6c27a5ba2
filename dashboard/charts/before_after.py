"""Before and after's chart: the share arrested before and after referral, and the difference.

A frame in (`queries.before_after.arrest_table`), a Plotly figure out.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from dashboard.queries.before_after import REFERRAL_TYPE_LABELS, WINDOW_MONTHS
from pipelines.core.palette import FONT_FAMILY, OKABE_ITO

BEFORE_COLOUR, AFTER_COLOUR, DIFFERENCE_COLOUR = OKABE_ITO[1], OKABE_ITO[0], OKABE_ITO[6]
SHARE_HOVER = "%{x:.1%} (%{customdata[0]:,} of %{customdata[1]:,})<extra></extra>"


def group_label(referral_type: str, participants: int) -> str:
    """A row's name on the chart: the referral type and how many people it counts."""
    return f"{REFERRAL_TYPE_LABELS.get(referral_type, referral_type)} (n={participants:,})"


def before_after_chart(table: pl.DataFrame, months: int = WINDOW_MONTHS) -> go.Figure:
    """Left: the share arrested before and after referral per group (a dot plot joined by a
    line). Right: the difference, after minus before, in percentage points with its CI.

    `table` is `with_intervals` output; rows without participants are left out of the chart
    (the table beside it still lists them).
    """
    shown = table.filter(pl.col("participants") > 0)
    labels = [group_label(t, n) for t, n in zip(shown["referral_type"], shown["participants"], strict=True)]
    figure = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        column_widths=[0.55, 0.45],
        horizontal_spacing=0.06,
        subplot_titles=(
            f"Arrested in the {months} months before and after referral",
            "Difference, after minus before (95% CI)",
        ),
    )
    before, after = shown["before"].to_list(), shown["after"].to_list()
    for label, b, a in zip(labels, before, after, strict=True):
        figure.add_trace(
            go.Scatter(
                x=[b, a],
                y=[label, label],
                mode="lines",
                line={"color": "#999999", "width": 2},
                showlegend=False,
                hoverinfo="skip",
            ),
            row=1,
            col=1,
        )
    counts = shown.select("arrested_before", "arrested_after", "participants").rows()
    figure.add_trace(
        go.Scatter(
            x=before,
            y=labels,
            mode="markers",
            name=f"{months} months before referral",
            marker={"color": BEFORE_COLOUR, "size": 12, "symbol": "circle"},
            customdata=[(b, n) for b, _, n in counts],
            hovertemplate="%{y}<br>Before: " + SHARE_HOVER,
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Scatter(
            x=after,
            y=labels,
            mode="markers",
            name=f"{months} months after referral",
            marker={"color": AFTER_COLOUR, "size": 12, "symbol": "diamond"},
            customdata=[(a, n) for _, a, n in counts],
            hovertemplate="%{y}<br>After: " + SHARE_HOVER,
        ),
        row=1,
        col=1,
    )
    points = shown.select(
        (pl.col("difference") * 100).alias("difference"),
        (pl.col("low") * 100).alias("low"),
        (pl.col("high") * 100).alias("high"),
    )
    figure.add_trace(
        go.Scatter(
            x=points["difference"].to_list(),
            y=labels,
            mode="markers",
            name="Difference (95% CI)",
            marker={"color": DIFFERENCE_COLOUR, "size": 10, "symbol": "square"},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (points["high"] - points["difference"]).to_list(),
                "arrayminus": (points["difference"] - points["low"]).to_list(),
                "color": DIFFERENCE_COLOUR,
                "thickness": 2,
                "width": 6,
            },
            customdata=points.select("low", "high").rows(),
            hovertemplate=(
                "%{y}<br>%{x:+.1f} pp (95% CI %{customdata[0]:+.1f} to %{customdata[1]:+.1f})<extra></extra>"
            ),
        ),
        row=1,
        col=2,
    )
    # No change: the line the interval is read against.
    figure.add_vline(x=0, line={"color": "#555555", "width": 1, "dash": "dash"}, row=1, col=2)
    figure.update_layout(
        font={"family": FONT_FAMILY},
        colorway=list(OKABE_ITO),
        legend={"orientation": "h", "yanchor": "top", "y": -0.22, "xanchor": "left", "x": 0},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        height=180 + 55 * max(len(labels), 1),
    )
    figure.update_yaxes(type="category", autorange="reversed", title_text="Referral type", row=1, col=1)
    figure.update_xaxes(
        title_text="Share of participants arrested", tickformat=".0%", rangemode="tozero", row=1, col=1
    )
    # Room on both sides of the widest interval and of 0, so the line of no change is inside.
    lows, highs = [*points["low"].drop_nulls(), 0.0], [*points["high"].drop_nulls(), 0.0]
    pad = max(2.0, (max(highs) - min(lows)) * 0.08)
    figure.update_xaxes(
        title_text="Percentage points",
        zeroline=False,
        range=[min(lows) - pad, max(highs) + pad],
        row=1,
        col=2,
    )
    return figure
