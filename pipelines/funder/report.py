"""A funder snapshot's report.html (issue 6): metrics.csv and the manifest as one offline page.

The page is built from the snapshot's metrics.csv bytes and its manifest only, never from the
release, so it cannot show more than metrics.csv does: a suppressed row has no numbers to draw.
It is self-contained (plotly.js inline, no URL anywhere, a Content-Security-Policy that forbids
loading anything), so a funder can open it offline or print it. Each metric gets a chart of the
quarter's months and the quarter for all participants, then one per dimension, each with a
table of the same numbers under it and a line naming the numerator and denominator.
Data-derived text is HTML-escaped, in the page and in the figures' labels (Plotly reads a
subset of HTML in labels).
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping

import plotly.graph_objects as go
import polars as pl
from plotly.offline import get_plotlyjs

from pipelines.core.metrics import DIMENSION_LABELS, is_count
from pipelines.core.palette import FONT_FAMILY, OKABE_ITO

# The three months in the first three colours, the quarter (not a fourth month) in vermillion.
PERIOD_COLOURS = (OKABE_ITO[0], OKABE_ITO[1], OKABE_ITO[2], OKABE_ITO[3])
SUPPRESSED = "suppressed"
SHORT_HASH = 12
CHART_HEIGHT = 340
# Inline scripts and styles only: the browser refuses any fetch, even if the page were edited.
CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:"
)
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a;
       max-width: 60rem; margin: 0 auto; padding: 1rem 1.5rem; line-height: 1.45; }
h1 { font-size: 1.7rem; } h2 { margin-top: 2.5rem; border-bottom: 2px solid #0072B2; }
h3 { margin-top: 1.8rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 0.3rem 0; }
th, td { border: 1px solid #bbb; padding: 0.2rem 0.6rem; text-align: left; }
td.num { text-align: right; } td.hidden { color: #555; font-style: italic; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; }
dt { font-weight: 600; } dd { margin: 0; overflow-wrap: anywhere; }
.measure { background: #f2f6fa; border-left: 4px solid #0072B2; padding: 0.4rem 0.8rem; }
.plot { width: 100%; height: 340px; }
@page { size: A4; margin: 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; } table { font-size: 8.5pt; }
  th, td { padding: 0.05rem 0.4rem; } .plot, tr { break-inside: avoid; } .modebar-container { display: none; }
  section.metric, #archived-files { break-before: page; } h3, .measure { break-after: avoid; }
}
"""
LOADER = """
document.querySelectorAll('script.figure').forEach(function (node) {
  var figure = JSON.parse(node.textContent);
  Plotly.newPlot(node.dataset.target, figure.data, figure.layout, {displaylogo: false, responsive: true});
});
"""


def report_html(metrics_csv: bytes, manifest: Mapping) -> str:
    """The whole page: summary, definitions, then every metric's charts and tables."""
    cells = pl.read_csv(io.BytesIO(metrics_csv), infer_schema=False, empty_string_is_null=False)
    metrics: Mapping = manifest["metrics"]
    sections = []
    chart = 0
    for i, (name, definition) in enumerate(metrics.items()):
        blocks = []
        for dimension in manifest["dimensions"]:
            rows = cells.filter((pl.col("metric") == name) & (pl.col("dimension") == dimension))
            if rows.height:
                block, drawn = _block(name, definition, dimension, rows, manifest["periods"], chart)
                blocks.append(block)
                chart += drawn
        sections.append(
            f'<section class="metric" id="metric-{i}"><h2>{_e(definition["label"])}</h2>'
            f"{_definition(definition)}{''.join(blocks)}</section>"
        )
    contents = "".join(
        f'<li><a href="#metric-{i}">{_e(d["label"])}</a></li>' for i, d in enumerate(metrics.values())
    )
    title = f"LEAD outcomes: funder snapshot {_e(manifest['period'])}"
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{STYLE}</style>"
        f"<script>{get_plotlyjs()}</script></head><body><main>"
        f"<h1>{title}</h1>{_introduction(manifest)}{_summary(manifest)}"
        f'<nav aria-label="Metrics"><h2>Metrics</h2><ul>{contents}</ul></nav>'
        f"{''.join(sections)}{_archived_files(manifest)}"
        f"</main><script>{LOADER}</script></body></html>\n"
    )


