"""The Snapshots page's logic: the catalog, a snapshot's table as published, its chart, and the
quarters that can be frozen now. Plain functions, no `st.` calls (the page lays them out).

A snapshot is read as text: its numbers are shown as metrics.csv writes them, and a suppressed
cell is never turned back into a number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import plotly.graph_objects as go
import polars as pl

from pipelines.core.metrics import DIMENSION_LABELS, METRICS
from pipelines.core.palette import FONT_FAMILY, OKABE_ITO
from pipelines.core.periods import quarter_label
from pipelines.core.settings import Home
from pipelines.funder.snapshot import COLUMNS, SNAPSHOT_DIMENSIONS, SnapshotRefused, parse_period

# The files a snapshot may hold, in the order they are offered: (name, mime type, label).
DOWNLOADS = (
    ("report.html", "text/html", "Report (HTML)"),
    ("metrics.csv", "text/csv", "Metrics (CSV)"),
    ("report.pdf", "application/pdf", "Report (PDF)"),
    ("manifest.json", "application/json", "Manifest (JSON)"),
)
SUPPRESSED = "suppressed"
TABLE_COLUMNS = ["period", "group", "numerator", "denominator", "value", "reads_as"]
# Colours for groups: Okabe-Ito without yellow, which is hard to see on white.
GROUP_COLOURS = OKABE_ITO[:7]


@dataclass(frozen=True)
class Entry:
    """One published snapshot in the catalog."""

    snapshot_id: str
    folder: Path
    manifest: dict
    files: tuple[str, ...]  # which of DOWNLOADS' files it holds

    @property
    def period(self) -> str:
        return str(self.manifest.get("period", ""))


def catalog(home: Home) -> list[Entry]:
    """Every published snapshot (a folder with a readable manifest.json), newest first.

    Hidden folders (a `.<id>.building` being written) are not snapshots yet and are skipped.
    """
    if not home.snapshots.is_dir():
        return []
    entries = []
    for folder in home.snapshots.iterdir():
        if folder.name.startswith(".") or not folder.is_dir():
            continue
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if not isinstance(manifest, dict):
            continue
        files = tuple(name for name, _, _ in DOWNLOADS if (folder / name).is_file())
        entries.append(Entry(folder.name, folder, manifest, files))
    return sorted(entries, key=lambda e: (str(e.manifest.get("created_at", "")), e.snapshot_id), reverse=True)


def catalog_table(entries: list[Entry]) -> pl.DataFrame:
    """The catalog as a table: one row per snapshot, text columns."""
    return pl.DataFrame(
        [
            (
                e.snapshot_id,
                e.period,
                str(e.manifest.get("created_at", "")),
                str(e.manifest.get("as_of", "")),
                str(e.manifest.get("run_id", "")),
                ", ".join(e.files),
            )
            for e in entries
        ],
        schema=dict.fromkeys(["snapshot_id", "period", "created_at", "as_of", "run_id", "files"], pl.String),
        orient="row",
    )


def manifest_summary(entry: Entry, rows: int) -> pl.DataFrame:
    """Where a snapshot's numbers come from, as (field, value) rows."""
    m = entry.manifest
    fields = [
        ("snapshot", entry.snapshot_id),
        ("period", entry.period),
        ("periods", ", ".join(str(p) for p in m.get("periods", []))),
        ("created at (UTC)", m.get("created_at")),
        ("data as of", m.get("as_of")),
        ("nightly run", m.get("run_id")),
        ("release file", m.get("release")),
        ("archived export files", len(m.get("archived_files", []))),
        ("metric definitions", m.get("metrics_version")),
        ("export contract", m.get("contract_version")),
        ("rows in metrics.csv", rows),
        ("metrics.csv SHA-256", m.get("metrics_csv_sha256")),
    ]
    return pl.DataFrame(
        [(k, "" if v is None else str(v)) for k, v in fields],
        schema={"field": pl.String, "value": pl.String},
        orient="row",
    )


def load_metrics(folder: Path) -> pl.DataFrame:
    """A snapshot's metrics.csv as text: every number as written, empty cells kept empty."""
    table = pl.read_csv(folder / "metrics.csv", infer_schema=False, empty_string_is_null=False)
    if table.columns != COLUMNS:
        raise ValueError(f"{folder.name}/metrics.csv has columns {table.columns}, not {COLUMNS}")
    return table


def metric_label(entry: Entry, metric: str) -> str:
    """The metric's label as the snapshot recorded it (else today's, else its name)."""
    recorded = entry.manifest.get("metrics", {}).get(metric, {})
    return str(recorded.get("label") or (METRICS[metric].label if metric in METRICS else metric))


def metric_definition(entry: Entry, metric: str) -> tuple[str, str]:
    """The metric's numerator and denominator as the snapshot recorded them."""
    recorded = entry.manifest.get("metrics", {}).get(metric, {})
    today = METRICS.get(metric)
    numerator = recorded.get("numerator") or (today.numerator if today else "not recorded")
    denominator = recorded.get("denominator") or (today.denominator if today else "not recorded")
    return str(numerator), str(denominator)


