"""Impact's charts: the ratios of every measure (a forest on a log axis), the same ratios three ways
(the naive before-and-after, the unweighted and the weighted comparison), the time to a first
arrest, the covariate balance (a love plot), the subgroups and the justice costs.

Frames in (dashboard/queries/impact.py's views), Plotly figures out.
"""

from __future__ import annotations

from math import log10

import plotly.graph_objects as go
import polars as pl

from dashboard.charts.equity import ratio_ticks, tick_label
from dashboard.charts.style import describe, finish, wrap
from dashboard.queries.impact import DESIGNS
from pipelines.core.palette import MUTED_LINE, MUTED_TEXT, OKABE_ITO, REFERENCE_LINE
from pipelines.evaluate.design import TREATED
from pipelines.evaluate.first_arrest import COMPARISON_UNWEIGHTED, COMPARISON_WEIGHTED
from pipelines.evaluate.weights import SMD_LIMIT

__all__ = [
    "costs_chart",
    "describe",
    "design_chart",
    "forest_chart",
    "love_plot",
    "subgroup_chart",
    "survival_chart",
]

LEAD_COLOUR, COMPARISON_COLOUR, GREY = OKABE_ITO[0], OKABE_ITO[1], MUTED_LINE
FLAG_COLOUR, PROGRAM_COLOUR = OKABE_ITO[3], OKABE_ITO[2]
DESIGN_COLOURS = dict(zip(DESIGNS, (GREY, COMPARISON_COLOUR, LEAD_COLOUR), strict=True))
DESIGN_SYMBOLS = dict(zip(DESIGNS, ("square-open", "circle-open", "circle"), strict=True))
LAYOUT = {"colorway": list(OKABE_ITO)}
LINE = {"color": REFERENCE_LINE, "width": 1, "dash": "dash"}
# Above the plot: the legend, and room for the toolbar Plotly shows on hover.
TOP_LEGEND = {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0}
SIDES = "← lower for participants | higher →"
MAX_LABEL = 34  # characters of an axis label: long ones squeeze the plot on a phone


def log_axis(figure: go.Figure, frame: pl.DataFrame, title: str) -> float:
    """A log x axis of powers of two that spans every estimate and interval, its title saying which
    side favours the program, and the dashed line of no difference; returns its left edge."""
    ticks = ratio_ticks(frame.select(ratio="estimate", low="ci_low", high="ci_high"))
    figure.update_xaxes(
        type="log",
        title_text=f"{wrap(title, 34)}<br>{SIDES}",
        tickvals=ticks,
        ticktext=[tick_label(t) for t in ticks],
        tickangle=0,
        range=[log10(ticks[0]) - 0.05, log10(ticks[-1]) + 0.05],
        zeroline=False,
    )
    figure.add_vline(x=1, line=LINE)
    return ticks[0]


def short_label(label: str) -> str:
    """A long axis label cut to MAX_LABEL characters (the hover and the table keep it whole)."""
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1].rstrip() + "…"


def interval_bars(values: list[float | None], lows: list, highs: list, colour: str) -> dict[str, object]:
    """Asymmetric error bars; none where the interval is missing."""
    return {
        "type": "data",
        "symmetric": False,
        "array": [
            h - v if h is not None and v is not None else None for v, h in zip(values, highs, strict=True)
        ],
        "arrayminus": [
            v - lo if lo is not None and v is not None else None for v, lo in zip(values, lows, strict=True)
        ],
        "color": colour,
        "thickness": 2,
        "width": 6,
    }


def no_estimate(figure: go.Figure, labels: list[str], edge: float) -> None:
    """The words "no estimate" at the left edge of the rows that have none."""
    if labels:
        figure.add_trace(
            go.Scatter(
                x=[edge] * len(labels),
                y=labels,
                mode="text",
                text=["no estimate: see the table"] * len(labels),
                textposition="middle right",
                textfont={"color": MUTED_TEXT},
                showlegend=False,
                hoverinfo="skip",
            )
        )


def forest_chart(view: pl.DataFrame, months: int) -> go.Figure:
    """Every measure's weighted ratio, participants against the comparison group, with its 95% CI
    on a log axis; the dashed line at 1 is no difference."""
    figure = go.Figure()
    estimable = view.filter(pl.col("estimate").is_not_null())
    values = estimable["estimate"].to_list()
    figure.add_trace(
        go.Scatter(
            x=values,
            y=estimable["short"].to_list(),
            mode="markers",
            name="Ratio (95% CI)",
            marker={"color": LEAD_COLOUR, "size": 12, "symbol": "diamond"},
            error_x=interval_bars(
                values, estimable["ci_low"].to_list(), estimable["ci_high"].to_list(), LEAD_COLOUR
            ),
            customdata=estimable.select("measure", "ratio_kind", "ratio").rows(),
            hovertemplate="%{customdata[0]}<br>%{customdata[1]}: %{customdata[2]}<extra></extra>",
        )
    )
    edge = log_axis(figure, view, f"Ratio, {months} months after (log scale)")
    no_estimate(figure, view.filter(pl.col("estimate").is_null())["short"].to_list(), edge)
    figure.update_yaxes(type="category", categoryarray=view["short"].to_list(), autorange="reversed")
    figure.update_layout(
        **LAYOUT,
        showlegend=False,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        height=160 + 44 * max(view.height, 1),
    )
    return finish(
        figure,
        f"Forest plot of every measure's ratio, participants against the comparison "
        f"group, {months} months after, on a log scale where 1 is no difference",
    )


