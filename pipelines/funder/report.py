"""A funder snapshot's report.html (issues 6 and 15): results first, methods in an appendix.

Page 1 is the quarter's summary: its headline measures program-wide in plain sentences, beside the
quarter before and the same quarter a year earlier (pipelines/funder/summary.py), one small chart
and its table. Then all participants month by month, outcomes by referral type and by cohort; the
appendix holds the other breakdowns (site, race, gender, age), what each measure counts, how the
quarter is counted, the suppression rule and where the numbers come from (the manifest, hashes).

The page is built from the snapshot's metrics.csv bytes and its manifest only, never from the
release, so it cannot show more than metrics.csv does: a hidden cell has no number to draw, and
its group keeps its place with the mark names.HIDDEN. Every value reads as a label
(pipelines/funder/names.py), never a code. It is self-contained (plotly.js inline, no URL, a
Content-Security-Policy that forbids loading anything), so it opens offline and prints (the PDF).
"""

from __future__ import annotations

import datetime as dt
import html
import io
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
import polars as pl
from plotly.offline import get_plotlyjs

from pipelines.core.metrics import is_count
from pipelines.core.periods import parse_quarter
from pipelines.funder import names
from pipelines.funder.figures import groups_figure, months_figure, summary_figure
from pipelines.funder.summary import AT_QUARTER_END, Headline, headlines, previous_quarter, year_earlier

SHORT_HASH = 12
APPENDIX = (
    '<h2 id="appendix">Appendix</h2><p>The other breakdowns (site, race, gender, age), what each measure '
    "counts, how the quarter is counted, the suppression rule in full, and where the numbers come from.</p>"
)
LEADING = ("referral_type", "cohort")  # the breakdowns after the summary; the rest: the appendix
# Inline scripts and styles only: the browser refuses any fetch, even if the page were edited.
CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:"
)
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a;
       max-width: 60rem; margin: 0 auto; padding: 1rem 1.5rem; line-height: 1.4; }
