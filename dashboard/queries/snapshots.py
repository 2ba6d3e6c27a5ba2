"""Snapshots: a published snapshot shaped for the page (its catalog, manifest and one metric's
rows, as text), and the quarters leadership can freeze now.

The snapshots themselves are read by pipelines/funder/catalog.py. A snapshot's numbers are
shown as metrics.csv writes them, and a suppressed cell is never turned back into a number.
"""

from __future__ import annotations

import duckdb
import polars as pl

from dashboard.formatting import md_text
from pipelines.core.metrics import METRICS, is_count
from pipelines.funder import catalog, names
from pipelines.funder.catalog import Entry, period_key
from pipelines.funder.integrity import Checked
from pipelines.funder.snapshot import SNAPSHOT_DIMENSIONS
from pipelines.funder.summary import headlines

SUPPRESSED = names.HIDDEN
AS_PUBLISHED = "as published"
CHANGED = "changed since published: not shown"
TABLE_COLUMNS = ["period", "group", "numerator", "denominator", "value", "reads_as"]


def creatable_quarters(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Quarters a snapshot can be taken of now, newest first (`catalog.creatable_quarters`)."""
    return catalog.creatable_quarters(con)


def catalog_table(entries: list[Entry], checks: dict[str, Checked]) -> pl.DataFrame:
    """The catalog as a table: one row per snapshot, text columns; of a snapshot that is not as
    published, only its name and that it changed (its manifest's claims are not repeated)."""
    rows = []
    for e in entries:
        intact = checks[e.snapshot_id].intact
        m = e.manifest if intact else {}
        rows.append(
            (
                e.snapshot_id,
                names.period_label(e.period) if intact else "",
                str(m.get("created_at", "")),
                str(m.get("as_of", "")),
                str(m.get("run_id", "")),
                ", ".join(e.files),
                AS_PUBLISHED if intact else CHANGED,
            )
        )
    columns = ["snapshot_id", "period", "created_at", "as_of", "run_id", "files", "status"]
    return pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String), orient="row")


def not_intact(checked: Checked) -> str:
    """Why a snapshot is not shown, in plain words, for any reader (markdown-safe)."""
    return (
        f"Snapshot {md_text(checked.snapshot_id)} is not shown: it is not as it was published "
        f"({md_text('; '.join(checked.problems))}). None of its numbers is shown and none of its files "
        "can be downloaded. Ask the program's data team to check it with `outcomes snapshot verify`."
    )


def manifest_summary(entry: Entry, rows: int) -> pl.DataFrame:
    """Where a snapshot's numbers come from, as (field, value) rows."""
    m = entry.manifest
    fields = [
        ("snapshot", entry.snapshot_id),
        ("quarter", names.period_label(entry.period)),
        ("periods", ", ".join(names.period_label(str(p)) for p in m.get("periods", []))),
        (
            "compared with",
            ", ".join(names.period_label(str(p)) for p in m.get("comparison_periods") or []) or "none",
        ),
        ("created at (UTC)", m.get("created_at")),
        ("data as of", m.get("as_of")),
        ("nightly run", m.get("run_id")),
        ("release file", m.get("release")),
        ("archived export files", len(m.get("archived_files", []))),
        ("metric definitions", m.get("metrics_version")),
        ("export contract", m.get("contract_version")),
        ("rows in metrics.csv", rows),
        ("metrics.csv SHA-256", m.get("metrics_csv_sha256")),
        ("metrics.xlsx SHA-256", m.get("metrics_xlsx_sha256") or "none (taken before spreadsheets)"),
    ]
    return pl.DataFrame(
        [(k, "" if v is None else str(v)) for k, v in fields],
        schema={"field": pl.String, "value": pl.String},
        orient="row",
    )


def metric_label(entry: Entry, metric: str) -> str:
    """The metric's label as the snapshot recorded it (else today's, else its name in words)."""
    return names.measure_label(metric, entry.manifest.get("metrics") or {})


