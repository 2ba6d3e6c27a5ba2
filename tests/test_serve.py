"""`outcomes serve`: real mode needs an identity provider and a usable access file; demo mode a
home made by `outcomes demo` and nothing else; Streamlit starts hardened."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.core.settings import Home
from pipelines.demo.marker import marker_path
from pipelines.funder.snapshot import take_snapshot
from pipelines.serve import ServeRefused, streamlit_command
from tests.conftest import SNAPSHOT_AS_OF, SNAPSHOT_PERIOD, run

GOOD_AUTH = """[auth]
redirect_uri = "http://127.0.0.1:8501/oauth2callback"
cookie_secret = "0123456789abcdef0123456789abcdef-long"
client_id = "lead-outcomes"
client_secret = "s3cret"
server_metadata_url = "http://127.0.0.1:9000/.well-known/openid-configuration"
"""


def options(command: list[str]) -> dict[str, str]:
    """The `--key value` pairs after `streamlit run APP`."""
    flags = command[command.index("run") + 2 :]
    assert len(flags) % 2 == 0
    return {flags[i].removeprefix("--"): flags[i + 1] for i in range(0, len(flags), 2)}


@pytest.mark.parametrize(
    ("secrets", "complaint"),
    [
        (None, "does not exist"),
        ("[server]\nport = 1\n", "has no [auth] section"),
        ('[auth]\nredirect_uri = "http://x/oauth2callback"\n', "lacks cookie_secret, client_id"),
        (GOOD_AUTH.replace("0123456789abcdef0123456789abcdef-long", "short"), "too short"),
        ("[auth\n", "is not valid TOML"),
        (b"\x89PNG\r\n\x1a\n\xff\xfe", "is not UTF-8 text"),
    ],
)
def test_real_mode_refuses_to_start_without_an_identity_provider(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    secrets: str | bytes | None,
    complaint: str,
) -> None:
    path = tmp_path / "secrets.toml"
    if secrets is not None:
        path.write_bytes(secrets if isinstance(secrets, bytes) else secrets.encode("utf-8"))
    monkeypatch.setenv("OUTCOMES_SECRETS", str(path))
    assert main(["--home", str(tmp_path / "home"), "serve"]) == 2
    err = capsys.readouterr().err
    assert complaint in err and str(path) in err


GOOD_ACCESS = '[[users]]\nemail = "director@example.org"\nrole = "leadership"\n'


def write_access(folder: Path, content: str | bytes) -> str:
    """An access file in `folder`; its path, for $OUTCOMES_ACCESS."""
    path = folder / "access.toml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return str(path)


@pytest.fixture
def never_started(monkeypatch: pytest.MonkeyPatch) -> None:
    """`outcomes serve` must refuse before it becomes Streamlit: becoming it fails the test."""

    def started(*args: object) -> None:
        raise AssertionError("`outcomes serve` started the dashboard instead of refusing")

    monkeypatch.setattr(os, "execve", started)


@pytest.mark.parametrize(
    ("access", "complaint"),
    [
        (None, "does not exist"),
        (b"\x00\xff\xfe\x89 binary garbage \xc3\x28", "is not UTF-8 text"),
        ('[[users]]\nemail = "a@x.org"\nrole = "leadership"\nrole = "funder"\n', "line 4"),
        ('[[users]]\nemail = "worker@x.org"\nrole = "boss"\n', "user 1 (worker@x.org) has role 'boss'"),
        ("a = " + "[" * 5000 + "]" * 5000, "nests too deeply"),
    ],
    ids=["missing", "binary-garbage", "invalid-toml", "bad-role", "nested-too-deep"],
)
def test_real_mode_refuses_to_start_with_an_access_file_it_cannot_use(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    never_started: None,
    access: str | bytes | None,
    complaint: str,
) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(GOOD_AUTH, encoding="utf-8")
    monkeypatch.setenv("OUTCOMES_SECRETS", str(secrets))
    path = write_access(tmp_path, access) if access is not None else str(tmp_path / "access.toml")
    monkeypatch.setenv("OUTCOMES_ACCESS", path)
    assert main(["--home", str(tmp_path / "home"), "serve"]) == 2
    err = capsys.readouterr().err  # the administrator's terminal: the whole reason
    assert "access file cannot be used" in err and path in err and complaint in err


def test_demo_mode_only_listens_on_localhost(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--home", str(tmp_path), "serve", "--demo", "--address", "0.0.0.0"]) == 2
    assert "127.0.0.1" in capsys.readouterr().err
    with pytest.raises(ServeRefused):
        streamlit_command(Home(tmp_path), 8501, demo=True, address="10.0.0.5")


def test_real_mode_starts_hardened_with_the_secrets_it_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secrets.toml"
    path.write_text(GOOD_AUTH, encoding="utf-8")
    monkeypatch.setenv("OUTCOMES_SECRETS", str(path))
    monkeypatch.setenv("OUTCOMES_ACCESS", write_access(tmp_path, GOOD_ACCESS))
    monkeypatch.setenv("OUTCOMES_DEMO", "1")  # left over in the shell: real mode must drop it
    command, env = streamlit_command(Home(tmp_path / "home"), 8765, demo=False)
    got = options(command)
    assert got["server.address"] == "127.0.0.1" and got["server.port"] == "8765"
    assert got["server.enableXsrfProtection"] == "true"
    assert got["client.showErrorDetails"] == "none"
    assert got["server.enableStaticServing"] == "false"
    assert got["secrets.files"] == str(path)
    assert "OUTCOMES_DEMO" not in env
    assert env["OUTCOMES_HOME"] == str(tmp_path / "home")


def test_demo_mode_needs_no_secrets_and_says_so(demo_home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTCOMES_SECRETS", str(demo_home.root / "none.toml"))
    command, env = streamlit_command(demo_home, 8501, demo=True)
    got = options(command)
    assert env["OUTCOMES_DEMO"] == "1"
    assert "secrets.files" not in got
    assert got["server.address"] == "127.0.0.1" and got["server.enableXsrfProtection"] == "true"


# --- demo mode only on the demo's own home (issue 12, item 13) -----------------------------------

DEMO_ARGS = ["--participants", "150", "--sites", "2", "--months", "18", "--seed", "5"]


@pytest.fixture(scope="module")
def demo_made(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """A home made by `outcomes demo` and published by a nightly run, as `make run` makes it."""
    home = Home(tmp_path_factory.mktemp("demo-made"))
    assert main(["--home", str(home.root), "demo", *DEMO_ARGS, "--as-of", str(SNAPSHOT_AS_OF)]) == 0
    assert run(home, str(SNAPSHOT_AS_OF)).published
    return home


@pytest.fixture
def demo_home(demo_made: Home, tmp_path: Path) -> Home:
    """A copy of the demo home the test may change."""
    shutil.copytree(demo_made.root, tmp_path / "demo", symlinks=True)
    return Home(tmp_path / "demo")


def refusal(home: Home, capsys: pytest.CaptureFixture[str]) -> str:
    """What `outcomes serve --demo` says as it refuses (exit 2) to serve the home."""
    assert main(["--home", str(home.root), "serve", "--demo"]) == 2
    return capsys.readouterr().err


def test_demo_mode_refuses_a_home_outcomes_demo_did_not_make(
    demo_home: Home, capsys: pytest.CaptureFixture[str], never_started: None
) -> None:
    # Real data published by a nightly run, no marker: what `make serve` once opened to anyone.
    marker_path(demo_home).unlink()
    err = refusal(demo_home, capsys)
    assert "not made by `outcomes demo`" in err and "`outcomes serve`" in err
    marker_path(demo_home).write_bytes(b"\x00 not the demo's marker")
    assert "demo marker" in refusal(demo_home, capsys)


def real_export(home: Home) -> Path:
    """A site's real participants export dropped in the inbox: not a file the demo wrote."""
    archived = sorted(home.archive.glob("*/participants/*.csv"))[0]
    lines = archived.read_text(encoding="utf-8").splitlines(keepends=True)
    path = home.inbox / archived.parent.parent.name / "participants.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines[:-1]), encoding="utf-8")  # one participant fewer
    return path


