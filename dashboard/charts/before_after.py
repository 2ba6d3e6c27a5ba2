"""Before and after's charts: a measure before and after referral with the difference, and the
longer baseline of 6-month windows around referral.

Frames in (`queries.before_after.comparison_view`, `baseline_view`), Plotly figures out.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from dashboard.charts.style import describe, finish, legend_below, wrap
from dashboard.queries.before_after import measure_title
from dashboard.small_numbers import marker_symbols
from pipelines.core.palette import MUTED_LINE, OKABE_ITO, REFERENCE_LINE
from pipelines.evaluate.estimate import Measure

__all__ = ["baseline_chart", "comparison_chart", "describe"]

BEFORE_COLOUR, AFTER_COLOUR, DIFFERENCE_COLOUR = OKABE_ITO[1], OKABE_ITO[0], OKABE_ITO[6]
SHARE_COLOUR, RATE_COLOUR = OKABE_ITO[4], OKABE_ITO[5]
LAYOUT = {"colorway": list(OKABE_ITO)}
# Panel titles in lines this wide, ending at the plot's right edge: on a phone the group names
# take the left half, and a title centred over the plot ran past the screen's edge.
PANEL_TITLE_WIDTH = 28


def group_label(referral_type: str, people: int) -> str:
    """A row's name on the chart: the referral type and how many people it counts."""
    return f"{referral_type} (n={people:,})"


def error_bars(values: pl.Series, low: pl.Series, high: pl.Series, colour: str) -> dict[str, object]:
    """Asymmetric error bars from an interval (none where the interval is missing)."""
    return {
        "type": "data",
        "symmetric": False,
        "array": (high - values).to_list(),
        "arrayminus": (values - low).to_list(),
        "color": colour,
        "thickness": 2,
        "width": 6,
    }


def comparison_chart(view: pl.DataFrame, measure: Measure, months: int) -> go.Figure:
    """Above: the measure before and after referral per referral type (a dot plot joined by a
    line). Below: the difference, after minus before, with its 95% CI. Hollow markers: fewer than
    11 people. Stacked, not side by side: on a phone two panels beside the group names had ~100 px
    each, and their titles ran into each other.

    `view` is `comparison_view` output: a share in percent, a rate per person-year.
    """
    labels = [group_label(t, n) for t, n in zip(view["referral_type"], view["people"], strict=True)]
    unit = "%" if measure.is_share else ""
    value_format = ".1f" if measure.is_share else ".2f"
    height = 300 + 90 * max(len(labels), 1)
    figure = make_subplots(
        rows=2,
        cols=1,
        # Room between the panels for the upper one's ticks and axis title and the lower's title.
        # On a phone the legend below takes rows of its own, so the panels get less than `height`.
        vertical_spacing=min(0.4, 150 / (height - 250)),
        subplot_titles=(
            wrap(f"{measure_title(measure)}, {months} months before and after", PANEL_TITLE_WIDTH),
            wrap("After minus before (95% CI)", PANEL_TITLE_WIDTH),
        ),
    )
    before, after = view["before_value"].to_list(), view["after_value"].to_list()
    for label, b, a in zip(labels, before, after, strict=True):
        figure.add_trace(
            go.Scatter(
                x=[b, a],
                y=[label, label],
                mode="lines",
                line={"color": MUTED_LINE, "width": 2},
                showlegend=False,
                hoverinfo="skip",
            ),
            row=1,
            col=1,
        )
    if measure.is_share:
        numbers = "%{customdata[0]:,.0f} of %{customdata[1]:,.0f} people"
    else:
        days = "person-years alive" if measure.days == "days_alive" else "person-years at risk"
        numbers = "%{customdata[0]:,.0f} in %{customdata[1]:,.1f} " + days
    for side, colour, symbol in (("before", BEFORE_COLOUR, "circle"), ("after", AFTER_COLOUR, "diamond")):
        figure.add_trace(
            go.Scatter(
                x=view[f"{side}_value"].to_list(),
                y=labels,
                mode="markers",
                name=f"{months} months {side} referral",
                marker={
                    "color": colour,
                    "size": 12,
                    "symbol": marker_symbols(view["people"], symbol),
                    "line": {"width": 2, "color": colour},
                },
                customdata=view.select(f"{side}_numerator", f"{side}_denominator").rows(),
                hovertemplate=(
                    "%{y}<br>"
                    + side.capitalize()
                    + f": %{{x:{value_format}}}{unit} ("
                    + numbers
                    + ")<extra></extra>"
                ),
            ),
            row=1,
            col=1,
        )
    figure.add_trace(
        go.Scatter(
            x=view["difference"].to_list(),
            y=labels,
            mode="markers",
            name="Difference (95% CI)",
            marker={
                "color": DIFFERENCE_COLOUR,
                "size": 10,
                "symbol": marker_symbols(view["people"], "square"),
                "line": {"width": 2, "color": DIFFERENCE_COLOUR},
            },
            error_x=error_bars(view["difference"], view["low"], view["high"], DIFFERENCE_COLOUR),
            customdata=view.select("low", "high").rows(),
            hovertemplate=(
                f"%{{y}}<br>%{{x:+{value_format}}}{' points' if measure.is_share else ''} (95% CI "
                f"%{{customdata[0]:+{value_format}}} to %{{customdata[1]:+{value_format}}})<extra></extra>"
            ),
        ),
        row=2,
        col=1,
    )
    # No change: the line the interval is read against.
    figure.add_vline(x=0, line={"color": REFERENCE_LINE, "width": 1, "dash": "dash"}, row=2, col=1)
    figure.update_layout(
        **LAYOUT,
        legend=legend_below(height, margin=220),
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        height=height,
    )
    figure.update_yaxes(type="category", autorange="reversed", title_text="Referral type")
    figure.update_annotations(x=1, xanchor="right", align="right")
    figure.update_xaxes(
        title_text="Share arrested (%)" if measure.is_share else measure_title(measure),
        ticksuffix=unit,
        rangemode="tozero",
        row=1,
        col=1,
    )
    # Room on both sides of the widest interval and of 0, so the line of no change is inside.
    lows = [*view["low"].drop_nulls(), *view["difference"].drop_nulls(), 0.0]
    highs = [*view["high"].drop_nulls(), *view["difference"].drop_nulls(), 0.0]
    pad = max(0.02 if not measure.is_share else 2.0, (max(highs) - min(lows)) * 0.08)
    figure.update_xaxes(
        title_text="Percentage points" if measure.is_share else "Per person-year",
        zeroline=False,
        range=[min(lows) - pad, max(highs) + pad],
        row=2,
        col=1,
    )
    what = f"Dot plot of {measure_title(measure).lower()} {months} months before and after referral"
    return finish(figure, f"{what}, per referral type, with the difference and its 95% CI")


