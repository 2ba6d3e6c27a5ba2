"""Issue 5: who may see what. The access file, sign-in, every role against every page, scope in
the queries, cached rows never crossing users, and the audit entry written before any data."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.access import HOME_PAGE, PAGES
from pipelines.core import access_file
from pipelines.core import audit as audit_log
from pipelines.core.audit_verify import verify as verify_audit
from pipelines.core.settings import Home
from pipelines.demo import write_demo
from pipelines.demo.marker import marker_path
from pipelines.nightly.run import nightly
from tests import apptest
from tests.conftest import Downloads
from tests.download_files import as_csv, read_download

AS_OF = dt.date(2024, 6, 30)
ROLE_EMAILS = {
    "leadership": apptest.LEADERSHIP,
    "case_manager": apptest.CASE_MANAGER,
    "funder": apptest.FUNDER,
}
OTHER_CASE_MANAGER = "colleague@example.org"


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """A small demo program with the faults real exports have (so there are data problems), published."""
    home = Home(tmp_path_factory.mktemp("access"))
    write_demo(
        home.inbox,
        participants=240,
        sites=2,
        months=18,
        seed=5,
        as_of=AS_OF,
        messy=True,
        marker_file=marker_path(home),
    )
    assert nightly(home, AS_OF, settle=0).published
    return home


def query(home: Home, sql: str, params: list | None = None) -> list[tuple]:
    """Rows of the release, opened as the dashboard opens it (it holds the file open too)."""
    with apptest.release_connection(home) as con:
        return con.execute(sql, params or []).fetchall()


def two_case_managers(home: Home) -> list[tuple[str, str]]:
    """Two (site_id, case_manager_id) with current participants, at different sites."""
    rows = query(
        home,
        "select site_id, min(case_manager_id) from participants where case_manager_id is not null "
        "group by site_id order by site_id",
    )
    assert len(rows) == 2
    return [(site, cm) for site, cm in rows]


def participants_of(home: Home, site_id: str, case_manager_id: str) -> set[str]:
    rows = query(
        home,
        "select participant_id from participants where site_id = ? and case_manager_id = ?",
        [site_id, case_manager_id],
    )
    return {p for (p,) in rows}


@pytest.fixture
def served(release: Home, monkeypatch: pytest.MonkeyPatch) -> Home:
    """The release served outside demo mode: leadership, a funder and two case managers."""
    apptest.serve(monkeypatch, release.root)
    (first, second) = two_case_managers(release)
    apptest.grant(release.root, *first)
    apptest.grant(release.root, *second, email=OTHER_CASE_MANAGER)
    return release


def audit_entries(home: Home) -> list[dict]:
    path = audit_log.log_path(home)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def shown_data(at: AppTest) -> int:
    """How many data elements the run put on screen: tables, charts and KPI tiles."""
    return len(at.dataframe) + len(at.get("plotly_chart")) + len(at.metric)


def texts(at: AppTest) -> str:
    parts = [e.value for kind in (at.title, at.markdown, at.error, at.info, at.caption) for e in kind]
    return "\n".join(str(p) for p in parts)


# --- the access file ---------------------------------------------------------------------------


def write_access(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "access.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_access_file_maps_each_user_to_role_and_scope(tmp_path: Path) -> None:
    path = write_access(
        tmp_path,
        '[[users]]\nemail = "Boss@Example.org"\nrole = "leadership"\n\n'
        '[[users]]\nemail = "cm@example.org"\nrole = "case_manager"\n'
        'sites = ["north"]\ncase_manager_id = "CM-7"\n\n'
        '[[users]]\nemail = "f@example.org"\nrole = "funder"\nsites = ["*"]\n',
    )
    users = access_file.load_access(path).users
    assert set(users) == {"boss@example.org", "cm@example.org", "f@example.org"}
    cm = users["cm@example.org"]
    assert (cm.role, cm.site_id, cm.case_manager_id) == ("case_manager", "north", "CM-7")
    assert users["boss@example.org"].site_id is None
    assert users["f@example.org"].may_open("snapshots") and not users["f@example.org"].may_open("trends")


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ('email = "a@x.org"\nrole = "admin"', "role 'admin'"),
        ('email = "a@x.org"\nrole = "case_manager"\ncase_manager_id = "C1"', "exactly one site"),
        (
            'email = "a@x.org"\nrole = "case_manager"\nsites = ["north", "south"]\ncase_manager_id = "C1"',
            "exactly one site",
        ),
        ('email = "a@x.org"\nrole = "case_manager"\nsites = ["north"]', "case_manager_id"),
        (
            'email = "a@x.org"\nrole = "case_manager"\nsites = ["North Side"]\ncase_manager_id = "C"',
            "not a site id",
        ),
        ('email = "a@x.org"\nrole = "leadership"\nsites = ["north"]', "whole program"),
        ('email = "a@x.org"\nrole = "funder"\ncase_manager_id = "C1"', "only a case_manager"),
        ('email = "a@x.org"\nrole = "funder"\nteam = "x"', "unknown key(s) team"),
        ('role = "funder"', "needs an email"),
    ],
)
def test_access_file_errors_name_the_file_user_and_problem(
    tmp_path: Path, entry: str, complaint: str
) -> None:
    path = write_access(tmp_path, f'[[users]]\nemail = "ok@x.org"\nrole = "funder"\n\n[[users]]\n{entry}\n')
    with pytest.raises(access_file.AccessFileError) as raised:
        access_file.load_access(path)
    message = str(raised.value)
    assert str(path) in message and "user 2" in message and complaint in message


def test_access_file_refuses_a_user_listed_twice_and_a_missing_file(tmp_path: Path) -> None:
    path = write_access(
        tmp_path,
        '[[users]]\nemail = "a@x.org"\nrole = "funder"\n[[users]]\nemail = "A@x.org"\nrole = "leadership"\n',
    )
    with pytest.raises(access_file.AccessFileError, match="listed twice"):
        access_file.load_access(path)
    with pytest.raises(access_file.AccessFileError, match="does not exist"):
        access_file.load_access(tmp_path / "none.toml")


# --- sign-in -------------------------------------------------------------------------------------


def test_signed_out_sees_the_sign_in_button_and_no_data(served: Home) -> None:
    at = apptest.app(None).run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert shown_data(at) == 0


def test_unknown_user_is_asked_to_see_an_administrator_and_the_denial_is_audited(served: Home) -> None:
    at = apptest.app(apptest.STRANGER).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Ask your administrator"]
    assert shown_data(at) == 0
    last = audit_entries(served)[-1]
    assert (last["event"], last["user"], last["role"]) == ("denied", apptest.STRANGER, "none")


@pytest.mark.parametrize(
    "claims",
    [
        {"email_verified": False},
        {"email_verified": "false"},
        {"email_verified": None},
        {},  # no claim at all: the case issue 12, item 14 found accepted
    ],
    ids=["false", "false-text", "null", "missing"],
)
def test_an_email_the_provider_does_not_call_verified_is_not_trusted(served: Home, claims: dict) -> None:
    before = len(audit_entries(served))
    at = apptest.app(apptest.LEADERSHIP)
    at.user = {"is_logged_in": True, "iss": apptest.ISSUER, "email": apptest.LEADERSHIP} | claims
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Ask your administrator"]
    assert "does not say this email address is verified" in texts(at)
    assert shown_data(at) == 0
    [entry] = audit_entries(served)[before:]
    assert (entry["event"], entry["user"], entry["role"]) == ("denied", apptest.LEADERSHIP, "none")
    assert "verified" in entry["filters"]["reason"]


TRUSTED_PROVIDER = '\n[[providers]]\nissuer = "{issuer}"\ntrust_unverified_email = {trust}\n'


@pytest.mark.parametrize(
    ("issuer", "trust", "let_in"),
    [
        (apptest.ISSUER + "/", "true", True),  # a trailing slash is the same issuer
        (apptest.ISSUER, "false", False),
        ("https://another-provider.example", "true", False),
    ],
    ids=["trusted", "trust-false", "another-provider-trusted"],
)
def test_the_access_file_can_trust_one_providers_unverified_emails(
    served: Home, issuer: str, trust: str, let_in: bool
) -> None:
    with (served.root / "access.toml").open("a", encoding="utf-8") as f:
        f.write(TRUSTED_PROVIDER.format(issuer=issuer, trust=trust))
    at = apptest.app(apptest.LEADERSHIP)
    at.user = {"is_logged_in": True, "iss": apptest.ISSUER, "email": apptest.LEADERSHIP}
    at.run()
    assert not at.exception
    assert (shown_data(at) > 0) is let_in
    assert ([t.value for t in at.title] == ["Ask your administrator"]) is not let_in


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ('issuer = "https://x.org"\ntrust_unverified_email = "yes"', "true or false"),
        ("trust_unverified_email = true", "needs the issuer"),
        ('issuer = "x.org"\ntrust_unverified_email = true', "needs the issuer"),
        ('issuer = "https://x.org"\ntrust_everyone = true', "unknown key(s) trust_everyone"),
    ],
)
def test_provider_entries_are_checked(tmp_path: Path, entry: str, complaint: str) -> None:
    user = '[[users]]\nemail = "ok@x.org"\nrole = "funder"\n'
    path = write_access(tmp_path, f"{user}\n[[providers]]\n{entry}\n")
    with pytest.raises(access_file.AccessFileError) as raised:
        access_file.load_access(path)
    assert "provider 1" in str(raised.value) and complaint in str(raised.value)


def test_without_an_identity_provider_nothing_is_shown(served: Home) -> None:
    at = AppTest.from_file(apptest.APP, default_timeout=60)
    at.user = {"is_logged_in": True, "email": apptest.LEADERSHIP, "email_verified": True}
    at.run()
    assert "Sign-in is not configured" in texts(at)
    assert shown_data(at) == 0


BROKEN_ACCESS_FILES = {
    "binary-garbage": b"\x89PNG\r\n\x1a\n\x00\xff\xfe director@example.org \xc3\x28",
    "invalid-toml": b'[[users]]\nemail = "director@example.org"\nrole = "leadership"\n[[users]\n',
    "bad-entry": b'[[users]]\nemail = "colleague@example.org"\nrole = "boss"\n',
    "a-folder": None,
}


@pytest.mark.parametrize("case", BROKEN_ACCESS_FILES)
def test_a_broken_access_file_fails_closed_and_tells_only_the_administrator(
    served: Home, case: str, caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> None:
    path = served.root / "access.toml"
    content = BROKEN_ACCESS_FILES[case]
    path.unlink()
    if content is None:
        path.mkdir()
        request.addfinalizer(path.rmdir)  # the next test's access file goes here
    else:
        path.write_bytes(content)
    before = len(audit_entries(served))
    at = apptest.app(apptest.LEADERSHIP).run()
    assert not at.exception
    shown = texts(at)
    assert "Sign-in is not available: the administrator must fix the access settings" in shown
    assert shown_data(at) == 0
    # Neither where the file is nor whom it names reaches the person signing in.
    assert str(path) not in shown and "access.toml" not in shown
    assert "colleague@example.org" not in shown and "line" not in shown
    # The administrator finds the reason, with the file, in the server log and the audit log.
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "outcomes.dashboard")
    assert str(path) in logged
    [entry] = audit_entries(served)[before:]
    assert entry["event"] == "denied" and str(path) in entry["filters"]["detail"]


def test_sign_in_is_audited_once_per_session(served: Home) -> None:
    before = len(audit_entries(served))
    at = apptest.app(apptest.FUNDER).run()
    at.run()
    events = [(e["event"], e["user"]) for e in audit_entries(served)[before:]]
    assert events.count(("sign_in", apptest.FUNDER)) == 1


# --- every role against every page -----------------------------------------------------------


@pytest.mark.parametrize("role", list(ROLE_EMAILS))
@pytest.mark.parametrize("page", list(PAGES))
def test_every_role_against_every_page(served: Home, role: str, page: str) -> None:
    file, title, _ = PAGES[page]
    at = apptest.app(ROLE_EMAILS[role]).run()  # signs in and lands on the role's own page
    before = len(audit_entries(served))
    at.switch_page(file).run()
    assert not at.exception, at.exception
    assert role not in access_file.PAGE_ROLES[page] or at.title[0].value.startswith(title)
    new = audit_entries(served)[before:]
    if role in access_file.PAGE_ROLES[page]:
        assert not [e for e in at.error], [e.value for e in at.error]
        assert [e["page"] for e in new if e["event"] == "page_view"] == [page]
        assert not [e for e in new if e["event"] == "denied"]
    else:
        assert shown_data(at) == 0
        assert any("does not include the page" in e.value for e in at.error)
        denied = [e for e in new if e["event"] == "denied"]
        assert [(e["page"], e["role"]) for e in denied] == [(page, role)]
        assert not [e for e in new if e["event"] == "page_view"]


@pytest.mark.parametrize("role", list(ROLE_EMAILS))
def test_each_role_lands_on_its_own_page(served: Home, role: str) -> None:
    before = len(audit_entries(served))
    at = apptest.app(ROLE_EMAILS[role]).run()
    assert not at.exception
    views = [e["page"] for e in audit_entries(served)[before:] if e["event"] == "page_view"]
    assert views == [HOME_PAGE[role]]
    assert role in access_file.PAGE_ROLES[HOME_PAGE[role]]


# --- scope in the queries ------------------------------------------------------------------------


def participant_ids_in(at: AppTest, home: Home) -> set[str]:
    """Every participant ID of the program found in the run's tables and chart data."""
    found: set[str] = set()
    for frame in at.dataframe:
        if "participant_id" in frame.value.columns:
            found |= {str(p) for p in frame.value["participant_id"]}
    for chart in at.get("plotly_chart"):
        found |= strings_in(json.loads(chart.proto.spec))
    return found & all_participants(home)


