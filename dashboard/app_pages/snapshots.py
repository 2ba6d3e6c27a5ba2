"""Snapshots: the catalog of frozen funder snapshots, each on screen and downloadable; for
leadership, creating one and comparing one with today's data (the restatement view).

A funder sees only what a snapshot published: never today's release, since two published
tables side by side can reveal small changes. Every view is audited before data is shown, and a
snapshot's numbers and files are shown only once every file is checked against its manifest and the
manifest against the audit log (pipelines/funder/integrity.py); a changed snapshot shows why, and
nothing of it.
"""

from __future__ import annotations

import duckdb
import polars as pl
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboard import access, cache
from dashboard.access import Viewer
from dashboard.charts.snapshots import snapshot_chart
from dashboard.formatting import md_text
from dashboard.page import show_chart
from dashboard.queries import snapshots
from pipelines.core.audit import AuditUnavailable
from pipelines.core.metrics import SMALL_COUNT
from pipelines.core.settings import Home, resolve_home
from pipelines.funder import names
from pipelines.funder.catalog import DOWNLOADS, Entry, catalog, load_metrics
from pipelines.funder.integrity import Checked, check_snapshots
from pipelines.funder.restate import InvalidSnapshot
from pipelines.funder.snapshot import NoRelease, SnapshotRefused, take_snapshot

PAGE = "snapshots"
CHOSEN = "snap-id"
NO_SNAPSHOTS = "No snapshot has been published yet."
HOW_TO_CREATE = (
    "Create one under “Create a snapshot” above once a quarter is complete in the live release, "
    "or run `outcomes snapshot --period YYYY-Qn`."
)
NO_RELEASE_TO_CREATE = (
    "There is no live release to take a snapshot from: run `outcomes nightly` first. "
    "Published snapshots stay readable below."
)
NO_RELEASE_TO_COMPARE = (
    "There is no live release to compare this snapshot with: run `outcomes nightly` first."
)
METHOD = f"""
**What a snapshot is.** A complete quarter frozen from the release it was taken from: each month
and the quarter as a whole, for all participants and by cohort, referral type, site, race, gender
and age band, with all participants' numbers of the quarter before and of the same quarter a year
earlier. It is never changed afterwards; a correction is a new snapshot.

**The quarter is not a fourth month.** It counts each participant once over its three months, so
it is drawn apart from the months, and its percentage can be higher than any month's.

**Suppression.** A snapshot is made to be shared outside the program, so it never shows a count
from 1 to {SMALL_COUNT - 1}, nor a rate on fewer than {SMALL_COUNT} people, nor a number that could be
worked out from the others and the totals. Such a cell reads “{names.HIDDEN}” in the table, and in
the chart its group keeps its place with that mark and no bar. The other pages draw a rate on fewer
than {SMALL_COUNT} people as a hollow point instead; here it is never drawn at all.
"""


def create(home: Home, who: Viewer) -> None:
    """Leadership: freeze a complete quarter of the live release into a new snapshot (its creation is
    audited, with its manifest's hash, by take_snapshot)."""
    st.subheader("Create a snapshot")
    path = cache.current_release()
    if path is None:
        st.info(NO_RELEASE_TO_CREATE, icon=":material/info:")
        return
    try:
        choices = cache.fetch(path, snapshots.creatable_quarters)
    except duckdb.Error as error:
        st.error(f"The live release could not be read ({type(error).__name__}).")
        return
    if not choices:
        st.info("The live release has no complete quarter with data yet.", icon=":material/info:")
        return
    st.caption(
        "A snapshot freezes a complete quarter of the live release, suppressed for funders. It is "
        "never changed afterwards: a correction is a new snapshot."
    )
    period = st.selectbox("Quarter", choices, format_func=names.period_label, key="snap-create-period")
    if not st.button("Create snapshot", key="snap-create", type="primary"):
        return
    try:
        with st.spinner(f"Freezing {period}: metrics, report and PDF…"):
            folder = take_snapshot(home, period, by=(who.user, who.role))
    except (SnapshotRefused, NoRelease, FileExistsError) as error:
        st.error(md_text(error))
        return
    except AuditUnavailable as error:
        st.error(access.AUDIT_FAILED.format(error=md_text(error)))
        return
    # The selector below is drawn later in this run, so it can start on the new snapshot.
    st.session_state[CHOSEN] = folder.name
    st.success(f"Snapshot {md_text(folder.name)} created.", icon=":material/check_circle:")


