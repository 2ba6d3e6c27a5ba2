"""Data quality: for leadership, a plain summary per site first (fresh or stale, open problems by
table, time to fix), then freshness per site and table, refused files, rows quarantined over runs
and the data problems tracked across runs; the run history and each run's files (run IDs, archive
paths) in an expander, "Technical detail". A case manager sees their site's freshness and their
participants' problems. With nothing quarantined or no problem recorded, a sentence says so
instead of an empty chart.

Layout only: data from dashboard.queries.data_quality (and quality_summary) through cache.fetch,
bound to the viewer's Scope; figures from dashboard.charts.data_quality; the shared tables, the
summary and the technical detail from dashboard.sections.data_quality.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import streamlit as st

from checks.labels import label
from dashboard import access, cache
from dashboard.charts.data_quality import problems_chart, quarantine_chart
from dashboard.formatting import PROBLEMS_CONFIG, md_text, problems_csv_frame
from dashboard.page import release_page, show_chart
from dashboard.queries import data_quality as dq
from dashboard.queries.caseload import caseload_problems
from dashboard.queries.release import Release
from dashboard.scope import scope_of
from dashboard.sections.data_quality import LABELS, count, show_runs, show_summary, show_table
from pipelines.core.problems import NOT_TRACKED
from pipelines.core.scope import Scope, ScopeError

ALL_SITES = "All sites"
OPEN_ROWS_SHOWN = 5_000
FIXED_ROWS_SHOWN = 500
REFUSALS_SHOWN = 200
PROBLEM_CHART_SITES = 20
NOTHING_QUARANTINED = "No row has been quarantined at any run: every row read was loaded."
METHOD = f"""
**Fresh or stale.** For each site and table, the days from the acceptance of the export in force
(the latest one accepted) to today. Stale: accepted more than {dq.STALE_AFTER_DAYS} days ago. Missing:
no export of that table was ever accepted. The justice table is optional: a site that sends none
is shown as not sent, not as a fault. A refused file leaves the export before it in force.

**Data problems.** A problem is a row the nightly could not load, with its reason: the site, table,
participant, column, rule and value. It is followed from night to night: open while the exports in
force still show it, fixed at the first night whose exports no longer do. First seen and fixed on
are the dates of those nights' data; a problem's age is the days from first seen to this release's
data date. Time to fix: the median days from first seen to fixed, over the problems fixed so far.

**Quarantined rows.** Rows each night set aside with their reason, counted per table and night;
nothing is dropped silently: every row read is loaded, set aside or counted as an exact duplicate.
"""
NO_PROBLEMS = "There are no data problems for these filters: none is open and none has been recorded."


def show_freshness(path: Path, scope: Scope, today: date) -> None:
    """Days since each export in force of each table at the scope's site(s) was accepted."""
    st.header("Freshness")
    st.caption(f"Days since each site's latest accepted export of each table, to today ({today:%Y-%m-%d}).")
    fresh = cache.fetch(path, dq.freshness, scope, today)
    if fresh.is_empty():
        st.info("No export has been accepted yet.", icon=":material/info:")
        return
    counts = dq.freshness_counts(fresh)
    columns = st.columns(4)
    for column, (title, number) in zip(
        columns,
        (
            ("Up to date", counts[dq.UP_TO_DATE]),
            (f"Stale (> {dq.STALE_AFTER_DAYS} days)", counts[dq.STALE]),
            ("Missing or unreadable", counts[dq.MISSING] + counts[dq.UNREADABLE]),
            ("Optional, not sent", counts[dq.NOT_SENT]),
        ),
        strict=True,
    ):
        column.metric(title, f"{number:,}", border=True)
    show_table(
        fresh.drop("optional", "accepted_at", "path"),  # the archive path: Technical detail
        "dq-freshness",
        LABELS
        | {
            "state": st.column_config.TextColumn("State"),
            "days_since": count("Days since accepted"),
            "accepted_on": st.column_config.DateColumn("Accepted on (UTC)"),
            "accepted_at": st.column_config.TextColumn("Accepted at (UTC)"),
            "path": st.column_config.TextColumn("Export in force"),
            "refused_files": count("Refused"),
        },
    )


