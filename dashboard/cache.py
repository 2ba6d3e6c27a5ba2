"""Every cache of the dashboard, in one place and one style.

`fetch(path, query, *args)` runs `query(cursor, *args)` on one release file and caches the
result under the file and every argument, the query's Scope included, so two viewers never
share rows. Queries live in `dashboard/queries/`; a new one needs no wrapper of its own.
Keyed by the resolved release file, not `current.duckdb`: tonight's release is a new key.
`restatement(release, root, folder)` caches a snapshot's restatement against one release file.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb
import streamlit as st

from pipelines.core.release import live_release, open_release
from pipelines.core.settings import Home, resolve_home

if TYPE_CHECKING:  # the funder subsystem loads only on the Snapshots page, not at every start
    from pipelines.funder.restate import Restatement

# A connection outlives a release swap by at most this long (plus any query still using it).
CONNECTION_TTL = "1h"
DATA_TTL = "10m"
QUERIES = "dashboard.queries."

T = TypeVar("T")


def current_release() -> Path | None:
    """The release file published now, or None; resolved on every run, never cached."""
    return live_release(resolve_home().current)


# No on_release close: a page still reading an evicted release holds the last reference, and
# the connection closes when that page lets it go.
@st.cache_resource(ttl=CONNECTION_TTL, max_entries=4, show_spinner=False)
def connection(path: str) -> duckdb.DuckDBPyConnection:
    """The shared read-only connection to one release file."""
    return open_release(Path(path))


@st.cache_data(ttl=DATA_TTL, max_entries=2048, show_spinner=False)
def _fetch(path: str, module: str, name: str, args: tuple, kwargs: tuple) -> Any:  # noqa: ANN401
    query = getattr(importlib.import_module(module), name)
    # A cursor per call: Streamlit runs sessions in threads and a connection is not thread-safe.
    with connection(path).cursor() as cursor:
        return query(cursor, *args, **dict(kwargs))


def fetch(path: Path | str, query: Callable[..., T], *args: Any, **kwargs: Any) -> T:  # noqa: ANN401
    """`query(cursor, *args, **kwargs)` on the release file `path`, cached per file and arguments."""
    if not query.__module__.startswith(QUERIES):
        raise ValueError(f"{query.__module__}.{query.__name__} is not a dashboard query")
    return _fetch(str(path), query.__module__, query.__name__, args, tuple(sorted(kwargs.items())))


# Keyed by the release file and the snapshot folder: a new release or snapshot is a new key.
@st.cache_data(ttl=DATA_TTL, max_entries=16, show_spinner=False)
def restatement(release: str, root: str, folder: str) -> Restatement:
    """`restate` of the snapshot in `folder` against the release file `release`, cached per both."""
    from pipelines.funder.restate import restate

    return restate(Home(Path(root)), Path(folder))
