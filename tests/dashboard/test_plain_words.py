"""Issue 15, item 1: no snake_case code, rule ID or internal name, and no "None", reaches a user.

Every page is rendered for its role on the demo's data, clean and `--messy` (where rule IDs, odd
values and empty cells show up), through the choices a user makes (each split, each referral type,
each breakdown, each participant's timeline), and everything it shows is read as text
(tests/visible.py): headings, sentences, widget labels and options, table headers and cells, chart
titles, legends, axes and hover text, and the sidebar. So are the downloads meant for people.

What may show a code, and why: the contract's column names where a page must name the column to
correct (Data contract page, Data quality and Caseload problem messages and fix hints); a table's
file name on the Data contract page (the name an export must have); a code beside its label,
`code (Label)`, where a data coordinator must type it; the cells of a problem's Value (the file's own
text) and File (an archive path); the Trends CSV's Group code column, for analysts.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable

import pytest
from streamlit.testing.v1 import AppTest

from checks import MODELS, schema
from checks.labels import RULE
from dashboard.queries.trends import SPLITS
from pipelines.core.settings import Home
from pipelines.demo import write_demo
from pipelines.nightly.run import nightly
from tests import apptest
from tests.conftest import Downloads
from tests.download_files import as_csv
from tests.visible import offending, raw_codes, shown

AS_OF = dt.date(2024, 6, 30)
COLUMNS = frozenset(column for table in MODELS for column in schema(table).columns)
# Where a problem's cells hold the file's own text or an archive path (tables and their CSVs).
FILE_TEXT = ("value", "file", "path", "Value", "File")


def publish(root: Home, messy: bool) -> Home:
    write_demo(root.inbox, participants=240, sites=2, months=18, seed=5, as_of=AS_OF, messy=messy)
    assert nightly(root, AS_OF, settle=0).published
    return root


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Home:
    return publish(Home(tmp_path_factory.mktemp("clean")), messy=False)


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Home:
    return publish(Home(tmp_path_factory.mktemp("messy")), messy=True)


@pytest.fixture(params=["clean", "messy"])
def served(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Home:
    """Each demo release served to the app, with a case manager of the first site."""
    home = request.getfixturevalue(request.param)
    apptest.serve(monkeypatch, home.root)
    with apptest.release_connection(home) as con:
        [(site, case_manager)] = con.sql(
            "select site_id, min(case_manager_id) from participants group by site_id order by site_id limit 1"
        ).fetchall()
    apptest.grant(home.root, site, case_manager)
    return home


def assert_plain(at: AppTest, allowed: Iterable[str] = (), skip: Iterable[str] = ()) -> None:
    """The page ran, showed something, and nothing it shows holds a code or a "None"."""
    assert not at.exception, [e.value for e in at.exception]
    assert shown(at)
    found = sorted(set(raw_codes(at, allowed, skip)))
    assert not found, found[:20]


def assert_plain_csv(data: bytes, allowed: Iterable[str] = (), skip: Iterable[str] = ()) -> list[dict]:
    """A download's headers and cells hold no code (but in the `skip` columns); its rows."""
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert rows
    headers = list(rows[0])
    assert not [h for h in headers if offending(h)], headers
    found = {
        (column, text)
        for row in rows
        for column, text in row.items()
        if column not in skip and offending(text, allowed)
    }
    assert not found, sorted(found)[:20]
    return rows


def test_the_check_itself_finds_codes_and_nones() -> None:
    assert offending("Arrest diversion: arrest_diversion") == ["arrest_diversion"]
    assert offending("Rule: after\\_as\\_of") == ["after_as_of"]  # as md_text escapes it
    assert offending("None") == ["None"] and offending("No breakdown") == []
    assert offending("use arrest_diversion (Arrest diversion)") == []  # a code beside its label
    assert offending("participant_id is missing", COLUMNS) == []


def test_overview(served: Home) -> None:
    assert_plain(apptest.open_page("app_pages/overview.py"))


def test_trends_every_split_filter_and_csv(served: Home, downloads: Downloads) -> None:
    at = apptest.open_page("app_pages/trends.py")
    assert_plain(at)
    at.selectbox(key="trends-metric").set_value("permanent_housing").run()
    groups = set()
    for split in SPLITS:
        at.selectbox(key="trends-split").set_value(split).run()
        assert_plain(at)
        groups |= set(at.dataframe[0].value["group"])
        assert len(at.download_button) == 2  # CSV and Excel
        for button in at.download_button:
            data, name = downloads.fetch(button)
            assert "_" not in name
            rows = assert_plain_csv(as_csv(data, name), skip=("Group code",))
            assert {row["Group"] for row in rows} == set(at.dataframe[0].value["group"])
    assert "All participants" in groups and "Arrest diversion" in groups
    at.selectbox(key="trends-split").set_value("all").run()
    at.multiselect(key="trends-referral-types").set_value(["arrest_diversion", "social_contact"]).run()
    assert_plain(at)


