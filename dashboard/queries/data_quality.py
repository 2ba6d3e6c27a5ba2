"""Data quality: run history, each file's row accounting, freshness per site and table, refused
files, rows quarantined over runs, and the data problems tracked from run to run.

Every query of site-level rows takes a Scope and filters on it in SQL ($scope_site; a site's
exports and files belong to the site, so a case manager's scope sees their site's); problem
lists filter on the case manager too. Program-wide totals (the runs) refuse a narrower scope.
SQL lives in dashboard/queries/sql/; every value is bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import duckdb
import polars as pl

from checks import COMPARISON_TABLES, MODELS, OPTIONAL_TABLES
from dashboard.formatting import problems_csv_frame
from dashboard.queries.sql import load
from pipelines.core import problems
from pipelines.core.export import csv_bytes
from pipelines.core.release import table_names
from pipelines.core.scope import Scope

# The export tables in the contract's order.
TABLES = tuple(MODELS)
# An export in force accepted more than this many days before the reference date is stale.
STALE_AFTER_DAYS = 2
UP_TO_DATE, STALE, MISSING, NOT_SENT = "up to date", "stale", "missing", "not sent (optional)"
UNREADABLE = "unreadable"
# The stacked chart by site shows this many sites by name; the rest are added up as one.
NAMED_SITES = 6
OTHER_SITES = "Other sites"
NO_TRACKING = (
    "This release was built before problems and every run's files were recorded. "
    "The next `outcomes nightly` adds them."
)

RUN_COLUMNS = (
    "run_id",
    "run_label",
    "started_at",
    "as_of",
    "status",
    "published",
    "in_release",
    "rows_read",
    "rows_loaded",
    "rows_quarantined",
    "rows_duplicate",
    "files",
    "files_refused",
    "error",
)
PROBLEM_COLUMNS = problems.COLUMNS
FIXED_COLUMNS = (
    "site_id",
    "table_name",
    "participant_id",
    "column_name",
    "rule",
    "value",
    "message",
    "first_seen",
    "fixed_on",
    "days_to_fix",
)

RUNS_SQL = load("runs")
RUN_FILES_SQL = load("run_files")
ACCEPTED_SQL = load("accepted_exports")
REFUSED_BY_TABLE_SQL = load("refused_by_table")
REFUSED_SQL = load("refused_files")
HELD_SQL = load("held_exports")
REFUSAL_HISTORY_SQL = load("refusal_history")
QUARANTINE_BY_RUN_SQL = load("quarantine_by_run")
QUARANTINE_BY_RUN_AND_SITE_SQL = load("quarantine_by_run_and_site")
FIXED_PROBLEMS_SQL = load("fixed_problems")
PROBLEM_SUMMARY_SQL = load("problem_summary")
PROBLEM_SITES_SQL = load("problem_sites")


def has_tracking(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the release tracks problems (`problems`) and every run's files (`run_files`); an
    older release lacks them."""
    return problems.tracks_problems(con) and "run_files" in table_names(con)


def with_run_labels(frame: pl.DataFrame) -> pl.DataFrame:
    """Name each run by its as-of date, adding the start time where two runs share a date."""
    shared = pl.len().over("as_of") > 1
    return frame.with_columns(
        pl.when(shared)
        .then(
            pl.col("as_of").dt.strftime("%Y-%m-%d")
            + pl.lit(" (")
            + pl.col("started_at").dt.strftime("%H:%M:%S")
            + pl.lit(")")
        )
        .otherwise(pl.col("as_of").dt.strftime("%Y-%m-%d"))
        .alias("run_label")
    )


def run_history(con: duckdb.DuckDBPyConnection, scope: Scope) -> pl.DataFrame:
    """Every recorded run, newest first, with its totals and whether it built this release.

    Program-wide totals: a narrower scope is refused.
    """
    scope.require_program()
    return with_run_labels(con.sql(RUNS_SQL).pl()).select(RUN_COLUMNS)


def run_files(con: duckdb.DuckDBPyConnection, scope: Scope, run_id: str) -> pl.DataFrame:
    """The row accounting of every file of one run at the scope's site(s): read = loaded +
    quarantined + duplicate.

    From `run_files`; a release without it knows only its own run's files (`files`).
    """
    source = "run_files" if "run_files" in table_names(con) else "files"
    return con.sql(RUN_FILES_SQL, params=scope.site_params() | {"run_id": run_id, "source": source}).pl()


