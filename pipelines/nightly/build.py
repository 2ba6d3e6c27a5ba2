"""Build a release: a new DuckDB file with the loaded rows, the quarantine, and the marts."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path

import duckdb
import polars as pl

from checks import MODELS, schema, vocab
from pipelines.core.metrics import METRICS, METRICS_VERSION

# Built in this order; a view is computed when read, a table once, here, and a macro is a query
# kept in the release for its readers to run on their own relations (funder snapshots do).
MARTS = {
    "custody": "macro",
    "custody_spells": "table",
    "comparison_custody_spells": "table",
    "participant_months": "table",
    "metric_flags": "view",
    "metric_cells": "macro",
    "metric_values": "table",
    "time_to_housing": "table",
}
# A table macro's parameters: the names of the relations it reads with query_table().
MACRO_PARAMETERS = {"metric_cells": ("units",), "custody": ("events", "export_table")}
# DuckDB would take up to 80% of the machine's memory; past this it spills to `<release>.tmp`
# beside the release, which it removes when the build ends (or publish.clear_unfinished does).
# Less makes a national build spill and take a third longer; with it, a run on a 200 MB export
# peaks near 1.5 GB (`make bench`).
MEMORY_LIMIT = "1GB"


def mart_sql(name: str) -> str:
    """The SQL of a mart, from pipelines/nightly/sql/<name>.sql."""
    return resources.files("pipelines.nightly").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


def create_mart(con: duckdb.DuckDBPyConnection, name: str, kind: str) -> None:
    """Create mart `name` as its kind from its SQL file."""
    if kind == "macro":
        parameters = ", ".join(MACRO_PARAMETERS[name])
        con.sql(f"create macro {name}({parameters}) as table {mart_sql(name)}")  # noqa: S608 - our own SQL file
    else:
        con.sql(f"create {kind} {name} as {mart_sql(name)}")  # noqa: S608 - our own SQL file


def metric_definitions() -> pl.DataFrame:
    """Each metric's columns as pipelines/core/metrics.py pairs them: what metric_cells.sql sums.

    metric, numerator_flag, denominator_flag, is_count, kind (count, share or days per
    participant) and metric_order (METRICS' order).
    """
    return pl.DataFrame(
        [
            {
                "metric": m.name,
                "numerator_flag": m.numerator_flag,
                "denominator_flag": m.denominator_flag,
                "is_count": m.is_count,
                "kind": str(m.kind),
                "metric_order": order,
            }
            for order, m in enumerate(METRICS.values())
        ],
        schema={
            "metric": pl.String,
            "numerator_flag": pl.String,
            "denominator_flag": pl.String,
            "is_count": pl.Boolean,
            "kind": pl.String,
            "metric_order": pl.Int32,
        },
    )


def living_situations() -> pl.DataFrame:
    """The HMIS living situations as a reference table: name, codes, category."""
    return pl.DataFrame(
        [
            {"living_situation": name, "hmis_codes": ",".join(map(str, codes)), "category": category}
            for name, (codes, category) in vocab.LIVING_SITUATIONS.items()
        ]
    )


def empty_table(table: str) -> pl.DataFrame:
    """A table with the contract's columns and no rows (a table no site has exported yet)."""
    columns = schema(table).columns
    return pl.DataFrame(schema={"site_id": pl.String, **{n: c.dtype.type for n, c in columns.items()}})


def load(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    """Create table `name` from a Polars frame."""
    con.register("_frame", frame)
    try:
        con.sql(f"create table {name} as select * from _frame")  # noqa: S608 - our own table names
    finally:
        con.unregister("_frame")


def build_release(
    path: Path,
    *,
    run_id: str,
    as_of: dt.date,
    tables: dict[str, pl.DataFrame],
    quarantine: pl.DataFrame,
    files: pl.DataFrame,
    runs: pl.DataFrame,
    run_files: pl.DataFrame,
    problems: pl.DataFrame,
    export_columns: pl.DataFrame,
    on_step=lambda step: None,
) -> None:
    """Write every table and mart into a new database file, checkpointed, nothing beside it."""
    con = duckdb.connect(str(path), config={"memory_limit": MEMORY_LIMIT})
    try:
        con.execute(
            "create table release as select ? as run_id, ?::date as as_of, "
            "now()::timestamp as built_at, ? as metrics_version, ? as contract_version",
            [run_id, as_of, METRICS_VERSION, vocab.CONTRACT_VERSION],
        )
        load(con, "living_situations", living_situations())
        load(con, "metric_definitions", metric_definitions())
        for table in MODELS:
            load(con, table, tables.get(table, empty_table(table)))
        load(con, "quarantine", quarantine)
        load(con, "files", files)
        load(con, "runs", runs)
        load(con, "run_files", run_files)
        load(con, "problems", problems)
        load(con, "export_columns", export_columns)
        on_step("tables")
        for mart, kind in MARTS.items():
            create_mart(con, mart, kind)
        on_step("marts")
        con.execute("checkpoint")
    finally:
        con.close()
