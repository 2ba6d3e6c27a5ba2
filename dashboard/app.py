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
viewer = signin.demo_viewer() if demo else signin.signed_in_viewer()
if viewer is None:
    access.set_viewer(None)
    st.stop()
if demo:  # only once the home is known to be the demo's: never a banner over real data
    st.warning(DEMO_BANNER, icon=":material/science:")
access.set_viewer(viewer)
signin.sign_in_once(viewer)
page, page_key = navigation(viewer)
sidebar(viewer, demo)
if not viewer.may_open(page_key):
    access.audit("denied", page_key)
    st.error(DENIED.format(role=access_file.ROLE_LABELS[viewer.role], title=page.title))
    st.stop()
page.run()
