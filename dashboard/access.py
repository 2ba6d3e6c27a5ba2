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

Leadership sees the whole program; a case manager sees one site's caseload of one
case_manager_id; a funder sees snapshots only. The viewer is worked out again on every run
from the identity provider's claims and this file, never from a widget; the pages pass its
scope into their queries.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from checks.vocab import SITE_ID
from pipelines.core import audit as audit_log
from pipelines.core.settings import Home, resolve_home

ROLES = ("leadership", "case_manager", "funder")
ROLE_LABELS = {"leadership": "Program leadership", "case_manager": "Case manager", "funder": "Funder"}
USER_KEYS = {"email", "role", "sites", "case_manager_id", "name"}
SESSION_KEY = "_outcomes_viewer"

# Every page: its key (its url_path), file (relative to app.py), title and icon.
PAGES = {
    "overview": ("app_pages/overview.py", "Overview", ":material/monitoring:"),
    "trends": ("app_pages/trends.py", "Trends", ":material/show_chart:"),
    "cohorts": ("app_pages/cohorts.py", "Cohorts", ":material/groups:"),
    "before-after": ("app_pages/before_after.py", "Before and after", ":material/compare_arrows:"),
    "equity": ("app_pages/equity.py", "Equity", ":material/balance:"),
    "caseload": ("app_pages/caseload.py", "Caseload", ":material/assignment_ind:"),
    "data-quality": ("app_pages/data_quality.py", "Data quality", ":material/fact_check:"),
    "snapshots": ("app_pages/snapshots.py", "Snapshots", ":material/inventory_2:"),
    "contract": ("app_pages/contract.py", "Data contract", ":material/description:"),
}
# Where each role lands.
HOME_PAGE = {"leadership": "overview", "case_manager": "caseload", "funder": "snapshots"}

# Which roles may open each page (DESIGN s.6), by the page's url_path ("" is the default page).
PAGE_ROLES: dict[str, frozenset[str]] = {
    "overview": frozenset({"leadership"}),
    "trends": frozenset({"leadership"}),
    "cohorts": frozenset({"leadership"}),
    "before-after": frozenset({"leadership"}),
    "equity": frozenset({"leadership"}),
    "caseload": frozenset({"leadership", "case_manager"}),
    "data-quality": frozenset({"leadership", "case_manager"}),
    "snapshots": frozenset({"leadership", "funder"}),
    "contract": frozenset(ROLES),
}


class AccessFileError(Exception):
    """The access file cannot be used: the message names the file, the entry and the problem."""


@dataclass(frozen=True)
class Viewer:
    """A signed-in person and what they may see."""

    user: str
    role: str
    # Case managers: their one site. Leadership and funders: None, the whole program.
    site_id: str | None = None
    case_manager_id: str | None = None
    name: str | None = None

    @property
    def is_case_manager(self) -> bool:
        return self.role == "case_manager"

    def may_open(self, page: str) -> bool:
        return self.role in PAGE_ROLES.get(page, frozenset())

    def describe(self) -> str:
        label = ROLE_LABELS[self.role]
        if self.is_case_manager:
            return f"{label} {self.case_manager_id} at {self.site_id}"
        return label


def _viewer(path: Path, number: int, entry: Any) -> Viewer:
    """One `[[users]]` entry as a Viewer, or AccessFileError naming what is wrong with it."""
    where = f"{path}: user {number}"
    if not isinstance(entry, dict):
        raise AccessFileError(f"{where} is not a table of keys")
    unknown = sorted(set(entry) - USER_KEYS)
    if unknown:
        raise AccessFileError(
            f"{where} has unknown key(s) {', '.join(unknown)}; allowed: {sorted(USER_KEYS)}"
        )
    email = entry.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise AccessFileError(f'{where} needs an email, e.g. email = "name@example.org"')
    where = f"{path}: user {number} ({email})"
    role = entry.get("role")
    if role not in ROLES:
        raise AccessFileError(f"{where} has role {role!r}; the role must be one of {', '.join(ROLES)}")
    sites = entry.get("sites")
    cm_id = entry.get("case_manager_id")
    name = entry.get("name")
    if name is not None and not isinstance(name, str):
        raise AccessFileError(f"{where}: name must be text")
    if role != "case_manager":
        if cm_id is not None:
            raise AccessFileError(f"{where}: only a case_manager has a case_manager_id")
        if sites not in (None, ["*"]):
            raise AccessFileError(
                f'{where}: {role} sees the whole program; leave `sites` out (or write sites = ["*"])'
            )
        return Viewer(user=email.strip().lower(), role=role, name=name)
    if not (isinstance(sites, list) and len(sites) == 1 and isinstance(sites[0], str)):
        raise AccessFileError(f'{where}: a case_manager needs exactly one site, e.g. sites = ["north"]')
    if not SITE_ID.match(sites[0]):
        raise AccessFileError(f"{where}: {sites[0]!r} is not a site id")
    if not isinstance(cm_id, str) or not cm_id.strip():
        raise AccessFileError(f"{where}: a case_manager needs their case_manager_id, as in the exports")
    return Viewer(
        user=email.strip().lower(), role=role, site_id=sites[0], case_manager_id=cm_id.strip(), name=name
    )


def load_access(path: Path) -> dict[str, Viewer]:
    """Every user of the access file by lower-cased email; AccessFileError if it cannot be used."""
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise AccessFileError(f"{path} does not exist: write it to give people access") from None
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise AccessFileError(f"{path} cannot be read: {error}") from None
    entries = data.get("users", [])
    if set(data) - {"users"} or not isinstance(entries, list):
        raise AccessFileError(f"{path} must hold only [[users]] entries")
    users: dict[str, Viewer] = {}
    for number, entry in enumerate(entries, start=1):
        viewer = _viewer(path, number, entry)
        if viewer.user in users:
            raise AccessFileError(f"{path}: user {number} ({viewer.user}) is listed twice")
        users[viewer.user] = viewer
    return users


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
