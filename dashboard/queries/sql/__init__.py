"""The dashboard's SQL, one file per query: lower-case, CTE-shaped, every value bound (a Scope's
as $scope_site and $scope_case_manager)."""

from __future__ import annotations

from importlib import resources


def load(name: str) -> str:
    """The text of `<name>.sql` in this folder."""
    return resources.files(__name__).joinpath(f"{name}.sql").read_text(encoding="utf-8")
