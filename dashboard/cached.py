"""The queries as the pages call them: cached per release file, so a new release shows at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

from dashboard import queries
from pipelines.settings import resolve_home

# A connection outlives a release swap by at most this long (plus any query still using it).
CONNECTION_TTL = "1h"
DATA_TTL = "10m"


def current_release() -> Path | None:
    """The release file published now, or None; resolved on every run, never cached."""
    return queries.release_path(resolve_home())


# Keyed by the resolved file, not `current.duckdb`: tonight's release is a new key. No
# on_release close: a page still reading an evicted release holds the last reference, and
# the connection closes when that page lets it go.
@st.cache_resource(ttl=CONNECTION_TTL, max_entries=4, show_spinner=False)
def connection(path: str) -> duckdb.DuckDBPyConnection:
    """The shared read-only connection to one release file."""
    return queries.open_release(Path(path))


@st.cache_data(ttl=DATA_TTL, max_entries=16, show_spinner=False)
def release_info(path: str) -> queries.Release | None:
    """Cached `queries.release_info` for one release file."""
    # A cursor per call: Streamlit runs sessions in threads and a connection is not thread-safe.
    with connection(path).cursor() as cursor:
        return queries.release_info(cursor)


@st.cache_data(ttl=DATA_TTL, max_entries=256, show_spinner=False)
def metric_series(path: str, metric: str, through: date | None = None) -> pl.DataFrame:
    """Cached `queries.metric_series` for one release file."""
    with connection(path).cursor() as cursor:
        return queries.metric_series(cursor, metric, through)


@st.cache_data(ttl=DATA_TTL, max_entries=16, show_spinner=False)
def kpis(path: str, metrics: Sequence[str], as_of: date) -> pl.DataFrame:
    """Cached `queries.kpis` for one release file."""
    with connection(path).cursor() as cursor:
        return queries.kpis(cursor, metrics, as_of)