def test_cohorts(served: Home) -> None:
    at = apptest.open_page("app_pages/cohorts.py")
    assert_plain(at)
    at.multiselect(key="cohorts-referral-types").set_value(["arrest_diversion"]).run()
    assert_plain(at)


def test_before_and_after_every_referral_type(served: Home) -> None:
    at = apptest.open_page("app_pages/before_after.py")
    assert_plain(at)
    for group in at.selectbox(key="before-after-baseline-type").options:
        at.selectbox(key="before-after-baseline-type").select(group).run()
        assert_plain(at)


def test_equity_and_who_is_diverted_every_breakdown(served: Home) -> None:
    at = apptest.open_page("app_pages/equity.py")
    assert_plain(at)
    assert at.radio(key="diversion-by").options  # the demo sends a comparison group
    for dimension in ("gender", "age_band", "race"):
        at.radio(key="diversion-by").set_value(dimension).run()
        assert_plain(at)
    at.radio(key="equity-reference").set_value("all others").run()
    assert_plain(at)


def test_impact(served: Home) -> None:
    at = apptest.open_page("app_pages/impact.py")
    assert_plain(at)
    assert at.get("plotly_chart")  # the demo sends a comparison group: the estimates are drawn
    for months in at.radio(key="impact-months").options:
        at.radio(key="impact-months").set_value(int(months.split()[0])).run()
        assert_plain(at)


def test_caseload_every_timeline_and_problem_csv(served: Home, downloads: Downloads) -> None:
    for email in (apptest.LEADERSHIP, apptest.CASE_MANAGER):
        at = apptest.open_page("app_pages/caseload.py", email)
        at.toggle(key="caseload-exited").set_value(True).run()
        assert_plain(at, COLUMNS, FILE_TEXT)
        for participant in at.selectbox(key="caseload-participant").options[:12]:
            at.selectbox(key="caseload-participant").set_value(participant).run()
            assert_plain(at, COLUMNS, FILE_TEXT)
        for button in at.download_button:
            assert_plain_csv(as_csv(*downloads.fetch(button)), COLUMNS, FILE_TEXT)


def test_data_quality_names_rules_and_tables(served: Home, downloads: Downloads) -> None:
    at = apptest.open_page("app_pages/data_quality.py")
    assert_plain(at, COLUMNS, FILE_TEXT)
    at.toggle(key="dq-by-site").set_value(True).run()
    assert_plain(at, COLUMNS, FILE_TEXT)
    rules = {cell for item in shown(at) if item.column == "rule" for cell in [item.text]}
    assert rules <= set(RULE.values())
    for button in at.download_button:
        rows = assert_plain_csv(as_csv(*downloads.fetch(button)), COLUMNS, FILE_TEXT)
        assert {row["Rule"] for row in rows} <= set(RULE.values())
    own = apptest.open_page("app_pages/data_quality.py", apptest.CASE_MANAGER)
    assert_plain(own, COLUMNS, FILE_TEXT)


def test_the_messy_data_shows_rules_by_their_plain_names(
    messy: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The messy demo breaks several rules; each reaches the page under its plain name."""
    apptest.serve(monkeypatch, messy.root)
    with apptest.release_connection(messy) as con:
        broken = {rule for (rule,) in con.sql("select distinct rule from problems").fetchall()}
    assert len(broken) >= 5
    at = apptest.open_page("app_pages/data_quality.py")
    tables = [t.value for t in at.dataframe if "fix" in t.value.columns]
    [table] = [t for t in tables if "site_id" in t.columns and "fixed_on" not in t.columns]
    assert set(table["rule"]) == {RULE[rule] for rule in broken}


def test_data_contract_page(served: Home) -> None:
    for email in (apptest.FUNDER, apptest.CASE_MANAGER):
        at = apptest.open_page("app_pages/contract.py", email)
        assert_plain(at, COLUMNS | set(MODELS))
        assert [b.label for b in at.download_button][-1] == "Comparison group's justice records template"


@pytest.mark.parametrize(
    ("page", "email"),
    [
        ("overview", apptest.LEADERSHIP),
        ("trends", apptest.LEADERSHIP),
        ("cohorts", apptest.LEADERSHIP),
        ("before_after", apptest.LEADERSHIP),
        ("equity", apptest.LEADERSHIP),
        ("impact", apptest.LEADERSHIP),
        ("caseload", apptest.LEADERSHIP),
        ("caseload", apptest.CASE_MANAGER),
        ("data_quality", apptest.LEADERSHIP),
        ("data_quality", apptest.CASE_MANAGER),
    ],
)
def test_every_page_keeps_its_method_in_an_expander(served: Home, page: str, email: str) -> None:
    """How a page counts is one click away on every page that shows numbers, in the same words."""
    at = apptest.open_page(f"app_pages/{page}.py", email)
    assert not at.exception, [e.value for e in at.exception]
    labels = [expander.label for expander in at.expander]
    assert "How this is calculated" in labels, labels
