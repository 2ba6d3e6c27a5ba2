"""Sign-in end to end (issue 5): real Chromium, `outcomes serve` in real mode, a local OpenID provider.

The provider is `oidc-provider-mock`, run in a thread of the test process on 127.0.0.1. Its
authorization page is a form that asks for the subject (`sub`); the test's users have the
claims {"email": sub, "email_verified": true}, and a subject it has not seen gets
{"sub": sub, "email": sub} (no `email_verified`), so typing an email signs in as that email.
Streamlit does the rest of the flow (discovery, code exchange, id-token check, its cookie).
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from oidc_provider_mock import User, run_server_in_thread
from playwright.sync_api import Page, expect

from tests.browser_app import (
    DEMO_ARGS,
    OUTCOMES,
    SCRIPT_DONE,
    free_port,
    open_app,
    outcomes,
    stop,
    wait_until_healthy,
)

DIRECTOR = "director@example.org"
WORKER = "worker@example.org"
STRANGER = "stranger@example.org"
UNVERIFIED = "unverified@example.org"  # in the access file; the provider does not vouch for it
CHART = ".js-plotly-plot .main-svg"
DATA_ELEMENTS = '[data-testid="stPlotlyChart"], [data-testid="stDataFrame"], [data-testid="stMetric"]'
SERVE_TIMEOUT_S = 30


@dataclass(frozen=True)
class Deployment:
    """A real-mode dashboard and the provider it signs people in with."""

    url: str
    provider: str
    home: Path
    log: Path
    case_manager_id: str
    access: Path


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """The mock OpenID provider's base URL (its issuer); any client id and secret are accepted."""
    # Port 0: the OS picks a free one. "localhost" binds IPv4 only (werkzeug picks AF_INET).
    users = (DIRECTOR, WORKER, STRANGER)
    verified = [User(sub=email, claims={"email": email, "email_verified": True}) for email in users]
    with run_server_in_thread(port=0, user_claims=verified) as server:
        yield f"http://127.0.0.1:{server.server_port}"


def first_case_manager(home: Path) -> tuple[str, str]:
    """A (site_id, case_manager_id) from the accepted participants exports, for the access file."""
    # The nightly run moved the exports from the inbox to archive/<site>/participants/<sha256>.csv.
    for export in sorted((home / "archive").glob("*/participants/*.csv")):
        with export.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if row["case_manager_id"]:
                    return export.parent.parent.name, row["case_manager_id"]
    pytest.fail(f"no archived participants export with a case manager under {home / 'archive'}")


def write_secrets(path: Path, port: int, provider: str) -> Path:
    """A secrets.toml whose [auth] section points Streamlit's st.login at the provider."""
    path.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        'client_id = "lead-outcomes-test"\n'
        f'client_secret = "{secrets.token_hex(16)}"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    return path


def serve_env(**extra: str) -> dict[str, str]:
    """The test's environment for `outcomes serve`, never in demo mode."""
    env = {k: v for k, v in os.environ.items() if k not in ("OUTCOMES_DEMO", "OUTCOMES_HOME")}
    return env | extra


@pytest.fixture(scope="module")
def deployment(
    chromium: Path, provider: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    """`outcomes serve` (no --demo) on a small demo release, with secrets and an access file in tmp.

    Asks for `chromium` first so that nothing is started when the browser tests skip.
    """
    home = tmp_path_factory.mktemp("signin-home")
    config = tmp_path_factory.mktemp("signin-config")
    outcomes(home, "demo", *DEMO_ARGS)
    outcomes(home, "nightly", "--settle", "0")
    site_id, case_manager_id = first_case_manager(home)
    access = config / "access.toml"
    access.write_text(
        f'[[users]]\nemail = "{DIRECTOR}"\nrole = "leadership"\n\n'
        f'[[users]]\nemail = "{WORKER}"\nrole = "case_manager"\n'
        f'sites = ["{site_id}"]\ncase_manager_id = "{case_manager_id}"\n\n'
        f'[[users]]\nemail = "{UNVERIFIED}"\nrole = "leadership"\n',
        encoding="utf-8",
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    secrets_file = write_secrets(config / "secrets.toml", port, provider)
    log = config / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(OUTCOMES), "--home", str(home), "serve", "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=serve_env(OUTCOMES_SECRETS=str(secrets_file), OUTCOMES_ACCESS=str(access)),
        )
    try:
        wait_until_healthy(url, server, log)
        yield Deployment(
            url=url, provider=provider, home=home, log=log, case_manager_id=case_manager_id, access=access
        )
    finally:
        stop(server)


def audit_entries(home: Path) -> list[dict]:
    """Every entry of the audit log, oldest first."""
    path = home / "audit" / "audit.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def sign_in(page: Page, deployment: Deployment, email: str) -> None:
    """Press "Sign in", type the email as the subject on the provider's form, come back signed in."""
    open_app(page, deployment.url)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: url.startswith(f"{deployment.provider}/oauth2/authorize"))
    page.locator('input[name="sub"]').fill(email)
    page.get_by_role("button", name="Authorize").click()
    # Back through /oauth2callback to the app, which then runs as the signed-in user.
    page.wait_for_url(lambda url: url.startswith(deployment.url) and "/oauth2callback" not in url)
    page.wait_for_selector(SCRIPT_DONE)


