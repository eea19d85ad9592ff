"""A disk cache of the code that attrs and cattrs generate while the server starts.

lsprotocol defines about 600 attrs classes; attrs writes and `compile()`s an `__init__`, `__eq__`,
... for each at import time, and cattrs compiles a converter function per message type on first
use: about 950 `compile()` calls, 0.3 s of the server's start-up on the 2-core machine (half
of importing pygls). The code is the same on every start, so `cached_compile()` keeps the
compiled code objects (marshal) in the user's cache folder, keyed by the generated source and
its file name: a start-up loads them instead of compiling.

Only what those libraries generate goes through the cache: a string compiled in "exec" mode
without flags, under a `<...>` file name (attrs' `<attrs generated init ...>`, cattrs' `<cattrs
generated ...>`), and only while the server loads and answers `initialize`. Everything else,
the engine's own `compile()` calls included, goes straight to the real function. Any problem
with the cache file (missing, stale, unreadable, another Python) means compiling as usual.
Set KMIGRATE_SERVER_CODE_CACHE=0 to turn it off.
"""
from __future__ import annotations

import builtins
import hashlib
import marshal
import os
import sys
import tempfile
from importlib.util import MAGIC_NUMBER

_REAL_COMPILE = builtins.compile


def cache_file() -> str | None:
    if os.environ.get("KMIGRATE_SERVER_CODE_CACHE", "1") == "0":
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    tag = MAGIC_NUMBER.hex() + "-" + sys.implementation.cache_tag
    return os.path.join(base, "kmigrate", f"server-code-{tag}.marshal")


class CodeCache:
    def __init__(self, path: str | None):
        self.path = path
        self.entries: dict[bytes, bytes] = {}
        self.added = 0
        self.hits = 0
        if path:
            try:
                with open(path, "rb") as fh:
                    data = marshal.load(fh)
                if isinstance(data, dict):
                    self.entries = data
            except (OSError, EOFError, ValueError, TypeError):
                self.entries = {}

    def compile(self, source, filename, mode, flags=0, dont_inherit=False, optimize=-1, **kwargs):
        if (kwargs or flags or dont_inherit or optimize != -1 or mode != "exec" or type(source) is not str
                or type(filename) is not str or not filename.startswith("<")):
            return _REAL_COMPILE(source, filename, mode, flags, dont_inherit, optimize, **kwargs)
        key = hashlib.blake2b(filename.encode("utf-8", "surrogatepass") + b"\0"
                              + source.encode("utf-8", "surrogatepass"), digest_size=20).digest()
        blob = self.entries.get(key)
        if blob is not None:
            try:
                code = marshal.loads(blob)
                self.hits += 1
                return code
            except (EOFError, ValueError, TypeError):
                pass
        code = _REAL_COMPILE(source, filename, mode)
        try:
            self.entries[key] = marshal.dumps(code)
            self.added += 1
        except ValueError:
            pass
        return code

    def install(self) -> None:
        builtins.compile = self.compile

    def uninstall(self) -> None:
        if builtins.compile == self.compile:
            builtins.compile = _REAL_COMPILE
        self.save()

    def save(self) -> None:
        if not self.path or not self.added:
            return
        try:
            folder = os.path.dirname(self.path)
            os.makedirs(folder, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".server-code-", dir=folder)
            with os.fdopen(fd, "wb") as fh:
                marshal.dump(self.entries, fh)
            os.replace(tmp, self.path)
            self.added = 0
        except OSError:
            pass
