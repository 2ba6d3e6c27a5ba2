"""The chart palette, text colours and font, shared by the dashboard and the funder report.

Every colour a chart draws with is named here, so that tests/core/test_palette.py can hold each
to WCAG 2.1's contrast against the white background: at least 3:1 for lines, marks and bars
(success criterion 1.4.11) and 4.5:1 for text (1.4.3).
"""

from __future__ import annotations

BACKGROUND = "#FFFFFF"

# Okabe & Ito (2008), distinguishable with the common colour-vision deficiencies, with the three
# colours that are too light on white darkened along their own hue: orange (#E69F00, 2.25:1),
# sky blue (#56B4E9, 2.31:1) and yellow (#F0E442, 1.32:1). The others pass as they are.
OKABE_ITO = (
    "#0072B2",  # blue
    "#B87700",  # orange, darkened
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#358DC2",  # sky blue, darkened
    "#000000",  # black
    "#948200",  # yellow, darkened to olive
)

# Text: the chart's words (titles, ticks, legends, annotations) and quieter notes.
TEXT = "#262730"
MUTED_TEXT = "#595959"
# Graphics that are not data: reference lines, the line joining a before and an after point,
# a category that is "unknown" or "not recorded".
REFERENCE_LINE = "#595959"
MUTED_LINE = "#767676"
UNKNOWN = "#8A8A8A"
# The faint fills behind data (a guidance band, a confidence band) and gridlines carry no
# meaning on their own: they are exempt from the 3:1 rule.
GRID = "#E6E6E6"

GRAPHIC_COLOURS = (*OKABE_ITO, REFERENCE_LINE, MUTED_LINE, UNKNOWN)
TEXT_COLOURS = (TEXT, MUTED_TEXT)

# Lines differ by more than their colour: the nth group of a chart keeps the nth symbol and dash.
LINE_SYMBOLS = (
    "circle",
    "square",
    "diamond",
    "triangle-up",
    "x",
    "triangle-down",
    "star",
    "cross",
    "pentagon",
    "hexagon",
)
LINE_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")

FONT_FAMILY = "Source Sans Pro, sans-serif"


def relative_luminance(colour: str) -> float:
    """WCAG 2.1's relative luminance of a '#rrggbb' colour."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(colour: str, background: str = BACKGROUND) -> float:
    """WCAG 2.1's contrast ratio of two '#rrggbb' colours, from 1 (none) to 21 (black on white)."""
    lighter, darker = sorted((relative_luminance(colour), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def line_look(index: int) -> dict[str, str]:
    """The nth line's colour, dash and marker symbol: seven colours (never the olive, which reads
    as the orange), and a symbol and dash of its own, so no two lines differ by colour alone."""
    return {
        "color": OKABE_ITO[index % 7],
        "dash": LINE_DASHES[index % len(LINE_DASHES)],
        "symbol": LINE_SYMBOLS[index % len(LINE_SYMBOLS)],
    }