def freshness(
    con: duckdb.DuckDBPyConnection, scope: Scope, today: date, stale_after_days: int = STALE_AFTER_DAYS
) -> pl.DataFrame:
    """Each export in force of each table at the scope's site(s), and the days from its
    acceptance to `today`.

    One row per site with an accepted export and per contract table: site_id, table_name,
    path, accepted_at, accepted_on, days_since, refused_files (files of this site and table the
    release's run refused; the export in force stays), optional, state: up to date; stale
    (accepted more than `stale_after_days` days before `today`); missing (never accepted);
    not sent (optional) for an optional table never sent; unreadable (the archived export in
    force could not be read). The comparison group's tables are listed only for the sites that
    send one of them (or had one refused): most sites keep no such list, and nothing is missing.
    """
    accepted = con.sql(ACCEPTED_SQL, params=scope.site_params() | {"today": today}).pl()
    sites = accepted.select(pl.col("site_id").unique().sort())
    grid = sites.join(pl.DataFrame({"table_name": list(TABLES)}), how="cross")
    # A refused file of a (site, table) with nothing in force still says so.
    refused = con.sql(REFUSED_BY_TABLE_SQL, params=scope.site_params()).pl()
    frame = (
        grid.join(accepted, on=["site_id", "table_name"], how="left", maintain_order="left")
        .join(refused, on=["site_id", "table_name"], how="left", maintain_order="left")
        .with_columns(
            pl.col("refused_files").fill_null(0).cast(pl.Int64),
            pl.col("days_since").cast(pl.Int64),
            pl.col("table_name").is_in(list(OPTIONAL_TABLES)).alias("optional"),
        )
    )
    comparison = pl.col("table_name").is_in(list(COMPARISON_TABLES))
    sent = pl.col("accepted_on").is_not_null() | (pl.col("refused_files") > 0)
    frame = frame.filter(~comparison | (comparison & sent).any().over("site_id"))
    state = (
        pl.when(pl.col("accepted_on").is_null() & pl.col("optional"))
        .then(pl.lit(NOT_SENT))
        .when(pl.col("accepted_on").is_null())
        .then(pl.lit(MISSING))
        .when(pl.col("error").is_not_null())
        .then(pl.lit(UNREADABLE))
        .when(pl.col("days_since") > stale_after_days)
        .then(pl.lit(STALE))
        .otherwise(pl.lit(UP_TO_DATE))
    )
    return frame.with_columns(state.alias("state")).select(
        "site_id",
        "table_name",
        "state",
        "days_since",
        "accepted_on",
        "accepted_at",
        "path",
        "refused_files",
        "optional",
    )


def freshness_counts(fresh: pl.DataFrame) -> dict[str, int]:
    """How many (site, table)s are in each state, every state present (0 when none)."""
    counts = dict(fresh.group_by("state").len().iter_rows())
    return {state: int(counts.get(state, 0)) for state in (UP_TO_DATE, STALE, MISSING, UNREADABLE, NOT_SENT)}


def refused_files(con: duckdb.DuckDBPyConnection, scope: Scope) -> pl.DataFrame:
    """The files of the release's run at the scope's site(s) with an error: refused, or archived
    but unreadable now."""
    return con.sql(REFUSED_SQL, params=scope.site_params()).pl()


def held_exports(con: duckdb.DuckDBPyConnection, scope: Scope) -> pl.DataFrame:
    """The exports of the release's run at the scope's site(s) held in the inbox because they have
    fewer than half the rows of the export in force; each error says how to accept one."""
    return con.sql(HELD_SQL, params=scope.site_params()).pl()


def refusal_history(con: duckdb.DuckDBPyConnection, scope: Scope, limit: int = 200) -> pl.DataFrame:
    """Refusals across runs at the scope's site(s), one row per file and message: first and last
    as-of date, runs.

    A refused file stays in the inbox, so each run refuses it again until it is replaced.
    """
    return con.sql(REFUSAL_HISTORY_SQL, params=scope.site_params() | {"limit": limit}).pl()


