"""What a leadership page's user chose, kept across pages within a session; the date presets.

The metric, the referral types and the period chosen on one leadership page stay chosen on the
others: each page's widget keeps its own key (Streamlit forgets the state of a widget a page run
does not draw), and a shared key, outside any widget, remembers the last choice. `seed` sets a
widget's state from the shared key (or the page's default) before the widget is drawn; the
widget's `on_change=remember(...)` writes the choice back. Scope is never a choice: the queries
take it from the signed-in viewer.

The date presets (last 12 months, year to date, last fiscal year, all months) become a first and
a last month, which the queries bind as parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import date

import streamlit as st

from pipelines.core.periods import add_months

# The shared keys: one per kind of choice, read by every leadership page that offers it.
METRIC = "shared-metric"
REFERRAL_TYPES = "shared-referral-types"
PERIOD = "shared-period"

# No setting names the fiscal year yet: it starts in July, as the preset's label says.
FISCAL_YEAR_START_MONTH = 7
LAST_12, LAST_24, YEAR_TO_DATE, FISCAL_YEAR, ALL_MONTHS, CUSTOM = (
    "last-12",
    "last-24",
    "year-to-date",
    "fiscal-year",
    "all",
    "custom",
)
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August")
_MONTH_NAMES += ("September", "October", "November", "December")
FISCAL_YEAR_START = _MONTH_NAMES[FISCAL_YEAR_START_MONTH - 1]
PRESET_LABELS = {
    LAST_12: "Last 12 months",
    LAST_24: "Last 24 months",
    YEAR_TO_DATE: "Year to date",
    FISCAL_YEAR: (
        f"Last fiscal year ({FISCAL_YEAR_START} to {_MONTH_NAMES[(FISCAL_YEAR_START_MONTH + 10) % 12]})"
    ),
    ALL_MONTHS: "All months",
    CUSTOM: "Choose the months",
}


def preset_bounds(preset: str, latest: date) -> tuple[date | None, date] | None:
    """The first and last month a preset covers, counting back from `latest`, the latest complete
    month: the first is None for ALL_MONTHS (no bound); None for CUSTOM (the page's slider)."""
    if preset == LAST_12:
        return add_months(latest, -11), latest
    if preset == LAST_24:
        return add_months(latest, -23), latest
    if preset == YEAR_TO_DATE:
        return date(latest.year, 1, 1), latest
    if preset == FISCAL_YEAR:
        # The most recent fiscal year whose last month is complete.
        last_month = (FISCAL_YEAR_START_MONTH + 10) % 12 + 1
        end = date(latest.year if latest.month >= last_month else latest.year - 1, last_month, 1)
        return add_months(end, -11), end
    if preset == ALL_MONTHS:
        return None, latest
    return None


def preset_range(preset: str, months: Sequence[date], latest: date) -> tuple[date, date] | None:
    """The first and last of `months` (sorted month starts) that a preset covers, counting back
    from `latest`, the latest complete month; None when none of them falls in it (or for CUSTOM)."""
    bounds = preset_bounds(preset, latest)
    if bounds is None:
        return None
    start, end = bounds
    inside = [month for month in months if (start is None or start <= month) and month <= end]
    return (inside[0], inside[-1]) if inside else None


def seed(widget: str, shared: str, default: object, valid: Callable[[object], bool]) -> None:
    """Before a widget is drawn: its state is the shared choice when this page can offer it,
    else the page's own default the first time the widget is drawn."""
    chosen = st.session_state.get(shared)
    if chosen is not None and valid(chosen):
        st.session_state[widget] = chosen
    elif widget not in st.session_state or not valid(st.session_state[widget]):
        st.session_state[widget] = default


def remember(widget: str, shared: str) -> Callable[[], None]:
    """The widget's on_change: its new value becomes the shared choice."""

    def keep() -> None:
        value = st.session_state[widget]
        st.session_state[shared] = list(value) if isinstance(value, (list, tuple)) else value

    return keep


def one_of(options: Collection[object]) -> Callable[[object], bool]:
    """A valid single choice: one of the options."""
    return lambda value: value in options


def some_of(options: Collection[object]) -> Callable[[object], bool]:
    """A valid multiple choice: a list of options (empty: all)."""
    return lambda value: isinstance(value, list) and all(item in options for item in value)


def period_choice(key: str, default: str, presets: Sequence[str]) -> str:
    """The period picker of a page (its widget key, default preset and the presets it offers)."""
    seed(key, PERIOD, default, one_of(presets))
    return st.selectbox(
        "Period",
        list(presets),
        format_func=PRESET_LABELS.__getitem__,
        key=key,
        on_change=remember(key, PERIOD),
    )
