"""Scope: whose rows a query may return. Every query over participant-level or site-level rows
takes one and filters on it in SQL with bound parameters, so no caller can fetch wider and
filter afterwards.

    where ($scope_site is null or site_id = $scope_site)
      and ($scope_case_manager is null or case_manager_id = $scope_case_manager)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ScopeError(Exception):
    """A query was asked for rows outside the scope it was given."""


@dataclass(frozen=True)
class Scope:
    """The whole program (both None), one site, or one case manager's caseload at one site."""

    site_id: str | None = None
    case_manager_id: str | None = None

    def __post_init__(self) -> None:
        if self.case_manager_id is not None and self.site_id is None:
            raise ScopeError("a case manager's scope needs their site")

    @property
    def is_program(self) -> bool:
        """Whether this scope is the whole program."""
        return self.site_id is None and self.case_manager_id is None

    def params(self) -> dict[str, Any]:
        """The bound parameters the SQL filter reads: $scope_site and $scope_case_manager."""
        return {"scope_site": self.site_id, "scope_case_manager": self.case_manager_id}

    def narrow(self, site_id: str | None = None, case_manager_id: str | None = None) -> Scope:
        """A narrower scope inside this one (leadership choosing a site or caseload); never wider."""
        site = site_id if site_id is not None else self.site_id
        manager = case_manager_id if case_manager_id is not None else self.case_manager_id
        if self.site_id is not None and site != self.site_id:
            raise ScopeError(f"site {site} is outside this scope")
        if self.case_manager_id is not None and manager != self.case_manager_id:
            raise ScopeError(f"case manager {manager} is outside this scope")
        return Scope(site, manager)

    def site_params(self) -> dict[str, Any]:
        """The bound parameter of rows that belong to a site, not to a caseload (a site's exports
        and files, which every case manager of the site sees): $scope_site only."""
        return {"scope_site": self.site_id}

    def require_site(self) -> None:
        """For queries of one site (its caseload sizes): refuse the whole program."""
        if self.site_id is None:
            raise ScopeError("this query shows one site; this scope is the whole program")

    def require_caseload(self) -> None:
        """For queries of one case manager's caseload: refuse a wider scope."""
        if self.case_manager_id is None:
            raise ScopeError("this query shows one caseload; this scope is wider")

    def require_program(self) -> None:
        """For queries over program-wide aggregates: refuse any narrower scope."""
        if not self.is_program:
            raise ScopeError("this query shows the whole program; this scope is narrower")


PROGRAM = Scope()
