"""What every page that reads the release shares: its title, what it says when there is no
release yet or the release cannot be read, and how it shows a chart (with its text alternative)."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import plotly.graph_objects as go
import streamlit as st

from dashboard import cache
from dashboard.charts.style import describe
from dashboard.queries.release import Release, release_info

NO_RELEASE = (
    "No release has been published yet, so there is nothing to show. "
    "Run `outcomes nightly` (or `make run` for the demo data) to build one, then reload."
)


# Read by screen readers, not drawn: the usual visually-hidden pattern (no display:none, which
# would hide it from them too).
VISUALLY_HIDDEN = (
    "position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;"
    "clip:rect(0,0,0,0);white-space:nowrap;border:0"
)


def show_chart(figure: go.Figure, *, key: str, where: Any = None) -> None:  # noqa: ANN401 - st or a column
    """A chart, and its text alternative for screen readers: the figure's one-line summary (what it
    shows, its series and range: dashboard/charts/style.describe), labelled as the chart's
    description. The numbers themselves are in the table every chart has beside it."""
    target = where if where is not None else st
    target.plotly_chart(figure, width="stretch", key=key, config={"displaylogo": False})
    text = html.escape(f"Chart: {describe(figure)}")
    target.html(f'<p class="chart-summary" role="note" style="{VISUALLY_HIDDEN}">{text}</p>')


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
