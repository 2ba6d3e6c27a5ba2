"""The sidebar every page shares: who is signed in, and which release the pages are reading."""

from __future__ import annotations

import duckdb
import streamlit as st

from dashboard import cache
from dashboard.access import Viewer
from dashboard.formatting import md_text
from dashboard.queries.release import release_info


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
