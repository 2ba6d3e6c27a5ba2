"""The charts of a funder snapshot, for report.html (and so the PDF) and the Snapshots page.

Built from metrics.csv read as text: a hidden cell is never drawn, but its group keeps its place
on the axis with the mark names.HIDDEN. One colour per measure, the same for its months and its
quarter; a quarter is never drawn as one more month: the quarter sits in a panel (or a marked
place past a divider) of its own. Every label is escaped: Plotly reads a subset of HTML in labels.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from pipelines.core.metrics import is_count
from pipelines.core.palette import FONT_FAMILY
from pipelines.funder import names
from pipelines.funder.summary import Headline

# One colour per measure, each at least 3:1 against white (WCAG 2.1 for graphics).
MEASURE_COLOURS = {
    "active_participants": "#666666",
    "permanent_housing": "#0072B2",
    "sheltered": "#007A5C",
    "unsheltered": "#D55E00",
    "treatment_engaged": "#A6507F",
    "employed": "#B26B00",
    "employment_continuum": "#8F6200",
    "income_or_benefits": "#6A51A3",
    "arrested": "#B2182B",
}
OTHER_COLOUR = "#333333"
TEXT = "#1a1a1a"
MUTED = "#595959"  # 7:1 on white
GRID = "#dddddd"
ROW_HEIGHT = 19
PANEL_TOP = 46


def measure_colour(metric: str) -> str:
    return MEASURE_COLOURS.get(metric, OTHER_COLOUR)


def _e(text: object) -> str:
    return html.escape(str(text))


def _value_text(row: dict, count: bool) -> str:
    return f"{int(row['numerator']):,}" if count else f"{float(row['value']):.0%}"


def _layout(figure: go.Figure, height: int, top: int = PANEL_TOP, left: int = 50) -> go.Figure:
    """Plotly's automargin settles after the first draw, which a print can miss: margins are set."""
    figure.update_layout(
        template="none",
        height=height,
        font={"family": FONT_FAMILY, "color": TEXT, "size": 12},
        showlegend=False,
        margin={"l": left, "r": 16, "t": top, "b": 36},
        bargap=0.25,
    )
    figure.update_annotations(font_size=12)
    return figure


def summary_figure(found: Sequence[Headline]) -> go.Figure | None:
    """Page 1's chart: each headline share this quarter (a filled dot in its measure's colour), the
    quarter before (an open dot) and a year earlier (an open diamond); hidden values are not drawn."""
    shares = [h for h in found if not h.is_count and h.now is not None]
    if not shares:
        return None
    labels = [_e(h.label) for h in shares]
    figure = go.Figure()
    _slots(figure, labels, None, None)
    kinds = (
        ("A year earlier", "year_ago", "diamond-open", 9),
        ("The quarter before", "before", "circle-open", 10),
        ("This quarter", "now", "circle", 13),
    )
    for name, attribute, symbol, size in kinds:
        xs, ys, colours, custom = [], [], [], []
        for h, y in zip(shares, labels, strict=True):
            cell = getattr(h, attribute)
            if cell is not None and cell.share is not None:
                xs.append(cell.share)
                ys.append(y)
                colours.append(measure_colour(h.metric))
                custom.append((cell.numerator, cell.denominator, _e(names.period_label(cell.period))))
        figure.add_scatter(
            x=xs,
            y=ys,
            mode="markers",
            name=name,
            marker={"symbol": symbol, "size": size, "color": colours, "line": {"width": 2}},
            customdata=custom,
            meta={"period": attribute},
            showlegend=False,
            hovertemplate="%{y}, %{customdata[2]}: %{x:.0%} (%{customdata[0]:,} of %{customdata[1]:,})"
            "<extra></extra>",
        )
    for name, _, symbol, size in kinds:  # the legend in one neutral colour
        figure.add_scatter(
            x=[None],
            y=[None],
            mode="markers",
            name=name,
            marker={"symbol": symbol, "size": size, "color": TEXT, "line": {"width": 2}},
            showlegend=True,
            hoverinfo="skip",
        )
    _layout(figure, 70 + 30 * len(shares), top=10, left=20 + 8 * max(len(h.label) for h in shares))
    figure.update_layout(
        showlegend=True, legend={"orientation": "h", "y": -0.12, "x": 0, "traceorder": "reversed"}
    )
    figure.update_yaxes(type="category", categoryarray=labels, autorange="reversed", automargin=False)
    figure.update_xaxes(range=[0, 1], tickformat=".0%", gridcolor=GRID, zeroline=False)
    return figure


