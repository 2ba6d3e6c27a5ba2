"""Data quality: run history, each file's row accounting, freshness per site and table, refused
files, rows quarantined over runs, and the data problems tracked from run to run.

Queries take a read-only connection and return Polars frames; chart builders take a frame and
return a Plotly figure. Every value in SQL is bound; no identifier comes from the user.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import duckdb
import plotly.graph_objects as go
import polars as pl

from checks import MODELS, OPTIONAL_TABLES
from pipelines.core.export import csv_bytes
from pipelines.core.palette import FONT_FAMILY, OKABE_ITO

# The export tables in the contract's order.
TABLES = tuple(MODELS)
# An export in force accepted more than this many days before the reference date is stale.
STALE_AFTER_DAYS = 2
UP_TO_DATE, STALE, MISSING, NOT_SENT = "up to date", "stale", "missing", "not sent (optional)"
UNREADABLE = "unreadable"
# The stacked chart by site shows this many sites by name; the rest are added up as one.
NAMED_SITES = 6
OTHER_SITES = "Other sites"
SITE_COLOURS = OKABE_ITO[:NAMED_SITES]
OTHER_COLOUR = OKABE_ITO[6]  # black: the seventh colour, never yellow
OPEN_COLOUR, FIXED_COLOUR = OKABE_ITO[0], OKABE_ITO[2]
# Up to this many, a count axis has a tick at every whole number (Plotly would repeat "0", "1").
SMALL_COUNT = 5
# The tables added to releases with problem tracking; an older release lacks them.
TRACKING_TABLES = ("problems", "run_files")
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
PROBLEM_COLUMNS = (
    "site_id",
    "table_name",
    "participant_id",
    "case_manager_id",
    "column_name",
    "rule",
    "value",
    "message",
    "fix",
    "file",
    "row_number",
    "first_seen",
    "age_days",
)
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

RUNS_SQL = """
with

runs as (
    select * from runs
),

release as (
    select run_id from release
),

final as (
    select
        runs.run_id,
        try_cast(runs.started_at as timestamp) as started_at,
        runs.as_of,
        runs.status,
        runs.published,
        runs.run_id in (select run_id from release) as in_release,
        runs.rows_read,
        runs.rows_loaded,
        runs.rows_quarantined,
        runs.rows_duplicate,
        runs.files,
        runs.files_refused,
        -- A column no run has filled is stored with the NULL type: give it its own.
        runs.error::varchar as error,
    from runs
)

select * from final
order by started_at desc nulls last, run_id desc
"""

RUN_FILES_SQL = """
with

run_files as (
    select * from {source}
),

final as (
    select
        site_id,
        table_name,
        status,
        rows_read,
        rows_loaded,
        rows_quarantined,
        rows_duplicate,
        blank_rows,
        rows_read = rows_loaded + rows_quarantined + rows_duplicate as adds_up,
        error,
        accepted_at,
        path,
    from run_files
    where run_id = $run_id
)

select * from final
order by site_id, table_name, path
"""

ACCEPTED_SQL = """
with

files as (
    select * from files
),

accepted as (
    select
        site_id,
        table_name,
        path,
        accepted_at,
        try_cast(left(accepted_at, 10) as date) as accepted_on,
        error,
    from files
    where status <> 'refused'
),

final as (
    select
        *,
        $today - accepted_on as days_since,
    from accepted
)

select * from final
"""

REFUSED_BY_TABLE_SQL = """
select site_id, table_name, count(*) as refused_files
from files
where status = 'refused'
group by site_id, table_name
"""

REFUSED_SQL = """
select site_id, table_name, path, status, error
from files
where error is not null
order by site_id, table_name, path
"""

REFUSAL_HISTORY_SQL = """
with

run_files as (
    select * from run_files
),

refusals as (
    select *
    from run_files
    where error is not null
),

final as (
    select
        site_id,
        table_name,
        path,
        error,
        min(as_of) as first_refused,
        max(as_of) as last_refused,
        count(distinct run_id) as runs,
        max(started_at) as last_started_at,
    from refusals
    group by site_id, table_name, path, error
)

select * from final
order by last_started_at desc, site_id, table_name, path
limit $limit
"""

QUARANTINE_BY_RUN_SQL = """
with

