"""LEAD Outcomes dashboard: the router. Pages lay themselves out in app_pages/."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import streamlit as st

from dashboard import cached

DEMO_BANNER = "Demo data: synthetic participants, not a real program"

# Add a page here; its file lays itself out. Paths are relative to this file.
PAGES = [
    st.Page("app_pages/overview.py", title="Overview", icon=":material/monitoring:", default=True),
    st.Page("app_pages/trends.py", title="Trends", icon=":material/show_chart:", url_path="trends"),
    st.Page("app_pages/cohorts.py", title="Cohorts", icon=":material/groups:", url_path="cohorts"),
    st.Page(
        "app_pages/before_after.py",
        title="Before and after",
        icon=":material/compare_arrows:",
        url_path="before-after",
    ),
    st.Page("app_pages/equity.py", title="Equity", icon=":material/balance:", url_path="equity"),
    st.Page("app_pages/caseload.py", title="Caseload", icon=":material/assignment_ind:", url_path="caseload"),
    st.Page(
        "app_pages/data_quality.py",
        title="Data quality",
        icon=":material/fact_check:",
        url_path="data-quality",
    ),
]


def release_sidebar() -> None:
    """Which release every page is reading, or that none is published yet."""
    with st.sidebar:
        path = cached.current_release()
        if path is None:
            st.caption("No release yet")
            return
        try:
            release = cached.release_info(str(path))
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


# A local icon: a Material icon as favicon would make every browser fetch it from a font CDN.
ICON = Path(__file__).parent / "icon.png"
st.set_page_config(page_title="LEAD Outcomes", page_icon=str(ICON), layout="wide")
page = st.navigation(PAGES)
if os.environ.get("OUTCOMES_DEMO") == "1":
    st.warning(DEMO_BANNER, icon=":material/science:")
release_sidebar()
page.run()
