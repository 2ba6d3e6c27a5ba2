"""Validate one table's exports (all sites at once): good rows to load, bad rows to quarantine.

Each row read ends as exactly one of: loaded, quarantined (with one entry per broken rule:
file, row, column, rule, value and a plain message), or an exact duplicate of an earlier row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from checks import MODELS, person_column, schema
from checks.base import AS_OF, PARTICIPANT_STATE, REFERRAL_DATE
from checks.labels import vocabulary_of, with_code
from checks.rules import BUILTIN_RULES
from pipelines.nightly.parse import (
    TWO_DIGIT_YEAR,
    TWO_DIGIT_YEAR_PHRASE,
    parse_column,
    parse_distinct,
)
from pipelines.nightly.read import FIELDS, FILE, ROW, UNDECODABLE, WIDTH
from pipelines.nightly.textfile import REPLACEMENT

SITE = "site_id"
POS = "_pos"  # a row's position among the table's rows
AT = "_at"  # a row's position in the frame the model validates
SLICE_ROWS = 500_000  # rows parsed and checked at a time

QUARANTINE_SCHEMA = {
    FILE: pl.UInt32,
    SITE: pl.String,
    ROW: pl.UInt32,
    "participant_id": pl.String,
    "column_name": pl.String,
    "rule": pl.String,
    "value": pl.String,
    "message": pl.String,
}
# Pandera's own check names, as a data coordinator would say them (checks/rules.py).
RULE_NAMES = BUILTIN_RULES


@dataclass
class TableResult:
    """What validation made of one table: loaded rows, quarantine entries, per-file counts."""

    loaded: pl.DataFrame  # site_id + the contract's columns, typed
    quarantine: pl.DataFrame  # QUARANTINE_SCHEMA
    counts: pl.DataFrame  # _file, rows_read, rows_loaded, rows_quarantined, rows_duplicate
    held: pl.DataFrame  # site_id, person: the person IDs (as written) of the rows quarantined


def message_for(rule: str, column: str, schema_column: pa.Column) -> str:
    """The plain words of a broken built-in rule (the entry carries the value beside them)."""
    if rule == "required":
        return f"{column} is missing: it is required"
    if rule == "allowed_values":
        allowed = next(c.statistics["allowed_values"] for c in schema_column.checks if c.name == "isin")
        if schema_column.metadata.get("kind") == "living_situation":
            # 25 names with their labels would fill the row: the data dictionary lists them.
            return (
                f"{column} is not one of the data dictionary's living situations (`outcomes contract`): "
                "use its name or HUD HMIS number"
            )
        vocabulary = vocabulary_of(allowed)
        shown = [with_code(vocabulary, code) if vocabulary else code for code in allowed]
        return f"{column} is not one of {', '.join(shown)}"
    if rule == "format" and column in ("participant_id", "comparison_id"):
        return f"{column} may hold only letters, digits, _ and - (1 to 64 characters)"
    if rule == "range":
        low = next(
            c.statistics["min_value"] for c in schema_column.checks if c.name == "greater_than_or_equal_to"
        )
        return f"{column} is before {low}"
    return f"{column} breaks the rule {rule}"


def pandera_failures(
    model: type[pa.DataFrameModel], frame: pl.DataFrame, schema_columns: dict[str, pa.Column]
) -> pl.DataFrame:
    """Run the model over typed rows; one entry per broken rule (AT = the row's position)."""
    try:
        model.validate(frame, lazy=True)
    except SchemaErrors as err:
        cases = err.failure_cases
    else:
        return pl.DataFrame(
            schema={AT: pl.UInt32, "column_name": pl.String, "rule": pl.String, "message": pl.String}
        )
    if cases["index"].null_count():
        # A schema-level failure means the pipeline built the frame wrong, not the export.
        raise RuntimeError(f"{model.__name__} schema error: {cases.filter(pl.col('index').is_null())}")
    lookup = {}
    for name, column in schema_columns.items():
        lookup[(name, "not_nullable")] = ("required", message_for("required", name, column))
        for check in column.checks:
            rule = RULE_NAMES.get(check.name, check.name)
            builtin = check.name in RULE_NAMES
            message = message_for(rule, name, column) if builtin else f"{name} {check.error}"
            lookup[(name, check.error or str(check))] = (rule, message)
    keys = cases.select("column", "check").unique()
    mapped = pl.DataFrame(
        [
            {"column": c, "check": k, "rule": lookup[(c, k)][0], "message": lookup[(c, k)][1]}
            for c, k in keys.iter_rows()
        ],
        schema={"column": pl.String, "check": pl.String, "rule": pl.String, "message": pl.String},
    )
    return cases.join(mapped, on=["column", "check"], how="left").select(
        pl.col("index").cast(pl.UInt32).alias(AT), pl.col("column").alias("column_name"), "rule", "message"
    )


def shared(rows: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """The rows whose values in `columns` are another row's too.

    Rows are compared by hash first, then only those sharing a hash in full: comparing millions
    of rows in full would hold an encoded copy of every row.
    """
    return rows.filter(pl.struct(columns).hash().is_duplicated()).filter(pl.struct(columns).is_duplicated())


def repeats(rows: pl.DataFrame, columns: list[str]) -> pl.Series:
    """The positions (_pos) of the rows that repeat an earlier row's `columns` exactly."""
    return shared(rows, columns).filter(~pl.struct(columns).is_first_distinct())[POS]


def participant_of(person: str) -> pl.Expr:
    """The participant_id a quarantine entry names: a participant's row's own, and none for a
    comparison-group person (another namespace: never a participant, never a caseload's)."""
    if person == "participant_id":
        return pl.col("participant_id")
    return pl.lit(None, pl.String).alias("participant_id")


def key_conflicts(canonical: pl.DataFrame, key: list[str], participant: pl.Expr) -> pl.DataFrame:
    """Entries for rows that share a key with another row of the same file but differ from it."""
    keyed = shared(canonical.filter(pl.all_horizontal([pl.col(k).is_not_null() for k in key])), [FILE, *key])
    groups = (
        keyed.group_by(FILE, *key)
        .agg(pl.col(ROW).sort().alias("_rows"))
        .filter(pl.col("_rows").list.len() > 1)
    )
    key_text = pl.concat_str([pl.format(f"{k}={{}}", pl.col(k)) for k in key], separator=", ")
    return keyed.join(groups, on=[FILE, *key]).select(
        FILE,
        SITE,
        ROW,
        participant,
        pl.lit(", ".join(key)).alias("column_name"),
        pl.lit("conflicting_duplicate").alias("rule"),
        key_text.alias("value"),
        pl.format(
            "rows {} share the key ({}) but differ, so none was loaded: keep one row per key",
            pl.col("_rows").list.eval(pl.element().cast(pl.String)).list.join(", "),
            pl.lit(", ".join(key)),
        ).alias("message"),
    )


def ragged_entries(rows: pl.DataFrame, names: list[str], participant: pl.Expr) -> pl.DataFrame:
    """An entry for each ragged row (_fields set): its values may sit under the wrong column."""
    return rows.filter(pl.col(FIELDS).is_not_null()).select(
        FILE,
        SITE,
        ROW,
        participant,
        pl.lit(None, pl.String).alias("column_name"),
        pl.lit("ragged_row").alias("rule"),
        pl.concat_str([pl.col(c).fill_null("") for c in names], separator=",").alias("value"),
        pl.when(pl.col(FIELDS) != pl.col(WIDTH))
        .then(
            pl.format(
                "the row has {} values but the header has {} columns, so values may sit under "
                "the wrong column; the row was not loaded: check for a missing or extra comma",
                FIELDS,
                WIDTH,
            )
        )
        .otherwise(pl.lit("the row has a value in a column without a header name; the row was not loaded"))
        .alias("message"),
    )


def undecodable_entries(rows: pl.DataFrame, names: list[str], participant: pl.Expr) -> pl.DataFrame:
    """An entry for each value of an undecodable row that holds bytes that are not UTF-8 (in a
    file read as UTF-8: textfile.decode), shown as U+FFFD."""
    return (
        rows.filter(UNDECODABLE)
        .select(FILE, SITE, ROW, participant.alias("_participant"), *names)
        .unpivot(on=names, index=[FILE, SITE, ROW, "_participant"], variable_name="column_name")
        .filter(pl.col("value").str.contains(REPLACEMENT, literal=True))
        .select(
            FILE,
            SITE,
            ROW,
            pl.col("_participant").alias("participant_id"),
            "column_name",
            pl.lit("encoding").alias("rule"),
            "value",
            pl.format(
                "{} holds characters saved in another encoding than the rest of the file (UTF-8), "
                "shown as {}; the row was not loaded: retype them",
                "column_name",
                pl.lit(REPLACEMENT),
            ).alias("message"),
        )
    )


def in_slices(frame: pl.DataFrame, work: Callable[[pl.DataFrame], pl.DataFrame]) -> pl.DataFrame:
    """`work` over the frame a slice of rows at a time, results concatenated: for work done row by
    row, the same result, with the intermediate columns of one slice in memory, not the frame's."""
    starts = range(0, max(frame.height, 1), SLICE_ROWS)
    return pl.concat([work(frame.slice(start, SLICE_ROWS)) for start in starts])


def typed_rows(
    rows: pl.DataFrame,
    parsers: dict[str, tuple[pl.Expr, str | None, str]],
    schema_columns: dict[str, pa.Column],
) -> pl.DataFrame:
    """Rows in their contract types (parse_column's `parsers`): _file, site_id, _row, _pos, the
    columns, then _raw_<column>: the text of each value that did not parse (else null)."""
    return (
        rows.lazy()
        .with_columns(
            parse_distinct(rows[n], expr, schema_columns[n].dtype.type).alias(f"_typed_{n}")
            for n, (expr, _, _) in parsers.items()
        )
        .select(
            FILE,
            SITE,
            ROW,
            POS,
            *[pl.col(f"_typed_{n}").alias(n) for n in parsers],
            *[
                pl.when(pl.col(n).is_not_null() & pl.col(f"_typed_{n}").is_null())
                .then(pl.col(n))
                .alias(f"_raw_{n}")
                for n, (_, rule, _) in parsers.items()
                if rule
            ],
        )
        .collect()
    )


def rule_failures(
    model: type[pa.DataFrameModel],
    rows: pl.DataFrame,
    as_of: dt.date,
    participants: pl.DataFrame | None,
    schema_columns: dict[str, pa.Column],
    person: str = "participant_id",
) -> pl.DataFrame:
    """The contract's rules over typed rows, with the run's as-of date and the participant's
    referral beside each row: _pos, column_name, rule, message and the referral date. Each rule
    is about one row (and its participant), so a slice of rows gives its rows' failures."""
    checked = rows.select(POS, SITE, *schema_columns).with_columns(pl.lit(as_of).alias(AS_OF))
    if participants is not None:
        checked = checked.join(participants, on=[SITE, person], how="left", maintain_order="left")
    else:
        checked = checked.with_columns(pl.lit(None, pl.Date).alias(REFERRAL_DATE))
    helpers = [c for c in (AS_OF, REFERRAL_DATE, PARTICIPANT_STATE) if c in checked.columns]
    failures = pandera_failures(model, checked.select(*schema_columns, *helpers), schema_columns)
    at = checked.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias(AT), POS, REFERRAL_DATE)
    return failures.join(at, on=AT).drop(AT)


def validate_table(
    table: str, rows: pl.DataFrame, as_of: dt.date, participants: pl.DataFrame | None
) -> TableResult:
    """Validate every site's rows of one table.

    rows: _file, _width, site_id, _row, _fields, _undecodable, then the contract's text columns.
    participants: for outcome tables, site_id, the person column (participant_id, or
    comparison_id for the comparison group's tables), _participant, _referral_date.
    Parsing and the model's rules run a slice of rows at a time; duplicates and conflicts are
    looked for across all rows. A quarantine entry names the participant_id of a participant's
    row only: a comparison-group person is never a participant (their IDs are another namespace),
    so their entries name none and no case manager's problem list shows them.
    """
    model = MODELS[table]
    person = person_column(table)
    participant = participant_of(person)
    schema_columns = dict(schema(table).columns)
    names = list(schema_columns)
    key = model.Config.metadata["key"]
    entries: list[pl.DataFrame] = []

    # Ragged and undecodable rows are set aside whole: their values cannot be trusted.
    rows = rows.with_row_index(POS)
    aside = pl.col(FIELDS).is_not_null() | pl.col(UNDECODABLE)
    set_aside = rows.filter(aside)
    entries += [
        ragged_entries(set_aside, names, participant),
        undecodable_entries(set_aside, names, participant),
    ]

    # Parse text into contract types; a value that does not parse is an entry of its own, and
    # its text is kept so that two rows differing only there are not taken for duplicates.
    parsers = {name: parse_column(name, column) for name, column in schema_columns.items()}
    failing = [name for name, (_, rule, _) in parsers.items() if rule]
    raws = [f"_raw_{name}" for name in failing]
    typed = in_slices(rows, lambda part: typed_rows(part.filter(~aside), parsers, schema_columns))
    typed = typed.with_columns(
        pl.col(POS).is_in(repeats(typed, [FILE, *names, *raws]).implode()).alias("_dup")
    )
    read_counts = (
        pl.concat([set_aside.select(FILE, pl.lit(False).alias("_dup")), typed.select(FILE, "_dup")])
        .group_by(FILE)
        .agg(pl.len().alias("rows_read"), pl.col("_dup").sum().alias("rows_duplicate"))
    )
    typed = typed.filter(~pl.col("_dup")).drop("_dup")  # an exact repeat is counted, nothing more
    for name, raw in zip(failing, raws, strict=True):
        _, rule, phrase = parsers[name]
        message = pl.lit(f"{name} {phrase}")
        if schema_columns[name].metadata.get("kind") == "date":
            message = (
                pl.when(pl.col(raw).str.strip_chars().str.contains(TWO_DIGIT_YEAR))
                .then(pl.lit(f"{name} {TWO_DIGIT_YEAR_PHRASE}"))
                .otherwise(message)
            )
        entries.append(
            typed.filter(pl.col(raw).is_not_null()).select(
                FILE,
                SITE,
                ROW,
                participant,
                pl.lit(name).alias("column_name"),
                pl.lit(rule).alias("rule"),
                pl.col(raw).alias("value"),
                message.alias("message"),
            )
        )
    entries.append(key_conflicts(typed, key, participant))

    failures = in_slices(
        typed, lambda part: rule_failures(model, part, as_of, participants, schema_columns, person)
    )
    failed_rows = typed.join(failures.select(POS).unique(), on=POS, how="semi")
    # A cell that did not parse was reported as such; its "missing" is no news.
    unparseable = (
        failed_rows.select(
            POS, *[pl.col(raw).is_not_null().alias(n) for n, raw in zip(failing, raws, strict=True)]
        )
        .unpivot(index=POS, variable_name="column_name", value_name="bad")
        .filter("bad")
        .select(POS, "column_name")
    )
    # The value as the export wrote it (trimmed), so that the coordinator can find it there.
    values = (
        rows.select(names)[failed_rows[POS]]
        .with_columns(failed_rows[POS])
        .unpivot(index=POS, variable_name="column_name", value_name="value")
    )
    context = (
        pl.when(pl.col("rule") == "after_as_of")
        .then(pl.lit(as_of.isoformat()))
        .when(pl.col("rule") == "before_referral_window")
        .then(pl.col(REFERRAL_DATE).cast(pl.String))
    )
    entries.append(
        failures.join(failed_rows.select(POS, FILE, SITE, ROW, participant), on=POS)
        .join(unparseable, on=[POS, "column_name"], how="anti")
        .join(values, on=[POS, "column_name"], how="left")
        .with_columns(
            pl.when(context.is_not_null())
            .then(pl.format("{} ({})", pl.col("message"), context))
            .otherwise(pl.col("message"))
            .alias("message")
        )
    )

    quarantine = pl.concat(
        [e.select([pl.col(c).cast(t) for c, t in QUARANTINE_SCHEMA.items()]) for e in entries]
    ).sort(FILE, ROW, "column_name", "rule", nulls_last=False)
    bad_rows = quarantine.select(FILE, ROW).unique()
    loaded = typed.select(FILE, SITE, ROW, *names).join(bad_rows, on=[FILE, ROW], how="anti")
    counts = (
        read_counts.join(bad_rows.group_by(FILE).agg(pl.len().alias("rows_quarantined")), on=FILE, how="left")
        .join(loaded.group_by(FILE).agg(pl.len().alias("rows_loaded")), on=FILE, how="left")
        .fill_null(0)
    )
    held = rows.join(bad_rows, on=[FILE, ROW], how="semi").select(SITE, person).drop_nulls(person).unique()
    return TableResult(loaded.drop(ROW), quarantine, counts, held)