def _e(text: object) -> str:
    return html.escape(str(text))


def _introduction(manifest: Mapping) -> str:
    """What the figures are, how the quarter is counted and what is hidden."""
    return (
        f"<p>Outcomes of the LEAD program's participants in {_e(manifest['period'])}: each month "
        f"({_e(', '.join(manifest['periods'][:-1]))}) and the quarter. The numbers are those of "
        "metrics.csv in this snapshot's folder.</p>"
        f"<h2>How the quarter is counted</h2><p>{_e(manifest['quarter_definition'])}</p>"
        f"<h2>Suppression</h2><p>{_e(manifest['suppression_rule'])}</p>"
        f'<p>A suppressed cell reads "{SUPPRESSED}" in the tables and is not drawn in the charts.</p>'
    )


def _definition(definition: Mapping) -> str:
    return (
        f"<dl><dt>Numerator</dt><dd>{_e(definition['numerator'])}</dd>"
        f"<dt>Denominator</dt><dd>{_e(definition['denominator'])}</dd></dl>"
    )


def _block(
    name: str, definition: Mapping, dimension: str, rows: pl.DataFrame, periods: list[str], chart: int
) -> tuple[str, int]:
    """One dimension of one metric: heading, measure line, chart (if any value is shown), table."""
    label = DIMENSION_LABELS.get(dimension, dimension.replace("_", " ").capitalize())
    heading = label if dimension == "all" else f"By {label[0].lower()}{label[1:]}"
    count = is_count(name)
    measure = (
        f"Count of {_e(definition['numerator'])}."
        if count
        else f"Numerator: {_e(definition['numerator'])}. Denominator: {_e(definition['denominator'])}. "
        "Value: numerator / denominator, as a percentage."
    )
    order = {p: i for i, p in enumerate(periods)}
    rows = rows.with_columns(
        pl.col("period").replace_strict(order, default=len(periods), return_dtype=pl.Int64).alias("_p")
    ).sort("group", "_p")
    figure = _figure(rows, dimension, periods, count)
    what = f"{_e(definition['label'])}, {_e(label[0].lower() + label[1:])}"
    # Which metric and dimension a chart or table shows, for readers' tools and for the tests.
    tags = f'data-metric="{_e(name)}" data-dimension="{_e(dimension)}"'
    if figure is None:
        plot, drawn = f'<p class="hidden">Every cell is {SUPPRESSED}: no chart.</p>', 0
    else:
        plot = (
            f'<div class="plot" id="chart-{chart}" {tags} role="img" aria-label="Bar chart of {what} by '
            f"{'period' if dimension == 'all' else 'group and period'}; the table below has the same "
            f'numbers."></div><script type="application/json" class="figure" data-target="chart-{chart}" '
            f"{tags}>"
            f"{figure.to_json()}</script>"
        )
        drawn = 1
    return (
        f"<h3>{_e(heading)}</h3>"
        f'<p class="measure">{measure} Suppressed cells are not drawn.</p>{plot}'
        f"{_table(rows, dimension, label, what, count, tags)}",
        drawn,
    )


def _figure(rows: pl.DataFrame, dimension: str, periods: list[str], count: bool) -> go.Figure | None:
    """Bars of the shown values only: a suppressed row never reaches the figure's data."""
    shown = rows.filter(pl.col("suppressed") == "false")
    if shown.height == 0:
        return None
    hover_value = "%{y:,.0f} participants" if count else "%{y:.1%} (%{customdata[0]:,} of %{customdata[1]:,})"
    figure = go.Figure()
    if dimension == "all":
        figure.add_bar(
            x=shown["period"].to_list(),
            y=shown["value"].cast(pl.Float64).to_list(),
            customdata=shown.select(pl.col("numerator", "denominator").cast(pl.Int64)).rows(),
            marker={"color": [PERIOD_COLOURS[min(i, 3)] for i in shown["_p"].to_list()]},
            hovertemplate=f"%{{x}}<br>{hover_value}<extra></extra>",
        )
        categories = periods
    else:
        for i, period in enumerate(periods):
            part = shown.filter(pl.col("period") == period)
            figure.add_bar(
                name=html.escape(period),
                x=[html.escape(g) for g in part["group"].to_list()],
                y=part["value"].cast(pl.Float64).to_list(),
                customdata=part.select(pl.col("numerator", "denominator").cast(pl.Int64)).rows(),
                marker={"color": PERIOD_COLOURS[min(i, 3)]},
                hovertemplate=f"%{{x}}, %{{fullData.name}}<br>{hover_value}<extra></extra>",
            )
        categories = [html.escape(g) for g in rows["group"].unique(maintain_order=True).to_list()]
    figure.update_layout(
        template="none",
        barmode="group",
        height=CHART_HEIGHT,
        font={"family": FONT_FAMILY},
        showlegend=dimension != "all",
        legend={"orientation": "h", "y": 1.12, "title": {"text": "Period"}},
        margin={"l": 60, "r": 10, "t": 40, "b": 60},
    )
    # Plotly 7 would read '2024-01' as a date: the periods and groups are categories.
    figure.update_xaxes(type="category", categoryorder="array", categoryarray=categories, automargin=True)
    figure.update_yaxes(
        title_text="Participants" if count else "Percent of denominator",
        tickformat=",d" if count else ".0%",
        rangemode="tozero",
        gridcolor="#dddddd",
        zeroline=True,
        zerolinecolor="#888888",
    )
    return figure