h1 { font-size: 1.6rem; margin: 0.2rem 0; } h2 { margin-top: 2rem; border-bottom: 2px solid #0072B2; }
h3 { margin-top: 1.4rem; } .lede { color: #404040; margin-top: 0.2rem; }
ul.headlines { padding-left: 1.2rem; } ul.headlines li { margin: 0.25rem 0; }
table { border-collapse: collapse; margin: 0.4rem 0 1rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 0.3rem 0; }
th, td { border: 1px solid #bbb; padding: 0.15rem 0.45rem; text-align: left; vertical-align: top; }
thead th { background: #f2f6fa; } td.num { text-align: right; }
td.hidden { color: #595959; font-style: italic; text-align: right; font-size: 0.9em; }
table.wide { width: 100%; table-layout: fixed; } table.wide th, table.wide td { overflow-wrap: break-word; }
table.wide thead th:first-child { width: 13%; }
table.wide thead th { font-size: 0.82em; overflow-wrap: normal; }
table.wide th, table.wide td { padding: 0.1rem 0.25rem; }
.nd { display: block; color: #595959; font-size: 0.8em; }
th.quarter, td.quarter { border-left: 3px solid #1a1a1a; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 1rem; }
dt { font-weight: 600; } dd { margin: 0; overflow-wrap: anywhere; }
.note { color: #404040; font-size: 0.9em; }
.plot { width: 100%; }
@page { size: A4; margin: 12mm; }
@media print {
  body { max-width: none; padding: 0 1.5rem; font-size: 9pt; line-height: 1.35; } table { font-size: 7.5pt; }
  ul.headlines li { margin: 0.15rem 0; } h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; }
  h2 { margin-top: 0.6rem; } .modebar-container { display: none; }
  #summary { break-after: page; } .part { break-before: page; }
  .plot, tr, .keep { break-inside: avoid; } h2, h3 { break-after: avoid; }
}
"""
LOADER = """
document.querySelectorAll('script.figure').forEach(function (node) {
  var figure = JSON.parse(node.textContent);
  Plotly.newPlot(node.dataset.target, figure.data, figure.layout,
                 {displaylogo: false, responsive: true});
});
"""


def _e(text: object) -> str:
    return html.escape("" if text is None else str(text))


def read_cells(metrics_csv: bytes) -> pl.DataFrame:
    """metrics.csv as text: every number as written, empty cells kept empty."""
    return pl.read_csv(io.BytesIO(metrics_csv), infer_schema=False, empty_string_is_null=False)


def report_html(metrics_csv: bytes, manifest: Mapping) -> str:
    """The whole page: summary, month by month, referral type and cohort, then the appendix."""
    cells = read_cells(metrics_csv)
    quarter = str(manifest["period"])
    recorded = dict(manifest.get("metrics") or {})
    metrics = [m for m in recorded if m in set(cells["metric"])]
    labels = {m: names.measure_label(m, recorded) for m in metrics}
    charts = Charts()
    found = headlines(cells, quarter, recorded)
    dimensions = [d for d in manifest["dimensions"] if d != "all" and d in set(cells["dimension"])]
    leading = [d for d in LEADING if d in dimensions]
    appendix = [d for d in dimensions if d not in leading]
    title = f"LEAD outcomes: {_e(names.quarter_span(quarter))} ({_e(names.period_label(quarter))})"
    body = [
        _summary(found, quarter, manifest, charts),
        _months(cells, metrics, labels, quarter, charts),
        *(_breakdown(cells, d, metrics, labels, quarter, charts, "Outcomes by") for d in leading),
        *(
            _breakdown(cells, d, metrics, labels, quarter, charts, "Appendix: by", APPENDIX if i == 0 else "")
            for i, d in enumerate(appendix)
        ),
        _methods(recorded, metrics, manifest),
        _provenance(manifest),
    ]
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{STYLE}</style>"
        f"<script>{get_plotlyjs()}</script></head><body><main>"
        f"{''.join(body)}</main><script>{LOADER}</script></body></html>\n"
    )


class Charts:
    """Numbers the page's charts, so each has its own element id."""

    def __init__(self) -> None:
        self.count = 0

    def place(self, figure: go.Figure | None, name: str, alt: str) -> str:
        """The chart's element and its figure as JSON (drawn by LOADER); a sentence when none."""
        if figure is None:
            return f'<p class="note">No chart: every number here is {_e(names.HIDDEN)}.</p>'
        self.count += 1
        target = f"chart-{self.count}"
        height = int(figure.layout.height or 300)
        return (
            f'<div class="plot" id="{target}" data-figure="{_e(name)}" role="img" aria-label="{_e(alt)}" '
            f'style="height:{height}px"></div><script type="application/json" class="figure" '
            f'data-target="{target}" data-figure="{_e(name)}">{figure.to_json()}</script>'
        )


def _summary(found: Sequence[Headline], quarter: str, manifest: Mapping, charts: Charts) -> str:
    """Page 1: who and when, the headline sentences, the chart and its table, the small-numbers rule."""
    sentences = "".join(
        f'<li data-metric="{_e(h.metric)}">{_e(s)}</li>' for h in found if (s := h.sentence()) is not None
    )
    sites = sorted(
        {names.site_label(f["site_id"]) for f in manifest.get("archived_files") or [] if f.get("site_id")}
    )
    where = f"all sites ({', '.join(sites)})" if sites else "all sites"
    alt = (
        "Dot chart of the headline percentages this quarter, the quarter before and a year earlier; "
        "the table below has the same numbers."
    )
    return (
        f'<section id="summary"><h1>LEAD outcomes: {_e(names.quarter_span(quarter))}</h1>'
        f'<p class="lede">Report for funders on the LEAD program, {_e(where)}: '
        f"{_e(names.period_label(quarter))}, with data as of {_e(_long_date(manifest.get('as_of')))}.</p>"
        f'<h2>Summary</h2><ul class="headlines">{sentences}</ul>'
        f"{charts.place(summary_figure(found), 'summary', alt)}"
        f"{_headline_table(found, quarter)}"
        f'<p class="note">{_e(names.RULE_IN_ONE_SENTENCE)} {_e(names.HIDDEN_NOTE)} What each measure '
        "counts, how the quarter is counted and the full suppression rule are in the appendix.</p></section>"
    )


def _long_date(text: object) -> str:
    try:
        day = dt.date.fromisoformat(str(text))
    except ValueError:
        return str(text or "")
    return f"{day.day} {day.strftime('%B %Y')}"


def _headline_table(found: Sequence[Headline], quarter: str) -> str:
    heads = (
        names.period_label(quarter),
        f"Quarter before ({names.period_label(previous_quarter(quarter))})",
        f"A year earlier ({names.period_label(year_earlier(quarter))})",
    )
    rows = []
    for h in found:
        when = "at the quarter's end" if h.metric in AT_QUARTER_END else "over the quarter"
        cells = "".join(_headline_cell(c, h.is_count) for c in (h.now, h.before, h.year_ago))
        rows.append(f'<tr><th scope="row">{_e(h.label)} <span class="nd">{when}</span></th>{cells}</tr>')
    head = "".join(f'<th scope="col">{_e(t)}</th>' for t in heads)
    return (
        '<table class="keep" data-table="headlines"><caption>The headline numbers, all participants'
        f'</caption><thead><tr><th scope="col">Measure</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _headline_cell(cell, count: bool) -> str:  # noqa: ANN001 - a summary.Cell or None
    if cell is None:
        return '<td class="hidden">no data</td>'
    if cell.hidden or cell.numerator is None:
        return f'<td class="hidden">{_e(names.HIDDEN)}</td>'
    if count:
        return f'<td class="num">{cell.numerator:,}</td>'
    counts = f"{cell.numerator:,} of {cell.denominator:,}"
    return f'<td class="num">{cell.percent()}<span class="nd">{counts}</span></td>'


def _cell(row: Mapping[str, str] | None, count: bool, css: str = "") -> str:
    """One number of metrics.csv as a table cell: value with its counts, or the hidden mark."""
    extra = f" {css}" if css else ""
    if row is None:
        return f'<td class="hidden{extra}">{_e(names.NO_ROW)}</td>'
    if row["suppressed"] == "true":
        of = f'<span class="nd">of {int(row["denominator"]):,}</span>' if row["denominator"] else ""
        return f'<td class="hidden{extra}">{_e(names.HIDDEN)}{of}</td>'
    n, d = int(row["numerator"]), int(row["denominator"])
    if count:
        return f'<td class="num{extra}">{n:,}</td>'
    return f'<td class="num{extra}">{float(row["value"]):.1%}<span class="nd">{n:,} of {d:,}</span></td>'


def _months(
    cells: pl.DataFrame, metrics: list[str], labels: dict[str, str], quarter: str, charts: Charts
) -> str:
    """All participants: each month and the whole quarter, chart and table."""
    months = [m.strftime("%Y-%m") for m in parse_quarter(quarter).months]
    rows = cells.filter(pl.col("dimension") == "all")
    figure = months_figure(rows, metrics, labels, months, [quarter], row_height=170)
    index = {(r["metric"], r["period"]): r for r in rows.iter_rows(named=True)}
    head = "".join(f'<th scope="col">{_e(names.period_label(m))}</th>' for m in months)
    body = []
    for m in metrics:
        count = is_count(m)
        month_cells = "".join(_cell(index.get((m, p)), count) for p in months)
        body.append(
            f'<tr><th scope="row">{_e(labels[m])}</th>{month_cells}'
            f"{_cell(index.get((m, quarter)), count, 'quarter')}</tr>"
        )
    alt = (
        "Bar charts of each measure by month, all participants, with the whole of "
        f"{names.period_label(quarter)} apart"
    )
    return (
        '<section class="part" id="months"><h2>All participants, month by month</h2>'
        "<p>Each month counts the participants active that month. The whole quarter (the diamond, "
        "and the last column) counts each participant once over its three months, so it is not a "
        "fourth month, and its percentage can be higher than any month's.</p>"
        f"{charts.place(figure, 'months', alt)}"
        '<table class="wide" data-table="months">'
        "<caption>All participants: each month and the whole quarter</caption>"
        f'<thead><tr><th scope="col">Measure</th>{head}<th scope="col" class="quarter">Whole quarter '
        f"({_e(names.period_label(quarter))})</th></tr></thead><tbody>{''.join(body)}</tbody></table>"
        "</section>"
    )


def _breakdown(
    cells: pl.DataFrame,
    dimension: str,
    metrics: list[str],
    labels: dict[str, str],
    quarter: str,
    charts: Charts,
    heading: str,
    lead: str = "",
) -> str:
    """One breakdown over the whole quarter: a panel per measure, then the table of the same numbers."""
    rows = cells.filter((pl.col("dimension") == dimension) & (pl.col("period") == quarter))
    groups = names.group_order(dimension, cells.filter(pl.col("dimension") == dimension)["group"].to_list())
    name = names.dimension_label(dimension)
    lower = name[0].lower() + name[1:]
    figure = groups_figure(rows, dimension, groups, [(labels[m], m, quarter) for m in metrics])
    index = {(r["metric"], r["group"]): r for r in rows.iter_rows(named=True)}
    head = "".join(f'<th scope="col">{_e(labels[m])}</th>' for m in metrics)
    body = "".join(
        f'<tr><th scope="row">{_e(names.group_label(dimension, g))}</th>'
        + "".join(_cell(index.get((m, g)), is_count(m)) for m in metrics)
        + "</tr>"
        for g in groups
    )
    alt = (
        f"Bar charts of each measure by {lower} over {names.period_label(quarter)}; the table below has "
        "the same numbers"
    )
    return (
        f'<section class="part" id="by-{_e(dimension)}">{lead}<h2>{_e(heading)} {_e(lower)}</h2>'
        f"<p>Each group over the whole of {_e(names.period_label(quarter))}. Each month's numbers by "
        f"group are in metrics.xlsx and metrics.csv. {_e(names.HIDDEN_NOTE)}</p>"
        f"{charts.place(figure, f'by-{dimension}', alt)}"
        f'<table class="wide" data-table="by-{_e(dimension)}">'
        f"<caption>{_e(name)}: {_e(names.period_label(quarter))}"
        f'</caption><thead><tr><th scope="col">{_e(name)}</th>{head}</tr></thead><tbody>{body}</tbody>'
        "</table></section>"
    )


def _methods(recorded: Mapping, metrics: list[str], manifest: Mapping) -> str:
    """What each measure counts, how the quarter is counted, and the suppression rule in full."""
    rows = "".join(
        f'<tr><th scope="row">{_e(names.measure_label(m, dict(recorded)))}</th>'
        f"<td>{_e(recorded[m].get('numerator'))}</td><td>{_e(recorded[m].get('denominator'))}</td>"
        f"<td>{'at the quarter’s end' if m in AT_QUARTER_END else 'over the quarter'}</td></tr>"
        for m in metrics
    )
    return (
        '<section class="part" id="methods"><h2>Appendix: what each measure counts</h2>'
        '<table data-table="definitions"><thead><tr><th scope="col">Measure</th><th scope="col">Counts '
        '(numerator)</th><th scope="col">Out of (denominator)</th><th scope="col">Summary reads it</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
        f"<h3>How the quarter is counted</h3><p>{_e(manifest.get('quarter_definition'))}</p>"
        f"<h3>Suppression</h3><p>{_e(names.RULE_IN_ONE_SENTENCE)}</p>"
        f"<p>The rule in full: {_e(manifest.get('suppression_rule'))}</p></section>"
    )


def _provenance(manifest: Mapping) -> str:
    """Where the numbers come from: the manifest's summary, the files' hashes, the archived exports."""
    items = [
        ("Snapshot", manifest.get("snapshot_id")),
        ("Quarter", names.period_label(str(manifest.get("period")))),
        ("Created at (UTC)", manifest.get("created_at")),
        ("Data as of", manifest.get("as_of")),
        ("Nightly run", manifest.get("run_id")),
        ("Release", manifest.get("release")),
        ("Release SHA-256", manifest.get("release_sha256")),
        ("Metric definitions", manifest.get("metrics_version")),
        ("Export contract", manifest.get("contract_version")),
        ("metrics.csv SHA-256", manifest.get("metrics_csv_sha256")),
        ("metrics.xlsx SHA-256", manifest.get("metrics_xlsx_sha256")),
        ("Archived exports", f"{len(manifest.get('archived_files') or [])} (listed below)"),
    ]
    facts = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items if v)
    files = "".join(
        f"<tr><td>{_e(names.site_label(f['site_id']))}</td><td>{_e(names.table_label(f['table']))}</td>"
        f"<td><code>{_e(f['sha256'][:SHORT_HASH])}</code></td></tr>"
        for f in manifest.get("archived_files") or []
    )
    return (
        '<section class="part" id="provenance"><h2>Appendix: where the numbers come from</h2>'
        "<p>manifest.json in this snapshot's folder holds all of this, each file's SHA-256 in full; "
        "<code>outcomes snapshot verify</code> checks every file against it.</p>"
        f"<dl>{facts}</dl>"
        f'<table data-table="archived-files"><caption>The exports behind this snapshot (SHA-256, first '
        f'{SHORT_HASH} characters)</caption><thead><tr><th scope="col">Site</th><th scope="col">Table</th>'
        f'<th scope="col">SHA-256</th></tr></thead><tbody>{files}</tbody></table></section>'
    )
