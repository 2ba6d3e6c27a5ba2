"""Who is looking: the demo's role picker, or OIDC sign-in checked against the access file, and
the one sign_in audit entry a session starts with. The router (app.py) calls these."""

from __future__ import annotations

import logging

import duckdb
import streamlit as st

from dashboard import access, cache
from dashboard.access import Viewer
from dashboard.formatting import md_text
from dashboard.queries.release import case_managers
from pipelines.core import access_file, settings
from pipelines.core.scope import PROGRAM
from pipelines.core.settings import resolve_home
from pipelines.demo.marker import NotDemoHome, check

log = logging.getLogger("outcomes.dashboard")

SIGN_IN_TEXT = (
    "LEAD Outcomes holds information about people's arrests, treatment and health. "
    "Sign in with your organisation's account to continue."
)
ASK_ADMIN = (
    "You are signed in as **{email}**, but this account has not been given access to LEAD Outcomes. "
    "Ask your administrator to add you to the access file with your role "
    "(program leadership, case manager or funder)."
)
NOT_CONFIGURED = (
    "Sign-in is not configured: `.streamlit/secrets.toml` has no `[auth]` section for your identity "
    "provider. See the README, section “Sign-in”. No data is shown."
)
UNVERIFIED = (
    "You are signed in as **{email}**, but your identity provider does not say this email address "
    "is verified, so LEAD Outcomes cannot rely on it. Verify the address with your provider, "
    "or ask your administrator."
)
# The reason names the file and other users: it goes to the server log and the audit log only.
ACCESS_BROKEN = "Sign-in is not available: the administrator must fix the access settings. No data is shown."
NOT_A_DEMO = (
    "This dashboard was started in demo mode, which has no sign-in, on data that `outcomes demo` "
    "did not write. No data is shown. Start it with `outcomes serve`, which signs people in."
)


def demo_home() -> bool:
    """Whether the home is the demo's own: demo mode shows nothing on any other (the reason is logged)."""
    home = resolve_home()
    try:
        check(home)
    except NotDemoHome as error:
        log.error("demo mode refused: %s is not a demo home: %s", home.root, error)
        st.error(NOT_A_DEMO)
        return False
    return True


def demo_viewer() -> Viewer | None:
    """The demo's role picker: anyone at the demo (127.0.0.1, synthetic data) chooses a role.

    None, after saying why, unless the home holds only what `outcomes demo` wrote: demo mode is
    switched on by an environment variable, which must never open real data.
    """
    if not demo_home():
        return None
    with st.sidebar:
        role = st.selectbox(
            "View the demo as",
            access_file.ROLES,
            format_func=access_file.ROLE_LABELS.get,
            key="demo-role",
            help="Demo mode only. A real deployment signs people in; their role is in the access file.",
        )
        if role != "case_manager":
            return Viewer(user=f"demo-{role}@localhost", role=role)
        site_id, case_manager_id = demo_case_manager()
    return Viewer(
        user="demo-case_manager@localhost",
        role=role,
        site_id=site_id,
        case_manager_id=case_manager_id,
    )


def demo_case_manager() -> tuple[str | None, str | None]:
    """The site and case manager the demo viewer acts as (none before the first release)."""
    path = cache.current_release()
    try:
        # The demo offers every case manager of the program: nobody is signed in to narrow it.
        pairs = cache.fetch(path, case_managers, PROGRAM) if path is not None else []
    except duckdb.Error:
        pairs = []
    if not pairs:
        return None, None
    site_id, case_manager_id = st.selectbox(
        "Case manager", pairs, format_func=lambda p: f"{p[1]} at {p[0]}", key="demo-case-manager"
    )
    return site_id, case_manager_id


def auth_configured() -> bool:
    """Whether the secrets hold an [auth] section for st.login."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False


def signed_in_viewer() -> Viewer | None:
    """The signed-in user's viewer; None after laying out the sign-in or "ask" page instead."""
    if not auth_configured():
        st.error(NOT_CONFIGURED)
        return None
    if not st.user.is_logged_in:
        st.title("LEAD Outcomes")
        st.write(SIGN_IN_TEXT)
        st.button("Sign in", on_click=st.login, type="primary")
        return None
    email = str(st.user.get("email") or "").strip().lower()
    try:
        rules = access_file.load_access(settings.access_file(resolve_home()))
    except access_file.AccessFileError as error:
        log.error("sign-in refused: the access file cannot be used: %s", error)
        deny(email, {"reason": "the access file cannot be used", "detail": str(error)})
        st.error(ACCESS_BROKEN)
        return None
    if not rules.email_trusted(st.user.get("email_verified"), st.user.get("iss")):
        deny(email, {"reason": "the identity provider did not say the email is verified"})
        ask_administrator(UNVERIFIED, email)
        return None
    who = rules.users.get(email) if email else None
    if who is None:
        deny(email, {"reason": "not in the access file"})
        ask_administrator(ASK_ADMIN, email)
        return None
    return who


def deny(email: str, why: dict) -> None:
    """The refused sign-in's audit entry, with role "none": the denial is the event, no role applies."""
    stranger = Viewer(user=email or "(no email claim)", role="none")
    access.audit("denied", "sign-in", filters=why, who=stranger)


def ask_administrator(text: str, email: str) -> None:
    """The page a refused person sees: why, in plain words, and a way to sign out."""
    st.title("Ask your administrator")
    st.markdown(text.format(email=md_text(email or "(no email)")))
    st.button("Sign out", on_click=st.logout)


def sign_in_once(who: Viewer) -> None:
    """One sign_in audit entry when a session starts as (or switches to) this viewer."""
    if st.session_state.get("_signed_in_as") != who:
        access.audit("sign_in", "sign-in", who=who)
        st.session_state["_signed_in_as"] = who
