"""What every page that reads the release shares: its title, and what it says when there is no
release yet or the release cannot be read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import streamlit as st

from dashboard import cache
from dashboard.queries.release import Release, release_info

NO_RELEASE = (
    "No release has been published yet, so there is nothing to show. "
    "Run `outcomes nightly` (or `make run` for the demo data) to build one, then reload."
)


def release_page(title: str, body: Callable[[Path, Release], None]) -> None:
    """Lay out a page on the published release: `body(path, release)`, or a clear message instead."""
    st.title(title)
    path = cache.current_release()
    if path is None:
        st.info(NO_RELEASE, icon=":material/info:")
        return
    try:
        release = cache.fetch(path, release_info)
        if release is None:
            st.info(NO_RELEASE, icon=":material/info:")
            return
        body(path, release)
    except duckdb.Error as error:
        st.error(
            "The published release could not be read. Run `outcomes nightly` again, "
            f"or see `outcomes runs`. ({type(error).__name__})"
        )
