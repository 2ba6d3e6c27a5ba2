"""What every chart shares: readable text colours, axes that make room for their labels, a legend
below the plot (a phone has no width to spare beside it), and a one-line text alternative.

A chart builder ends with `finish(figure, what)`; a page may print `describe(figure)` under the
chart. Streamlit's plotly_chart takes no aria-label, so the summary rides in `layout.meta`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from numbers import Real

import plotly.graph_objects as go

from pipelines.core.palette import FONT_FAMILY, TEXT

# Below the x axis's tick labels and title: in pixels, turned into the legend's paper offset.
LEGEND_GAP_PX = 78
MAX_NAMES = 6


def legend_below(height: int, margin: int = 50, title: str | None = None) -> dict[str, object]:
    """A horizontal legend under the plot, clear of the x axis's ticks and title: Plotly wraps a
    horizontal legend onto more rows on a narrow screen, and makes room for it below."""
    plot = max(height - margin, 120)
    legend: dict[str, object] = {
        "orientation": "h",
        "yanchor": "top",
        "y": -round(LEGEND_GAP_PX / plot, 3),
        "xanchor": "left",
        "x": 0,
    }
    if title:
        legend["title"] = {"text": title, "side": "top left"}
    return legend


def wrap(text: str, width: int = 38) -> str:
    """A title broken with <br> into lines of at most `width` characters (a phone is ~45 wide)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def finish(figure: go.Figure, what: str) -> go.Figure:
    """Dark text everywhere (Streamlit's theme greys ticks to 3.7:1), axes that grow their margins
    for long labels, and the chart's summary in `layout.meta` for screen readers and captions."""
    text = {"color": TEXT}
    figure.update_layout(
        font={"family": FONT_FAMILY, "color": TEXT},
        legend={"font": text, "title": {"font": text}},
        meta={"description": summary(figure, what)},
    )
    figure.update_xaxes(automargin=True, tickfont=text, title_font=text)
    figure.update_yaxes(automargin=True, tickfont=text, title_font=text)
    figure.update_annotations(font=text)
    return figure


def describe(figure: go.Figure) -> str:
    """The chart in one line of words (what it shows, its range): `finish` put it in layout.meta."""
    meta = figure.layout.meta
    if isinstance(meta, dict) and isinstance(meta.get("description"), str):
        return meta["description"]
    return summary(figure, "Chart")


def summary(figure: go.Figure, what: str) -> str:
    """What the chart shows, its series and the range of its values, from the figure's data."""
    names = [t.name for t in figure.data if t.name and t.showlegend is not False]
    names = list(dict.fromkeys(names))
    parts = [what]
    if len(names) > 1:
        shown = ", ".join(names[:MAX_NAMES]) + (
            f" and {len(names) - MAX_NAMES} more" if len(names) > MAX_NAMES else ""
        )
        parts.append(f"{len(names)} series: {shown}")
    horizontal = [getattr(t, "orientation", None) == "h" for t in figure.data]
    xs = _values(t.x for t, h in zip(figure.data, horizontal, strict=True) if not h)
    ys = _values(t.y for t, h in zip(figure.data, horizontal, strict=True) if not h)
    xs_h = _values(t.x for t, h in zip(figure.data, horizontal, strict=True) if h)
    ys_h = _values(t.y for t, h in zip(figure.data, horizontal, strict=True) if h)
    values, along = [*ys, *xs_h], [*xs, *ys_h]
    if along:
        parts.append(_span("across", along))
    if values:
        percent = _is_percent(figure)
        parts.append(_span("values", values, percent=percent))
    return "; ".join(p for p in parts if p) + "."


def _values(columns: Iterable[object]) -> list[object]:
    out: list[object] = []
    for column in columns:
        if column is None:
            continue
        out.extend(v for v in column if v is not None and not (isinstance(v, float) and v != v))
    return out


def _is_percent(figure: go.Figure) -> bool:
    """Whether the value axis shows fractions as percentages (".0%"), not a date ("%b %Y")."""
    formats = [a.tickformat or "" for a in (figure.layout.yaxis, figure.layout.xaxis)]
    return any(re.fullmatch(r"[,.\d]*%", f) for f in formats)


def _span(kind: str, values: list[object], *, percent: bool = False) -> str:
    """ "values from 12% to 31%", "across Jan 2023 to Dec 2024", or "across 4 categories"."""
    numbers = [v for v in values if isinstance(v, Real) and not isinstance(v, bool)]
    dates = [v for v in values if isinstance(v, dt.date)]
    if dates and len(dates) == len(values):
        low, high = min(dates), max(dates)
        return f"{kind} {low:%b %Y} to {high:%b %Y}"
    if numbers and len(numbers) == len(values):
        low, high = min(numbers), max(numbers)
        return f"{kind} from {_number(low, percent)} to {_number(high, percent)}"
    categories = list(dict.fromkeys(str(v) for v in values))
    if kind == "across":
        if len(categories) <= 3:
            return f"{kind} {', '.join(c.replace('<br>', ' ') for c in categories)}"
        return f"{kind} {len(categories)} categories, {categories[0]} to {categories[-1]}".replace(
            "<br>", " "
        )
    return ""


def _number(value: float, percent: bool) -> str:
    if percent:
        return f"{value:.0%}"
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.2f}"