runs as (
    select * from runs
),

totals as (
    select
        run_id,
        try_cast(started_at as timestamp) as started_at,
        as_of,
        status,
        'all' as site_id,
        rows_quarantined,
        rows_read,
    from runs
)

select * from totals
order by started_at, run_id
"""

QUARANTINE_BY_RUN_AND_SITE_SQL = """
with

runs as (
    select * from runs
),

run_files as (
    select * from run_files
),

by_site as (
    select
        run_id,
        site_id,
        sum(rows_quarantined)::bigint as rows_quarantined,
        sum(rows_read)::bigint as rows_read,
    from run_files
    where status <> 'refused'
    group by run_id, site_id
),

final as (
    select
        runs.run_id,
        try_cast(runs.started_at as timestamp) as started_at,
        runs.as_of,
        runs.status,
        by_site.site_id,
        by_site.rows_quarantined,
        by_site.rows_read,
    from runs
    join by_site using (run_id)
)

select * from final
order by started_at, run_id, site_id
"""

PROBLEM_FILTER = """
    (len($sites::varchar[]) = 0 or list_contains($sites::varchar[], site_id))
    and (len($tables::varchar[]) = 0 or list_contains($tables::varchar[], table_name))
"""

OPEN_PROBLEMS_SQL = f"""
select
    site_id,
    table_name,
    participant_id,
    case_manager_id,
    column_name,
    rule,
    value,
    message,
    fix,
    file,
    row_number,
    first_seen,
    age_days,
from problems
where status = 'open' and {PROBLEM_FILTER}
order by age_days desc, site_id, table_name, row_number, column_name, rule
"""  # noqa: S608 - a constant filter of bound values

FIXED_PROBLEMS_SQL = f"""
select
    site_id,
    table_name,
    participant_id,
    column_name,
    rule,
    value,
    message,
    first_seen,
    fixed_on,
    days_to_fix,
from problems
where status = 'fixed' and {PROBLEM_FILTER}
order by fixed_on desc, site_id, table_name, column_name, rule, problem_id
limit $limit
"""  # noqa: S608 - a constant filter of bound values

PROBLEM_SUMMARY_SQL = f"""
with

problems as (
    select * from problems
    where {PROBLEM_FILTER}
),

sites as (
    select distinct site_id from files where status <> 'refused'
    union
    select distinct site_id from problems
),

counted as (
    select
        site_id,
        count(*) filter (where status = 'open') as open_problems,
        median(age_days) filter (where status = 'open') as median_age_days,
        max(age_days) filter (where status = 'open') as oldest_age_days,
        count(*) filter (where status = 'fixed') as fixed_problems,
        median(days_to_fix) filter (where status = 'fixed') as median_days_to_fix,
    from problems
    group by site_id
),

final as (
    select
        sites.site_id,
        coalesce(counted.open_problems, 0)::bigint as open_problems,
        counted.median_age_days::double as median_age_days,
        counted.oldest_age_days::bigint as oldest_age_days,
        coalesce(counted.fixed_problems, 0)::bigint as fixed_problems,
        counted.median_days_to_fix::double as median_days_to_fix,
    from sites
    left join counted using (site_id)
    where len($sites::varchar[]) = 0 or list_contains($sites::varchar[], sites.site_id)
)

select * from final
order by open_problems desc, site_id
"""  # noqa: S608 - a constant filter of bound values

PROBLEM_SITES_SQL = """
select distinct site_id from files where status <> 'refused' and site_id is not null
union
select distinct site_id from problems where site_id is not null
order by site_id
"""


def release_tables(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """The tables and views the release holds (an older release lacks the newer ones)."""
    rows = con.sql("select table_name from information_schema.tables where table_schema = 'main'").fetchall()
    return frozenset(name for (name,) in rows)


def has_tracking(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the release tracks problems and every run's files (`problems`, `run_files`)."""
    return set(TRACKING_TABLES) <= release_tables(con)


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


