"""Who may see what (DESIGN s.7): the access file, roles, page access, and the audit entry
that is written before any data is shown.

A real deployment signs people in with OpenID Connect (`st.login`); the access file
(`<home>/access.toml`, or `$OUTCOMES_ACCESS`) then says what each signed-in email may see:

    [[users]]
    email = "director@example.org"
    role = "leadership"

    [[users]]
    email = "worker@example.org"
    role = "case_manager"
    sites = ["north"]
    case_manager_id = "CM-07"

    [[users]]
    email = "officer@foundation.example"
    role = "funder"

    [[providers]]          # only for a provider that sends no email_verified claim
    issuer = "https://login.microsoftonline.com/<tenant-id>/v2.0"
    trust_unverified_email = true

Leadership sees the whole program; a case manager sees one site's caseload of one
case_manager_id; a funder sees snapshots only. A sign-in counts only when the provider says the
email is verified (`email_verified`), unless `[[providers]]` trusts that issuer's emails. The
viewer is worked out again on every run from the identity provider's claims and this file, never
from a widget; the pages pass its scope into their queries.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import PurePath
from typing import Any

import polars as pl
import streamlit as st

from pipelines.core import audit as audit_log
from pipelines.core.access_file import Viewer
from pipelines.core.export import XLSX_MIME, csv_bytes, xlsx_bytes
from pipelines.core.settings import Home, resolve_home

SESSION_KEY = "_outcomes_viewer"

# Every page: its key (its url_path), file (relative to app.py), title and icon.
PAGES = {
    "overview": ("app_pages/overview.py", "Overview", ":material/monitoring:"),
    "trends": ("app_pages/trends.py", "Trends", ":material/show_chart:"),
    "cohorts": ("app_pages/cohorts.py", "Cohorts", ":material/groups:"),
    "before-after": ("app_pages/before_after.py", "Before and after", ":material/compare_arrows:"),
    "impact": ("app_pages/impact.py", "Impact", ":material/query_stats:"),
    "equity": ("app_pages/equity.py", "Equity", ":material/balance:"),
    "caseload": ("app_pages/caseload.py", "Caseload", ":material/assignment_ind:"),
    "data-quality": ("app_pages/data_quality.py", "Data quality", ":material/fact_check:"),
    "snapshots": ("app_pages/snapshots.py", "Snapshots", ":material/inventory_2:"),
    "contract": ("app_pages/contract.py", "Data contract", ":material/description:"),
}
# Where each role lands.
HOME_PAGE = {"leadership": "overview", "case_manager": "caseload", "funder": "snapshots"}


def set_viewer(viewer: Viewer | None) -> None:
    """The router's record of who this run is for; pages read it with `viewer()`."""
    st.session_state[SESSION_KEY] = viewer


def viewer() -> Viewer:
    """The viewer of this run, set by the router before any page runs."""
    current = st.session_state.get(SESSION_KEY)
    if not isinstance(current, Viewer):
        # A page run without the router is a programming error, never a reason to show data.
        st.error("Not signed in.")
        st.stop()
    return current


AUDIT_FAILED = (
    "The audit log cannot be written, so no data is shown. Ask your administrator to check "
    "the audit folder (`outcomes audit verify`). ({error})"
)


def record(
    home: Home,
    who: Viewer,
    event: str,
    page: str,
    *,
    filters: dict | None = None,
    snapshot: str | None = None,
    rows: int | None = None,
) -> None:
    """One audit entry for `who`; raises AuditUnavailable if it cannot be written."""
    audit_log.record(
        home,
        event=event,
        user=who.user,
        role=who.role,
        page=page,
        filters=filters,
        snapshot=snapshot,
        rows=rows,
    )


def audit(
    event: str,
    page: str,
    *,
    filters: dict | None = None,
    snapshot: str | None = None,
    rows: int | None = None,
    who: Viewer | None = None,
) -> None:
    """Write the audit entry for this viewer now; if it cannot be written, show why and stop the run."""
    try:
        record(resolve_home(), who or viewer(), event, page, filters=filters, snapshot=snapshot, rows=rows)
    except audit_log.AuditUnavailable as error:
        st.error(AUDIT_FAILED.format(error=error))
        st.stop()


def download(
    label: str,
    data: Callable[[], bytes],
    *,
    file_name: str,
    mime: str,
    page: str,
    rows: int,
    filters: dict | None = None,
    snapshot: str | None = None,
    key: str | None = None,
    **kwargs: Any,
) -> None:
    """A download button whose file is made only on click, after its export entry is written.

    The file is built in Streamlit's deferred-download thread; if the audit log cannot be
    written there, the download fails and nothing leaves the server.
    """
    who = viewer()
    home = resolve_home()

    def audited() -> bytes:
        filters_and_file = {**(filters or {}), "file": file_name}
        record(home, who, "export", page, filters=filters_and_file, snapshot=snapshot, rows=rows)
        return data()

    st.download_button(
        label, data=audited, file_name=file_name, mime=mime, key=key, on_click="ignore", **kwargs
    )


def downloads(
    label: str,
    data: Callable[[], pl.DataFrame | bytes],
    *,
    file_name: str,
    page: str,
    rows: int,
    filters: dict | None = None,
    key: str,
    sheet: str | None = None,
    percent: Sequence[str] = (),
    per_hundred: Sequence[str] = (),
    mime: str = "text/csv",
    **kwargs: Any,
) -> None:
    """The table's two downloads side by side, "{label} (CSV)" and "{label} (Excel)", each made
    only on click after its own export entry (naming its file) is written, as `download` does.

    `data` gives the table under the headers people read, or its CSV bytes (read back for the
    workbook, dates as dates). `file_name` is the CSV's; the workbook's ends in .xlsx. `percent`
    columns hold shares (0.25), `per_hundred` columns percents (25.0): Excel shows both as 25.0%.
    """
    stem = PurePath(file_name).stem
    sheet_title = sheet or "Data"

    def as_csv() -> bytes:
        made = data()
        return made if isinstance(made, bytes) else csv_bytes(made)

    def as_xlsx() -> bytes:
        made = data()
        if isinstance(made, bytes):
            made = pl.read_csv(io.BytesIO(made), try_parse_dates=True, infer_schema_length=None)
        return xlsx_bytes(made, sheet=sheet_title, percent=percent, per_hundred=per_hundred)

    with st.container(horizontal=True, gap="small"):
        common = {"page": page, "rows": rows, "filters": filters, **kwargs}
        download(f"{label} (CSV)", as_csv, file_name=file_name, mime=mime, key=key, **common)
        download(
            f"{label} (Excel)", as_xlsx, file_name=f"{stem}.xlsx", mime=XLSX_MIME, key=f"{key}-xlsx", **common
        )
