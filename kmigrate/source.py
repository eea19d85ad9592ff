"""Bytes <-> text exactly: encoding (cookie, BOM), newlines kept as they are, atomic writes."""
from __future__ import annotations

import codecs
import io
import os
import re
import tempfile
import tokenize
import warnings
from dataclasses import dataclass


# A line ends at \r\n, \r or \n, as Python's tokenizer and LibCST count lines (str.splitlines
# also breaks at \f, \x1c, \u2028, ...).
LINE_BREAK = re.compile(r"\r\n?|\n")


def line_starts(text: str) -> list[int]:
    """The offset at which each line of `text` starts."""
    return [0] + [m.end() for m in LINE_BREAK.finditer(text)]


def compile_quietly(text, path: str, flags: int = 0):
    """`compile(text, path, "exec", flags)` without SyntaxWarnings: the user's `x is 'a'` is not
    kmigrate's to warn about. `text`: source text or an `ast` tree. Raises what compile raises."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compile(text, path, "exec", flags=flags, dont_inherit=True)


class SourceError(Exception):
    """A file that cannot be read as Python text; `line` is 1-based when known."""

    def __init__(self, message: str, line: int = 1, column: int = 1):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass(frozen=True)
class Source:
    """The exact text of a file plus what is needed to write it back byte-for-byte."""

    text: str  # decoded, newlines untouched (CRLF stays CRLF)
    encoding: str  # codec name as detected (PEP 263 cookie or utf-8)
    bom: bool

    @classmethod
    def from_bytes(cls, raw: bytes) -> "Source":
        if b"\x00" in raw:
            line = raw[: raw.index(b"\x00")].count(b"\n") + 1
            raise SourceError("binary file (contains NUL bytes)", line)
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        except SyntaxError as exc:  # bad cookie, or BOM + non-utf8 cookie
            raise SourceError(f"cannot detect encoding: {exc}", getattr(exc, "lineno", 1) or 1) from exc
        bom = raw.startswith(codecs.BOM_UTF8)
        body = raw[len(codecs.BOM_UTF8):] if bom else raw
        codec = "utf-8" if encoding == "utf-8-sig" else encoding
        try:
            text = body.decode(codec)
        except UnicodeDecodeError as exc:
            line = body[: exc.start].count(b"\n") + 1
            raise SourceError(f"cannot decode as {codec}: {exc.reason} at byte {exc.start}", line) from exc
        return cls(text=text, encoding=codec, bom=bom)

    def to_bytes(self, text: str | None = None) -> bytes:
        """Encode `text` (default: the original text) exactly as the file was encoded."""
        data = (self.text if text is None else text).encode(self.encoding)
        return codecs.BOM_UTF8 + data if self.bom else data

    def with_text(self, text: str) -> "Source":
        return Source(text=text, encoding=self.encoding, bom=self.bom)


def read_source(path: str | os.PathLike) -> tuple[bytes, Source]:
    with open(path, "rb") as fh:
        raw = fh.read()
    return raw, Source.from_bytes(raw)


def atomic_write(path: str | os.PathLike, data: bytes, expected_old: bytes | None = None) -> None:
    """Write `data` to `path` through a temp file + rename in the same folder, keeping the mode.

    If `expected_old` is given and the file no longer holds those bytes (changed during the
    run), nothing is written and an OSError is raised: never overwrite with stale content.
    """
    path = os.fspath(path)
    st = os.stat(path)
    folder = os.path.dirname(os.path.abspath(path))
    # Checked by mode bits, not os.access: as root every file is "writable", yet a user who
    # made a file or folder read-only meant it.
    if not st.st_mode & 0o222:
        raise PermissionError(13, "read-only file; not changed", path)
    if not os.stat(folder).st_mode & 0o222:
        raise PermissionError(13, "read-only folder; not changed", path)
    if expected_old is not None:
        with open(path, "rb") as fh:
            if fh.read() != expected_old:
                raise OSError(f"{path}: file changed on disk during the run; not overwritten")
    fd, tmp = tempfile.mkstemp(prefix=".kmigrate-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, st.st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
