"""The viewer's scope: made once from the access file's entry, never from a widget."""

from __future__ import annotations

from dashboard.access import Viewer
from pipelines.core.scope import PROGRAM, Scope, ScopeError


def scope_of(who: Viewer) -> Scope:
    """Leadership: the whole program. A case manager: their caseload at their site. A funder
    reads no release rows (snapshots only), so has no scope."""
    if who.role == "leadership":
        return PROGRAM
    if who.role == "case_manager" and who.site_id and who.case_manager_id:
        return Scope(who.site_id, who.case_manager_id)
    raise ScopeError(f"the role {who.role} reads no rows of the release")