def show_refusals(path: Path, scope: Scope, tracked: bool) -> None:
    """The files the release's run refused or held, with why and how to accept a held one; and the
    refusals of earlier runs."""
    st.header("Refused files")
    st.caption(
        "A file refused as a whole (unreadable, a required column missing, an unknown column, direct "
        "identifiers) is left in the inbox and the previous export of that site and table stays in force. "
        "Replace the file with a corrected one; the next run takes it. So is an export held because it "
        "has fewer than half the rows of the export in force: a truncated export must not replace a "
        "complete one without a word."
    )
    for site_id, table_name, _, error in cache.fetch(path, dq.held_exports, scope).iter_rows():
        held = f"{site_id}: {label('table', table_name)} is held: {error}"
        st.warning(md_text(held), icon=":material/pause_circle:")
    latest = cache.fetch(path, dq.refused_files, scope)
    history = cache.fetch(path, dq.refusal_history, scope, REFUSALS_SHOWN) if tracked else None
    config = LABELS | {
        "path": st.column_config.TextColumn("File"),
        "error": st.column_config.TextColumn("Why", width="large"),
        "first_refused": st.column_config.DateColumn("First refused (as of)"),
        "last_refused": st.column_config.DateColumn("Last refused (as of)"),
        "runs": count("Runs"),
        "last_started_at": None,
    }
    st.subheader("In the run that built this release")
    if latest.is_empty():
        st.info("The run that built this release refused no file.", icon=":material/info:")
    else:
        show_table(latest, "dq-refused", config, codes={"status": "file_status"})
    st.subheader("Across runs")
    if history is None:
        st.info(dq.NO_TRACKING, icon=":material/info:")
    elif history.is_empty():
        st.info("No run has refused a file.", icon=":material/info:")
    else:
        st.caption(
            "Each refused file once per message, with the runs that refused it, latest first "
            f"(at most {REFUSALS_SHOWN})."
        )
        show_table(history, "dq-refusals", config, codes={"status": "file_status"})


def show_quarantine(path: Path, scope: Scope, tracked: bool) -> None:
    """Rows quarantined at each run: a bar chart, program-wide or by site, and its table."""
    st.header("Quarantined rows over runs")
    by_site = st.toggle("By site", value=False, key="dq-by-site", disabled=not tracked)
    frame = cache.fetch(path, dq.quarantine_by_run, scope, by_site and tracked)
    frame = dq.lump_sites(frame) if by_site and tracked else frame
    st.caption(
        "Rows quarantined: data rows of the exports in force at a run that broke a rule of the export "
        "contract and were held back, not loaded. Share: rows quarantined ÷ rows read at that run. Each "
        "run reads every export in force again, so a row stays counted at every run until a new export "
        "fixes it."
        + (
            f" By site: the {dq.NAMED_SITES} sites with the most rows quarantined by name, the others "
            f"added up as “{dq.OTHER_SITES}”."
            if by_site and dq.OTHER_SITES in frame["site_id"]
            else ""
        )
    )
    if frame.is_empty():
        st.info("This release records no runs with rows read.", icon=":material/info:")
        return
    if not frame["rows_quarantined"].sum():
        st.success(NOTHING_QUARANTINED, icon=":material/check_circle:")
        return
    chart, table = st.columns([3, 2])
    with chart:
        show_chart(quarantine_chart(frame), key="dq-quarantine-chart")
    with table:
        shown = frame.sort("started_at", "run_id", descending=True, maintain_order=True).with_columns(
            pl.col("share") * 100
        )
        columns = ["run_label", "site_id", "rows_quarantined", "rows_read", "share", "status"]
        config = LABELS | {
            "run_label": st.column_config.TextColumn("Run (as of)"),
            "share": st.column_config.NumberColumn("Share", format="%.1f%%"),
            "status": st.column_config.TextColumn("Run status"),
        }
        shown = shown.select(columns if by_site else [c for c in columns if c != "site_id"])
        height = min(38 + 35 * shown.height, 340)
        show_table(shown, "dq-quarantine-table", config, height, {"status": "run_status"})


