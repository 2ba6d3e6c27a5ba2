"""Key pages on a phone (390x844) and a desktop (1440x900) in real Chromium: no code a person
would not say (snake_case) on the page, no chart text drawn over other chart text or cut off at
the chart's edge, and a plain opening sentence under each page's title.

One Chromium context per viewport, shared by its pages (the server and the browser are the
session's, tests/browser_app.py): ten page loads, about a minute.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.browser_app import PAGE_TIMEOUT_MS, local_only, open_app

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1440, "height": 900}}
PAGES = ("overview", "trends", "equity", "impact", "caseload")
SNAKE_CASE = re.compile(r"\b[a-z]+_[a-z_]+\b")
OPENING_WORDS = 8  # a sentence, not a label
# Pages whose opening sentence issue 15's item 2 is still writing: missing there is an expected
# failure (reported as xfailed, never skipped); every other check still fails them.
OPENING_PENDING: set[str] = set()  # pages still without their opening sentence: none

# Every chart drawn: as many Plotly SVGs as chart containers, each with its axes laid out.
CHARTS_DRAWN = """() => {
    const charts = document.querySelectorAll('[data-testid="stPlotlyChart"]');
    const drawn = document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot .main-svg');
    return charts.length > 0 && drawn.length >= charts.length;
}"""

# The words a person sees: the page's rendered text and the charts' SVG text (titles, ticks,
# legends), less the names of Material icons, which are drawn as glyphs ("keyboard_arrow_right").
VISIBLE_TEXT = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    const svg = [...main.querySelectorAll('.js-plotly-plot text')].map((t) => t.textContent);
    const icons = new Set([...main.querySelectorAll('span, i')]
        .filter((el) => el.children.length === 0 && /Material/i.test(getComputedStyle(el).fontFamily))
        .map((icon) => icon.textContent.trim()));
    const words = [main.innerText, ...svg].join('\\n').split(/(\\s+)/);
    return words.filter((word) => !icons.has(word.trim())).join('');
}"""

# Chart text that must not meet: titles, axis titles, legend entries and annotations (subplot
# titles among them). Tick labels are Plotly's own to space. Also text past the chart's sides.
CHART_TEXT_CLASHES = """() => {
    const problems = [];
    const selector = [
        '.infolayer text[class*="title"]',  // the chart's title and every axis's (x2title too)
        '.legend .legendtext', '.legend .legendtitletext', '.annotation-text',
    ].join(', ');
    document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot').forEach((plot, index) => {
        const frame = plot.getBoundingClientRect();
        const boxes = [...plot.querySelectorAll(selector)]
            .filter((el) => (el.textContent || '').trim())
            .map((el) => ({ el, box: el.getBoundingClientRect(), text: el.textContent.trim().slice(0, 50),
                            kind: (el.getAttribute('class') || '').split(' ')[0] }))
            .filter(({ box }) => box.width > 0 && box.height > 0);
        for (const { box, text, kind } of boxes) {
            if (box.left < frame.left - 1 || box.right > frame.right + 1) {
                problems.push(`chart ${index}: ${kind} "${text}" runs past the chart's edge`);
            }
        }
        for (let i = 0; i < boxes.length; i++) {
            for (let j = i + 1; j < boxes.length; j++) {
                const a = boxes[i], b = boxes[j];
                if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
                const wide = Math.min(a.box.right, b.box.right) - Math.max(a.box.left, b.box.left);
                const high = Math.min(a.box.bottom, b.box.bottom) - Math.max(a.box.top, b.box.top);
                if (wide > 1 && high > 1) {
                    problems.push(`chart ${index}: ${a.kind} "${a.text}" overlaps ${b.kind} "${b.text}"`);
                }
            }
        }
    });
    return problems;
}"""

# The first paragraph after the page's title (h1): the text of the first visible block that is
# not a filter (a block holding an input, a select or a radio group: filters may come first, as
# the sentence is about what they select).
OPENING = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    const title = main.querySelector('h1');
    if (!title) return null;
    const filter = 'input, textarea, [role="combobox"], [role="radiogroup"], [role="slider"], button';
    let block = title.closest('[data-testid="stElementContainer"]');
    for (block = block && block.nextElementSibling; block; block = block.nextElementSibling) {
        if (block.offsetHeight === 0 || !(block.innerText || '').trim()) continue;
        if (block.querySelector(filter)) continue;
        return block.innerText.trim();
    }
    return '';
}"""


@pytest.fixture(scope="module", params=list(VIEWPORTS))
def viewport_context(request: pytest.FixtureRequest, browser: Browser) -> Iterator[BrowserContext]:
    """One context per viewport for this module's pages, off-host requests aborted."""
    context = browser.new_context(viewport=VIEWPORTS[request.param])
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    context.route("**/*", local_only)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def shown(viewport_context: BrowserContext) -> Iterator[Page]:
    page = viewport_context.new_page()
    try:
        yield page
    finally:
        page.close()


def snake_case_codes(text: str) -> list[str]:
    """The snake_case words in `text`, each once."""
    return sorted(set(SNAKE_CASE.findall(text)))


def test_snake_case_pattern_finds_codes_not_words() -> None:
    """The check itself: a code is caught, plain words and hyphens are not."""
    assert snake_case_codes("Referral: arrest_diversion, group all_sites") == [
        "all_sites",
        "arrest_diversion",
    ]
    assert snake_case_codes("Permanent housing rose; follow-up at 6 months. Case_Manager") == []


@pytest.mark.parametrize("key", PAGES)
def test_page_reads_well(shown: Page, dashboard_url: str, key: str, tmp_path: Path) -> None:
    """No snake_case code visible, no chart text overlapping or cut off, an opening sentence."""
    open_app(shown, f"{dashboard_url}/{key}")
    try:
        shown.wait_for_function(CHARTS_DRAWN, timeout=PAGE_TIMEOUT_MS)
        shown.wait_for_timeout(300)  # Plotly's automargin redraws once after the first paint
        problems: list[str] = []
        codes = snake_case_codes(shown.evaluate(VISIBLE_TEXT))
        if codes:
            problems.append(f"codes a person would not say: {', '.join(codes)}")
        problems += shown.evaluate(CHART_TEXT_CLASHES)
        assert problems == [], f"/{key}: " + "; ".join(problems)
        opening = shown.evaluate(OPENING)
        assert opening is not None, f"/{key}: no title (h1)"
        if len(opening.split()) < OPENING_WORDS and key in OPENING_PENDING:
            pytest.xfail(f"/{key} has no opening sentence yet (issue 15, item 2)")
        assert len(opening.split()) >= OPENING_WORDS, (
            f"/{key}: no opening sentence under the title (first block: {opening[:80]!r})"
        )
    except AssertionError:
        width = shown.viewport_size["width"] if shown.viewport_size else 0
        path = tmp_path / f"{key}-{width}.png"
        shown.screenshot(path=path, full_page=True)
        print(f"screenshot: {path}")
        raise