def metric_definition(entry: Entry, metric: str) -> tuple[str, str]:
    """The metric's numerator and denominator as the snapshot recorded them."""
    recorded = entry.manifest.get("metrics", {}).get(metric, {})
    today = METRICS.get(metric)
    numerator = recorded.get("numerator") or (today.numerator if today else "not recorded")
    denominator = recorded.get("denominator") or (today.denominator if today else "not recorded")
    return str(numerator), str(denominator)


def metrics_in(table: pl.DataFrame) -> list[str]:
    """The metrics of a snapshot, in its own order."""
    return table["metric"].unique(maintain_order=True).to_list()


def dimensions_in(table: pl.DataFrame, metric: str) -> list[str]:
    """The dimensions a metric is broken down by in the snapshot, 'all' first."""
    present = set(table.filter(pl.col("metric") == metric)["dimension"].to_list())
    known = [d for d in SNAPSHOT_DIMENSIONS if d in present]
    return known + sorted(present - set(known))


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
    """How a value reads: the hidden mark, a count, or a percentage with one decimal."""
    if suppressed:
        return SUPPRESSED
    if value == "":
        return ""
    number = float(value)
    return f"{round(number):,}" if count else f"{number * 100:.1f}%"


def display_table(rows: pl.DataFrame, metric: str, dimension: str = "all") -> pl.DataFrame:
    """The table under the chart: the same numbers as text, each period and group by its label; a
    suppressed row shows no numerator or value (it reads as the hidden mark), and its denominator
    only when metrics.csv does (a denominator that is no small count)."""
    count = is_count(metric)
    out = []
    for r in rows.iter_rows(named=True):
        hidden = r["suppressed"] == "true"
        out.append(
            (
                names.period_label(r["period"]),
                names.group_label(dimension, r["group"]),
                "" if hidden else r["numerator"],
                r["denominator"],  # empty when it is hidden too
                "" if hidden else r["value"],
                reads_as(r["value"], hidden, count),
            )
        )
    return pl.DataFrame(out, schema=dict.fromkeys(TABLE_COLUMNS, pl.String), orient="row")


def finding(entry: Entry, table: pl.DataFrame) -> str | None:
    """What the snapshot found, in a sentence or two: its first headlines (active participants,
    permanent housing) as the report's summary says them, from the published numbers only."""
    said = [h.sentence() for h in headlines(table, entry.period, entry.manifest.get("metrics") or {})[:2]]
    sentences = [s for s in said if s]
    if not sentences:
        return None
    return f"{' '.join(sentences)} (Snapshot {entry.snapshot_id}, as published.)"


def restated_numbers(numbers: pl.DataFrame) -> pl.DataFrame:
    """The restatement's changed numbers as people read them: measures, periods, breakdowns and
    groups by their labels, hidden or not as Yes or No (restate.NUMBER_COLUMNS, the same names)."""

    def labelled(r: dict) -> dict:
        out = dict(r)
        out["metric"] = names.measure_label(r["metric"])
        out["period"] = names.period_label(r["period"])
        out["dimension"] = names.dimension_label(r["dimension"])
        out["group"] = names.group_label(r["dimension"], r["group"])
        for side in ("then", "now"):
            flag = r[f"{side}_suppressed"]
            out[f"{side}_suppressed"] = {"true": "Yes", "false": "No"}.get(flag, flag)
        return out

    rows = [labelled(r) for r in numbers.iter_rows(named=True)]
    return pl.DataFrame(rows, schema=numbers.schema, orient="row") if rows else numbers


def restated_files(files: pl.DataFrame) -> pl.DataFrame:
    """The restatement's changed files with their sites and tables by label."""
    return files.with_columns(
        pl.col("site_id").map_elements(names.site_label, return_dtype=pl.String),
        pl.col("table").map_elements(names.table_label, return_dtype=pl.String),
    )