def ingested(home: Home) -> None:
    """The real export taken into the archive and published."""
    assert run(home, str(SNAPSHOT_AS_OF)).published


def only_in_the_release(home: Home) -> None:
    """Archive and inbox cleared (a home "reset" to rerun the demo), the real release still live."""
    ingested(home)
    shutil.rmtree(home.archive)
    shutil.rmtree(home.inbox)


def only_in_a_snapshot(home: Home) -> None:
    """Everything but a funder snapshot taken of the real data removed."""
    ingested(home)
    take_snapshot(home, SNAPSHOT_PERIOD)
    for folder in (home.archive, home.inbox, home.warehouse):
        shutil.rmtree(folder)


@pytest.mark.parametrize(
    ("then", "named"),
    [
        (lambda home: None, "inbox/"),
        (ingested, "archive/"),
        (only_in_the_release, "the live release was built from it"),
        (only_in_a_snapshot, "snapshot 2024-Q1"),
    ],
    ids=["in-the-inbox", "in-the-archive", "in-the-live-release", "in-a-snapshot"],
)
def test_demo_mode_refuses_a_demo_home_that_real_data_reached(
    demo_home: Home,
    capsys: pytest.CaptureFixture[str],
    never_started: None,
    then: Callable[[Home], None],
    named: str,
) -> None:
    real_export(demo_home)
    then(demo_home)
    err = refusal(demo_home, capsys)
    assert "did not write" in err and named in err


def test_demo_mode_refuses_a_link_in_the_inbox(
    demo_home: Home, tmp_path: Path, capsys: pytest.CaptureFixture[str], never_started: None
) -> None:
    elsewhere = tmp_path / "real-exports"
    elsewhere.mkdir()
    (demo_home.inbox / "west").symlink_to(elsewhere)
    assert "inbox/west, which is not a plain file" in refusal(demo_home, capsys)


def test_demo_mode_serves_a_home_the_demo_wrote_twice(demo_home: Home) -> None:
    # `outcomes demo` again (another seed) after a nightly run: the archive holds both demos' files.
    assert (
        main(
            ["--home", str(demo_home.root), "demo", *DEMO_ARGS, "--seed", "6", "--as-of", str(SNAPSHOT_AS_OF)]
        )
        == 0
    )
    assert run(demo_home, str(SNAPSHOT_AS_OF)).published
    _, env = streamlit_command(demo_home, 8501, demo=True)
    assert env["OUTCOMES_DEMO"] == "1"
