"""Caseload: one case manager's participants with prompts for outreach, one participant's timeline,
caseload sizes at the site, and the open data problems in the caseload's records.

Layout only: data from dashboard.queries.caseload through cache.fetch, bound to the viewer's Scope
(leadership's site and case-manager pickers narrow it); figures from dashboard.charts.caseload.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import streamlit as st

from dashboard import access, cache
from dashboard.charts.caseload import caseload_chart, timeline_chart
from dashboard.formatting import PROBLEMS_CONFIG, md_text, problems_csv_frame, problems_view
from dashboard.page import release_page, show_chart
from dashboard.queries.caseload import (
    FLAGS,
    GUIDANCE_HIGH,
    GUIDANCE_LOW,
    HOUSING_DUE_DAYS,
    RECENT_ARREST_DAYS,
    caseload,
    caseload_problems,
    caseload_sizes,
    caseload_view,
    filter_caseload,
    flag_counts,
    opening,
    problem_counts,
    sites,
    timeline,
    timeline_table,
    unassigned_problems,
)
from dashboard.queries.release import Release
from dashboard.scope import scope_of
from pipelines.core.problems import NOT_TRACKED
from pipelines.core.scope import Scope, ScopeError

NO_PARTICIPANTS = "This release has no participants yet, so there is no caseload to show."
NO_CURRENT = (
    "No current participants on this caseload. Turn on “Include exited participants” to see "
    "the participants who have left the program."
)
NO_MATCH = "No participant on this caseload matches these filters. Clear a prompt or the search."
PROMPTS_NOTE = "Prompts are reminders for outreach, never judgments about a participant."
METHOD = f"""
**Current participants.** Referred on or before the data date and not exited by it (exited
participants are shown only when you include them).

**Latest housing and employment.** The newest assessment on record, with the days since it.
**Treatment:** the episode open on the data date that started last.

**Prompts.** Housing check due: no housing assessment in the {HOUSING_DUE_DAYS} days up to the data
date (or none on record). Unsheltered: the latest housing assessment records unsheltered. Arrest
record: a justice record of an arrest dated in the {RECENT_ARREST_DAYS} days up to the data date, a
reason to check in. Exited: an exit date on or before the data date.

