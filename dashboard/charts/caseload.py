"""The Caseload page's charts: one participant's timeline, and caseload sizes against LEAD's
guidance. A frame in (from dashboard.queries.caseload), a Plotly figure out, nothing drawn here."""

from __future__ import annotations

import html
from datetime import date, timedelta

import plotly.graph_objects as go
import polars as pl

from checks.labels import label
from checks.vocab import EVENT_TYPES, HOUSING_CATEGORIES
from dashboard.charts.style import describe, finish, legend_below
from dashboard.queries.caseload import GUIDANCE_HIGH, GUIDANCE_LOW
from pipelines.core.palette import OKABE_ITO, REFERENCE_LINE

__all__ = ["caseload_chart", "describe", "timeline_chart"]

HOUSING_COLOURS = {
    "permanent": OKABE_ITO[2],  # bluish green
    "temporary": OKABE_ITO[5],  # sky blue
    "institutional": OKABE_ITO[4],  # reddish purple
    "homeless": OKABE_ITO[1],  # orange
    "unknown": OKABE_ITO[6],  # black
}
TREATMENT_COLOUR = OKABE_ITO[0]  # blue
EMPLOYMENT_COLOUR = OKABE_ITO[3]  # vermillion
JUSTICE_COLOUR = OKABE_ITO[6]  # black: a record, not an alarm
JUSTICE_SYMBOLS = dict(zip(EVENT_TYPES, ("x", "triangle-up", "square-open"), strict=True))
WITHIN_COLOUR, OVER_COLOUR = OKABE_ITO[0], OKABE_ITO[1]


def _vertical_line(figure: go.Figure, day: date, text: str, dash: str, side: str = "left") -> None:
    """A labelled vertical line across the whole plot (shape + annotation: date-safe)."""
    figure.add_shape(
        type="line",
        x0=day,
        x1=day,
        xref="x",
        y0=0,
        y1=1,
        yref="paper",
        line={"color": REFERENCE_LINE, "width": 1, "dash": dash},
    )
    # The label beside its line, on `side`: the as-of line's to the left, so it never meets an exit's.
    figure.add_annotation(
        x=day,
        y=1,
        xref="x",
        yref="paper",
        text=text,
        showarrow=False,
        yanchor="bottom",
        xanchor="right" if side == "left" else "left",
        # The as-of label a row higher, so a referral or exit just before it never covers it.
        yshift=14 if side == "left" else 0,
        font={"size": 11},
    )