def fail_with_log(deployment: Deployment, error: AssertionError) -> None:
    """Re-raise an assertion with the server's output, which says what the app did."""
    output = deployment.log.read_text(encoding="utf-8", errors="replace")
    raise AssertionError(f"{error}\n--- server output ---\n{output[-6000:]}") from error


def test_leadership_signs_in_and_sees_overview(page: Page, deployment: Deployment) -> None:
    """A leadership user in the access file lands on Overview with a drawn chart; sign_in then page_view."""
    before = len(audit_entries(deployment.home))
    try:
        sign_in(page, deployment, DIRECTOR)
        expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()
        expect(page.locator(CHART).first).to_be_visible()
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_text(DIRECTOR)).to_be_visible()
        expect(sidebar.get_by_role("button", name="Sign out")).to_be_visible()
        expect(page.get_by_test_id("stException")).to_have_count(0)
    except AssertionError as error:
        fail_with_log(deployment, error)

    mine = [e for e in audit_entries(deployment.home)[before:] if e["user"] == DIRECTOR]
    events = [e["event"] for e in mine]
    assert "sign_in" in events, f"no sign_in entry for {DIRECTOR}: {mine}"
    signed_in = events.index("sign_in")
    assert all(e["role"] == "leadership" for e in mine), mine
    views = [e for e in mine[signed_in + 1 :] if e["event"] == "page_view"]
    assert views, f"no page_view after the sign_in entry: {mine}"
    assert views[0]["page"] == "overview", views[0]


def test_stranger_is_told_to_ask_and_sees_no_data(page: Page, deployment: Deployment) -> None:
    """Signed in but not in the access file: "Ask your administrator", no data, a denied entry."""
    before = len(audit_entries(deployment.home))
    try:
        sign_in(page, deployment, STRANGER)
        expect(page.get_by_role("heading", name="Ask your administrator")).to_be_visible()
        expect(page.get_by_text(STRANGER)).to_be_visible()
        expect(page.locator(DATA_ELEMENTS)).to_have_count(0)
        expect(page.locator(CHART)).to_have_count(0)
        # No page list either: a stranger is offered no page to open.
        expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    except AssertionError as error:
        fail_with_log(deployment, error)

    mine = [e for e in audit_entries(deployment.home)[before:] if e["user"] == STRANGER]
    events = [e["event"] for e in mine]
    assert "denied" in events, f"no denied entry for {STRANGER}: {mine}"
    assert not {"sign_in", "page_view", "export"} & set(events), mine
    # A stranger is refused by URL too: the page's own address shows no data either.
    try:
        open_app(page, f"{deployment.url}/overview")
        expect(page.get_by_role("heading", name="Ask your administrator")).to_be_visible()
        expect(page.locator(DATA_ELEMENTS)).to_have_count(0)
    except AssertionError as error:
        fail_with_log(deployment, error)


def test_an_unverified_email_is_refused_unless_its_provider_is_trusted(
    page: Page, deployment: Deployment
) -> None:
    """No `email_verified` in the provider's token: refused, though the email is in the access file;
    let in once the access file trusts that provider's issuer (the `iss` claim Streamlit passes on)."""
    saved = deployment.access.read_text(encoding="utf-8")
    try:
        sign_in(page, deployment, UNVERIFIED)
        expect(page.get_by_role("heading", name="Ask your administrator")).to_be_visible()
        expect(page.get_by_text("does not say this email address is verified")).to_be_visible()
        expect(page.locator(DATA_ELEMENTS)).to_have_count(0)
        trusted = f'\n[[providers]]\nissuer = "{deployment.provider}"\ntrust_unverified_email = true\n'
        deployment.access.write_text(saved + trusted, encoding="utf-8")
        open_app(page, deployment.url)
        expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()
        expect(page.get_by_role("heading", name="Ask your administrator")).to_have_count(0)
    except AssertionError as error:
        fail_with_log(deployment, error)
    finally:
        deployment.access.write_text(saved, encoding="utf-8")