def problem_filters(path: Path, scope: Scope) -> tuple[Scope, tuple[str, ...], str]:
    """The site (narrowing the scope) and tables the user picks (empty: all), and a name for the
    download."""
    site_column, table_column = st.columns([1, 2])
    site_list = cache.fetch(path, dq.problem_sites, scope)
    site = site_column.selectbox("Site", [ALL_SITES, *site_list], key="dq-problem-site")
    tables = table_column.multiselect(
        "Tables",
        list(dq.TABLES),
        format_func=lambda table: label("table", table),
        placeholder="All tables",
        key="dq-problem-tables",
    )
    chosen = scope if site == ALL_SITES else scope.narrow(site_id=site)
    name = "all-sites" if site == ALL_SITES else site
    return chosen, tuple(tables), name


def problem_lists(path: Path, scope: Scope, tables: tuple[str, ...]) -> tuple[pl.DataFrame, ...]:
    """The summary per site, the open problems and the fixed problems inside the scope."""
    return (
        cache.fetch(path, dq.problem_summary, scope, tables),
        cache.fetch(path, dq.open_problems, scope, tables),
        cache.fetch(path, dq.fixed_problems, scope, tables, FIXED_ROWS_SHOWN),
    )


def show_problems(path: Path, release: Release, scope: Scope) -> None:
    """Problems tracked across runs: a summary per site, the open ones with how to fix them, the fixed."""
    st.header("Data problems")
    st.caption("Rows the nightly could not load, followed from night to night until a new export fixes them.")
    scope, tables, name = problem_filters(path, scope)
    summary, open_rows, fixed_rows = problem_lists(path, scope, tables)
    sites = () if scope.site_id is None else (scope.site_id,)
    st.subheader("By site")
    st.caption(
        "Per site: open problems, the median and oldest age of the open ones in days, problems fixed, "
        "and the median days from first seen to fixed."
    )
    if summary.is_empty():
        st.info("No site matches these filters.", icon=":material/info:")
    elif not (summary["open_problems"].sum() or summary["fixed_problems"].sum()):
        st.success(NO_PROBLEMS, icon=":material/check_circle:")
    else:
        chart, table = st.columns([1, 1])
        with chart:
            show_chart(problems_chart(summary.head(PROBLEM_CHART_SITES)), key="dq-problems-chart")
            if summary.height > PROBLEM_CHART_SITES:
                st.caption(f"The {PROBLEM_CHART_SITES} sites with the most open problems; the table has all.")
        with table:
            show_table(
                summary,
                "dq-problem-summary",
                {
                    "site_id": LABELS["site_id"],
                    "open_problems": count("Open"),
                    "median_age_days": st.column_config.NumberColumn(
                        "Median age", help="Median age of the open problems, in days", format="%.1f"
                    ),
                    "oldest_age_days": st.column_config.NumberColumn(
                        "Oldest", help="Age of the oldest open problem, in days", format="localized"
                    ),
                    "fixed_problems": count("Fixed"),
                    "median_days_to_fix": st.column_config.NumberColumn(
                        "Days to fix", help="Median days from first seen to fixed", format="%.1f"
                    ),
                },
            )
    st.subheader("Open problems")
    if open_rows.is_empty():
        st.info("No open problem for these filters.", icon=":material/info:")
    else:
        st.caption(
            f"{open_rows.height:,} open, oldest first. Row: the spreadsheet row of the latest file that "
            "shows it (the header is row 1). Fix it in the site's system and send a new export."
            + (
                f" The first {OPEN_ROWS_SHOWN:,} are shown; the CSV has all."
                if open_rows.height > OPEN_ROWS_SHOWN
                else ""
            )
        )
        show_table(open_rows.head(OPEN_ROWS_SHOWN), "dq-open-problems", PROBLEMS_CONFIG)
        access.downloads(
            f"Download open problems, {'all sites' if not sites else sites[0]}",
            data=lambda: dq.open_problems_frame(open_rows),
            file_name=f"open-problems-{name}-{release.as_of:%Y-%m-%d}.csv",
            sheet="Open problems",
            page="data-quality",
            rows=open_rows.height,
            filters={"sites": sites, "tables": tables},
            icon=":material/download:",
            key="dq-open-csv",
        )
    st.subheader("Fixed problems")
    if fixed_rows.is_empty():
        st.info("No problem has been fixed yet for these filters.", icon=":material/info:")
        return
    st.caption(
        f"Most recently fixed first (at most {FIXED_ROWS_SHOWN:,}). Days to fix: from the as-of date of "
        "the run that first saw it to that of the first run that no longer did."
    )
    config = PROBLEMS_CONFIG | {
        "fixed_on": st.column_config.DateColumn("Fixed on", format="YYYY-MM-DD"),
        "days_to_fix": count("Days to fix"),
    }
    show_table(fixed_rows, "dq-fixed-problems", config)


