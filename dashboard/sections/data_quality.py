"""The Data quality page's shared tables, its opening summary per site and its technical detail
(the run history and each run's files: run IDs and archive paths), in a module of their own so the
page stays a layout of at most 450 lines."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import streamlit as st

from checks.labels import labelled
from dashboard import cache
from dashboard.formatting import PROBLEM_VOCABULARIES
from dashboard.queries import data_quality as dq
from dashboard.queries.quality_summary import overall_sentence, site_quality
from pipelines.core.scope import Scope


def count(label: str) -> st.column_config.NumberColumn:
    return st.column_config.NumberColumn(label, format="localized")


# The columns the page's tables share, labelled once (every problems table: PROBLEMS_CONFIG).
LABELS = {
    "site_id": st.column_config.TextColumn("Site"),
    "table_name": st.column_config.TextColumn("Table"),
    "status": st.column_config.TextColumn("Status"),
    "error": st.column_config.TextColumn("Error"),
    "rows_read": count("Rows read"),
    "rows_loaded": count("Loaded"),
    "rows_quarantined": count("Quarantined"),
    "rows_duplicate": count("Duplicates"),
}


def show_table(
    frame: pl.DataFrame, key: str, config: dict, height: int | None = None, codes: dict | None = None
) -> None:
    """A table of the page, as wide as the page, without the index: tables and rules (and the
    `codes` columns, column -> vocabulary) read as their labels, an empty cell as blank."""
    shown = labelled(frame, PROBLEM_VOCABULARIES | (codes or {}))
    options = {"width": "stretch", "hide_index": True, "placeholder": "", "key": key}
    st.dataframe(shown, height=height or "auto", column_config=config, **options)


def show_runs(path: Path, scope: Scope) -> None:
    """Every run, newest first; then the row accounting of the files of the run chosen."""
    st.header("Run history")
    st.caption(
        "Each nightly run, newest first. Rows read: the data rows of every export in force at that run "
        "(each run reads them all again). Every row read is loaded, quarantined (held back with a "
        "reason) or counted once as an exact duplicate. Files: exports read; refused: files not taken."
    )
    runs = cache.fetch(path, dq.run_history, scope)
    if runs.is_empty():
        st.info("This release records no runs.", icon=":material/info:")
        return
    # The numbers before the long run id, so they show without scrolling sideways.
    shown = runs.select(pl.exclude("run_id", "run_label"), "run_id")
    config = LABELS | {
        "run_id": st.column_config.TextColumn("Run"),
        "started_at": st.column_config.DatetimeColumn("Started (UTC)", format="YYYY-MM-DD HH:mm"),
        "as_of": st.column_config.DateColumn("As of"),
        "published": st.column_config.CheckboxColumn("Published"),
        "in_release": st.column_config.CheckboxColumn("This release", help="The run that built the release"),
        "files": count("Files"),
        "files_refused": count("Refused files"),
    }
    show_table(shown, "dq-runs", config, min(38 + 35 * runs.height, 320), {"status": "run_status"})
    labels = dict(zip(runs["run_id"], runs["run_label"], strict=True))
    run_id = st.selectbox(
        "Files of the run",
        runs["run_id"].to_list(),
        format_func=lambda run: f"{labels[run]} · {run}",
        key="dq-run",
    )
    files = cache.fetch(path, dq.run_files, scope, run_id)
    st.caption(
        "Every file of the run: new (accepted this run), unchanged (sent again, the same content), "
        "in force (accepted earlier, still the latest), refused, waiting (still being written when the "
        "run looked: a later run takes it) or held (fewer than half the rows of the export in force: "
        "see Refused files). For each file rows read = loaded + quarantined + duplicates; blank rows "
        "are skipped and not counted as read."
    )
    if files.is_empty():
        st.info("No file was recorded for this run.", icon=":material/info:")
        return
    if not files["adds_up"].all():
        st.warning("The row counts of some files do not add up: see the Adds up column.")
    config = LABELS | {
        "path": st.column_config.TextColumn("File"),
        "accepted_at": st.column_config.TextColumn("Accepted (UTC)"),
        "blank_rows": count("Blank rows"),
        "adds_up": st.column_config.CheckboxColumn(
            "Adds up", help="Read = loaded + quarantined + duplicates"
        ),
    }
    show_table(files, "dq-run-files", config, codes={"status": "file_status"})


def show_summary(path: Path, scope: Scope, today: date) -> None:
    """Each site in plain sentences: fresh or stale, open problems by table, time to fix."""
    st.header("Summary by site")
    sites = cache.fetch(path, site_quality, scope, today)
    st.markdown(overall_sentence(sites))
    if sites:
        st.markdown("\n".join(f"- {site.sentence()}" for site in sites))
    st.caption(
        f"Up to date: every export the site must send was accepted in the last {dq.STALE_AFTER_DAYS} "
        f"days (to today, {today:%Y-%m-%d}, UTC); stale: one is older, never accepted or unreadable. "
        "Open problems: rows held back from the release for a reason the site can fix; time to fix: "
        "the median days from the run that first saw a problem to the first run that no longer did."
    )
