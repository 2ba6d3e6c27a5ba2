"""How `outcomes serve` starts Streamlit: hardened settings, and the sign-in it needs.

Real mode signs people in with OpenID Connect (`st.login`), configured in the `[auth]` section of
`.streamlit/secrets.toml` (or the file `$OUTCOMES_SECRETS` names), and lets in whom the access
file names; it refuses to start without an identity provider or with an access file it cannot
use, and says why on the terminal (the administrator's). Demo mode (`--demo`) has a role picker
instead, only ever listens on 127.0.0.1, and only starts on a home `outcomes demo` made and
nothing else wrote to (pipelines/demo/marker.py); the dashboard checks that again on every run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pipelines.core import settings
from pipelines.core.settings import Home
from pipelines.core.toml_file import TomlFileError, read_toml

APP = settings.PROJECT / "dashboard" / "app.py"
LOCALHOST = "127.0.0.1"
# Streamlit's single-provider [auth] settings (st.login() with no provider name).
AUTH_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")

# Set on the command line, so they hold wherever `outcomes serve` is started from.
HARDENING = {
    "server.headless": "true",
    "server.enableXsrfProtection": "true",
    "server.enableCORS": "true",
    "server.enableStaticServing": "false",
    "server.runOnSave": "false",
    "server.fileWatcherType": "none",
    "client.showErrorDetails": "none",
    "client.toolbarMode": "viewer",
    "browser.gatherUsageStats": "false",
    "global.developmentMode": "false",
}


class ServeRefused(Exception):
    """The dashboard cannot start as asked; the message says what to change."""


def check_auth(path: Path) -> None:
    """ServeRefused unless `path` holds a complete [auth] section for an identity provider."""
    how = "see the README, section “Sign-in” (or run `outcomes serve --demo` for the synthetic demo)"
    try:
        secrets = read_toml(path)
    except FileNotFoundError:
        raise ServeRefused(f"no identity provider configured: {path} does not exist; {how}") from None
    except TomlFileError as error:
        raise ServeRefused(str(error)) from None
    auth = secrets.get("auth")
    if not isinstance(auth, dict):
        raise ServeRefused(f"no identity provider configured: {path} has no [auth] section; {how}")
    missing = [key for key in AUTH_KEYS if not auth.get(key)]
    if missing:
        raise ServeRefused(f"the [auth] section of {path} lacks {', '.join(missing)}; {how}")
    if len(str(auth["cookie_secret"])) < 32:
        raise ServeRefused(
            f"the [auth] cookie_secret of {path} is too short: use 32 random characters or more"
        )


def check_access(path: Path) -> None:
    """ServeRefused, with the whole reason for the administrator, unless the access file can be used.

    Checked again on every page view: one broken later shows the person signing in only that
    sign-in is not available.
    """
    from pipelines.core.access_file import AccessFileError, load_access

    try:
        load_access(path)
    except AccessFileError as error:
        raise ServeRefused(
            f"the access file cannot be used: {error}; see the README, section “Sign-in and access”"
        ) from None


def check_demo_home(home: Home) -> None:
    """ServeRefused unless `outcomes demo` made the home and it holds only the demo's exports."""
    from pipelines.demo.marker import NotDemoHome, check

    try:
        check(home)
    except NotDemoHome as error:
        raise ServeRefused(
            f"demo mode (a role picker, no sign-in) is only for the synthetic data of `outcomes demo`, "
            f"and {home.root} is not such a home: {error}. For real data run `outcomes serve`, where "
            "people sign in; for the demo, start from an empty home (`outcomes --home DIR demo`)."
        ) from None


def streamlit_command(
    home: Home, port: int, *, demo: bool, address: str = LOCALHOST
) -> tuple[list[str], dict[str, str]]:
    """The Streamlit command line and environment for the dashboard; ServeRefused if unsafe."""
    env = dict(os.environ) | {"OUTCOMES_HOME": str(home.root)}
    env.pop("OUTCOMES_DEMO", None)
    options = dict(HARDENING) | {"server.address": address, "server.port": str(port)}
    if demo:
        if address != LOCALHOST:
            raise ServeRefused(f"demo mode only listens on {LOCALHOST}: it has no sign-in")
        check_demo_home(home)
        env["OUTCOMES_DEMO"] = "1"
    else:
        secrets = settings.secrets_file()
        check_auth(secrets)
        check_access(settings.access_file(home))
        options["secrets.files"] = str(secrets)
    command = [sys.executable, "-m", "streamlit", "run", str(APP)]
    for key, value in options.items():
        command += [f"--{key}", value]
    return command, env