def baseline_chart(view: pl.DataFrame) -> go.Figure:
    """The same people in consecutive 6-month windows from 18 months before referral to the end
    of the months compared after it: above, the share arrested (%); below, arrests per person-year
    at risk; each with its 95% CI, and a dashed line at referral. Hollow: fewer than 11 people."""
    windows = view["window"].to_list()
    figure = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.16,
        subplot_titles=(
            wrap("Share arrested in each 6-month window (95% CI)"),
            wrap("Arrests per person-year at risk in each 6-month window (95% CI)"),
        ),
    )
    symbols = marker_symbols(view["people"])
    figure.add_trace(
        go.Scatter(
            x=windows,
            y=view["share"].to_list(),
            mode="lines+markers",
            name="Share arrested",
            line={"color": SHARE_COLOUR, "width": 2},
            marker={
                "color": SHARE_COLOUR,
                "size": 10,
                "symbol": symbols,
                "line": {"width": 2, "color": SHARE_COLOUR},
            },
            error_y=error_bars(view["share"], view["share_low"], view["share_high"], SHARE_COLOUR),
            customdata=view.select("arrested", "people").rows(),
            hovertemplate="%{x}<br>%{y:.1f}% (%{customdata[0]:,} of %{customdata[1]:,} people)"
            "<extra></extra>",
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Scatter(
            x=windows,
            y=view["rate"].to_list(),
            mode="lines+markers",
            name="Arrests per person-year at risk",
            line={"color": RATE_COLOUR, "width": 2, "dash": "dash"},
            marker={
                "color": RATE_COLOUR,
                "size": 10,
                "symbol": marker_symbols(view["people"], "square"),
                "line": {"width": 2, "color": RATE_COLOUR},
            },
            error_y=error_bars(view["rate"], view["rate_low"], view["rate_high"], RATE_COLOUR),
            customdata=view.select("arrests", "person_years_at_risk").rows(),
            hovertemplate=(
                "%{x}<br>%{y:.2f} (%{customdata[0]:,} arrests in %{customdata[1]:,.1f} person-years at risk)"
                "<extra></extra>"
            ),
        ),
        row=2,
        col=1,
    )
    # Referral falls between the last window before it and the first after it.
    before = sum(1 for w in windows if w.endswith("before"))
    for row in (1, 2):
        figure.add_vline(
            x=before - 0.5, line={"color": REFERENCE_LINE, "width": 1, "dash": "dot"}, row=row, col=1
        )
    figure.add_annotation(
        x=before - 0.5,
        y=0.0,
        xref="x",
        yref="paper",
        text="Referral",
        showarrow=False,
        yanchor="bottom",
        xanchor="left",
        bgcolor="rgba(255, 255, 255, 0.8)",
    )
    figure.update_layout(
        **LAYOUT,
        showlegend=False,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        height=560,
    )
    figure.update_xaxes(type="category", categoryorder="array", categoryarray=windows)
    figure.update_xaxes(
        title_text=f"Months around referral (the same {view['people'][0]:,} people)", row=2, col=1
    )
    figure.update_yaxes(title_text="Share arrested (%)", ticksuffix="%", rangemode="tozero", row=1, col=1)
    figure.update_yaxes(title_text="Per person-year at risk", rangemode="tozero", row=2, col=1)
    return finish(
        figure,
        f"Line charts of the share arrested and arrests per person-year at risk in 6-month windows "
        f"around referral, the same {view['people'][0]:,} people",
    )