def show_own(path: Path, release: Release, scope: Scope) -> None:
    """A case manager's data quality: their site's exports and the problems in their own records."""
    site_id, case_manager_id = scope.site_id, scope.case_manager_id
    open_rows = cache.fetch(path, caseload_problems, scope)
    rows = 0 if open_rows is None else open_rows.height
    access.audit(
        "page_view",
        "data-quality",
        filters={"site_id": site_id, "case_manager_id": case_manager_id},
        rows=rows,
    )
    st.caption(
        f"Release as of {release.as_of:%Y-%m-%d}. The exports of {site_id}, and the data problems in the "
        f"records of {md_text(case_manager_id)}'s participants."
    )
    show_freshness(path, scope, datetime.now(UTC).date())
    with st.expander("How this is calculated"):
        st.markdown(METHOD)
    st.header("Data problems in your participants' records")
    if open_rows is None:
        st.info(NOT_TRACKED, icon=":material/info:")
        return
    if open_rows.is_empty():
        st.success("No open data problems in your participants' records.", icon=":material/check_circle:")
        return
    st.caption(
        f"{open_rows.height:,} open, oldest first. Row: the spreadsheet row of the latest file that shows "
        "it (the header is row 1). Fix it in the case-management system; it leaves this list after the "
        "next nightly run no longer sees it."
    )
    show_table(open_rows, "dq-own-problems", PROBLEMS_CONFIG)
    access.downloads(
        "Download your open problems",
        data=lambda: problems_csv_frame(open_rows),
        file_name=f"open-problems-{site_id}-{case_manager_id}-{release.as_of:%Y-%m-%d}.csv",
        sheet="Open problems",
        page="data-quality",
        rows=open_rows.height,
        filters={"site_id": site_id, "case_manager_id": case_manager_id},
        icon=":material/download:",
        key="dq-own-csv",
    )


def requested_problem_filters(scope: Scope) -> tuple[Scope, tuple[str, ...]]:
    """The problem filters this run will show, as the widgets hold them (their defaults at first)."""
    site = st.session_state.get("dq-problem-site", ALL_SITES)
    tables = tuple(st.session_state.get("dq-problem-tables", ()))
    return (scope if site == ALL_SITES else scope.narrow(site_id=site)), tables


def show_release(path: Path, release: Release) -> None:
    """The data quality of one release file: a case manager's own, or the whole program's."""
    who = access.viewer()
    try:
        scope = scope_of(who)
    except ScopeError:  # the demo's case manager before the release names any
        st.info("No site or caseload is given to you, so there is nothing to show.", icon=":material/info:")
        return
    if who.is_case_manager:
        show_own(path, release, scope)
        return
    tracked = cache.fetch(path, dq.has_tracking)
    chosen, tables = requested_problem_filters(scope)
    sites = () if chosen.site_id is None else (chosen.site_id,)
    open_count = cache.fetch(path, dq.open_problems, chosen, tables).height if tracked else 0
    access.audit(
        "page_view",
        "data-quality",
        filters={"problem_sites": sites, "problem_tables": tables, "run": st.session_state.get("dq-run")},
        rows=open_count,
    )
    today = datetime.now(UTC).date()
    st.caption(f"Release as of {release.as_of:%Y-%m-%d}.")
    show_summary(path, scope, today)
    show_freshness(path, scope, today)
    show_refusals(path, scope, tracked)
    show_quarantine(path, scope, tracked)
    if tracked:
        show_problems(path, release, scope)
    else:
        st.header("Data problems")
        st.info(dq.NO_TRACKING, icon=":material/info:")
    with st.expander("How this is calculated"):
        st.markdown(METHOD)
    # Engineering detail, for whoever runs the nightly: run IDs, every file's archive path.
    with st.expander("Technical detail"):
        st.caption(f"This release was built by run `{release.run_id}`.")
        show_runs(path, scope)


release_page("Data quality", show_release)