def months_figure(
    rows: pl.DataFrame,
    metrics: Sequence[str],
    labels: dict[str, str],
    months: Sequence[str],
    quarters: Sequence[str],
    columns: int = 3,
    row_height: int = 205,
) -> go.Figure:
    """All participants: one panel per measure, its months as bars and each whole quarter as a
    diamond past a dotted divider (a quarter counts people over three months: it is no fourth month)."""
    columns = min(columns, len(metrics))
    panel_rows = math.ceil(len(metrics) / columns)
    figure = make_subplots(
        rows=panel_rows,
        cols=columns,
        subplot_titles=[_wrap(_e(labels[m])) if columns > 3 else _e(labels[m]) for m in metrics],
        horizontal_spacing=0.09,
        vertical_spacing=0.5 / panel_rows,
    )
    ticks = [*range(len(months)), *(len(months) + 0.6 + i for i in range(len(quarters)))]
    if len({m[:4] for m in months}) <= 1 and len(quarters) == 1:  # one quarter: 'Jul', 'Quarter'
        tick_text = [_e(names.period_label(m).split()[0]) for m in months] + ["Quarter"]
    else:
        tick_text = [_e(names.period_label(m)).replace(" ", "<br>") for m in months] + [
            f"Whole<br>{_e(names.period_label(q))}" for q in quarters
        ]
    for i, metric in enumerate(metrics):
        row, col = i // columns + 1, i % columns + 1
        count = is_count(metric)
        cells = {r["period"]: r for r in rows.filter(pl.col("metric") == metric).iter_rows(named=True)}
        colour = measure_colour(metric)
        periods = [*months, *quarters]
        shown = [(x, cells[p]) for x, p in zip(ticks, periods, strict=True) if _is_shown(cells.get(p))]
        bars = [(x, r) for x, r in shown if x < len(months)]
        diamonds = [(x, r) for x, r in shown if x >= len(months)]
        for points, kind in ((bars, "months"), (diamonds, "quarters")):
            common = {
                "x": [x for x, _ in points],
                "y": [float(r["value"]) for _, r in points],
                "customdata": [(int(r["numerator"]), int(r["denominator"])) for _, r in points],
                "text": [_value_text(r, count) for _, r in points],
                "cliponaxis": False,
                "marker": {"color": colour},
                "meta": {"metric": metric, "periods": kind},
                "hovertemplate": "%{text}<extra></extra>",
            }
            if kind == "months":
                figure.add_bar(**common, textposition="outside", row=row, col=col)
            else:
                common["marker"] = {"symbol": "diamond", "size": 13, "color": colour}
                figure.add_scatter(**common, mode="markers+text", textposition="top center", row=row, col=col)
        for x, period in zip(ticks, periods, strict=True):
            cell = cells.get(period)
            if not _is_shown(cell):
                figure.add_annotation(
                    x=x,
                    y=0,
                    text=_e(names.HIDDEN if cell else names.NO_ROW),
                    textangle=-90,
                    yanchor="bottom",
                    showarrow=False,
                    font={"color": MUTED, "size": 10},
                    row=row,
                    col=col,
                )
        if quarters:
            figure.add_vline(
                x=len(months) - 0.2, line={"dash": "dot", "color": MUTED, "width": 1}, row=row, col=col
            )
        top = max([float(r["value"]) for _, r in shown] + [1.0])
        figure.update_yaxes(
            range=[0, 1.15] if not count else [0, top * 1.25],
            tickformat=",d" if count else ".0%",
            gridcolor=GRID,
            row=row,
            col=col,
        )
        figure.update_xaxes(
            tickvals=ticks, ticktext=tick_text, tickangle=0, range=[-0.6, ticks[-1] + 0.6], row=row, col=col
        )
    figure.update_xaxes(tickfont={"size": 11})
    return _layout(figure, row_height * panel_rows + 30)