def design_chart(view: pl.DataFrame) -> go.Figure:
    """Each measure's ratio three ways, side by side: the participants after against before (no
    comparison group), against the comparison group unweighted, and weighted (the estimate)."""
    figure = go.Figure()
    order = list(dict.fromkeys(view["short"]))
    for design in DESIGNS:
        part = view.filter((pl.col("design") == design) & pl.col("estimate").is_not_null())
        values = part["estimate"].to_list()
        colour = DESIGN_COLOURS[design]
        lows, highs = part["ci_low"].to_list(), part["ci_high"].to_list()
        has_interval = any(v is not None for v in lows)
        figure.add_trace(
            go.Scatter(
                x=values,
                y=part["short"].to_list(),
                orientation="h",
                mode="markers",
                name=design,
                offsetgroup=design,
                marker={
                    "color": colour,
                    "size": 11,
                    "symbol": DESIGN_SYMBOLS[design],
                    "line": {"width": 2, "color": colour},
                },
                error_x=interval_bars(values, lows, highs, colour) if has_interval else None,
                customdata=part.select("measure", "ratio").rows(),
                hovertemplate=f"%{{customdata[0]}}<br>{design}: %{{customdata[1]}}<extra></extra>",
            )
        )
    log_axis(figure, view, "Ratio (log scale)")
    figure.update_yaxes(type="category", categoryarray=order, autorange="reversed")
    figure.update_layout(
        **LAYOUT,
        scattermode="group",
        scattergap=0.3,
        legend={**TOP_LEGEND, "y": 1.01},
        margin={"l": 10, "r": 10, "t": 90, "b": 10},
        height=200 + 66 * max(len(order), 1),
    )
    return finish(
        figure,
        "Dot plot of each measure's ratio three ways (after against before, unweighted "
        "and weighted comparison), on a log scale",
    )


CURVES = {
    TREATED: (LEAD_COLOUR, "solid"),
    COMPARISON_WEIGHTED: (COMPARISON_COLOUR, "dash"),
    COMPARISON_UNWEIGHTED: (COMPARISON_COLOUR, "dot"),
}


def survival_chart(curves: pl.DataFrame, months: int) -> go.Figure:
    """The share not yet arrested after the index date, by month: participants, and the comparison
    group weighted and unweighted (Kaplan-Meier, steps)."""
    figure = go.Figure()
    for group, (colour, dash) in CURVES.items():
        part = curves.filter(pl.col("group") == group).sort("day")
        if part.is_empty():
            continue
        figure.add_trace(
            go.Scatter(
                x=part["months"].to_list(),
                y=part["percent"].to_list(),
                mode="lines",
                name=group,
                line={"color": colour, "width": 2.5 if group == TREATED else 2, "dash": dash, "shape": "hv"},
                customdata=part.select("day").rows(),
                hovertemplate=f"{group}<br>Day %{{customdata[0]}}: %{{y:.1f}}% not yet arrested"
                "<extra></extra>",
            )
        )
    figure.update_xaxes(
        title_text="Months after the index date<br>(referral, for participants)",
        range=[0, months],
        tickvals=list(range(0, months + 1, 3)),
    )
    figure.update_yaxes(title_text="Not yet arrested (%)", range=[0, 101], ticksuffix="%")
    figure.update_layout(**LAYOUT, legend=TOP_LEGEND, margin={"l": 10, "r": 10, "t": 60, "b": 10}, height=420)
    return finish(
        figure,
        f"Step chart of the share not yet arrested by month over {months} months: "
        "participants, and the comparison group weighted and unweighted",
    )