def is_count(metric: str) -> bool:
    """Whether the metric's value is a count (else a rate)."""
    return metric in METRICS and METRICS[metric].is_count


def metrics_in(table: pl.DataFrame) -> list[str]:
    """The metrics of a snapshot, in its own order."""
    return table["metric"].unique(maintain_order=True).to_list()


def dimensions_in(table: pl.DataFrame, metric: str) -> list[str]:
    """The dimensions a metric is broken down by in the snapshot, 'all' first."""
    present = set(table.filter(pl.col("metric") == metric)["dimension"].to_list())
    known = [d for d in SNAPSHOT_DIMENSIONS if d in present]
    return known + sorted(present - set(known))


def period_key(period: str) -> tuple[int, str]:
    """Months first, then the quarter: the quarter is not one more month."""
    try:
        parse_period(period)
    except SnapshotRefused:
        return (0, period)
    return (1, period)


def metric_rows(table: pl.DataFrame, metric: str, dimension: str) -> pl.DataFrame:
    """The snapshot's rows of one metric and dimension, by period then group (text, as published)."""
    rows = table.filter((pl.col("metric") == metric) & (pl.col("dimension") == dimension))
    order = sorted(rows["period"].unique().to_list(), key=period_key)
    rank = {p: i for i, p in enumerate(order)}
    return (
        rows.with_columns(pl.col("period").replace_strict(rank, return_dtype=pl.Int64).alias("_p"))
        .sort("_p", "group")
        .drop("_p")
    )


def reads_as(value: str, suppressed: bool, count: bool) -> str:
    """How a value reads: 'suppressed', a count, or a percentage with one decimal."""
    if suppressed:
        return SUPPRESSED
    if value == "":
        return ""
    number = float(value)
    return f"{round(number):,}" if count else f"{number * 100:.1f}%"


def display_table(rows: pl.DataFrame, metric: str) -> pl.DataFrame:
    """The table under the chart: the same numbers as text; a suppressed row shows no numerator or
    value, and its denominator only when metrics.csv does (a denominator that is no small count)."""
    count = is_count(metric)
    out = []
    for r in rows.iter_rows(named=True):
        hidden = r["suppressed"] == "true"
        out.append(
            (
                r["period"],
                r["group"],
                "" if hidden else r["numerator"],
                r["denominator"],  # empty when it is hidden too
                SUPPRESSED if hidden else r["value"],
                reads_as(r["value"], hidden, count),
            )
        )
    return pl.DataFrame(out, schema=dict.fromkeys(TABLE_COLUMNS, pl.String), orient="row")


def snapshot_chart(rows: pl.DataFrame, metric: str, label: str, dimension: str) -> go.Figure:
    """Bars of the metric's value by period, one colour per group; suppressed cells are not drawn.

    `rows` is what `metric_rows` returns. The period axis is a category: months and the
    quarter are labels, never dates.
    """
    count = is_count(metric)
    periods = sorted(rows["period"].unique().to_list(), key=period_key)
    shown = rows.filter(pl.col("suppressed") == "false")
    figure = go.Figure()
    for index, group in enumerate(sorted(rows["group"].unique().to_list())):
        cells = shown.filter(pl.col("group") == group)
        figure.add_trace(
            go.Bar(
                x=cells["period"].to_list(),
                y=[float(v) for v in cells["value"]],
                customdata=[
                    (int(n), int(d)) for n, d in cells.select("numerator", "denominator").iter_rows()
                ],
                name=label if dimension == "all" else str(group),
                marker={"color": GROUP_COLOURS[index % len(GROUP_COLOURS)]},
                hovertemplate=(
                    "%{x}<br>%{y:,.0f} participants<extra>%{fullData.name}</extra>"
                    if count
                    else "%{x}<br>%{y:.1%} (%{customdata[0]:,} of %{customdata[1]:,})"
                    "<extra>%{fullData.name}</extra>"
                ),
            )
        )
    figure.update_layout(
        barmode="group",
        colorway=list(GROUP_COLOURS),
        font={"family": FONT_FAMILY},
        showlegend=dimension != "all",
        legend={"title": {"text": DIMENSION_LABELS.get(dimension, dimension)}},
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        height=380,
    )
    figure.update_xaxes(title_text="Period", type="category", categoryorder="array", categoryarray=periods)
    figure.update_yaxes(
        title_text="Participants" if count else "Percent of denominator",
        tickformat=",d" if count else ".0%",
        rangemode="tozero",
    )
    return figure


def creatable_quarters(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Quarters a snapshot can be taken of now: complete by the release's as-of, with data; newest first."""
    [(as_of,)] = con.sql("select as_of from release").fetchall()
    months = [m for (m,) in con.sql("select distinct month from metric_flags").fetchall()]
    quarters = {quarter_label(m) for m in months}
    return sorted((q for q in quarters if parse_period(q).end <= as_of), reverse=True)