def quarantine_by_run(con: duckdb.DuckDBPyConnection, scope: Scope, by_site: bool = False) -> pl.DataFrame:
    """Rows quarantined and rows read at each run, oldest first, program-wide or by site (the
    scope's sites; program-wide totals refuse a narrower scope).

    Columns: run_id, run_label, started_at, as_of, status, site_id ('all' program-wide),
    rows_quarantined, rows_read, share (quarantined / read; null when nothing was read).
    """
    if by_site:
        frame = con.sql(QUARANTINE_BY_RUN_AND_SITE_SQL, params=scope.site_params()).pl()
    else:
        scope.require_program()
        frame = con.sql(QUARANTINE_BY_RUN_SQL).pl()
    labels = with_run_labels(frame.select("run_id", "as_of", "started_at").unique("run_id"))
    return (
        frame.join(labels.select("run_id", "run_label"), on="run_id", how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("rows_read") > 0)
            .then(pl.col("rows_quarantined") / pl.col("rows_read"))
            .otherwise(None)
            .alias("share")
        )
        .select(
            "run_id",
            "run_label",
            "started_at",
            "as_of",
            "status",
            "site_id",
            "rows_quarantined",
            "rows_read",
            "share",
        )
    )


def lump_sites(frame: pl.DataFrame, named: int = NAMED_SITES) -> pl.DataFrame:
    """Keep the `named` sites with the most rows quarantined over all runs; add up the others.

    The chart and its table both show this frame, so their numbers are the same.
    """
    ranked = (
        frame.group_by("site_id")
        .agg(pl.col("rows_quarantined").sum().alias("total"))
        .sort(["total", "site_id"], descending=[True, False])
    )
    if ranked.height <= named + 1:
        return frame
    kept = ranked["site_id"].head(named).to_list()
    return (
        frame.with_columns(
            pl.when(pl.col("site_id").is_in(kept)).then(pl.col("site_id")).otherwise(pl.lit(OTHER_SITES))
        )
        .group_by("run_id", "run_label", "started_at", "as_of", "status", "site_id", maintain_order=True)
        .agg(pl.col("rows_quarantined").sum(), pl.col("rows_read").sum())
        .with_columns(
            pl.when(pl.col("rows_read") > 0)
            .then(pl.col("rows_quarantined") / pl.col("rows_read"))
            .otherwise(None)
            .alias("share")
        )
        .sort("started_at", "run_id", pl.col("site_id") == OTHER_SITES, "site_id")
    )


def problem_sites(con: duckdb.DuckDBPyConnection, scope: Scope) -> list[str]:
    """The sites of the scope to filter problems by: those with an accepted export or a problem."""
    return [site for (site,) in con.sql(PROBLEM_SITES_SQL, params=scope.site_params()).fetchall()]


def open_problems(con: duckdb.DuckDBPyConnection, scope: Scope, tables: Sequence[str] = ()) -> pl.DataFrame:
    """The open problems inside the scope, oldest first, of the chosen tables (empty: all)."""
    return problems.open_problems(con, scope, tables).select(PROBLEM_COLUMNS)


def fixed_problems(
    con: duckdb.DuckDBPyConnection, scope: Scope, tables: Sequence[str] = (), limit: int = 500
) -> pl.DataFrame:
    """The problems inside the scope fixed, most recently fixed first (at most `limit`), with the
    days to fix."""
    params = scope.params() | {"tables": list(tables), "limit": limit}
    return con.sql(FIXED_PROBLEMS_SQL, params=params).pl()


def problem_summary(con: duckdb.DuckDBPyConnection, scope: Scope, tables: Sequence[str] = ()) -> pl.DataFrame:
    """Per site of the scope: open problems, their median and oldest age, problems fixed, median
    days to fix.

    Every site with an accepted export has a row, with 0 open and 0 fixed when it has none.
    """
    return con.sql(PROBLEM_SUMMARY_SQL, params=scope.params() | {"tables": list(tables)}).pl()


def open_problems_frame(rows: pl.DataFrame) -> pl.DataFrame:
    """Open problems as the download holds them for a site's data coordinator: labelled."""
    return problems_csv_frame(rows.select(PROBLEM_COLUMNS))


def open_problems_csv(rows: pl.DataFrame) -> bytes:
    """Open problems as a CSV a site's data coordinator opens in a spreadsheet (formula-safe)."""
    return csv_bytes(open_problems_frame(rows))
