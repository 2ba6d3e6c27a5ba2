"""LEAD Outcomes dashboard: the router. It works out who is looking (dashboard/signin.py: OIDC
sign-in and the access file, or the demo's role picker), lists the pages that role may open,
refuses the others even by URL, and runs the chosen page. Pages lay themselves out in app_pages/."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from dashboard import access, signin
from dashboard.access import Viewer
from dashboard.sidebar import sidebar
from pipelines.core import access_file, settings

DEMO_BANNER = "Demo data: synthetic participants, not a real program"
DENIED = "Your role ({role}) does not include the page “{title}”. Nothing on it was shown."
# The role the demo was viewed as on the session's last run.
LAST_DEMO_ROLE = "_outcomes_demo_role"
# The demo's pickers (dashboard/signin.py), and their values kept outside widget state: a page
# switch made by the app (st.switch_page) clears every widget's state, which would reset the role.
DEMO_PICKERS = ("demo-role", "demo-case-manager")
DEMO_KEPT = "_outcomes_demo_pickers"


def navigation(who: Viewer) -> tuple[StreamlitPage, str, dict[str, StreamlitPage]]:
    """Every page registered (so a URL always resolves here), only the role's pages listed: the
    page chosen, its key, and every page by key."""
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
    return chosen, key, pages


def restore_demo_pickers() -> None:
    """Give the demo's pickers back the values they had before the app switched page."""
    for key, value in st.session_state.get(DEMO_KEPT, {}).items():
        if key not in st.session_state:
            st.session_state[key] = value


def keep_demo_pickers() -> None:
    st.session_state[DEMO_KEPT] = {
        key: st.session_state[key] for key in DEMO_PICKERS if key in st.session_state
    }


def demo_role_switched(who: Viewer) -> bool:
    """Whether the demo's role picker changed role since the last run of this session."""
    before = st.session_state.get(LAST_DEMO_ROLE)
    st.session_state[LAST_DEMO_ROLE] = who.role
    return before is not None and before != who.role


# A local icon: a Material icon as favicon would make every browser fetch it from a font CDN.
ICON = Path(__file__).parent / "icon.png"
st.set_page_config(page_title="LEAD Outcomes", page_icon=str(ICON), layout="wide")
demo = settings.demo_mode()
if demo:
    restore_demo_pickers()
viewer = signin.demo_viewer() if demo else signin.signed_in_viewer()
if demo:
    keep_demo_pickers()
if viewer is None:
    access.set_viewer(None)
    st.stop()
if demo:  # only once the home is known to be the demo's: never a banner over real data
    st.warning(DEMO_BANNER, icon=":material/science:")
access.set_viewer(viewer)
signin.sign_in_once(viewer)
page, page_key, pages = navigation(viewer)
switched = demo and demo_role_switched(viewer)
if switched and not viewer.may_open(page_key):
    # The demo's role picker moved to a role without this page: open that role's home instead.
    st.switch_page(pages[access.HOME_PAGE[viewer.role]])
sidebar(viewer, demo)
if not viewer.may_open(page_key):
    access.audit("denied", page_key)
    st.error(DENIED.format(role=access_file.ROLE_LABELS[viewer.role], title=page.title))
    st.stop()
page.run()
