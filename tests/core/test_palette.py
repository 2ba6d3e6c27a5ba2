"""Every colour a chart uses is readable on white: 3:1 for marks (WCAG 1.4.11), 4.5:1 for text
(1.4.3); lines differ by more than colour; the contrast arithmetic is WCAG's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipelines.core import palette
from pipelines.core.palette import (
    BACKGROUND,
    GRAPHIC_COLOURS,
    LINE_DASHES,
    LINE_SYMBOLS,
    OKABE_ITO,
    TEXT_COLOURS,
    contrast_ratio,
    line_look,
)

ROOT = Path(__file__).resolve().parents[2]
CHART_SOURCES = [
    *sorted((ROOT / "dashboard" / "charts").glob("*.py")),
    ROOT / "pipelines" / "funder" / "figures.py",
]
HEX = re.compile(r"#[0-9A-Fa-f]{6}\b")
# Colours in the chart sources that are fills behind data or gridlines, never a mark or a word.
FILLS = {palette.GRID.upper(), "#DDDDDD"}


def test_contrast_of_known_pairs() -> None:
    """WCAG's own end points and a published pair: the arithmetic is the standard's."""
    assert contrast_ratio("#000000") == pytest.approx(21.0)
    assert contrast_ratio("#FFFFFF") == pytest.approx(1.0)
    assert contrast_ratio("#777777") == pytest.approx(4.48, abs=0.01)  # WebAIM's classic near-miss
    assert contrast_ratio("#767676") == pytest.approx(4.54, abs=0.01)
    # Symmetric, and short hex means the same colour.
    assert contrast_ratio("#0072B2", "#FFFFFF") == pytest.approx(contrast_ratio("#FFFFFF", "#0072B2"))
    assert contrast_ratio("#FFF", "#000") == pytest.approx(21.0)


def test_the_old_okabe_ito_colours_would_fail() -> None:
    """The colours issue 15 measured are below the line, so the test below can fail."""
    for old in ("#E69F00", "#56B4E9", "#F0E442", "#808495"):
        assert contrast_ratio(old) < 4.5
    assert contrast_ratio("#E69F00") < 3 and contrast_ratio("#56B4E9") < 3


@pytest.mark.parametrize("colour", GRAPHIC_COLOURS)
def test_every_palette_graphic_colour_is_three_to_one(colour: str) -> None:
    assert contrast_ratio(colour, BACKGROUND) >= 3.0, f"{colour}: {contrast_ratio(colour):.2f}:1"


@pytest.mark.parametrize("colour", TEXT_COLOURS)
def test_every_text_colour_is_four_and_a_half_to_one(colour: str) -> None:
    assert contrast_ratio(colour, BACKGROUND) >= 4.5, f"{colour}: {contrast_ratio(colour):.2f}:1"


def test_every_hex_colour_in_the_chart_modules_is_readable() -> None:
    """The chart modules and the funder's figures: every literal colour passes 3:1 (or is a fill)."""
    found = {
        (source.name, colour.upper())
        for source in CHART_SOURCES
        for colour in HEX.findall(source.read_text(encoding="utf-8"))
    }
    assert CHART_SOURCES and all(source.is_file() for source in CHART_SOURCES)
    failing = sorted(
        f"{name}: {colour} {contrast_ratio(colour):.2f}:1"
        for name, colour in found
        if colour not in FILLS and contrast_ratio(colour) < 3.0
    )
    assert failing == []


def test_the_palette_keeps_distinct_colours() -> None:
    """Darkening kept eight different colours, none of them white-ish or a repeat."""
    assert len({c.upper() for c in OKABE_ITO}) == len(OKABE_ITO) == 8


def test_lines_differ_by_more_than_colour() -> None:
    """Any two of the first twelve lines differ in dash and in marker symbol, not colour alone."""
    looks = [line_look(i) for i in range(12)]
    for i, one in enumerate(looks):
        for other in looks[i + 1 : i + len(LINE_DASHES)]:
            assert one["dash"] != other["dash"]
        for other in looks[i + 1 : i + len(LINE_SYMBOLS)]:
            assert one["symbol"] != other["symbol"]
    assert all(look["color"] in OKABE_ITO[:7] for look in looks)
