"""What every chart shares (dashboard/charts/style.py): dark text, axes that make room, a legend
below, and a one-line summary in layout.meta that `describe` reads back."""

from __future__ import annotations

import importlib
from datetime import date
from pathlib import Path

import plotly.graph_objects as go
import polars as pl

from dashboard.charts import cohorts, overview, trends
from dashboard.charts.style import describe, finish, legend_below, wrap
from pipelines.core.palette import TEXT, contrast_ratio

CHARTS = Path(__file__).resolve().parents[2] / "dashboard" / "charts"


def months_frame(values: dict[str, list[float]]) -> pl.DataFrame:
    """Three months of a rate per group, 50 people each."""
    rows = [
        (date(2024, month, 1), group, round(value * 50), 50, value)
        for group, series in values.items()
        for month, value in zip((1, 2, 3), series, strict=True)
    ]
    return pl.DataFrame(rows, schema=["month", "group", "numerator", "denominator", "value"], orient="row")


def test_every_chart_module_offers_describe() -> None:
    modules = [p.stem for p in CHARTS.glob("*.py") if p.stem not in ("__init__", "style")]
    assert len(modules) >= 9
    for name in modules:
        module = importlib.import_module(f"dashboard.charts.{name}")
        assert module.describe is describe, name


def test_summary_says_what_and_the_range() -> None:
    """The planted range (12% to 31%, Jan to Mar 2024) and the groups are in the words."""
    figure = trends.trend_chart(
        months_frame({"a": [0.12, 0.2, 0.25], "b": [0.3, 0.31, 0.18]}), "employed", "site"
    )
    text = describe(figure)
    assert text == figure.layout.meta["description"]
    assert text.startswith("Line chart of ")
    assert "12%" in text and "31%" in text
    assert "Jan 2024 to Mar 2024" in text
    assert "2 series: a, b" in text
    assert "\n" not in text and "<br>" not in text


def test_summary_of_a_count_is_not_a_percentage() -> None:
    frame = months_frame({"all": [0.4, 0.8, 1.0]}).with_columns(value=pl.col("numerator").cast(pl.Float64))
    text = describe(overview.trend_chart(frame, "active_participants"))
    assert "from 20 to 50" in text and "%" not in text


def test_text_is_dark_and_axes_make_room() -> None:
    figure = cohorts.cohort_chart(
        pl.DataFrame(
            {
                "cohort": ["2024-Q1"] * 2 + ["2024-Q2"] * 2,
                "months_since_referral": [0, 1, 0, 1],
                "numerator": [5, 6, 7, 8],
                "denominator": [20, 20, 20, 20],
                "value": [0.25, 0.3, 0.35, 0.4],
            }
        ),
        "employed",
        ["2024-Q1", "2024-Q2"],
    )
    assert contrast_ratio(figure.layout.font.color) >= 4.5
    for axis in (figure.layout.xaxis, figure.layout.yaxis):
        assert axis.automargin is True
        assert axis.tickfont.color == TEXT and axis.title.font.color == TEXT
    legend = figure.layout.legend
    assert legend.orientation == "h" and legend.y < 0 and legend.font.color == TEXT
    # Two cohorts: their lines differ by dash and marker as well as colour.
    one, other = figure.data
    assert one.line.dash != other.line.dash and one.marker.symbol[0] != other.marker.symbol[0]


def test_subplot_titles_are_dark_too() -> None:
    figure = go.Figure()
    figure.add_annotation(text="A panel", x=0, y=1, showarrow=False)
    finish(figure, "An empty chart")
    assert figure.layout.annotations[0].font.color == TEXT
    assert describe(figure) == "An empty chart."


def test_wrap_and_legend_below() -> None:
    wrapped = wrap("Share arrested in each 6-month window (95% CI)", 20)
    assert all(len(line) <= 20 for line in wrapped.split("<br>")) and wrapped.count("<br>") >= 2
    assert wrapped.replace("<br>", " ") == "Share arrested in each 6-month window (95% CI)"
    # A taller plot needs a smaller share of its height for the same gap in pixels.
    assert legend_below(800)["y"] > legend_below(400)["y"] > -1
