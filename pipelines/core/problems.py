"""The open data problems of a release: one query, read by the Caseload page, the Data quality
page and `outcomes feedback`, with the columns each of them shows defined here once.

The query (`sql/open_problems.sql`) takes a Scope and filters on it in SQL with bound
parameters: a case manager's list holds only their participants' problems, a site's file only
that site's. A problem belongs to every case manager its participant's rows name
(`case_manager_ids`): when two rows of one participant disagree, both case managers see it.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources

import duckdb
import polars as pl

from checks.labels import labelled
from pipelines.core.scope import Scope

OPEN_PROBLEMS_SQL = resources.files("pipelines.core").joinpath("sql", "open_problems.sql").read_text("utf-8")

# Every column the query returns, in its order: the Data quality page's table and CSV.
COLUMNS = (
    "site_id",
    "table_name",
    "participant_id",
    "case_manager_id",
    "column_name",
    "rule",
    "value",
    "message",
    "fix",
    "file",
    "row_number",
    "first_seen",
    "age_days",
)
# A caseload's problems (Caseload page, a case manager's Data quality page): what staff read
# first comes first; the long archive path last.
CASELOAD_COLUMNS = (
    "participant_id",
    "table_name",
    "row_number",
    "column_name",
    "value",
    "message",
    "fix",
    "age_days",
    "first_seen",
    "file",
)
# A site's feedback file for its data coordinator (`outcomes feedback`), where in the file first.
FEEDBACK_COLUMNS = (
    "table_name",
    "file",
    "row_number",
    "participant_id",
    "column_name",
    "value",
    "message",
    "fix",
    "first_seen",
    "age_days",
)
FEEDBACK_ORDER = ("table_name", "row_number", "column_name")
# How people read each column: the pages' table headers and every problems file's headers.
HEADERS = {
    "site_id": "Site",
    "participant_id": "Participant",
    "case_manager_id": "Case manager",
    "table_name": "Export",
    "file": "File",
    "row_number": "Row",
    "column_name": "Column",
    "rule": "Rule",
    "value": "Value",
    "message": "Problem",
    "fix": "How to fix it",
    "first_seen": "First seen",
    "age_days": "Age (days)",
}
# The columns of a problem that hold codes, and the vocabulary each is read in.
VOCABULARIES = {"table_name": "table", "rule": "rule"}

NOT_TRACKED = (
    "This release was built before data problems were tracked, so there is no list to show. "
    "The next nightly run adds it."
)


def tracks_problems(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the release has the `problems` table as the queries read it (releases built before
    tracking have none; those built before a problem could reach several case managers lack its
    `case_manager_ids`: the next nightly run adds it)."""
    rows = con.sql(
        "select count(*) from information_schema.columns where table_name = $name and column_name = $column",
        params={"name": "problems", "column": "case_manager_ids"},
    ).fetchall()
    return rows[0][0] > 0


def open_problems(
    con: duckdb.DuckDBPyConnection, scope: Scope, tables: Sequence[str] = (), unassigned: bool = False
) -> pl.DataFrame:
    """The open problems inside `scope` (of the chosen `tables`; empty: all), oldest first.

    Columns COLUMNS; age_days counts from the as-of date of the run that first saw it.
    `unassigned`: only those no case manager can be found for (none inside a caseload's scope).
    """
    params = scope.params() | {"tables": list(tables), "unassigned": unassigned}
    return con.sql(OPEN_PROBLEMS_SQL, params=params).pl()


def feedback(con: duckdb.DuckDBPyConnection, site_id: str) -> pl.DataFrame:
    """A site's open problems as `outcomes feedback` writes them: FEEDBACK_COLUMNS, in file order."""
    found = open_problems(con, Scope(site_id=site_id))
    return found.sort(FEEDBACK_ORDER, nulls_last=True, maintain_order=True).select(FEEDBACK_COLUMNS)


def readable(problems: pl.DataFrame) -> pl.DataFrame:
    """Problems as people read them: each export's label and each rule's plain name (the contract's
    column names stay in the Column cells: they are what to correct)."""
    return labelled(problems, VOCABULARIES)


def for_people(problems: pl.DataFrame) -> pl.DataFrame:
    """Problems as a file for a data coordinator holds them: readable, under HEADERS."""
    return readable(problems).rename({c: h for c, h in HEADERS.items() if c in problems.columns})