def timeline_chart(events: pl.DataFrame, as_of: date) -> go.Figure:
    """A participant's records over time, one lane per kind: housing assessments coloured by
    category, treatment episodes as bars from start to end (or the as-of date while open),
    employment assessments and justice records as markers; referral, exit and the as-of date as
    vertical lines.

    `events` has the columns of `dashboard.queries.caseload.timeline`.
    """
    figure = go.Figure()
    housing = events.filter(pl.col("event") == "housing")
    for category in HOUSING_CATEGORIES:
        rows = housing.filter(pl.col("category") == category)
        if rows.is_empty():
            continue
        figure.add_trace(
            go.Scatter(
                x=rows["date"].to_list(),
                y=["Housing"] * rows.height,
                mode="markers",
                name=f"Housing: {label('housing_category', category)}",
                legendgroup="housing",
                marker={"color": HOUSING_COLOURS[category], "size": 12, "symbol": "circle"},
                customdata=[[label("living_situation", v)] for v in rows["detail"].to_list()],
                hovertemplate="%{x|%Y-%m-%d}<br>%{customdata[0]}<br>"
                + label("housing_category", category)
                + "<extra></extra>",
            )
        )
    treatment = events.filter(pl.col("event") == "treatment")
    if not treatment.is_empty():
        starts = treatment["date"].to_list()
        ends = [end or as_of for end in treatment["end_date"].to_list()]
        # A bar on a date axis: base at the start, length in milliseconds (at least a day, to be seen).
        lengths = [max((end - start).days, 1) * 86_400_000 for start, end in zip(starts, ends, strict=True)]
        lanes = [f"Treatment: {label('service_type', service)}" for service in treatment["detail"].to_list()]
        open_flags = ["open" if end is None else "ended" for end in treatment["end_date"].to_list()]
        figure.add_trace(
            go.Bar(
                base=starts,
                x=lengths,
                y=lanes,
                orientation="h",
                name="Treatment episode",
                marker={"color": TREATMENT_COLOUR, "opacity": 0.75},
                width=0.5,
                customdata=list(zip(starts, ends, open_flags, strict=True)),
                hovertemplate="%{y}<br>%{customdata[0]|%Y-%m-%d} to %{customdata[1]|%Y-%m-%d}"
                " (%{customdata[2]})<extra></extra>",
            )
        )
    employment = events.filter(pl.col("event") == "employment")
    if not employment.is_empty():
        figure.add_trace(
            go.Scatter(
                x=employment["date"].to_list(),
                y=["Employment"] * employment.height,
                mode="markers",
                name="Employment assessment",
                marker={"color": EMPLOYMENT_COLOUR, "size": 11, "symbol": "diamond"},
                customdata=[
                    [label("employment_status", status), label("yes_no_unknown", income)]
                    for status, income in employment.select("detail", "category").rows()
                ],
                hovertemplate="%{x|%Y-%m-%d}<br>%{customdata[0]}<br>income or benefits: %{customdata[1]}"
                "<extra></extra>",
            )
        )
    justice = events.filter(pl.col("event") == "justice")
    for event_type in EVENT_TYPES:
        rows = justice.filter(pl.col("detail") == event_type)
        if rows.is_empty():
            continue
        figure.add_trace(
            go.Scatter(
                x=rows["date"].to_list(),
                y=["Justice record"] * rows.height,
                mode="markers",
                name=f"Justice: {label('event_type', event_type)}",
                marker={"color": JUSTICE_COLOUR, "size": 11, "symbol": JUSTICE_SYMBOLS[event_type]},
                customdata=[[label("level", level)] for level in rows["category"].to_list()],
                hovertemplate="%{x|%Y-%m-%d}<br>"
                + label("event_type", event_type)
                + " (%{customdata[0]})<extra></extra>",
            )
        )
    for event, text, dash in (("referral", "Referral", "dash"), ("exit", "Exit", "dash")):
        for day in events.filter(pl.col("event") == event)["date"].to_list():
            _vertical_line(figure, day, text, dash, side="right")
    _vertical_line(figure, as_of, "As of", "dot", side="left")
    # A lane per service type, so that overlapping episodes do not hide each other.
    services = sorted(set(f"Treatment: {label('service_type', s)}" for s in treatment["detail"].to_list()))
    lanes = ["Housing", *(services or ["Treatment"])]
    lanes += ["Employment", "Justice record"]
    first = events["date"].min() if not events.is_empty() else as_of
    height = 260 + 28 * len(lanes)
    figure.update_layout(
        colorway=list(OKABE_ITO),
        barmode="overlay",
        # On a phone the legend wraps onto four or five rows, and the plot shrinks to make room.
        legend=legend_below(height, margin=height // 2),
        margin={"l": 10, "r": 10, "t": 44, "b": 10},
        height=height,
    )
    figure.update_xaxes(
        title_text="Date",
        type="date",
        range=[first - timedelta(days=20), as_of + timedelta(days=20)],
        hoverformat="%Y-%m-%d",
    )
    # Top to bottom in the order of `lanes`; every lane shows, even one without records.
    figure.update_yaxes(
        title_text="Record", type="category", categoryorder="array", categoryarray=lanes[::-1]
    )
    figure.add_trace(
        go.Scatter(x=[None] * len(lanes), y=lanes, mode="markers", showlegend=False, hoverinfo="skip")
    )
    return finish(
        figure, f"Timeline of one participant's records by date, in {len(lanes)} lanes: {', '.join(lanes)}"
    )


def caseload_chart(sizes: pl.DataFrame, selected: str | None = None) -> go.Figure:
    """Current participants per case manager, against the guidance: the 12-to-25 band shaded, a
    line at 25, and caseloads over 25 in a colour of their own; the selected case manager's bar
    outlined.

    `sizes` has the columns of `dashboard.queries.caseload.caseload_sizes`.
    """
    over = sizes["current"] > GUIDANCE_HIGH
    figure = go.Figure()
    for name, mask, colour in (
        (f"Up to {GUIDANCE_HIGH}", ~over, WITHIN_COLOUR),
        (f"More than {GUIDANCE_HIGH}", over, OVER_COLOUR),
    ):
        rows = sizes.filter(mask)
        if rows.is_empty():
            continue
        ids = rows["case_manager_id"].to_list()
        figure.add_trace(
            go.Bar(
                # Plotly reads tags in labels: a case manager ID from an export is escaped, shown as itself.
                x=[html.escape(cm) for cm in ids],
                y=rows["current"].to_list(),
                name=name,
                marker={
                    "color": colour,
                    "line": {
                        "color": OKABE_ITO[6],
                        "width": [3 if cm == selected else 0 for cm in ids],
                    },
                },
                hovertemplate="%{x}<br>%{y} current participants<extra></extra>",
            )
        )
    figure.add_hrect(
        y0=GUIDANCE_LOW, y1=GUIDANCE_HIGH, fillcolor=OKABE_ITO[2], opacity=0.12, line_width=0, layer="below"
    )
    figure.add_hline(
        y=GUIDANCE_HIGH,
        line={"color": OKABE_ITO[6], "width": 1.5, "dash": "dash"},
        annotation_text=f"Guidance: {GUIDANCE_LOW} to {GUIDANCE_HIGH}",
        annotation_position="top right",
    )
    top = max([GUIDANCE_HIGH, *sizes["current"].to_list()])
    figure.update_layout(
        colorway=list(OKABE_ITO),
        barmode="overlay",
        showlegend=True,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        height=360,
    )
    figure.update_xaxes(
        title_text="Case manager",
        type="category",
        categoryorder="array",
        categoryarray=sizes["case_manager_id"].to_list(),
    )
    figure.update_yaxes(title_text="Current participants", rangemode="tozero", range=[0, top * 1.15])
    return finish(
        figure,
        f"Bar chart of current participants per case manager against the guidance of "
        f"{GUIDANCE_LOW} to {GUIDANCE_HIGH}",
    )