def test_case_manager_lands_on_caseload_and_is_refused_overview(page: Page, deployment: Deployment) -> None:
    """A case manager from the access file lands on Caseload; Overview by URL is refused and audited."""
    before = len(audit_entries(deployment.home))
    try:
        sign_in(page, deployment, WORKER)
        expect(page.get_by_role("heading", name="Caseload", exact=True)).to_be_visible()
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_text(WORKER)).to_be_visible()
        expect(sidebar.get_by_text(deployment.case_manager_id)).to_be_visible()
        expect(sidebar.get_by_role("link", name="Overview")).to_have_count(0)
        open_app(page, f"{deployment.url}/overview")
        expect(page.get_by_test_id("stAlertContentError")).to_contain_text("Overview")
        expect(page.locator(CHART)).to_have_count(0)
        expect(page.get_by_test_id("stMetric")).to_have_count(0)
    except AssertionError as error:
        fail_with_log(deployment, error)

    mine = [e for e in audit_entries(deployment.home)[before:] if e["user"] == WORKER]
    assert {e["role"] for e in mine} == {"case_manager"}, mine
    # Sets: a page may run more than once (Streamlit reruns), each run writing its entry.
    assert {e["page"] for e in mine if e["event"] == "denied"} == {"overview"}, mine
    assert {e["page"] for e in mine if e["event"] == "page_view"} == {"caseload"}, mine


@pytest.mark.parametrize("path", ["", "/overview", "/caseload"])
def test_signed_out_sees_only_sign_in(page: Page, deployment: Deployment, path: str) -> None:
    """Nobody signed in (a fresh context): the "Sign in" button, no data, whatever the URL."""
    try:
        open_app(page, f"{deployment.url}{path}")
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        expect(page.locator(DATA_ELEMENTS)).to_have_count(0)
        expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
        expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    except AssertionError as error:
        fail_with_log(deployment, error)


def test_sign_out_ends_the_session(page: Page, deployment: Deployment) -> None:
    """ "Sign out" goes through the provider's end-session page and back to the "Sign in" button."""
    try:
        sign_in(page, deployment, DIRECTOR)
        page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
        # Streamlit sends the browser to the provider's end_session_endpoint, which asks to confirm.
        page.wait_for_url(lambda url: url.startswith(f"{deployment.provider}/oauth2/end_session"))
        page.get_by_role("button", name="End session").click()
        page.wait_for_url(lambda url: url.startswith(deployment.url) and "/oauth2callback" not in url)
        page.wait_for_selector(SCRIPT_DONE)
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        expect(page.locator(DATA_ELEMENTS)).to_have_count(0)
        # The cookie is gone, not just this page: a new load is still signed out.
        open_app(page, f"{deployment.url}/overview")
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        expect(page.locator(DATA_ELEMENTS)).to_have_count(0)
    except AssertionError as error:
        fail_with_log(deployment, error)


def serve_exit(home: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `outcomes serve` (real mode) expecting it to refuse; fail if it starts serving instead."""
    port = free_port()
    server = subprocess.Popen(
        [str(OUTCOMES), "--home", str(home), "serve", "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=env,
    )
    try:
        stdout, stderr = server.communicate(timeout=SERVE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        stop(server)
        stdout, stderr = server.communicate()
        pytest.fail(f"`outcomes serve` kept running instead of refusing\n{stdout}\n{stderr}", pytrace=False)
    return subprocess.CompletedProcess(server.args, server.returncode, stdout, stderr)


def auth_section(**overrides: str | None) -> str:
    """A complete [auth] section, with keys replaced (or left out, for None)."""
    keys = {
        "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
        "cookie_secret": secrets.token_hex(32),
        "client_id": "lead-outcomes-test",
        "client_secret": secrets.token_hex(16),
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
    } | overrides
    return "[auth]\n" + "".join(f'{key} = "{value}"\n' for key, value in keys.items() if value is not None)


# (secrets file content or None for no file, a word the refusal must name besides the file).
REFUSALS = {
    "missing": (None, None),
    "empty": ("", "[auth]"),
    "no-auth-section": ('[connections.warehouse]\nurl = "duckdb:///x"\n', "[auth]"),
    "not-toml": ("[auth\nbroken = \n", None),
    "no-client-secret": (auth_section(client_secret=None), "client_secret"),
    "no-metadata-url": (auth_section(server_metadata_url=None), "server_metadata_url"),
    "short-cookie-secret": (auth_section(cookie_secret="short"), "cookie_secret"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_serve_without_usable_auth_exits_2(tmp_path_factory: pytest.TempPathFactory, case: str) -> None:
    """Real mode without a usable [auth] section refuses to start (exit 2), naming the file and the gap."""
    content, named = REFUSALS[case]
    # Not tmp_path: its name holds the test's name, which says "auth" whatever the message says.
    config = tmp_path_factory.mktemp("serve-config")
    secrets_file = config / "secrets.toml"
    if content is not None:
        secrets_file.write_text(content, encoding="utf-8")
    result = serve_exit(config, serve_env(OUTCOMES_SECRETS=str(secrets_file)))
    output = result.stdout + result.stderr
    assert result.returncode == 2, f"exit {result.returncode}\n{output}"
    assert str(secrets_file) in output, output
    if named is not None:
        assert named in output, output
