"""Caseload: one case manager's participants, one participant's timeline, caseload sizes at a
site, and the open data problems of a caseload.

Every query takes a Scope and applies it in SQL with bound values ($scope_site,
$scope_case_manager): a caseload's queries refuse anything wider than one caseload, and a
case manager's caseload sizes hold their own row only. A widget can narrow a Scope, never
widen it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import duckdb
import polars as pl

from checks.labels import NOT_RECORDED, label_expr, labelled
from dashboard.queries.sql import load
from pipelines.core import problems
from pipelines.core.scope import Scope

# LEAD's guidance on caseloads (DESIGN s.1): 12 to 25 participants per case manager.
GUIDANCE_LOW, GUIDANCE_HIGH = 12, 25
HOUSING_DUE_DAYS = 90
RECENT_ARREST_DAYS = 30

# Flag column -> what it means, in the words the page shows. Prompts for outreach, not judgments.
FLAGS: dict[str, str] = {
    "housing_check_due": f"No housing assessment in {HOUSING_DUE_DAYS} days",
    "unsheltered": "Unsheltered at last housing assessment",
    "recent_arrest": f"Arrest record in the last {RECENT_ARREST_DAYS} days",
    "exited": "Exited the program",
}
CASELOAD_COLUMNS = [
    "participant_id",
    *FLAGS,
    "referral_date",
    "referral_type",
    "living_situation",
    "housing_category",
    "housing_assessed_on",
    "days_since_housing",
    "treatment_service",
    "treatment_start",
    "current_episodes",
    "employment_status",
    "has_income",
    "employment_assessed_on",
    "days_since_employment",
    "last_arrest",
    "exit_date",
]
TIMELINE_COLUMNS = ["event", "date", "end_date", "detail", "category"]
# The caseload's columns that hold codes, and the vocabulary each is read in.
CASELOAD_VOCABULARIES = {
    "referral_type": "referral_type",
    "living_situation": "living_situation",
    "housing_category": "housing_category",
    "treatment_service": "service_type",
    "employment_status": "employment_status",
    "has_income": "yes_no_unknown",
}
# A timeline event's detail and category, and the vocabulary each is read in.
DETAIL_VOCABULARIES = {
    "referral": "referral_type",
    "housing": "living_situation",
    "treatment": "service_type",
    "employment": "employment_status",
    "justice": "event_type",
    "exit": "exit_reason",
}
CATEGORY_VOCABULARIES = {
    "housing": "housing_category",
    "treatment": "discharge_reason",
    "employment": "yes_no_unknown",
    "justice": "level",
}
PROBLEM_COLUMNS = list(problems.CASELOAD_COLUMNS)

SITES_SQL = load("caseload_sites")
SIZES_SQL = load("caseload_sizes")
CASELOAD_SQL = load("caseload")
TIMELINE_SQL = load("timeline")


def sites(con: duckdb.DuckDBPyConnection, scope: Scope) -> list[str]:
    """The sites that have participants inside the scope, in order."""
    return [site for (site,) in con.sql(SITES_SQL, params=scope.params()).fetchall()]


def caseload_sizes(con: duckdb.DuckDBPyConnection, scope: Scope, as_of: date) -> pl.DataFrame:
    """Each case manager of the scope's site (a case manager's scope: their own row only): current
    participants (not exited by the as-of date), exited participants, and where the current
    caseload stands against the 12-to-25 guidance.

    Columns case_manager_id, current, exited, guidance ('more than 25', '12 to 25', 'fewer than 12').
    """
    scope.require_site()
    params = scope.params() | {"as_of": as_of, "low": GUIDANCE_LOW, "high": GUIDANCE_HIGH}
    return con.sql(SIZES_SQL, params=params).pl()


def caseload(
    con: duckdb.DuckDBPyConnection, scope: Scope, as_of: date, include_exited: bool = False
) -> pl.DataFrame:
    """One case manager's participants with their latest statuses and the outreach prompts.

    Latest housing and employment: the newest assessment on or before the as-of date, however old
    (its date and the days since it say how old). Current treatment: the episode started most
    recently among those open on the as-of date (no end date, or ending on or after it);
    current_episodes counts them. Flags: housing_check_due (no housing assessment in the
    90 days up to the as-of date, or none at all), unsheltered (the latest housing status),
    recent_arrest (an arrest dated in the 30 days up to the as-of date), exited (an exit date on
    or before the as-of date). Columns: CASELOAD_COLUMNS, one row per participant.
    """
    scope.require_caseload()
    params = scope.params() | {
        "as_of": as_of,
        "include_exited": include_exited,
        "housing_due_days": HOUSING_DUE_DAYS,
        "recent_arrest_days": RECENT_ARREST_DAYS,
    }
    return con.sql(CASELOAD_SQL, params=params).pl()


def timeline(con: duckdb.DuckDBPyConnection, scope: Scope, participant_id: str) -> pl.DataFrame:
    """One participant's records in date order: referral, housing and employment assessments,
    treatment episodes, justice events and exit. Empty unless the participant is on the scope's
    caseload.

    Columns: event ('referral', 'housing', 'treatment', 'employment', 'justice', 'exit'), date,
    end_date (treatment only; null while open), detail (living situation, service type,
    employment status, event type, referral type or exit reason), category (housing category,
    discharge reason, has_income, level).
    """
    scope.require_caseload()
    params = scope.params() | {"participant_id": participant_id}
    return con.sql(TIMELINE_SQL, params=params).pl()


def caseload_problems(con: duckdb.DuckDBPyConnection, scope: Scope) -> pl.DataFrame | None:
    """The open data problems in the records of the scope's participants, oldest first; None when
    the release tracks none.

    Columns PROBLEM_COLUMNS; age_days counts from the as-of date of the run that first saw it.
    """
    scope.require_caseload()
    if not problems.tracks_problems(con):
        return None
    return problems.open_problems(con, scope).select(PROBLEM_COLUMNS)


def unassigned_problems(con: duckdb.DuckDBPyConnection, scope: Scope) -> pl.DataFrame | None:
    """The scope's open data problems that no case manager can be found for, oldest first (none
    inside a caseload's scope); None when the release tracks none.

    Columns PROBLEM_COLUMNS: e.g. a participant row without a case manager, a record of an
    unknown participant, or a row too broken to read its participant_id.
    """
    if not problems.tracks_problems(con):
        return None
    return problems.open_problems(con, scope, unassigned=True).select(PROBLEM_COLUMNS)


# --- shaping ------------------------------------------------------------------------------


def filter_caseload(table: pl.DataFrame, flags: Sequence[str] = (), search: str = "") -> pl.DataFrame:
    """The rows with any of the chosen flags (all rows when none is chosen) whose participant_id
    holds the search text (ignoring case and surrounding spaces)."""
    unknown = set(flags) - set(FLAGS)
    if unknown:
        raise ValueError(f"unknown flags: {sorted(unknown)}")
    if flags:
        table = table.filter(pl.any_horizontal(pl.col(flag) for flag in flags))
    text = search.strip().lower()
    if text:
        table = table.filter(pl.col("participant_id").str.to_lowercase().str.contains(text, literal=True))
    return table


def problem_counts(table: pl.DataFrame, problems: pl.DataFrame) -> pl.DataFrame:
    """The caseload table with open_problems: each participant's open data problems (0 if none)."""
    counts = problems.group_by("participant_id").agg(pl.len().cast(pl.Int64).alias("open_problems"))
    return table.join(counts, on="participant_id", how="left", maintain_order="left").with_columns(
        pl.col("open_problems").fill_null(0)
    )


