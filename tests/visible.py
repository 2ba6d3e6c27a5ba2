"""What a page shows a person, as text: every heading, sentence, widget label and option, table
header and cell, chart title, legend, axis title and hover text of an AppTest run (issue 15).

`raw_codes(at)` finds what no user should read: a snake_case code, rule ID or internal name
(`arrest_diversion`, `after_as_of`), or the word "None" standing for an empty cell. A code written
beside its label, as `code (Label)`, is the data dictionary's way of telling a data coordinator
what to type, and passes. A code of one plain word (`moud`, `permanent`, `all`) is no snake_case,
so a table cell or a chart's name or category is also checked against every code of the registry:
the whole text, or what follows a `Kind: ` prefix ("Treatment: moud").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pandas as pd
from google.protobuf.json_format import MessageToDict
from streamlit.testing.v1 import AppTest

from checks.labels import VOCABULARIES

SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")
NONE = re.compile(r"\bNone\b")
# Markdown's backslash escapes (md_text) and inline code marks are not what a reader sees.
ESCAPE = re.compile(r"\\(.)")
PLACEHOLDER = re.compile(r"%\{[^}]*\}")  # a Plotly hover template's fields
TAG = re.compile(r"<[^>]+>")
# The strings of a widget's or element's proto a person reads (not ids, formats or keys).
SHOWN_FIELDS = ("body", "label", "options", "placeholder", "help", "value", "delta", "text", "caption")
# The parts of a Plotly figure a person reads.
CHART_FIELDS = frozenset({"name", "text", "hovertext", "ticktext", "x", "y", "hovertemplate", "texttemplate"})
SENTENCES = frozenset({"hovertemplate", "texttemplate", "hovertext"})
CUSTOMDATA = re.compile(r"customdata\[(\d+)\]")


# The registry's one-word codes in lower case: a cell or a legend that is one of them is a raw code.
CODE_WORDS = frozenset(
    code for names in VOCABULARIES.values() for code in names if code.isalpha() and code.islower()
)
# Where a whole text is a value, not a sentence: table cells and the parts of a chart.
VALUES = ("table cell", "chart")


@dataclass(frozen=True)
class Shown:
    """One piece of text on the page: where it is (element and field) and what it says."""

    where: str
    text: str
    column: str | None = None  # a table cell's column (its name in the frame)


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def chart_text(spec: dict) -> Iterator[Shown]:
    """The text of a Plotly figure's JSON a person reads: trace names, values on a category axis,
    hover text (without its %{fields}), titles, tick labels, legend titles and annotations. Names,
    categories and hovered values are "chart" values; hover templates and titles "chart text"."""

    def walk(node: object, key: str | None) -> Iterator[Shown]:
        if key == "template":
            return
        if isinstance(node, dict):
            for k, v in node.items():
                if k in CHART_FIELDS:
                    where = "chart text" if k in SENTENCES or key == "title" else "chart"
                    yield from (Shown(where, TAG.sub(" ", PLACEHOLDER.sub(" ", s))) for s in _strings(v))
                elif k == "customdata":
                    yield from (Shown("chart", s) for s in hovered(v, node.get("hovertemplate")))
                else:
                    yield from walk(v, k)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item, key)

    yield from walk(spec, None)


def hovered(customdata: object, template: object) -> Iterator[str]:
    """The strings of a trace's customdata its hover template shows (`%{customdata[i]}`)."""
    shown = {int(i) for t in _strings(template) for i in CUSTOMDATA.findall(t)}
    for point in customdata if isinstance(customdata, list) else ():
        row = point if isinstance(point, list) else [point]
        yield from (str(row[i]) for i in shown if i < len(row) and isinstance(row[i], str))


def table_text(element: object) -> Iterator[Shown]:
    """A table's shown headers (its column_config labels) and the text of its cells, leaving out
    hidden columns."""
    proto = element.proto
    config = json.loads(proto.columns) if proto.columns else {}
    frame = element.value
    order = list(proto.column_order) or list(frame.columns)
    for name in order:
        if name not in frame.columns:
            continue
        settings = config.get(f"name:{name}") or config.get(name) or {}
        if settings.get("hidden"):
            continue
        yield Shown("table header", str(settings.get("label") or name))
        if settings.get("help"):
            yield Shown("table help", settings["help"])
        for cell in frame[name]:
            if isinstance(cell, str):
                yield Shown("table cell", cell, column=name)
            elif not proto.HasField("placeholder") and pd.api.types.is_scalar(cell) and pd.isna(cell):
                yield Shown("table cell", "None", column=name)  # what the browser draws for it


def shown(at: AppTest) -> list[Shown]:
    """Everything the run put on screen as text."""
    found: list[Shown] = []

    def walk(node: object) -> None:
        kind = getattr(node, "type", type(node).__name__)
        proto = getattr(node, "proto", None)
        if kind == "dataframe":
            found.extend(table_text(node))
        elif kind == "plotly_chart":
            found.extend(chart_text(json.loads(proto.spec)))
        elif proto is not None:
            fields = MessageToDict(proto, preserving_proto_field_name=True)
            for name in SHOWN_FIELDS:
                found.extend(Shown(f"{kind} {name}", s) for s in _strings(fields.get(name)))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return found


def _labelled(text: str) -> str:
    """The text without every `code (Label)` pair of the registry: a code shown beside its label."""
    for names in VOCABULARIES.values():
        for code, name in names.items():
            text = text.replace(f"{code} ({name})", name)
    return text


def offending(text: str, allowed: Iterable[str] = ()) -> list[str]:
    """The snake_case codes and "None"s a person would read in `text` (`allowed` words pass)."""
    plain = _labelled(ESCAPE.sub(r"\1", text).replace("`", ""))
    passing = set(allowed)
    return [m for m in SNAKE.findall(plain) if m not in passing] + NONE.findall(plain)


def raw_codes(
    at: AppTest, allowed: Iterable[str] = (), skip_columns: Iterable[str] = ()
) -> list[tuple[str, str]]:
    """(where, text) of every piece of shown text that holds a raw code or a "None"; the cells of
    `skip_columns` (a frame's column names) are not read."""
    allowed, skipped = tuple(allowed), set(skip_columns)
    return [
        (item.where, item.text)
        for item in shown(at)
        if item.column not in skipped
        and (offending(item.text, allowed) or (item.where in VALUES and is_code_word(item.text)))
    ]


def is_code_word(text: str) -> bool:
    """Whether a value is a one-word code, whole or after a `Kind: ` prefix (`Treatment: moud`)."""
    return text.strip() in CODE_WORDS or text.rsplit(": ", 1)[-1].strip() in CODE_WORDS
