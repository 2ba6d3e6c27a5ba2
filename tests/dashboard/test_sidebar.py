"""The shared sidebar: who is signed in, and today's release for everyone but funders."""

from __future__ import annotations

import pytest

from pipelines.core.settings import Home
from tests import apptest
from tests.conftest import drop, run


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Home:
    home = Home(tmp_path_factory.mktemp("sidebar"))
    drop(home, "north", "participants", ["P1,CM1,2024-01-10,social_contact,,,,,1980,woman,black"])
    assert run(home, "2024-06-15").published
    return home


def sidebar_text(email: str) -> str:
    at = apptest.app(email).run()
    assert not at.exception
    return "\n".join(e.value for e in (*at.sidebar.markdown, *at.sidebar.caption))


def test_leadership_sees_which_release_the_pages_read(page_home: Home) -> None:
    text = sidebar_text(apptest.LEADERSHIP)
    assert "Release as of 2024-06-15" in text
    assert "Program leadership" in text


def test_a_funder_is_not_shown_todays_release(page_home: Home) -> None:
    """Funders see frozen snapshots; the live release's date and run are not theirs to see."""
    text = sidebar_text(apptest.FUNDER)
    assert "Funder" in text  # the sidebar was drawn
    assert "Release" not in text and "Run `" not in text