def flag_counts(table: pl.DataFrame) -> dict[str, int]:
    """How many rows carry each flag."""
    return {flag: int(table[flag].sum()) for flag in FLAGS}


def opening(table: pl.DataFrame, problems: pl.DataFrame | None) -> str:
    """What the caseload needs first, in a sentence: its current participants, then each prompt
    that applies to someone (most first) and the open data problems; `table` is the caseload
    without exited participants."""
    people = table.height
    if people == 0:
        return "This caseload has no current participants."
    counts = flag_counts(table)
    prompts = sorted(
        ((n, FLAGS[flag].lower()) for flag, n in counts.items() if flag != "exited" and n),
        key=lambda item: -item[0],
    )
    said = "; ".join(
        f"{n} {'has' if n == 1 else 'have'} {PROMPT_PHRASES.get(text, text)}" for n, text in prompts
    )
    text = f"{people} current participant{'s' if people != 1 else ''} in this caseload"
    text += f": {said}." if said else ", and none needs a prompt today."
    if problems is not None and problems.height:
        owners = problems["participant_id"].n_unique()
        text += (
            f" {problems.height} open data problem{'s' if problems.height != 1 else ''} "
            f"concern{'s' if problems.height == 1 else ''} {owners} of them (see Data problems below)."
        )
    return text


