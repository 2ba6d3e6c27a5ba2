"""The export contract: one Pandera model per export table."""

from __future__ import annotations

from functools import cache

import pandera.polars as pa

from checks.comparison import Comparison, ComparisonJustice
from checks.employment import Employment
from checks.housing import Housing
from checks.justice import Justice
from checks.participants import Participants
from checks.treatment import Treatment

MODELS: dict[str, type[pa.DataFrameModel]] = {
    "participants": Participants,
    "housing": Housing,
    "treatment": Treatment,
    "employment": Employment,
    "justice": Justice,
    "comparison": Comparison,
    "comparison_justice": ComparisonJustice,
}
# The comparison group's tables: for the impact evaluation, sent by the sites that keep such a list.
COMPARISON_TABLES = ("comparison", "comparison_justice")
OPTIONAL_TABLES = frozenset({"justice", *COMPARISON_TABLES})
# The person tables: each row is a person of its site, and the outcome tables name which one
# their rows belong to (model metadata "people"; participants unless said otherwise).
PEOPLE_TABLES = ("participants", "comparison")


def person_column(table: str) -> str:
    """The column that names a table's person: participant_id, or comparison_id."""
    return MODELS[table].Config.metadata.get("person", "participant_id")


def people_table(table: str) -> str | None:
    """The person table an outcome table's rows belong to; None for a person table."""
    if table in PEOPLE_TABLES:
        return None
    return MODELS[table].Config.metadata.get("people", "participants")


@cache
def schema(table: str) -> pa.DataFrameSchema:
    """A table's schema (built once: the models do not change while a program runs)."""
    return MODELS[table].to_schema()


# Every rule the models check has a plain name (checks/labels.py): a rule added without one fails
# the first import, not a page in front of a data coordinator.
from checks.rules import unlabelled_rules  # noqa: E402 - needs MODELS above

if unlabelled_rules():  # pragma: no cover - a rule added without its label
    raise ImportError(f"rules without a label in checks/labels.py: {unlabelled_rules()}")
