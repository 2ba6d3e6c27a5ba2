"""The audit log's key: its chain is HMAC-SHA256 with a secret kept outside the home folder, so
someone who can rewrite the home cannot write entries, or a whole chain, that verify.

The key is `$OUTCOMES_AUDIT_KEY`, else `key` in the `[audit]` section of the secrets file
(`settings.secrets_file()`, beside the sign-in settings). When neither holds one, the first entry
written creates a random key and appends it to the secrets file, saying so on stderr. A key file
inside the home folder is refused: whoever can change the log must not be able to read its key.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import os
import secrets
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pipelines.core import settings
from pipelines.core.durable import fsync
from pipelines.core.settings import Home

MIN_LENGTH = 32
ENV = "$OUTCOMES_AUDIT_KEY"
CREATED = (
    "LEAD Outcomes: created the audit log's key and wrote it to {path} (section [audit]). Keep that "
    "file, with a copy somewhere safe outside the home folder: without the key the audit log can be "
    "neither verified nor added to, and anyone who has it could rewrite the log."
)


class AuditKeyError(Exception):
    """The audit key cannot be used or kept: the message says where it is looked for and why."""


@dataclass(frozen=True)
class AuditKey:
    """The secret, and where it came from (for messages; never the secret itself)."""

    secret: bytes
    source: str

    def mac(self, data: bytes) -> str:
        """HMAC-SHA256 of `data`, hex."""
        return hmac.new(self.secret, data, hashlib.sha256).hexdigest()

    @property
    def key_id(self) -> str:
        """A short name of the key, kept in each entry: a changed key is named so, not as an edit."""
        return self.mac(b"lead-outcomes audit key id")[:16]


def sources() -> str:
    """Where the key is looked for, in words."""
    return f"{ENV}, else key in the [audit] section of {settings.secrets_file()}"


def _outside(home: Home, path: Path) -> Path:
    """`path`, or AuditKeyError if it lies inside the home folder."""
    if path.resolve().is_relative_to(home.root.resolve()):
        raise AuditKeyError(
            f"the audit key must be kept outside the home folder, but {path} is inside {home.root}: "
            "move it and name it with $OUTCOMES_SECRETS, or set $OUTCOMES_AUDIT_KEY"
        )
    return path


def _checked(text: str, source: str) -> AuditKey:
    if len(text) < MIN_LENGTH:
        raise AuditKeyError(f"the audit key in {source} is too short: use {MIN_LENGTH} characters or more")
    return AuditKey(text.encode("utf-8"), source)


def _from_text(data: bytes, path: Path) -> str | None:
    """The [audit] key held in the secrets file's bytes, or None; AuditKeyError if unusable."""
    try:
        section = tomllib.loads(data.decode("utf-8")).get("audit")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise AuditKeyError(f"{path} cannot be read as TOML: {error}") from None
    if section is None:
        return None
    if not isinstance(section, dict) or not isinstance(section.get("key"), str):
        raise AuditKeyError(f'the [audit] section of {path} must hold key = "<{MIN_LENGTH}+ characters>"')
    return section["key"]


def load(home: Home) -> AuditKey | None:
    """The configured key, None when there is none yet; AuditKeyError when it cannot be used."""
    given = settings.audit_key()
    if given is not None:
        return _checked(given, ENV)
    path = settings.secrets_file()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise AuditKeyError(f"the audit key cannot be read from {path}: {error.strerror}") from None
    text = _from_text(data, _outside(home, path))
    return None if text is None else _checked(text, f"[audit] of {path}")


def create(home: Home) -> AuditKey:
    """The key, made now (random, 256 bits) and appended to the secrets file unless another process
    just did; the secrets file is locked meanwhile, so two first uses never make two keys."""
    path = _outside(home, settings.secrets_file())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError as error:
        raise AuditKeyError(f"the audit key cannot be written to {path}: {error.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        data = os.pread(fd, os.fstat(fd).st_size, 0)
        text = _from_text(data, path)
        if text is None:
            text = secrets.token_hex(32)
            lead = b"" if not data else b"\n" if data.endswith(b"\n") else b"\n\n"
            os.write(fd, lead + f'[audit]\n# The audit log\'s key: keep it.\nkey = "{text}"\n'.encode())
            os.fsync(fd)
            fsync(path.parent)
            print(CREATED.format(path=path), file=sys.stderr)
    except OSError as error:
        raise AuditKeyError(f"the audit key cannot be written to {path}: {error.strerror}") from None
    finally:
        os.close(fd)
    return _checked(text, f"[audit] of {path}")