def _table(rows: pl.DataFrame, dimension: str, label: str, what: str, count: bool, tags: str) -> str:
    """The chart's numbers, every row of metrics.csv; what metrics.csv leaves empty reads 'suppressed'."""
    head = "" if dimension == "all" else f'<th scope="col">{_e(label)}</th>'
    body = []
    for r in rows.iter_rows(named=True):
        group = "" if dimension == "all" else f'<th scope="row">{_e(r["group"])}</th>'
        # A suppressed row hides its numerator and value; its denominator only if that is hidden too.
        shown = r["suppressed"] == "false"
        numbers = (
            f"{int(r['numerator']):,}" if shown else None,
            f"{int(r['denominator']):,}" if r["denominator"] != "" else None,
            (f"{float(r['value']):,.0f}" if count else f"{float(r['value']):.1%}") if shown else None,
        )
        cells = "".join(
            f'<td class="hidden">{SUPPRESSED}</td>' if n is None else f'<td class="num">{n}</td>'
            for n in numbers
        )
        body.append(f"<tr>{group}<td>{_e(r['period'])}</td>{cells}</tr>")
    value_name = "Value (count)" if count else "Value (percent)"
    return (
        f"<table {tags}><caption>{what}: numerator, denominator and value by period</caption>"
        f'<thead><tr>{head}<th scope="col">Period</th><th scope="col">Numerator</th>'
        f'<th scope="col">Denominator</th><th scope="col">{value_name}</th></tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _summary(manifest: Mapping) -> str:
    """Where the figures come from: the manifest's provenance."""
    items = [
        ("Snapshot", manifest["snapshot_id"]),
        ("Period", manifest["period"]),
        ("Created at (UTC)", manifest["created_at"]),
        ("Nightly run", manifest["run_id"]),
        ("Data as of", manifest["as_of"]),
        ("Release", manifest["release"]),
        ("Release SHA-256", manifest["release_sha256"]),
        ("Metrics version", manifest["metrics_version"]),
        ("Contract version", manifest["contract_version"]),
        ("metrics.csv SHA-256", manifest["metrics_csv_sha256"]),
        ("Archived files", f"{len(manifest['archived_files'])} (listed at the end)"),
    ]
    facts = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items)
    return f"<h2>About this snapshot</h2><dl>{facts}</dl>"


def _archived_files(manifest: Mapping) -> str:
    """The exports the release was built from, each by site, table and (short) hash."""
    files = "".join(
        f"<tr><td>{_e(f['site_id'])}</td><td>{_e(f['table'])}</td><td><code>{_e(f['sha256'][:SHORT_HASH])}"
        "</code></td></tr>"
        for f in manifest["archived_files"]
    )
    return (
        '<h2 id="archived-files">Archived exports</h2>'
        f"<table><caption>The exports behind this snapshot (SHA-256, first {SHORT_HASH} characters; "
        f'manifest.json has them whole)</caption><thead><tr><th scope="col">Site</th>'
        '<th scope="col">Table</th><th scope="col">SHA-256</th></tr></thead>'
        f"<tbody>{files}</tbody></table>"
    )