def love_plot(view: pl.DataFrame) -> go.Figure:
    """The standardised mean difference of every covariate before weighting (hollow) and after
    (filled; a covariate still at 0.1 or more in vermillion), with lines at -0.1 and 0.1."""
    view = view.with_columns(label=pl.col("covariate").map_elements(short_label, return_dtype=pl.String))
    labels = view["label"].to_list()
    if len(set(labels)) < len(labels):  # cut labels that collide: keep them whole
        view, labels = view.with_columns(label=pl.col("covariate")), view["covariate"].to_list()
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=view["smd_unweighted"].to_list(),
            y=labels,
            mode="markers",
            name="Before weighting",
            marker={"color": GREY, "size": 9, "symbol": "circle-open", "line": {"width": 2, "color": GREY}},
            customdata=view.select("covariate").rows(),
            hovertemplate="%{customdata[0]}<br>Before weighting: %{x:+.3f}<extra></extra>",
        )
    )
    flagged = view["flag"] != ""
    for still, name, colour in (
        (False, "After weighting", LEAD_COLOUR),
        (True, "After weighting: still differs", FLAG_COLOUR),
    ):
        part = view.filter(flagged if still else ~flagged)
        if part.is_empty():
            continue
        figure.add_trace(
            go.Scatter(
                x=part["smd_weighted"].to_list(),
                y=part["label"].to_list(),
                mode="markers",
                name=name,
                marker={"color": colour, "size": 9, "symbol": "circle"},
                customdata=part.select("covariate").rows(),
                hovertemplate="%{customdata[0]}<br>After weighting: %{x:+.3f}<extra></extra>",
            )
        )
    for x in (-SMD_LIMIT, SMD_LIMIT):
        figure.add_vline(x=x, line=LINE)
    figure.add_vline(x=0, line={"color": MUTED_LINE, "width": 1})
    values = [abs(v) for c in ("smd_unweighted", "smd_weighted") for v in view[c].drop_nulls()]
    reach = max([SMD_LIMIT * 1.5, *values]) * 1.1
    figure.update_xaxes(
        title_text="Standardised mean<br>difference (participants<br>minus comparison group)",
        range=[-reach, reach],
    )
    figure.update_yaxes(type="category", categoryarray=labels, autorange="reversed", automargin=True)
    figure.update_layout(
        **LAYOUT,
        legend=TOP_LEGEND,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        height=140 + 22 * max(len(labels), 1),
    )
    return finish(
        figure,
        "Dot plot of each covariate's standardised mean difference before and after weighting",
    )


def subgroup_chart(view: pl.DataFrame, measure: str) -> go.Figure:
    """One measure's weighted ratio in each subgroup with enough people, with its 95% CI (the
    groups' sizes in the hover and the table)."""
    labels = view["subgroup"].to_list()
    values = view["estimate"].to_list()
    figure = go.Figure(
        go.Scatter(
            x=values,
            y=labels,
            mode="markers",
            name=f"{measure} (95% CI)",
            marker={"color": LEAD_COLOUR, "size": 11},
            error_x=interval_bars(values, view["ci_low"].to_list(), view["ci_high"].to_list(), LEAD_COLOUR),
            customdata=view.select("n_lead", "n_comparison", "ci_low", "ci_high").rows(),
            hovertemplate=(
                f"%{{y}}<br>{measure}: %{{x:.2f}} (95% CI %{{customdata[2]:.2f}} to %{{customdata[3]:.2f}})"
                "<br>%{customdata[0]:,} participants, %{customdata[1]:,} comparison people<extra></extra>"
            ),
        )
    )
    log_axis(figure, view, "Ratio (log scale)")
    figure.update_yaxes(type="category", categoryarray=labels, autorange="reversed", automargin=True)
    figure.update_layout(
        **LAYOUT,
        showlegend=False,
        margin={"l": 10, "r": 10, "t": 20, "b": 10},
        height=150 + 40 * max(len(labels), 1),
    )
    return finish(
        figure,
        f"Forest plot of {measure.lower()} ratios by subgroup, on a log scale where 1 is no difference",
    )


COST_BARS = ("Justice costs:<br>participants", "Justice costs:<br>comparison", "Program<br>cost")


def costs_chart(view: pl.DataFrame, currency: str, illustrative: bool) -> go.Figure:
    """Justice costs per person-year of both groups (the comparison group weighted) beside the
    program's cost per participant-year; the axis says when the unit costs are illustrative."""
    shown = view.filter(pl.col("in_chart"))
    amounts = shown["amount"].to_list()
    figure = go.Figure(
        go.Bar(
            x=list(COST_BARS[: shown.height]),
            y=amounts,
            marker={"color": [LEAD_COLOUR, COMPARISON_COLOUR, PROGRAM_COLOUR][: shown.height]},
            text=[f"{currency} {v:,.0f}" if v is not None else "" for v in amounts],
            textposition="outside",
            cliponaxis=False,
            customdata=shown.select("what").rows(),
            hovertemplate=f"%{{customdata[0]}}: {currency} %{{y:,.0f}}<extra></extra>",
        )
    )
    title = f"{currency} per person-year"
    if illustrative:
        title = f"{title}<br>(illustrative figures, not real costs)"
    top = max([v for v in amounts if v is not None] or [1.0])
    figure.update_yaxes(title_text=title, range=[0, top * 1.18])
    figure.update_xaxes(type="category", tickangle=0, tickfont={"size": 11})
    figure.update_layout(**LAYOUT, showlegend=False, margin={"l": 10, "r": 10, "t": 20, "b": 10}, height=340)
    return finish(
        figure,
        f"Bar chart of justice costs per person-year for participants and the comparison "
        f"group, beside the program cost ({currency})",
    )