**Data problems.** Rows of your participants the nightly could not load, with what to fix: open
until a new export no longer shows them.
"""


def date_column(title: str, help: str | None = None) -> object:
    return st.column_config.DateColumn(title, format="YYYY-MM-DD", help=help)


def caseload_config() -> dict[str, object]:
    """Column labels and formats of the caseload table."""
    return {
        "participant_id": st.column_config.TextColumn("Participant", pinned=True),
        # Prompts read "Yes" or blank (caseload_view): a checkbox would look clickable.
        "housing_check_due": st.column_config.TextColumn(
            "Housing check due", help=FLAGS["housing_check_due"]
        ),
        "unsheltered": st.column_config.TextColumn("Unsheltered", help=FLAGS["unsheltered"]),
        "recent_arrest": st.column_config.TextColumn("Arrest record", help=FLAGS["recent_arrest"]),
        "exited": st.column_config.TextColumn("Exited", help=FLAGS["exited"]),
        "open_problems": st.column_config.NumberColumn(
            "Data problems", help="Open data problems in this participant's records (listed below)"
        ),
        "referral_date": date_column("Referred"),
        "referral_type": st.column_config.TextColumn("Referral type"),
        "living_situation": st.column_config.TextColumn("Living situation", help="Latest housing assessment"),
        "housing_category": st.column_config.TextColumn("Housing category"),
        "housing_assessed_on": date_column("Housing assessed", help="Date of the latest housing assessment"),
        "days_since_housing": st.column_config.NumberColumn(
            "Days since housing", help="Days from the latest housing assessment to the as-of date"
        ),
        "treatment_service": st.column_config.TextColumn(
            "Treatment", help="Service type of the current episode (the one started most recently)"
        ),
        "treatment_start": date_column("Treatment since"),
        "current_episodes": st.column_config.NumberColumn("Episodes", help="Treatment episodes open now"),
        "employment_status": st.column_config.TextColumn("Employment", help="Latest employment assessment"),
        "has_income": st.column_config.TextColumn("Income or benefits"),
        "employment_assessed_on": date_column("Employment assessed"),
        "days_since_employment": st.column_config.NumberColumn(
            "Days since employment", help="Days from the latest employment assessment to the as-of date"
        ),
        "last_arrest": date_column("Last arrest record"),
        "exit_date": date_column("Exit date"),
    }


def choose_scope(path: Path, scope: Scope, site_list: list[str], as_of: date) -> tuple[Scope, Scope] | None:
    """The site and case manager leadership picks, narrowing their scope: (site, caseload)."""
    site_column, manager_column = st.columns(2)
    site_id = site_column.selectbox("Site", site_list, key="caseload-site")
    site = scope.narrow(site_id=site_id)
    sizes = cache.fetch(path, caseload_sizes, site, as_of)
    current = dict(zip(sizes["case_manager_id"], sizes["current"], strict=True))
    case_manager_id = manager_column.selectbox(
        "Case manager",
        list(current),
        format_func=lambda cm: f"{cm} ({current[cm]} current participants)",
        key="caseload-case-manager",
    )
    if case_manager_id is None:
        st.info(f"No case manager at {site_id} has participants in this release.", icon=":material/info:")
        return None
    return site, site.narrow(case_manager_id=case_manager_id)


def participants_section(
    path: Path, release: Release, scope: Scope, problems: pl.DataFrame | None
) -> pl.DataFrame:
    """The caseload table under its filters; returns the rows shown."""
    st.header("Participants")
    st.caption(
        f"Case manager {md_text(scope.case_manager_id)} at {scope.site_id}, as of {release.as_of:%Y-%m-%d}."
    )
    st.caption(PROMPTS_NOTE)
    exited_column, flags_column, search_column = st.columns([1, 2, 1])
    include_exited = exited_column.toggle("Include exited participants", key="caseload-exited")
    flag_options = [flag for flag in FLAGS if include_exited or flag != "exited"]
    flags = flags_column.multiselect(
        "Show only participants with any of these prompts",
        flag_options,
        format_func=FLAGS.__getitem__,
        placeholder="All participants",
        key="caseload-flags",
    )
    search = search_column.text_input("Search participant ID", key="caseload-search")
    table = cache.fetch(path, caseload, scope, release.as_of, include_exited)
    filters = {
        "site_id": scope.site_id,
        "case_manager_id": scope.case_manager_id,
        "include_exited": include_exited,
        "prompts": flags,
        "search": search,
    }
    access.audit("page_view", "caseload", filters=filters, rows=table.height)
    if table.is_empty():
        st.info(
            NO_CURRENT if not include_exited else "This caseload has no participants.", icon=":material/info:"
        )
        return table
    if problems is not None:
        table = problem_counts(table, problems)
    shown = filter_caseload(table, [flag for flag in flags if flag in flag_options], search)
    counts = flag_counts(table)
    summary = ", ".join(f"{FLAGS[flag].lower()}: {counts[flag]}" for flag in flag_options)
    st.markdown(f"**{shown.height} of {table.height} participants shown.** Across the caseload: {summary}.")
    if shown.is_empty():
        st.info(NO_MATCH, icon=":material/filter_alt_off:")
        return shown
    st.dataframe(
        caseload_view(shown),
        width="stretch",
        height=min(38 + 35 * shown.height, 460),
        hide_index=True,
        column_config=caseload_config(),
        placeholder="",
        key="caseload-table",
    )
    return shown


def timeline_section(path: Path, release: Release, scope: Scope, shown: pl.DataFrame) -> None:
    """One participant's records over time: the chart, its caption and its table."""
    st.header("Participant timeline")
    if shown.is_empty():
        st.info(
            "Pick a participant from the caseload table above: it shows none now.", icon=":material/info:"
        )
        return
    participant_id = st.selectbox(
        "Participant", shown["participant_id"].to_list(), key="caseload-participant"
    )
    events = cache.fetch(path, timeline, scope, participant_id)
    if events.is_empty():
        st.info("This participant has no records on this caseload.", icon=":material/info:")
        return
    st.caption(
        "Each mark is one record as the site exported it: housing assessments coloured by housing "
        "category, treatment episodes as bars from start to end (to the as-of date while open), "
        "employment assessments, and justice records (arrests, bookings, charges). Dashed lines: "
        "referral and exit; dotted: the release's as-of date. The table under the chart lists the "
        "same records."
    )
    show_chart(timeline_chart(events, release.as_of), key="caseload-timeline")
    st.dataframe(
        timeline_table(events),
        width="stretch",
        height=min(38 + 35 * events.height, 360),
        hide_index=True,
        column_config={
            "date": date_column("Date"),
            "end_date": date_column("End date", help="Treatment episodes: the end date, empty while open"),
            "record": st.column_config.TextColumn("Record"),
            "detail": st.column_config.TextColumn("Detail"),
            "note": st.column_config.TextColumn("Note"),
        },
        placeholder="",
        key="caseload-timeline-table",
    )


