"""Reading a settings file an administrator writes (the secrets, the access file) as TOML, with a
plain reason when it cannot be used: whatever is in the file, the reader gets a dict or
`TomlFileError`, never a stray exception from a binary file, a deep nesting or a device."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path
from typing import Any

# Far more than any access file needs; more is a wrong path, not settings.
MAX_BYTES = 1 << 20


class TomlFileError(Exception):
    """The file exists but cannot be used; the message names it, the line where there is one,
    and never quotes its content."""


def read_toml(path: Path) -> dict[str, Any]:
    """The file's settings; FileNotFoundError if it is missing, TomlFileError if it cannot be used."""
    try:
        # A folder or a device is refused before it is opened: a pipe would block the reader.
        if not stat.S_ISREG(path.stat().st_mode):
            raise TomlFileError(f"{path} is not a file")
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise
    except OSError as error:
        raise TomlFileError(f"{path} cannot be read: {error.strerror or error}") from None
    if len(data) > MAX_BYTES:
        raise TomlFileError(f"{path} is larger than {MAX_BYTES:,} bytes: it is not a settings file")
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise TomlFileError(f"{path} is not UTF-8 text (a bad byte at position {error.start:,})") from None
    except tomllib.TOMLDecodeError as error:
        raise TomlFileError(f"{path} is not valid TOML: {error}") from None
    except RecursionError:
        raise TomlFileError(f"{path} is not valid TOML: it nests too deeply") from None
