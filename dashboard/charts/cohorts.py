"""Cohorts' charts: a metric by months since referral per cohort, and time to permanent housing.

A frame in, a Plotly figure out. Small numbers follow dashboard/small_numbers.py: a rate on a
small denominator is a hollow point; a housing curve is dashed, without its band, where fewer
than MIN_AT_RISK are still followed.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
import polars as pl

from checks.labels import label as label_of
from checks.vocab import REFERRAL_TYPES
from dashboard.charts.style import describe, finish, legend_below
from dashboard.queries.cohorts import LAST_MONTH
from dashboard.small_numbers import marker_symbols, too_few_at_risk
from dashboard.survival import DAYS_PER_MONTH
from pipelines.core.metrics import METRICS, MIN_AT_RISK
from pipelines.core.palette import LINE_DASHES, OKABE_ITO, line_look

__all__ = ["cohort_chart", "describe", "housing_chart", "line_style"]

# Seven colours (the olive reads as the orange), each line with a dash and a marker of its own.
LINE_COLOURS = OKABE_ITO[:7]
REFERRAL_COLOURS = dict(zip(REFERRAL_TYPES, OKABE_ITO, strict=False))
HEIGHT = 420


def line_style(index: int) -> dict[str, object]:
    """The nth line's colour and dash (its marker: `line_look(index)["symbol"]`)."""
    look = line_look(index)
    return {"color": look["color"], "dash": look["dash"], "width": 2}


def cohort_chart(curves: pl.DataFrame, metric: str, cohorts: Sequence[str]) -> go.Figure:
    """One line per cohort: the metric's value by months since referral; a rate on a small
    denominator is a hollow point."""
    definition = METRICS[metric]
    if definition.is_count:
        y_title, tickformat = "Participants", ",d"
        hover = "%{fullData.name}, month %{x}<br>%{y:,.0f} participants<extra></extra>"
    else:
        y_title, tickformat = "Percent of denominator", ".0%"
        hover = (
            "%{fullData.name}, month %{x}<br>%{y:.1%} "
            "(%{customdata[0]:,} of %{customdata[1]:,})<extra></extra>"
        )
    figure = go.Figure()
    for index, cohort in enumerate(cohorts):
        rows = curves.filter(pl.col("cohort") == cohort).sort("months_since_referral")
        figure.add_trace(
            go.Scatter(
                x=rows["months_since_referral"].to_list(),
                y=rows["value"].to_list(),
                customdata=rows.select("numerator", "denominator").rows(),
                mode="lines+markers",
                name=cohort,
                line=line_style(index),
                marker={
                    "size": 7,
                    # A count is no rate: no point of it rests on a denominator.
                    "symbol": (
                        [line_look(index)["symbol"]] * rows.height
                        if definition.is_count
                        else marker_symbols(rows["denominator"].to_list(), line_look(index)["symbol"])
                    ),
                },
                hovertemplate=hover,
            )
        )
    figure.update_layout(
        colorway=list(LINE_COLOURS),
        legend=legend_below(HEIGHT, title="Referral cohort"),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        height=HEIGHT,
    )
    figure.update_xaxes(
        title_text="Months since referral (0 = referral month)",
        range=[-0.5, LAST_MONTH + 0.5],
        tickmode="linear",
        tick0=0,
        dtick=3,
    )
    figure.update_yaxes(title_text=y_title, tickformat=tickformat, rangemode="tozero")
    return finish(
        figure, f"Line chart of {definition.label.lower()} by months since referral, one line per cohort"
    )


def rgba(colour: str, alpha: float) -> str:
    """A '#rrggbb' colour as a CSS rgba() with the given opacity."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def clipped_curve(rows: pl.DataFrame, last_months: float) -> pl.DataFrame:
    """A group's step curve up to `last_months`, extended flat to it when followed that long."""
    shown = rows.filter(pl.col("months") <= last_months)
    if rows["months"].max() > last_months and not shown.is_empty():
        end = shown.tail(1).with_columns(
            pl.lit(float(last_months), dtype=pl.Float64).alias("months"),
            pl.lit(last_months * DAYS_PER_MONTH, dtype=pl.Float64).alias("days"),
        )
        shown = pl.concat([shown, end])
    return shown


