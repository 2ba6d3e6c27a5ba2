"""The export contract: one Pandera model per export table."""

from __future__ import annotations

from functools import cache

import pandera.polars as pa

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
}
OPTIONAL_TABLES = frozenset({"justice"})


@cache
def schema(table: str) -> pa.DataFrameSchema:
    """A table's schema (built once: the models do not change while a program runs)."""
    return MODELS[table].to_schema()