def strings_in(value: object) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(strings_in(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(strings_in(v) for v in value)) if value else set()
    return set()


def all_participants(home: Home) -> set[str]:
    return {p for (p,) in query(home, "select participant_id from participants")}


@pytest.mark.parametrize("page", ["caseload", "data-quality"])
def test_a_case_manager_sees_only_their_own_participants(served: Home, page: str) -> None:
    (site, cm), _ = two_case_managers(served)
    own = participants_of(served, site, cm)
    others = all_participants(served) - own
    at = apptest.open_page(PAGES[page][0], apptest.CASE_MANAGER)
    assert not at.exception
    # No widget lets a case manager choose another caseload.
    assert not [
        s for s in at.selectbox if s.key in ("caseload-site", "caseload-case-manager", "dq-problem-site")
    ]
    ids = participant_ids_in(at, served)
    assert not ids & others
    if page == "caseload":
        assert ids & own  # the caseload itself is there
        (table,) = [f.value for f in at.dataframe if "participant_id" in f.value.columns][:1]
        assert set(table["participant_id"]) <= own


@pytest.mark.parametrize("page", ["caseload", "data-quality"])
def test_a_case_managers_downloads_hold_only_their_own_participants(
    served: Home, page: str, downloads: Downloads
) -> None:
    (site, cm), _ = two_case_managers(served)
    own = participants_of(served, site, cm)
    others = all_participants(served) - own
    at = apptest.open_page(PAGES[page][0], apptest.CASE_MANAGER)
    assert at.download_button  # the case manager's open problems
    for button in at.download_button:  # the CSV and the Excel file of each table
        data, name = downloads.fetch(button)
        text = as_csv(data, name).decode("utf-8")
        cells = {c.strip('"') for line in text.splitlines() for c in line.split(",")}
        assert not cells & others, button.label


def test_two_case_managers_one_after_another_never_share_cached_rows(served: Home) -> None:
    (site_a, cm_a), (site_b, cm_b) = two_case_managers(served)
    own_a, own_b = participants_of(served, site_a, cm_a), participants_of(served, site_b, cm_b)
    first = participant_ids_in(apptest.open_page(PAGES["caseload"][0], apptest.CASE_MANAGER), served)
    second = participant_ids_in(apptest.open_page(PAGES["caseload"][0], OTHER_CASE_MANAGER), served)
    again = participant_ids_in(apptest.open_page(PAGES["caseload"][0], apptest.CASE_MANAGER), served)
    assert first and second
    assert first <= own_a and second <= own_b and again == first
    # Same participant IDs may exist at both sites; what matters is that the rows are each one's.
    assert not (second - own_b)


def test_the_audit_entry_counts_the_rows_the_caseload_shows(served: Home) -> None:
    at = apptest.open_page(PAGES["caseload"][0], apptest.CASE_MANAGER)
    table = next(f.value for f in at.dataframe if "participant_id" in f.value.columns)
    view = [e for e in audit_entries(served) if e["event"] == "page_view"][-1]
    (site, cm), _ = two_case_managers(served)
    assert view["user"] == apptest.CASE_MANAGER and view["role"] == "case_manager"
    assert view["filters"]["site_id"] == site and view["filters"]["case_manager_id"] == cm
    assert view["rows"] == len(table)
    assert dt.datetime.fromisoformat(view["time"]).utcoffset() == dt.timedelta(0)


# --- the audit log comes first ------------------------------------------------------------------


@pytest.mark.parametrize("page", list(PAGES))
def test_no_data_is_shown_when_the_audit_log_cannot_be_written(
    served: Home, page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A copy of the home whose audit folder is a file: no entry can be written there.
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    for part in ("warehouse", "snapshots"):
        if (served.root / part).exists():
            (blocked / part).symlink_to(served.root / part)
    (blocked / "access.toml").write_text((served.root / "access.toml").read_text(), encoding="utf-8")
    (blocked / "audit").write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("OUTCOMES_HOME", str(blocked))
    role = next(r for r in ROLE_EMAILS if r in access_file.PAGE_ROLES[page])
    at = apptest.open_page(PAGES[page][0], ROLE_EMAILS[role])
    assert not at.exception
    assert shown_data(at) == 0
    assert len(at.download_button) == 0
    assert any("audit log cannot be written" in e.value for e in at.error)


def test_an_export_is_audited_before_its_file_is_made(served: Home, downloads: Downloads) -> None:
    at = apptest.open_page(PAGES["trends"][0], apptest.LEADERSHIP)
    button, excel = at.download_button
    before = len(audit_entries(served))
    data, name = downloads.fetch(button)
    assert data.startswith(b"month") or data
    [entry] = audit_entries(served)[before:]
    assert (entry["event"], entry["page"], entry["filters"]["file"]) == ("export", "trends", name)
    assert entry["rows"] == len(data.decode("utf-8").strip().splitlines()) - 1
    # The Excel file of the same table: its own entry, naming it, the same rows.
    workbook, excel_name = downloads.fetch(excel)
    [excel_entry] = audit_entries(served)[before + 1 :]
    assert excel_name == name.removesuffix(".csv") + ".xlsx" and workbook.startswith(b"PK")
    assert (excel_entry["event"], excel_entry["filters"]["file"]) == ("export", excel_name)
    assert excel_entry["rows"] == entry["rows"] == read_download(workbook, excel_name).height
    # With the log unwritable, the click makes no file.
    path = audit_log.log_path(served)
    saved = path.read_bytes()
    path.unlink()
    path.mkdir()
    try:
        with pytest.raises(audit_log.AuditUnavailable):
            downloads.fetch(button)
    finally:
        path.rmdir()
        path.write_bytes(saved)
    assert verify_audit(served) == []


# --- demo mode -----------------------------------------------------------------------------------


def test_demo_mode_has_a_role_picker_and_a_banner_on_every_page(
    release: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTCOMES_HOME", str(release.root))
    monkeypatch.setenv("OUTCOMES_DEMO", "1")
    at = AppTest.from_file(apptest.APP, default_timeout=60).run()
    assert not at.exception
    assert any("Demo data" in w.value for w in at.warning)
    picker = at.selectbox(key="demo-role")
    assert list(picker.options) == [access_file.ROLE_LABELS[r] for r in access_file.ROLES]
    picker.set_value("funder").run()
    assert any("Demo data" in w.value for w in at.warning)
    at.switch_page(PAGES["trends"][0]).run()
    assert shown_data(at) == 0
    assert any("does not include the page" in e.value for e in at.error)
    at.switch_page(PAGES["snapshots"][0]).run()
    assert not at.exception and not at.error
    assert any("Demo data" in w.value for w in at.warning)


def test_demo_mode_shows_nothing_on_a_home_the_demo_did_not_make(
    release: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Streamlit started by hand with OUTCOMES_DEMO=1 on real data: no `outcomes serve` to refuse it.
    real = tmp_path / "real"
    shutil.copytree(release.root, real, symlinks=True)
    marker_path(Home(real)).unlink()
    monkeypatch.setenv("OUTCOMES_HOME", str(real))
    monkeypatch.setenv("OUTCOMES_DEMO", "1")
    at = AppTest.from_file(apptest.APP, default_timeout=60).run()
    assert not at.exception
    assert "did not write. No data is shown" in texts(at)
    assert not [s for s in at.selectbox if s.key == "demo-role"]
    assert not any("Demo data" in w.value for w in at.warning)
    at.switch_page(PAGES["overview"][0]).run()
    assert shown_data(at) == 0
    assert any("not a demo home" in r.getMessage() for r in caplog.records)


def test_a_url_parameter_does_not_switch_on_demo_mode(served: Home) -> None:
    at = apptest.app(None)
    at.query_params["demo"] = "1"
    at.run()
    assert [b.label for b in at.button] == ["Sign in"]
    assert not [s for s in at.selectbox if s.key == "demo-role"]
    assert shown_data(at) == 0