def reliable_and_few(rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A group's curve split where fewer than MIN_AT_RISK are still at risk: the part before, and
    the part from the last reliable point on (so the two meet), empty when there is none."""
    few = pl.Series([too_few_at_risk(n) for n in rows["at_risk"]], dtype=pl.Boolean)
    reliable = rows.filter(~few)
    if reliable.height == rows.height:
        return reliable, rows.clear()
    return reliable, pl.concat([reliable.tail(1), rows.filter(few)])


def housing_chart(curve: pl.DataFrame, last_months: float = LAST_MONTH) -> go.Figure:
    """Share permanently housed (1 - Kaplan-Meier survival) by months since referral, with its band;
    dashed, and without a band, where fewer than MIN_AT_RISK are still followed."""
    figure = go.Figure()
    groups = list(dict.fromkeys(curve["referral_type"].to_list()))
    others = iter(OKABE_ITO[len(REFERRAL_TYPES) : 7])
    for position, group in enumerate(groups):
        # Solid, dotted, dash-dotted, ...: never plain dashed, which marks the few-at-risk tail.
        dash = ("solid", *LINE_DASHES[2:])[position % (len(LINE_DASHES) - 1)]
        colour = REFERRAL_COLOURS.get(group) or next(others, OKABE_ITO[6])
        reliable, few = reliable_and_few(curve.filter(pl.col("referral_type") == group))
        rows = clipped_curve(reliable, last_months) if not reliable.is_empty() else reliable
        label = label_of("referral_type", group)
        x = rows["months"].to_list()
        band = {
            "x": x,
            "mode": "lines",
            "line": {"width": 0, "shape": "hv"},
            "hoverinfo": "skip",
            "legendgroup": group,
            "showlegend": False,
        }
        figure.add_trace(go.Scatter(y=rows["upper"].to_list(), name=f"{label} upper 95% limit", **band))
        figure.add_trace(
            go.Scatter(
                y=rows["lower"].to_list(),
                name=f"{label} lower 95% limit",
                fill="tonexty",
                fillcolor=rgba(colour, 0.15),
                **band,
            )
        )
        figure.add_trace(
            go.Scatter(
                x=x,
                y=rows["share_housed"].to_list(),
                customdata=rows.select("lower", "upper", "at_risk").rows(),
                mode="lines",
                name=label,
                legendgroup=group,
                line={"color": colour, "width": 2, "shape": "hv", "dash": dash},
                hovertemplate=(
                    f"{label}, %{{x:.1f}} months<br>%{{y:.1%}} housed "
                    "(95% CI %{customdata[0]:.1%} to %{customdata[1]:.1%})<br>"
                    "%{customdata[2]:,} still followed and not yet housed<extra></extra>"
                ),
            )
        )
        tail = clipped_curve(few, last_months) if not few.is_empty() else few
        if tail.height > 1:
            figure.add_trace(
                go.Scatter(
                    x=tail["months"].to_list(),
                    y=tail["share_housed"].to_list(),
                    customdata=tail.select("at_risk").rows(),
                    mode="lines",
                    name=f"{label}: fewer than {MIN_AT_RISK} still followed",
                    legendgroup=group,
                    showlegend=False,
                    line={"color": rgba(colour, 0.6), "width": 2, "shape": "hv", "dash": "dash"},
                    hovertemplate=(
                        f"{label}, %{{x:.1f}} months<br>%{{y:.1%}} housed<br>"
                        f"only %{{customdata[0]:,}} still followed and not yet housed: "
                        f"too few at risk to read<extra></extra>"
                    ),
                )
            )
    figure.update_layout(
        legend=legend_below(HEIGHT, title="Referral type"),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        height=HEIGHT,
    )
    figure.update_xaxes(
        title_text="Months since referral", range=[0, last_months], tickmode="linear", tick0=0, dtick=3
    )
    figure.update_yaxes(title_text="Share permanently housed", tickformat=".0%", range=[0, 1])
    return finish(
        figure, "Step chart of the share permanently housed by months since referral, per referral type"
    )
