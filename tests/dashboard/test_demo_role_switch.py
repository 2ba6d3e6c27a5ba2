"""The demo's role picker: switching to a role that cannot open the current page lands on that
role's home page, not on a refusal; a URL to a page the role cannot open is still refused."""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.access import HOME_PAGE, PAGES
from pipelines.core.settings import Home
from pipelines.demo import write_demo
from pipelines.demo.marker import marker_path
from pipelines.nightly.run import nightly
from tests import apptest

AS_OF = dt.date(2024, 6, 15)


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    home = Home(tmp_path_factory.mktemp("demo-switch"))
    write_demo(
        home.inbox, participants=60, sites=2, months=12, seed=3, as_of=AS_OF, marker_file=marker_path(home)
    )
    assert nightly(home, AS_OF, settle=0).published
    return home


def demo_app(home: Home, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("OUTCOMES_HOME", str(home.root))
    monkeypatch.setenv("OUTCOMES_DEMO", "1")
    return AppTest.from_file(apptest.APP, default_timeout=60).run()


def titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def refused(at: AppTest) -> bool:
    return any("does not include the page" in e.value for e in at.error)


@pytest.mark.parametrize(
    ("page", "role"), [("overview", "funder"), ("trends", "case_manager"), ("snapshots", "case_manager")]
)
def test_switching_role_lands_on_the_roles_home_page(
    demo_home: Home, monkeypatch: pytest.MonkeyPatch, page: str, role: str
) -> None:
    at = demo_app(demo_home, monkeypatch)
    at.switch_page(PAGES[page][0]).run()
    assert titles(at) == [PAGES[page][1]] and not refused(at)
    at.selectbox(key="demo-role").set_value(role).run()
    assert not at.exception
    assert not refused(at)
    assert titles(at) == [PAGES[HOME_PAGE[role]][1]]
    # The role stays chosen after the switch (a page switch by the app clears widget state).
    assert at.selectbox(key="demo-role").value == role
    if role == "funder":  # the page ran as a funder: no live release in the sidebar
        assert not any("Release as of" in m.value for m in at.sidebar.markdown)


def test_switching_to_a_role_that_has_the_page_stays_on_it(
    demo_home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = demo_app(demo_home, monkeypatch)
    at.switch_page(PAGES["caseload"][0]).run()
    at.selectbox(key="demo-role").set_value("case_manager").run()
    assert titles(at) == ["Caseload"] and not refused(at)


def test_a_url_to_a_page_the_role_lacks_is_still_refused(
    demo_home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = demo_app(demo_home, monkeypatch)
    at.selectbox(key="demo-role").set_value("funder").run()
    assert titles(at) == ["Snapshots"]
    at.switch_page(PAGES["trends"][0]).run()
    assert refused(at)
    assert "Trends" not in titles(at)