def show_metric(entry: Entry, table: pl.DataFrame) -> None:
    """One metric by period for one dimension: chart, then the same numbers in a table."""
    metrics = snapshots.metrics_in(table)
    left, right = st.columns(2)
    metric = left.selectbox(
        "Metric", metrics, format_func=lambda m: snapshots.metric_label(entry, m), key="snap-metric"
    )
    dimension = right.selectbox(
        "Broken down by",
        snapshots.dimensions_in(table, metric),
        format_func=names.dimension_label,
        key="snap-dimension",
    )
    rows = snapshots.metric_rows(table, metric, dimension)
    shown = snapshots.display_table(rows, metric, dimension)
    access.audit(
        "page_view",
        PAGE,
        filters={"metric": metric, "dimension": dimension},
        snapshot=entry.snapshot_id,
        rows=shown.height,
    )
    label = snapshots.metric_label(entry, metric)
    numerator, denominator = snapshots.metric_definition(entry, metric)
    st.subheader(md_text(label))
    st.caption(f"Numerator: {md_text(numerator)}; denominator: {md_text(denominator)}.")
    hidden = shown.filter(pl.col("reads_as") == snapshots.SUPPRESSED).height
    if hidden:
        st.caption(
            f"{hidden:,} of {shown.height:,} numbers read “{names.HIDDEN}”: they are not drawn and show no "
            f"numerator or value (a denominator of {SMALL_COUNT} or more stays). {names.HIDDEN_NOTE}"
        )
    show_chart(snapshot_chart(rows, metric, label, dimension), key="snap-chart")
    st.dataframe(
        shown,
        width="stretch",
        hide_index=True,
        key="snap-table",
        column_config={
            "period": st.column_config.TextColumn("Period"),
            "group": st.column_config.TextColumn("Group"),
            "numerator": st.column_config.TextColumn("Numerator"),
            "denominator": st.column_config.TextColumn("Denominator"),
            "value": st.column_config.TextColumn("Value (as in metrics.csv)"),
            "reads_as": st.column_config.TextColumn("Reads as"),
        },
    )


def downloads(entry: Entry, checked: Checked, rows: int) -> None:
    """The snapshot's files as checked: each written to the audit log as an export on click."""
    st.subheader("Downloads")
    present = [d for d in DOWNLOADS if d[0] in checked.files]
    columns = st.columns(len(DOWNLOADS))
    for column, (name, mime, label) in zip(columns, present, strict=False):
        with column:
            access.download(
                label,
                data=lambda content=checked.files[name]: content,
                file_name=f"snapshot-{entry.snapshot_id}-{name}",
                mime=mime,
                page=PAGE,
                rows=rows,
                snapshot=entry.snapshot_id,
                key=f"snap-download-{name}",
                icon=":material/download:",
            )
    missing = [label for name, _, label in DOWNLOADS if name not in checked.files]
    if missing:
        st.caption(f"Not in this snapshot: {', '.join(missing)}.")


def show_restatement(home: Home, entry: Entry) -> None:
    """Leadership: which of the snapshot's numbers today's data would change, and which files did it."""
    st.subheader("Restatement: this snapshot against today's data")
    path = cache.current_release()
    if path is None:
        st.info(NO_RELEASE_TO_COMPARE, icon=":material/info:")
        return
    try:
        # Suppressing today's quarter takes seconds on a small program (its exact check).
        with st.spinner("Recomputing the quarter from today's data…"):
            result = cache.restatement(str(path), str(home.root), str(entry.folder))
    except (InvalidSnapshot, NoRelease) as error:
        st.error(md_text(error))
        return
    except duckdb.Error as error:
        st.error(f"The live release could not be read ({type(error).__name__}).")
        return
    access.audit(
        "page_view",
        PAGE,
        filters={"view": "restatement"},
        snapshot=entry.snapshot_id,
        rows=result.numbers.height + result.files.height,
    )
    st.caption(
        f"Today's numbers are computed and suppressed exactly as a new snapshot of {md_text(result.period)} "
        f"would be: as of {md_text(result.now.as_of)} (run {md_text(result.now.run_id)}), metric definitions "
        f"{md_text(result.now.metrics_version)}; the snapshot is as of {md_text(result.then.as_of)} (run "
        f"{md_text(result.then.run_id)}), metric definitions {md_text(result.then.metrics_version)}."
    )
    if result.numbers.is_empty() and result.files.is_empty():
        st.success(md_text(result.summary()), icon=":material/check_circle:")
        return
    st.info(md_text(result.summary()), icon=":material/difference:")
    if not result.numbers.is_empty():
        st.markdown("**Numbers that changed**")
        st.dataframe(
            snapshots.restated_numbers(result.numbers),
            width="stretch",
            hide_index=True,
            key="snap-restated-numbers",
            column_config={
                c: st.column_config.TextColumn(c.replace("_", " ").capitalize())
                for c in result.numbers.columns
            },
        )
    if not result.files.is_empty():
        st.markdown("**Files that changed**")
        st.dataframe(
            snapshots.restated_files(result.files),
            width="stretch",
            hide_index=True,
            key="snap-restated-files",
            column_config={
                c: st.column_config.TextColumn(c.replace("_", " ").capitalize()) for c in result.files.columns
            },
        )
    st.caption(
        "A site's numbers (broken down by site) are attributed to that site's changed files; every "
        "other number to all changed files. To publish today's numbers, create a new snapshot: this "
        "one is never changed."
    )


