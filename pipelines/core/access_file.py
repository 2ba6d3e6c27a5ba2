"""Who may see what: the roles, the pages each role may open, and the access file that names
each person's role and scope (README, "Sign-in and access").

Read by the dashboard on every page view and by `outcomes serve` before it starts; it holds no
Streamlit code, so the command line can check an access file without the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checks.vocab import SITE_ID
from pipelines.core.toml_file import TomlFileError, read_toml

ROLES = ("leadership", "case_manager", "funder")
ROLE_LABELS = {"leadership": "Program leadership", "case_manager": "Case manager", "funder": "Funder"}
USER_KEYS = {"email", "role", "sites", "case_manager_id", "name"}
PROVIDER_KEYS = {"issuer", "trust_unverified_email"}

# Which roles may open each page (DESIGN s.6), by the page's url_path ("" is the default page).
PAGE_ROLES: dict[str, frozenset[str]] = {
    "overview": frozenset({"leadership"}),
    "trends": frozenset({"leadership"}),
    "cohorts": frozenset({"leadership"}),
    "before-after": frozenset({"leadership"}),
    "impact": frozenset({"leadership"}),
    "equity": frozenset({"leadership"}),
    "caseload": frozenset({"leadership", "case_manager"}),
    "data-quality": frozenset({"leadership", "case_manager"}),
    "snapshots": frozenset({"leadership", "funder"}),
    "contract": frozenset(ROLES),
}


class AccessFileError(Exception):
    """The access file cannot be used: the message names the file, the entry and the problem.

    It is for the administrator (the terminal, the server log, the audit log): it may name other
    users, so the person signing in never sees it.
    """


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


def _keys(where: str, entry: Any, allowed: set[str]) -> dict[str, Any]:
    """An entry of the file as a table of allowed keys, or AccessFileError saying which are not."""
    if not isinstance(entry, dict):
        raise AccessFileError(f"{where} is not a table of keys")
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise AccessFileError(f"{where} has unknown key(s) {', '.join(unknown)}; allowed: {sorted(allowed)}")
    return entry


def _viewer(path: Path, number: int, entry: Any) -> Viewer:
    """One `[[users]]` entry as a Viewer, or AccessFileError naming what is wrong with it."""
    where = f"{path}: user {number}"
    entry = _keys(where, entry, USER_KEYS)
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


def _trusted_issuer(path: Path, number: int, entry: Any) -> str | None:
    """One `[[providers]]` entry: its issuer if its unverified emails are trusted, else None."""
    where = f"{path}: provider {number}"
    entry = _keys(where, entry, PROVIDER_KEYS)
    issuer = entry.get("issuer")
    if not isinstance(issuer, str) or not issuer.startswith(("https://", "http://")):
        raise AccessFileError(
            f'{where} needs the issuer its tokens name, e.g. issuer = "https://accounts.example.org"'
        )
    trust = entry.get("trust_unverified_email", False)
    if not isinstance(trust, bool):
        raise AccessFileError(f"{where}: trust_unverified_email must be true or false")
    return issuer.rstrip("/") if trust else None


@dataclass(frozen=True)
class AccessSettings:
    """The access file: every user by lower-cased email, and the identity providers (by issuer)
    whose emails are trusted without an `email_verified` claim."""

    users: dict[str, Viewer]
    trusted_issuers: frozenset[str] = frozenset()

    def email_trusted(self, email_verified: object, issuer: object) -> bool:
        """Whether a sign-in's email may be believed: the provider's token says it is verified,
        or the access file trusts that provider's emails. A missing claim is not a yes."""
        if email_verified is True or email_verified == "true":
            return True
        return isinstance(issuer, str) and issuer.rstrip("/") in self.trusted_issuers


def load_access(path: Path) -> AccessSettings:
    """What the access file says; AccessFileError if it cannot be used, whatever is in it."""
    try:
        data = read_toml(path)
    except FileNotFoundError:
        raise AccessFileError(f"{path} does not exist: write it to give people access") from None
    except TomlFileError as error:
        raise AccessFileError(str(error)) from None
    entries, providers = data.get("users", []), data.get("providers", [])
    if set(data) - {"users", "providers"} or not isinstance(entries, list) or not isinstance(providers, list):
        raise AccessFileError(f"{path} must hold only [[users]] and [[providers]] entries")
    users: dict[str, Viewer] = {}
    for number, entry in enumerate(entries, start=1):
        viewer = _viewer(path, number, entry)
        if viewer.user in users:
            raise AccessFileError(f"{path}: user {number} ({viewer.user}) is listed twice")
        users[viewer.user] = viewer
    trusted = {_trusted_issuer(path, number, entry) for number, entry in enumerate(providers, start=1)}
    return AccessSettings(users, frozenset(trusted - {None}))
