"""Data-derived text in Markdown (captions, st.markdown) is shown as itself: never a tag, link or image."""

from __future__ import annotations

import html

from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from dashboard.formatting import md_text

COMMONMARK = MarkdownIt("commonmark")
# One line of printable ASCII: what an ID or a file name in an export can hold.
LINE = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1).filter(str.strip)


@given(LINE | LINE.map(lambda t: "    " + t))
def test_escaped_text_renders_as_the_same_plain_text(text: str) -> None:
    rendered = COMMONMARK.render(md_text(text)).strip()
    assert rendered.startswith("<p>") and rendered.endswith("</p>"), rendered
    inner = rendered.removeprefix("<p>").removesuffix("</p>")
    assert "<" not in inner  # no element: no link, image, emphasis or raw HTML
    assert html.unescape(inner) == text.strip()


def test_the_attacks_a_case_manager_id_could_carry_stay_text() -> None:
    for attack in (
        "![x](https://evil.example/t.png)",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:x)",
    ):
        rendered = COMMONMARK.render(md_text(attack))
        assert "<img" not in rendered and "<a " not in rendered and html.escape(attack) in rendered
