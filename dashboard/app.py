"""LEAD Outcomes dashboard: the router. It works out who is looking (OIDC sign-in and the access
file, or the demo's role picker), lists the pages that role may open, refuses the others even by
URL, and runs the chosen page. Pages lay themselves out in app_pages/."""

from __future__ import annotations

from pathlib import Path

import duckdb
import streamlit as st
from streamlit.navigation.page import StreamlitPage

from dashboard import access, cache
from dashboard.access import Viewer
from dashboard.formatting import md_text
from dashboard.queries.release import release_info
from pipelines.core import settings
from pipelines.core.settings import resolve_home

DEMO_BANNER = "Demo data: synthetic participants, not a real program"

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
ACCESS_BROKEN = "The access file cannot be used, so no data is shown. Tell your administrator: {error}"
DENIED = "Your role ({role}) does not include the page “{title}”. Nothing on it was shown."


def demo_viewer() -> Viewer:
    """The demo's role picker: anyone at the demo (127.0.0.1, synthetic data) chooses a role."""
    with st.sidebar:
        role = st.selectbox(
            "View the demo as",
            access.ROLES,
            format_func=access.ROLE_LABELS.get,
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


@st.cache_data(ttl=cache.DATA_TTL, max_entries=4, show_spinner=False)
def case_managers(path: str) -> list[tuple[str, str]]:
    """Every (site_id, case_manager_id) of a release: the demo's choice of case manager to be."""
    with cache.connection(path).cursor() as cursor:
        return cursor.sql(
            "select distinct site_id, case_manager_id from participants "
            "where case_manager_id is not null order by 1, 2"
        ).fetchall()


def demo_case_manager() -> tuple[str | None, str | None]:
    """The site and case manager the demo viewer acts as (none before the first release)."""
    path = cache.current_release()
    try:
        pairs = case_managers(str(path)) if path is not None else []
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
    verified = st.user.get("email_verified")
    try:
        users = access.load_access(settings.access_file(resolve_home()))
    except access.AccessFileError as error:
        st.error(ACCESS_BROKEN.format(error=error))
        return None
    who = users.get(email) if email and verified is not False else None
    if who is None:
        # Audited with role "none": the denial is the event, no role applies.
        stranger = Viewer(user=email or "(no email claim)", role="none")
        access.audit("denied", "sign-in", filters={"reason": "not in the access file"}, who=stranger)
        st.title("Ask your administrator")
        st.markdown(ASK_ADMIN.format(email=md_text(email or "(no email)")))
        st.button("Sign out", on_click=st.logout)
        return None
    return who


def sign_in_once(who: Viewer) -> None:
    """One sign_in audit entry when a session starts as (or switches to) this viewer."""
    if st.session_state.get("_signed_in_as") != who:
        access.audit("sign_in", "sign-in", who=who)
        st.session_state["_signed_in_as"] = who


def sidebar(who: Viewer, demo: bool) -> None:
    """Who is signed in, and which release every page is reading."""
    with st.sidebar:
        if not demo:
            st.caption(f"Signed in as {md_text(who.user)}")
            st.caption(md_text(who.describe()))
            st.button("Sign out", on_click=st.logout, key="sign-out")
        if who.role != "funder":  # funders see frozen snapshots, not today's release
            release_caption()


def release_caption() -> None:
    """Which release every page is reading, or that none is published yet."""
    path = cache.current_release()
    if path is None:
        st.caption("No release yet")
        return
    try:
        release = cache.fetch(path, release_info)
    except duckdb.Error:
        st.caption("The published release could not be read")
        return
    if release is None:
        st.caption("No release yet")
        return
    st.markdown(f"**Release as of {release.as_of:%Y-%m-%d}**")
    st.caption(f"Run `{release.run_id}`")
    if release.built_at is not None:
        st.caption(f"Built {release.built_at:%Y-%m-%d %H:%M}")


def navigation(who: Viewer) -> tuple[StreamlitPage, str]:
    """Every page registered (so a URL always resolves here), only the role's pages listed."""
    pages = {}
    for key, (file, title, icon) in access.PAGES.items():
        pages[key] = st.Page(
            file,
            title=title,
            icon=icon,
            url_path=key,
            default=key == access.HOME_PAGE[who.role],
            visibility="visible" if who.may_open(key) else "hidden",
        )
    chosen = st.navigation(list(pages.values()))
    key = next(k for k, p in pages.items() if p is chosen)
    return chosen, key


# A local icon: a Material icon as favicon would make every browser fetch it from a font CDN.
ICON = Path(__file__).parent / "icon.png"
st.set_page_config(page_title="LEAD Outcomes", page_icon=str(ICON), layout="wide")
demo = settings.demo_mode()
if demo:
    st.warning(DEMO_BANNER, icon=":material/science:")
viewer = demo_viewer() if demo else signed_in_viewer()
if viewer is None:
    access.set_viewer(None)
    st.stop()
access.set_viewer(viewer)
sign_in_once(viewer)
page, page_key = navigation(viewer)
sidebar(viewer, demo)
if not viewer.may_open(page_key):
    access.audit("denied", page_key)
    st.error(DENIED.format(role=access.ROLE_LABELS[viewer.role], title=page.title))
    st.stop()
page.run()