def _wrap(title: str, width: int = 18) -> str:
    """A panel title on two lines when it is long: narrow panels side by side would overlap."""
    if len(title) <= width or " " not in title:
        return title
    cut = title.rfind(" ", 0, width + 1)
    cut = cut if cut > 0 else title.find(" ")
    return f"{title[:cut]}<br>{title[cut + 1 :]}"


def _is_shown(cell: dict | None) -> bool:
    return cell is not None and cell["suppressed"] == "false" and cell["value"] != ""


def _slots(figure: go.Figure, labels: list[str], row: int | None, col: int | None) -> None:
    """Every group on the axis, drawn or not: an invisible point per group holds its place."""
    figure.add_scatter(
        x=[0] * len(labels),
        y=labels,
        mode="markers",
        marker={"opacity": 0},
        hoverinfo="skip",
        meta={"slots": True},
        showlegend=False,
        row=row,
        col=col,
    )


def groups_figure(
    rows: pl.DataFrame,
    dimension: str,
    groups: Sequence[str],
    panels: Sequence[tuple[str, str, str]],
    columns: int = 3,
) -> go.Figure:
    """Horizontal bars, one panel per (title, metric, period), every group of `groups` in its place
    on a shared axis: a hidden cell reads names.HIDDEN there, a missing row names.NO_ROW."""
    columns = min(columns, len(panels))
    panel_rows = math.ceil(len(panels) / columns)
    labels = [_e(names.group_label(dimension, g)) for g in groups]
    figure = make_subplots(
        rows=panel_rows,
        cols=columns,
        subplot_titles=[_e(t) for t, _, _ in panels],
        shared_yaxes=True,
        horizontal_spacing=0.03,
        vertical_spacing=min(0.3 / panel_rows, 0.12) + 40 / (panel_rows * (ROW_HEIGHT * len(groups) + 80)),
    )
    for i, (_, metric, period) in enumerate(panels):
        row, col = i // columns + 1, i % columns + 1
        count = is_count(metric)
        _slots(figure, labels, row, col)
        chosen = rows.filter((pl.col("metric") == metric) & (pl.col("period") == period))
        cells = {r["group"]: r for r in chosen.iter_rows(named=True)}
        shown = [
            (g, label)
            for g, label in zip(groups, labels, strict=True)
            if g in cells and cells[g]["suppressed"] == "false"
        ]
        figure.add_bar(
            x=[float(cells[g]["value"]) for g, _ in shown],
            y=[label for _, label in shown],
            orientation="h",
            customdata=[(int(cells[g]["numerator"]), int(cells[g]["denominator"])) for g, _ in shown],
            text=[_value_text(cells[g], count) for g, _ in shown],
            textposition="outside",
            cliponaxis=False,
            marker={"color": measure_colour(metric)},
            meta={"metric": metric, "period": period},
            hovertemplate="%{y}: %{text}<extra></extra>",
            row=row,
            col=col,
        )
        for g, label in zip(groups, labels, strict=True):
            if g not in cells or cells[g]["suppressed"] == "true":
                figure.add_annotation(
                    x=0,
                    y=label,
                    xanchor="left",
                    showarrow=False,
                    text=_e(names.HIDDEN if g in cells else names.NO_ROW),
                    font={"color": MUTED, "size": 10},
                    row=row,
                    col=col,
                )
        values = [float(cells[g]["value"]) for g, _ in shown]
        figure.update_xaxes(
            range=[0, 1.3] if not count else [0, max(values + [1]) * 1.35],
            tickvals=[0, 0.5, 1] if not count else None,
            tickformat=".0%" if not count else ",d",
            gridcolor=GRID,
            row=row,
            col=col,
        )
    figure.update_yaxes(
        type="category",
        categoryorder="array",
        categoryarray=labels,
        range=[len(labels) - 0.5, -0.5],
        automargin=False,
    )
    left = min(280, 20 + 8 * max((len(names.group_label(dimension, g)) for g in groups), default=4))
    return _layout(figure, panel_rows * (ROW_HEIGHT * len(groups) + 80) + 20, left=left)
