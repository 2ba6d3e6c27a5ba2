"""Reading a snapshot's report.html in tests: its tables, figures, headline items and visible text."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

from pipelines.core.metrics import SMALL_COUNT
from pipelines.funder import names

MARK = f"fewer than {SMALL_COUNT}"
SNAKE = re.compile(r"\b[A-Za-z0-9]+_[A-Za-z0-9_]+\b")
NONE = re.compile(r"\bNone\b")


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


class Page(HTMLParser):
    """The report's tables, figures (JSON), headline items, every tag and the visible text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tables: list[tuple[dict, list[list[str]]]] = []
        self.figures: dict[str, dict] = {}
        self.tags: list[tuple[str, dict]] = []
        self.headlines: dict[str, str] = {}
        self.sections: list[str] = []
        self.visible: list[str] = []
        self._cell: list[str] | None = None
        self._figure: dict | None = None
        self._item: tuple[str, list[str]] | None = None
        self._text: list[str] = []
        self._hidden = 0
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag in ("script", "style", "title"):
            self._hidden += 1
        if tag == "section":
            self.sections.append(attrs.get("id", ""))
        if tag == "table":
            self.tables.append((attrs, []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "li" and "data-metric" in attrs:
            self._item = (attrs["data-metric"], [])
        elif tag == "script" and attrs.get("type") == "application/json":
            self._figure, self._text = attrs, []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "title"):
            self._hidden -= 1
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "li" and self._item is not None:
            self.headlines[self._item[0]] = "".join(self._item[1])
            self._item = None
        elif tag == "script" and self._figure is not None:
            self.figures[self._figure["data-figure"]] = json.loads("".join(self._text))
            self._figure = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(" " + data)
        if self._item is not None:
            self._item[1].append(data)
        if self._figure is not None:
            self._text.append(data)
        if not self._hidden:
            self.visible.append(data)

    def table(self, name: str) -> list[list[str]]:
        [rows] = [r for a, r in self.tables if a.get("data-table") == name]
        return rows


def read(snap: Path) -> tuple[list[dict[str, str]], Page, dict]:
    rows = csv_rows((snap / "metrics.csv").read_bytes())
    page = Page((snap / "report.html").read_text(encoding="utf-8"))
    return rows, page, json.loads((snap / "manifest.json").read_text())


def figure_strings(figure: dict) -> list[str]:
    """Every text a figure draws: titles, tick labels, categories, trace names and texts, notes."""
    out: list[str] = []
    layout = figure["layout"]
    for key, axis in layout.items():
        if key.startswith(("xaxis", "yaxis")):
            out += [str(t) for t in axis.get("ticktext", []) + axis.get("categoryarray", [])]
            out.append(str((axis.get("title") or {}).get("text", "")))
    out += [str(a.get("text", "")) for a in layout.get("annotations", [])]
    for trace in figure["data"]:
        out.append(str(trace.get("name", "")))
        out += [str(t) for t in trace.get("text") or []]
        if trace.get("orientation") == "h" or trace.get("type") == "scatter":
            out += [str(y) for y in trace.get("y") or [] if isinstance(y, str)]
    return out


def bars(figure: dict) -> set[tuple]:
    """(metric, group label, value, (numerator, denominator)) of every bar of a breakdown figure."""
    return {
        (t["meta"]["metric"], y, x, tuple(c))
        for t in figure["data"]
        if t["type"] == "bar"
        for x, y, c in zip(t["x"], t["y"], t["customdata"], strict=True)
    }


def hidden_marks(figure: dict) -> set[tuple[str, str]]:
    """(metric, group label) of every mark of a hidden cell, by the panel its axes belong to."""
    panels = {
        (t.get("xaxis", "x"), t.get("yaxis", "y")): t["meta"]["metric"]
        for t in figure["data"]
        if "metric" in (t.get("meta") or {})
    }
    return {
        (panels[(a["xref"].removesuffix(" domain"), a["yref"])], a["y"])
        for a in figure["layout"].get("annotations", [])
        if a.get("text") == html.escape(names.HIDDEN) and (a.get("xref"), a.get("yref")) != (None, None)
    }
