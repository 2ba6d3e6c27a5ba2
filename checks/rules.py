"""The rules a row of an export can break, by the name its quarantine entry carries.

The models' rules are read from the models themselves: each column check's and each table
check's name, Pandera's built-in checks under the names data coordinators read (BUILTIN_RULES).
The reader's own rules come before the models: a row with too many values, text in another
encoding, a value that is not a date or a whole number, and rows that share a key but differ.
Every one of them has a plain name in `checks.labels.RULE` (checked when `checks` is imported).
"""

from __future__ import annotations

# Pandera's own check names, as a data coordinator would say them.
BUILTIN_RULES = {
    "not_nullable": "required",
    "isin": "allowed_values",
    "str_matches": "format",
    "greater_than_or_equal_to": "range",
}
# The rules pipelines/nightly applies itself (read.py, parse.py, validate.py).
READER_RULES = ("ragged_row", "encoding", "date_format", "whole_number", "conflicting_duplicate")


def model_rules() -> frozenset[str]:
    """Every rule the contract's models check, under the name a quarantine entry gives it."""
    from checks import MODELS, schema  # the models import this package: read them once it is whole

    names = {"not_nullable"}  # every required column
    for table in MODELS:
        table_schema = schema(table)
        names |= {check.name for column in table_schema.columns.values() for check in column.checks}
        names |= {check.name for check in table_schema.checks}
    return frozenset(BUILTIN_RULES.get(name, name) for name in names)


def all_rules() -> frozenset[str]:
    """The models' rules and the reader's."""
    return model_rules() | frozenset(READER_RULES)


def unlabelled_rules() -> list[str]:
    """The rules without a plain name in the label registry (none: checked at import)."""
    from checks.labels import RULE

    return sorted(rule for rule in all_rules() if rule not in RULE)
