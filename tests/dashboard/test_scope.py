"""The viewer's scope: made from the access file's entry, never wider than the role allows."""

from __future__ import annotations

import pytest

from dashboard.access import Viewer
from dashboard.scope import scope_of
from pipelines.core.scope import PROGRAM, Scope, ScopeError


def test_leadership_reads_the_whole_program() -> None:
    assert scope_of(Viewer("director@example.org", "leadership")) == PROGRAM


def test_a_case_manager_reads_their_caseload_at_their_site() -> None:
    who = Viewer("worker@example.org", "case_manager", site_id="north", case_manager_id="CM-07")
    assert scope_of(who) == Scope("north", "CM-07")


@pytest.mark.parametrize(
    "who",
    [
        Viewer("funder@example.org", "funder"),
        Viewer("worker@example.org", "case_manager", site_id="north"),
        Viewer("worker@example.org", "case_manager", case_manager_id="CM-07"),
        Viewer("stranger@example.org", "none"),
    ],
    ids=["funder", "case manager without an id", "case manager without a site", "no role"],
)
def test_no_scope_for_anyone_who_reads_no_release_rows(who: Viewer) -> None:
    """Funders see snapshots only; a case manager's entry missing its site or id gets nothing."""
    with pytest.raises(ScopeError):
        scope_of(who)


def test_narrowing_never_widens() -> None:
    caseload = Scope("north", "CM-07")
    assert PROGRAM.narrow("north") == Scope("north")
    assert PROGRAM.narrow("north", "CM-07") == caseload
    assert caseload.narrow() == caseload
    with pytest.raises(ScopeError):
        caseload.narrow("south")
    with pytest.raises(ScopeError):
        caseload.narrow("north", "CM-08")
    with pytest.raises(ScopeError):
        Scope(case_manager_id="CM-07")  # a case manager's id means nothing without the site


def test_the_sql_filter_binds_both_ids() -> None:
    assert Scope("north", "CM-07").params() == {"scope_site": "north", "scope_case_manager": "CM-07"}
    assert PROGRAM.params() == {"scope_site": None, "scope_case_manager": None}
