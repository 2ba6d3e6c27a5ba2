"""The data dictionary and empty templates, generated from the Pandera models (never by hand)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pandera.polars as pa

from checks import MODELS, OPTIONAL_TABLES, vocab
from checks.labels import label, vocabulary_of, with_code

TYPE_NAMES = {
    "text": "text",
    "date": "date",
    "int": "whole number",
    "enum": "one of a list",
    "living_situation": "living situation (name or HMIS number)",
    "list": "list (;-separated)",
}
GENERAL_RULES = f"""\
## All exports

- One file per table and site: `inbox/<site>/<table>.csv` (or `.xlsx`), `<site>` being the
  site's ID. Each file is a full export: it replaces the site's previous one. Put the file itself
  there: a shortcut (symbolic link), a folder named like a file, or a site folder whose name starts
  with a dot is refused.
- In a workbook, the rows are read from the one visible sheet whose first row is the header (other
  sheets may hold notes). Hidden sheets are never read; two visible sheets with the header are
  refused.
- One header row. Headers match after lower-casing, trimming, and turning spaces and hyphens
  into underscores (`Case Manager ID` is `case_manager_id`). Values are trimmed.
- CSV in UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1252. A UTF-8 file with a
  few characters saved in another encoding stays UTF-8: the rows holding them are quarantined.
- Dates as `YYYY-MM-DD`, `MM/DD/YYYY` or Excel date numbers. IDs are text: leading zeros stay.
- {", ".join(f"`{t.upper()}`" for t in vocab.MISSING_TOKENS if t)} or an empty cell mean missing.
- Never include direct identifiers (name, SSN, date of birth, address, phone, email): a file
  holding such a column is refused whole and not archived.
- A missing required column or an unknown column refuses the file. A row that breaks a rule is
  quarantined with its reason; an exact repeat of a row is counted once; rows that share a
  key but differ are all quarantined; outcome rows of an unknown participant are quarantined.
- An optional column may be left out of the file. A file written to an earlier version of this
  contract stays valid: a justice export without `release_date` (contract v1) loads as before,
  and its bookings count no time in custody.
"""


def allowed(codes: list[str] | tuple[str, ...], vocabulary: str | None = None) -> str:
    """Allowed values as a data coordinator types them, each beside its label: `code` (Label). The
    vocabulary is the one whose codes these are, unless given."""
    vocabulary = vocabulary or vocabulary_of(codes)
    if vocabulary is None:
        return ", ".join(f"`{code}`" for code in codes)
    named = [(code, with_code(vocabulary, code).removeprefix(code)) for code in codes]
    return ", ".join(f"`{code}`{name}" for code, name in named)


def column_rule(column: pa.Column) -> str:
    """A column's rules in words: allowed values, patterns, lower bounds, custom rules."""
    words = [column.description or ""]
    if column.metadata.get("kind") == "list":
        words.append(f"Allowed: {allowed(column.metadata['values'])}.")
    for check in column.checks:
        if check.name == "isin" and column.metadata.get("kind") != "living_situation":
            words.append(f"Allowed: {allowed(check.statistics['allowed_values'])}.")
        elif check.name == "str_matches":
            words.append(f"Pattern `{check.statistics['pattern']}`.")
    return " ".join(w for w in words if w)


def table_section(table: str, model: type[pa.DataFrameModel]) -> str:
    """One table's part of the dictionary."""
    schema = model.to_schema()
    key = ", ".join(model.Config.metadata["key"])
    lines = [
        f"## {label('table', table)}: `{table}.csv`" + (" (optional)" if table in OPTIONAL_TABLES else ""),
        "",
        inspect.getdoc(model) or "",
        "",
        f"Key: `{key}`. Template: `templates/{table}.csv`.",
        "",
        "| column | type | required | rule |",
        "|---|---|---|---|",
    ]
    for name, column in schema.columns.items():
        kind = column.metadata.get("kind", "text")
        required = "optional" if column.nullable else "required"
        lines.append(f"| `{name}` | {TYPE_NAMES[kind]} | {required} | {column_rule(column)} |")
    return "\n".join(lines) + "\n"


def hmis_section() -> str:
    """The living situations with their HUD HMIS numbers and categories."""
    lines = [
        "## Living situations (HUD HMIS FY2024)",
        "",
        "`living_situation` takes our name or the HMIS number.",
        "",
        "| name (what it means) | HMIS number(s) | category |",
        "|---|---|---|",
    ]
    for name, (codes, category) in vocab.LIVING_SITUATIONS.items():
        numbers = ", ".join(map(str, codes))
        lines.append(
            f"| {allowed([name], 'living_situation')} | {numbers} | {label('housing_category', category)} |"
        )
    return "\n".join(lines) + "\n"


def data_dictionary() -> str:
    """The whole data dictionary, Markdown."""
    parts = [
        f"# LEAD Outcomes export contract ({vocab.CONTRACT_VERSION})\n",
        GENERAL_RULES,
        *(table_section(t, m) for t, m in MODELS.items()),
        hmis_section(),
    ]
    return "\n".join(parts)


def template(table: str) -> str:
    """The empty export of a table: its header row, columns in contract order."""
    return ",".join(MODELS[table].to_schema().columns) + "\n"


def write_contract(out: Path) -> Path:
    """Write `data_dictionary.md` and `templates/<table>.csv` (header only) into `out`."""
    templates = out / "templates"
    templates.mkdir(parents=True, exist_ok=True)
    (out / "data_dictionary.md").write_text(data_dictionary(), encoding="utf-8")
    for table in MODELS:
        (templates / f"{table}.csv").write_text(template(table), encoding="utf-8")
    return out