def show_snapshot(home: Home, who: Viewer, entry: Entry, checked: Checked, opening: DeltaGenerator) -> None:
    """One snapshot, once checked: what it found (in `opening`, at the top of the page), its
    source, suppression rule, a metric at a time, its files."""
    if not checked.intact:
        st.error(snapshots.not_intact(checked), icon=":material/gpp_bad:")
        return
    try:
        table = load_metrics(checked.files["metrics.csv"])
    except (OSError, ValueError, pl.exceptions.PolarsError) as error:
        st.error(f"Snapshot {md_text(entry.snapshot_id)} cannot be read: {md_text(error)}")
        return
    found = snapshots.finding(entry, table)
    if found:
        opening.markdown(md_text(found))
    st.subheader(f"Snapshot {md_text(entry.snapshot_id)}")
    st.dataframe(
        snapshots.manifest_summary(entry, table.height),
        width="stretch",
        hide_index=True,
        key="snap-manifest",
    )
    with st.expander("How this is calculated"):
        st.markdown(METHOD)
        rule = entry.manifest.get("suppression_rule")
        if rule:
            st.caption(f"The snapshot's own statement of its suppression rule: {md_text(rule)}")
    if table.is_empty():
        st.info("This snapshot has no rows.", icon=":material/info:")
    else:
        show_metric(entry, table)
    downloads(entry, checked, table.height)
    if who.role == "leadership":
        show_restatement(home, entry)


def main() -> None:
    """The page: for leadership the create control first, so a new snapshot is in the catalog at once."""
    st.title("Snapshots")
    opening = st.container()  # what the chosen snapshot found, once it is checked
    who = access.viewer()
    home = resolve_home()
    leader = who.role == "leadership"
    if leader:
        create(home, who)
    entries = catalog(home)
    access.audit("page_view", PAGE, filters={"view": "catalog"}, snapshot=None, rows=len(entries))
    checks = check_snapshots(home, [e.folder for e in entries])
    st.subheader("Catalog")
    if not entries:
        st.info(f"{NO_SNAPSHOTS} {HOW_TO_CREATE}" if leader else NO_SNAPSHOTS, icon=":material/info:")
        return
    st.dataframe(
        snapshots.catalog_table(entries, checks),
        width="stretch",
        hide_index=True,
        key="snap-catalog",
        column_config={
            "snapshot_id": st.column_config.TextColumn("Snapshot"),
            "period": st.column_config.TextColumn("Quarter"),
            "created_at": st.column_config.TextColumn("Created (UTC)"),
            "as_of": st.column_config.TextColumn("Data as of"),
            "run_id": st.column_config.TextColumn("Nightly run"),
            "files": st.column_config.TextColumn("Files"),
            "status": st.column_config.TextColumn("Checked"),
        },
    )
    ids = [e.snapshot_id for e in entries]
    if st.session_state.get(CHOSEN) not in ids:
        st.session_state[CHOSEN] = ids[0]
    chosen = st.selectbox("Snapshot", ids, key=CHOSEN)
    show_snapshot(home, who, next(e for e in entries if e.snapshot_id == chosen), checks[chosen], opening)


main()
