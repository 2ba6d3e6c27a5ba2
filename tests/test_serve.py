"""`outcomes serve`: real mode needs an identity provider; Streamlit starts hardened."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.core.settings import Home
from pipelines.serve import ServeRefused, streamlit_command

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
        ("[auth\n", "cannot be read"),
    ],
)
def test_real_mode_refuses_to_start_without_an_identity_provider(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    secrets: str | None,
    complaint: str,
) -> None:
    path = tmp_path / "secrets.toml"
    if secrets is not None:
        path.write_text(secrets, encoding="utf-8")
    monkeypatch.setenv("OUTCOMES_SECRETS", str(path))
    assert main(["--home", str(tmp_path / "home"), "serve"]) == 2
    err = capsys.readouterr().err
    assert complaint in err and str(path) in err


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


def test_demo_mode_needs_no_secrets_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTCOMES_SECRETS", str(tmp_path / "none.toml"))
    command, env = streamlit_command(Home(tmp_path), 8501, demo=True)
    got = options(command)
    assert env["OUTCOMES_DEMO"] == "1"
    assert "secrets.files" not in got
    assert got["server.address"] == "127.0.0.1" and got["server.enableXsrfProtection"] == "true"