def sizes_section(path: Path, release: Release, site: Scope, scope: Scope) -> None:
    """Current caseload of each case manager of the site scope (a case manager: their own),
    against LEAD's guidance."""
    sizes = cache.fetch(path, caseload_sizes, site, release.as_of)
    st.header(f"Caseload sizes at {scope.site_id}")
    st.caption(
        f"Current participants per case manager: participants without an exit date on or before "
        f"{release.as_of:%Y-%m-%d}. LEAD's guidance is {GUIDANCE_LOW} to {GUIDANCE_HIGH} participants per "
        f"case manager (shaded); a caseload of more than {GUIDANCE_HIGH} is flagged. "
        f"{md_text(scope.case_manager_id)}'s bar is outlined."
    )
    over = sizes.filter(pl.col("current") > GUIDANCE_HIGH).height
    if over:
        st.markdown(
            f"**{over} of {sizes.height} case managers** at this site have more than {GUIDANCE_HIGH}."
        )
    chart, numbers = st.columns([3, 2])
    with chart:
        show_chart(caseload_chart(sizes, scope.case_manager_id), key="caseload-sizes-chart")
    with numbers:
        st.dataframe(
            sizes,
            width="stretch",
            height=min(38 + 35 * sizes.height, 360),
            hide_index=True,
            column_config={
                "case_manager_id": st.column_config.TextColumn("Case manager"),
                "current": st.column_config.NumberColumn("Current", help="Participants not exited"),
                "exited": st.column_config.NumberColumn("Exited"),
                "guidance": st.column_config.TextColumn(
                    "Against guidance", help=f"LEAD's guidance: {GUIDANCE_LOW} to {GUIDANCE_HIGH}"
                ),
            },
            placeholder="",
            key="caseload-sizes-table",
        )


def problem_table(problems: pl.DataFrame, file_name: str, key: str, scope: Scope) -> None:
    """A table of open problems and its downloads (CSV and Excel)."""
    st.dataframe(
        problems_view(problems),
        width="stretch",
        height=min(38 + 35 * problems.height, 400),
        hide_index=True,
        column_config=PROBLEMS_CONFIG,
        placeholder="",
        key=key,
    )
    access.downloads(
        "Download",
        data=lambda: problems_csv_frame(problems),
        file_name=file_name,
        sheet="Open problems",
        page="caseload",
        rows=problems.height,
        filters={"site_id": scope.site_id, "case_manager_id": scope.case_manager_id, "table": key},
        icon=":material/download:",
        key=f"{key}-csv",
    )


def problems_section(
    path: Path, release: Release, site: Scope, scope: Scope, problems: pl.DataFrame | None
) -> None:
    """The open data problems of this caseload, then the site's that no case manager is known for."""
    st.header("Data problems in these records")
    if problems is None:
        st.info(NOT_TRACKED, icon=":material/info:")
        return
    st.caption(
        "Rows the nightly run set aside because of a problem, still open in the latest exports: where "
        "the row is (file and spreadsheet row, the header being row 1), the column and value, what is "
        "wrong and how to fix it. Fix them in the case-management system and export again: a problem "
        "leaves this list after the next nightly run no longer sees it. Age: days from the run that "
        f"first saw it to {release.as_of:%Y-%m-%d}."
    )
    if problems.is_empty():
        st.success(
            f"No open data problems in the records of {md_text(scope.case_manager_id)}'s participants.",
            icon=":material/check_circle:",
        )
    else:
        st.markdown(
            f"**{problems.height} open problems** in the records of "
            f"{md_text(scope.case_manager_id)}'s participants."
        )
        problem_table(
            problems,
            f"problems-{scope.site_id}-{scope.case_manager_id}-{release.as_of:%Y-%m-%d}.csv",
            "caseload-problems",
            scope,
        )
    if access.viewer().is_case_manager:
        return  # Problems without a case manager may be anyone's participants: leadership only.
    st.subheader(f"Problems at {scope.site_id} without a case manager")
    st.caption(
        "Open problems at this site that cannot be tied to a case manager: a participant row without "
        "one, a record of a participant the participants export does not have, or a row too broken "
        "to read. Shown here so that nothing is hidden."
    )
    unassigned = cache.fetch(path, unassigned_problems, site)
    if unassigned is None or unassigned.is_empty():
        st.success(f"No such problem at {scope.site_id}.", icon=":material/check_circle:")
        return
    st.markdown(f"**{unassigned.height} open problems** without a case manager.")
    problem_table(
        unassigned,
        f"problems-{scope.site_id}-unassigned-{release.as_of:%Y-%m-%d}.csv",
        "site-problems",
        scope,
    )


def show_release(path: Path, release: Release) -> None:
    """The caseload view of one release file: the viewer's own scope, or one leadership picks."""
    who = access.viewer()
    try:
        scope = scope_of(who)
    except ScopeError:
        st.info(NO_PARTICIPANTS, icon=":material/info:")
        return
    if who.is_case_manager:
        site = scope  # their own caseload, from the access file, never from a widget
    else:
        site_list = cache.fetch(path, sites, scope)
        if not site_list:
            st.info(NO_PARTICIPANTS, icon=":material/info:")
            return
        chosen = choose_scope(path, scope, site_list, release.as_of)
        if chosen is None:
            return
        site, scope = chosen
    problems = cache.fetch(path, caseload_problems, scope)
    current = cache.fetch(path, caseload, scope, release.as_of, False)
    st.markdown(md_text(opening(current, problems)))
    shown = participants_section(path, release, scope, problems)
    timeline_section(path, release, scope, shown)
    sizes_section(path, release, site, scope)
    problems_section(path, release, site, scope, problems)
    with st.expander("How this is calculated"):
        st.markdown(METHOD)


release_page("Caseload", show_release)