# How each prompt reads after "N have ...": the prompt's label, said as a verb phrase.
PROMPT_PHRASES = {
    FLAGS["housing_check_due"].lower(): f"had no housing assessment in {HOUSING_DUE_DAYS} days",
    FLAGS["unsheltered"].lower(): "been unsheltered at their last housing assessment",
    FLAGS["recent_arrest"].lower(): f"an arrest record in the last {RECENT_ARREST_DAYS} days",
}


# How a prompt that applies reads in the caseload table (one that does not is left blank).
FLAG_SHOWN = "Yes"


def caseload_view(table: pl.DataFrame) -> pl.DataFrame:
    """The caseload as the page's table shows it: every code read as its label (a status never
    assessed reads "Not recorded"), each prompt as a word ("Yes") or blank, never a checkbox."""
    words = [
        pl.when(pl.col(flag)).then(pl.lit(FLAG_SHOWN)).otherwise(pl.lit(None, pl.String)).alias(flag)
        for flag in FLAGS
        if flag in table.columns
    ]
    return labelled(table, CASELOAD_VOCABULARIES).with_columns(words)


def by_event(column: str, vocabularies: dict[str, str]) -> pl.Expr:
    """`column` read in the vocabulary of each row's event (null for an event not listed)."""
    expr = pl.when(pl.lit(False)).then(pl.lit(None, pl.String))
    for event, vocabulary in vocabularies.items():
        expr = expr.when(pl.col("event") == event).then(label_expr(column, vocabulary))
    return expr.otherwise(pl.lit(None, pl.String)).alias(column)


def timeline_view(events: pl.DataFrame) -> pl.DataFrame:
    """The timeline's events with their detail and category read as labels (for the chart)."""
    return events.with_columns(
        by_event("detail", DETAIL_VOCABULARIES), by_event("category", CATEGORY_VOCABULARIES)
    )


def timeline_table(events: pl.DataFrame) -> pl.DataFrame:
    """The timeline's events as the table under the chart shows them, in words."""
    what = {
        "referral": "Referral",
        "housing": "Housing assessment",
        "treatment": "Treatment episode",
        "employment": "Employment assessment",
        "justice": "Justice record",
        "exit": "Exit",
    }
    category = pl.col("category")
    note = (
        pl.when(pl.col("event") == "housing")
        .then(category)
        .when(pl.col("event") == "treatment")
        .then(pl.when(pl.col("end_date").is_null()).then(pl.lit("Open")).otherwise("Discharge: " + category))
        .when(pl.col("event") == "employment")
        .then("Income or benefits: " + category)
        .when(pl.col("event") == "justice")
        .then("Level: " + category)
        .otherwise(pl.lit(""))
    )
    return timeline_view(events).select(
        "date",
        "end_date",
        pl.col("event").replace_strict(what, default=pl.col("event")).alias("record"),
        pl.col("detail").fill_null(NOT_RECORDED),
        note.alias("note"),
    )
