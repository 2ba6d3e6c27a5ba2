"""Opening an export file safely, and reading its bytes as text.

An export is opened without following a link and only if it is a regular file; a CSV file's
encoding is chosen from its bytes (decode() says how), and a UTF-8 file's few stray bytes are
kept as U+FFFD and their rows marked, to be quarantined rather than spoil the whole file.
"""

from __future__ import annotations

import codecs
import errno
import io
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import chain
from pathlib import Path
from typing import BinaryIO, TextIO

CHUNK_BYTES = 1 << 24  # bytes decoded at a time when choosing the encoding
# surrogateescape decodes each byte that is not UTF-8 as one of these (never valid text).
SURROGATES = re.compile("[\udc80-\udcff]")
REPLACEMENT = "\ufffd"


class Refused(Exception):
    """The file as a whole cannot be used; the message says why and what to do.

    A message never quotes the file's content: at most the header's cells that look like column
    names (`header_names`).
    """


PUT_THE_FILE_ITSELF = "put the export file itself in inbox/<site_id>/"
SYMBOLIC_LINK = (
    "this is a symbolic link (a shortcut to a file or folder elsewhere), and links are never "
    f"followed: {PUT_THE_FILE_ITSELF}"
)
NOT_A_FILE = f"this is not a regular file (a pipe, socket or device): {PUT_THE_FILE_ITSELF}"


def open_export(path: Path) -> BinaryIO:
    """The file opened for reading, refusing a symbolic link or anything but a regular file.

    The check is the opening itself (O_NOFOLLOW; O_NONBLOCK, so that a pipe cannot make it wait):
    a file swapped for a link after the inbox was checked is refused, not followed.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise Refused(SYMBOLIC_LINK) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise Refused(NOT_A_FILE)
    return os.fdopen(fd, "rb")


def utf8_counts(raw: BinaryIO) -> tuple[int, int]:
    """The file's bytes that are not UTF-8, and its characters that are UTF-8 of two or more bytes."""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    invalid = multibyte = 0
    raw.seek(0)
    for chunk in chain(iter(lambda: raw.read(CHUNK_BYTES), b""), [None]):
        text = decoder.decode(chunk or b"", final=chunk is None)
        if not text.isascii():
            bad = len(SURROGATES.findall(text))
            invalid += bad
            multibyte += len(text) - len(text.encode("ascii", "ignore")) - bad
    return invalid, multibyte


def check_cp1252(raw: BinaryIO) -> None:
    """Refuse a file that Windows-1252 cannot read either (it leaves five byte values undefined)."""
    offset = 0
    raw.seek(0)
    while chunk := raw.read(CHUNK_BYTES):
        try:
            chunk.decode("cp1252")
        except UnicodeDecodeError as e:
            byte = offset + e.start
            raise Refused(
                f"the text is neither UTF-8 nor Windows-1252 (byte {byte}); save it as UTF-8 CSV"
            ) from None
        offset += len(chunk)


def encoding_of(raw: BinaryIO) -> str:
    """The codec that reads a CSV file, as decode() says, or Refused."""
    raw.seek(0)
    head = raw.read(4096)
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if b"\x00" in head:
        raise Refused(
            "the file holds NUL bytes: it looks like UTF-16 without a byte order mark; save it as UTF-8 CSV"
        )
    invalid, multibyte = utf8_counts(raw)
    if invalid <= multibyte:
        return "utf-8"
    check_cp1252(raw)
    return "cp1252"


@contextmanager
def decode(path: Path) -> Iterator[TextIO]:
    """A CSV file open as text (open_export's checks first), whatever its encoding; every line
    ending (\r\n, \r) reads as \n.

    UTF-8 with a byte order mark and UTF-16 with one are what the mark says. Otherwise the file is
    UTF-8 unless it has more bytes that are not UTF-8 than characters that are UTF-8 of two or
    more bytes; then it is Windows-1252 (refused if Windows-1252 cannot read it either). So a
    UTF-8 file with a few stray bytes (a value pasted from an older program) stays UTF-8: each
    such byte is read as U+FFFD and its row is marked undecodable, to be quarantined. A
    Windows-1252 file has no UTF-8 characters, or only the rare accidental one, and is read
    whole as Windows-1252; so is an ASCII file with a stray byte, which then reads exactly.
    """
    with open_export(path) as raw:
        encoding = encoding_of(raw)
        raw.seek(0)
        errors = "surrogateescape" if encoding.startswith("utf-8") else "strict"
        try:
            yield io.TextIOWrapper(raw, encoding=encoding, errors=errors)
        except UnicodeDecodeError as e:  # only UTF-16 is read strictly without having been checked
            raise Refused(
                f"the file starts with a UTF-16 byte order mark but is not valid UTF-16 ({e.reason})"
            ) from None


def mark_undecodable(lines: list[str]) -> list[bool]:
    """Whether each line held bytes that are not UTF-8; each such byte becomes U+FFFD, in place."""
    marks = [False] * len(lines)
    joined = "".join(lines)
    if joined.isascii() or not SURROGATES.search(joined):
        return marks
    for i, line in enumerate(lines):
        if not line.isascii() and SURROGATES.search(line):
            lines[i], marks[i] = SURROGATES.sub(REPLACEMENT, line), True
    return marks