def run_history(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every recorded run, newest first, with its totals and whether it built this release."""
    return with_run_labels(con.sql(RUNS_SQL).pl()).select(RUN_COLUMNS)


def run_files(con: duckdb.DuckDBPyConnection, run_id: str) -> pl.DataFrame:
    """The row accounting of every file of one run: read = loaded + quarantined + duplicate.

    From `run_files`; a release without it knows only its own run's files (`files`).
    """
    source = "run_files" if "run_files" in release_tables(con) else "files"
    return con.sql(RUN_FILES_SQL.format(source=source), params={"run_id": run_id}).pl()


def freshness(
    con: duckdb.DuckDBPyConnection, today: date, stale_after_days: int = STALE_AFTER_DAYS
) -> pl.DataFrame:
    """Each site's export in force of each table, and the days from its acceptance to `today`.

    One row per site with an accepted export and per contract table: site_id, table_name,
    path, accepted_at, accepted_on, days_since, refused_files (files of this site and table the
    release's run refused; the export in force stays), optional, state: up to date; stale
    (accepted more than `stale_after_days` days before `today`); missing (never accepted);
    not sent (optional) for an optional table never sent; unreadable (the archived export in
    force could not be read).
    """
    accepted = con.sql(ACCEPTED_SQL, params={"today": today}).pl()
    sites = accepted.select(pl.col("site_id").unique().sort())
    grid = sites.join(pl.DataFrame({"table_name": list(TABLES)}), how="cross")
    # A refused file of a (site, table) with nothing in force still says so.
    refused = con.sql(REFUSED_BY_TABLE_SQL).pl()
    frame = (
        grid.join(accepted, on=["site_id", "table_name"], how="left", maintain_order="left")
        .join(refused, on=["site_id", "table_name"], how="left", maintain_order="left")
        .with_columns(
            pl.col("refused_files").fill_null(0).cast(pl.Int64),
            pl.col("days_since").cast(pl.Int64),
            pl.col("table_name").is_in(list(OPTIONAL_TABLES)).alias("optional"),
        )
    )
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


def refused_files(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The files of the release's run with an error: refused, or archived but unreadable now."""
    return con.sql(REFUSED_SQL).pl()


def refusal_history(con: duckdb.DuckDBPyConnection, limit: int = 200) -> pl.DataFrame:
    """Refusals across runs, one row per file and message: first and last as-of date, runs.

    A refused file stays in the inbox, so each run refuses it again until it is replaced.
    """
    return con.sql(REFUSAL_HISTORY_SQL, params={"limit": limit}).pl()


def quarantine_by_run(con: duckdb.DuckDBPyConnection, by_site: bool = False) -> pl.DataFrame:
    """Rows quarantined and rows read at each run, oldest first, program-wide or by site.

    Columns: run_id, run_label, started_at, as_of, status, site_id ('all' program-wide),
    rows_quarantined, rows_read, share (quarantined / read; null when nothing was read).
    """
    sql = QUARANTINE_BY_RUN_AND_SITE_SQL if by_site else QUARANTINE_BY_RUN_SQL
    frame = con.sql(sql).pl()
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


def problem_sites(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The sites to filter problems by: those with an accepted export or a problem."""
    return [site for (site,) in con.sql(PROBLEM_SITES_SQL).fetchall()]


def open_problems(
    con: duckdb.DuckDBPyConnection, sites: Sequence[str] = (), tables: Sequence[str] = ()
) -> pl.DataFrame:
    """The open problems, oldest first, of the chosen sites and tables (empty: all)."""
    return con.sql(OPEN_PROBLEMS_SQL, params={"sites": list(sites), "tables": list(tables)}).pl()


def fixed_problems(
    con: duckdb.DuckDBPyConnection, sites: Sequence[str] = (), tables: Sequence[str] = (), limit: int = 500
) -> pl.DataFrame:
    """The problems fixed, most recently fixed first (at most `limit`), with the days to fix."""
    return con.sql(
        FIXED_PROBLEMS_SQL, params={"sites": list(sites), "tables": list(tables), "limit": limit}
    ).pl()


def problem_summary(
    con: duckdb.DuckDBPyConnection, sites: Sequence[str] = (), tables: Sequence[str] = ()
) -> pl.DataFrame:
    """Per site: open problems, their median and oldest age, problems fixed, median days to fix.

    Every site with an accepted export has a row, with 0 open and 0 fixed when it has none.
    """
    return con.sql(PROBLEM_SUMMARY_SQL, params={"sites": list(sites), "tables": list(tables)}).pl()


def open_problems_csv(problems: pl.DataFrame) -> bytes:
    """Open problems as a CSV a site's data coordinator opens in a spreadsheet (formula-safe)."""
    return csv_bytes(problems.select(PROBLEM_COLUMNS))


def style(figure: go.Figure, height: int) -> go.Figure:
    """The look every chart of the page shares."""
    figure.update_layout(
        colorway=list(OKABE_ITO),
        font={"family": FONT_FAMILY},
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        height=height,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
    )
    return figure


def count_axis(top: int) -> dict[str, object]:
    """A count axis from 0: whole-number ticks, one per unit when the counts are small (all 0 too)."""
    axis: dict[str, object] = {"tickformat": ",d", "rangemode": "tozero"}
    if top <= SMALL_COUNT:
        axis |= {"dtick": 1, "range": [0, max(top, 1) * 1.05]}
    return axis


def quarantine_chart(frame: pl.DataFrame) -> go.Figure:
    """Rows quarantined per run, oldest run on the left; stacked by site when `frame` has sites.

    `frame` is `quarantine_by_run` (after `lump_sites` when by site).
    """
    runs = frame.select("run_label", "started_at", "run_id").unique("run_id").sort("started_at", "run_id")
    order = runs["run_label"].to_list()
    sites = frame["site_id"].unique(maintain_order=True).to_list()
    named = [site for site in sites if site not in ("all", OTHER_SITES)]
    figure = go.Figure()
    for index, site in enumerate([*named, *[s for s in sites if s in ("all", OTHER_SITES)]]):
        part = frame.filter(pl.col("site_id") == site)
        if site == OTHER_SITES:
            colour = OTHER_COLOUR
        else:
            colour = SITE_COLOURS[index % len(SITE_COLOURS)]
        figure.add_trace(
            go.Bar(
                x=part["run_label"].to_list(),
                y=part["rows_quarantined"].to_list(),
                name="All sites" if site == "all" else site,
                marker={"color": colour},
                customdata=part.select("rows_read", pl.col("share").fill_null(0.0), "status").rows(),
                hovertemplate=(
                    "%{x}<br>%{fullData.name}: %{y:,} rows quarantined"
                    "<br>of %{customdata[0]:,} read (%{customdata[1]:.1%})<extra></extra>"
                ),
            )
        )
    figure.update_layout(barmode="stack", showlegend=sites != ["all"])
    figure.update_xaxes(
        title_text="Nightly run (as-of date)", type="category", categoryorder="array", categoryarray=order
    )
    top = frame.group_by("run_id").agg(pl.col("rows_quarantined").sum())["rows_quarantined"].max() or 0
    figure.update_yaxes(title_text="Rows quarantined", **count_axis(int(top)))
    return style(figure, 340)


def problems_chart(summary: pl.DataFrame) -> go.Figure:
    """Open and fixed problems per site, side by side; the site with most open problems on top."""
    # Plotly draws the first category at the bottom: reverse, so the table's first row is on top.
    shown = summary.reverse()
    figure = go.Figure()
    # Within a site too the first trace is drawn lowest: Fixed first puts Open on top; the
    # legend, reversed, still reads Open, Fixed.
    for column, name, colour in (
        ("fixed_problems", "Fixed", FIXED_COLOUR),
        ("open_problems", "Open", OPEN_COLOUR),
    ):
        figure.add_trace(
            go.Bar(
                x=shown[column].to_list(),
                y=shown["site_id"].to_list(),
                name=name,
                orientation="h",
                marker={"color": colour},
                hovertemplate="%{y}: %{x:,} " + name.lower() + " problems<extra></extra>",
            )
        )
    figure.update_layout(barmode="group", legend={"traceorder": "reversed"})
    top = max(summary["open_problems"].max() or 0, summary["fixed_problems"].max() or 0)
    figure.update_xaxes(title_text="Problems", **count_axis(int(top)))
    figure.update_yaxes(title_text="Site", type="category")
    return style(figure, max(240, 60 + 40 * summary.height))
