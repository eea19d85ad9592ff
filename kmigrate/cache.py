"""Results cache: a second run over an unchanged tree reads answers instead of parsing.

One entry per (file content, file path, settings). The settings key covers everything a
file's result depends on: kmigrate's version *and a fingerprint of its own source files*
(so editing a rule, or an editable install moving on, invalidates the cache), the Python and
LibCST versions, and the options that change results (select / extend-select / ignore, target,
to, unsafe-fixes). Options that do not change a file's result (format, jobs, exclude, mode)
are not part of it: `--check` after `--diff` is answered from the cache.

Layout (Ruff's conventions): `<root>/.kmigrate_cache/` holds a `.gitignore` containing `*`
(so the folder is never committed) and a CACHEDIR.TAG (backup tools skip it); below it one
folder per settings key, 256 fan-out folders, one small file per entry:

    line 1: JSON {"findings": [...], "error": bool, "diff": str|null, "new": length|null}
    rest:   the fixed bytes of the file, when the run would change it

Concurrent runs are safe: an entry is written to a temporary file in the same folder and
renamed into place (atomic on POSIX and Windows), so a reader sees a whole entry or none;
two runs writing the same entry write the same bytes. An entry that cannot be read or parsed
is a miss. A cache folder that cannot be written turns the cache off for the run, silently.
Nothing here imports LibCST: a run answered entirely from the cache never loads it.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional

from . import __version__
from .result import FileResult, Finding

FORMAT = 1  # bump when the entry layout changes
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by kmigrate.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)
# Error results worth caching: they depend only on the file's bytes. A rule crash, an
# unreadable file or a recursion limit is retried on every run.
_CACHEABLE_ERRORS = ("syntax error", "binary file", "cannot decode", "cannot detect encoding")
_FINDING_FIELDS = ("line", "column", "end_line", "end_column", "code", "name", "message",
                   "severity", "fix_safety", "fix_applied", "cell", "written", "after_fix")


def code_fingerprint() -> str:
    """A hash of kmigrate's own source files (name, size, mtime) and the LibCST version file.

    Cheap (a few dozen stat calls) and imports nothing heavy; found through import specs so it
    works for editable installs (rules/ mapped to kmigrate.rules) and for wheels alike.
    """
    import importlib.util

    folders: list[str] = [os.path.dirname(os.path.abspath(__file__))]
    for name in ("kmigrate.rules",):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            folders.extend(spec.submodule_search_locations)
    h = hashlib.sha256()
    for folder in sorted(set(folders)):
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for fn in sorted(filenames):
                if fn.endswith(".py"):
                    p = os.path.join(dirpath, fn)
                    try:
                        st = os.stat(p)
                    except OSError:
                        continue
                    h.update(f"{os.path.relpath(p, folder)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    spec = importlib.util.find_spec("libcst")
    if spec is not None and spec.origin:
        version_file = os.path.join(os.path.dirname(spec.origin), "_version.py")
        try:
            with open(version_file, "rb") as fh:
                h.update(fh.read())
        except OSError:
            pass
    return h.hexdigest()


def settings_key(config: Any, fingerprint: str | None = None) -> str:
    """The part of every entry's key that comes from the run: versions, code and options."""
    settings = {
        "format": FORMAT,
        "kmigrate": __version__,
        "code": fingerprint if fingerprint is not None else code_fingerprint(),
        "python": list(sys.version_info[:2]),
        "select": list(config.select),
        "extend_select": list(config.extend_select),
        "ignore": list(config.ignore),
        "target": config.target,
        "to": config.to,
        "unsafe_fixes": bool(config.unsafe_fixes),
        "tf1_layers": getattr(config, "tf1_layers", "keras"),
    }
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


def cache_folder(config: Any) -> Path:
    """`cache-dir` (default .kmigrate_cache) relative to the project root (the pyproject's folder)."""
    folder = Path(config.cache_dir)
    if folder.is_absolute():
        return folder
    root = Path(config.root)
    if root.is_file():
        root = root.parent
    return root / folder


class Cache:
    """Picklable (a folder and a key): worker processes write entries themselves."""

    def __init__(self, folder: str | os.PathLike, key: str):
        self.folder = Path(folder)
        self.key = key
        self.dir = self.folder / key[:24]
        self.enabled = True
        self._made: set[str] = set()

    @classmethod
    def for_config(cls, config: Any) -> Optional["Cache"]:
        if not getattr(config, "cache", True):
            return None
        return cls(cache_folder(config), settings_key(config))

    # -------------------------------------------------------------------------- keys

    def digest(self, path: str, raw: bytes) -> str:
        """The entry name for this file's bytes at this path under these settings."""
        h = hashlib.sha256(self.key.encode())
        h.update(b"\0" + os.path.abspath(path).encode("utf-8", "surrogateescape") + b"\0")
        h.update(raw)
        return h.hexdigest()

    def _entry(self, digest: str) -> Path:
        return self.dir / digest[:2] / digest[2:]

    # -------------------------------------------------------------------------- read

    def get(self, digest: str, display: str, raw: bytes) -> Optional[FileResult]:
        """The stored result with paths set to `display`, or None (miss, unreadable, corrupt)."""
        if not self.enabled:
            return None
        try:
            with open(self._entry(digest), "rb") as fh:
                data = fh.read()
        except OSError:
            return None
        try:
            head, _, body = data.partition(b"\n")
            meta = json.loads(head)
            new_len = meta["new"]
            if new_len is None:
                if body:
                    return None
                new = None
            else:
                if len(body) != new_len:
                    return None  # truncated: treat as a miss
                new = body
            findings = [Finding(path=display, **{k: f[k] for k in _FINDING_FIELDS}) for f in meta["findings"]]
            return FileResult(path=display, findings=findings, old=raw, new=new,
                              error=bool(meta["error"]), diff=meta["diff"])
        except (ValueError, KeyError, TypeError):
            return None

    # -------------------------------------------------------------------------- write

    @staticmethod
    def cacheable(result: FileResult) -> bool:
        if not result.error:
            return True
        return all(f.code != "KM000" or f.message.startswith(_CACHEABLE_ERRORS) for f in result.findings)

    def put(self, digest: str, result: FileResult) -> None:
        """Store `result` (as computed, before any write to disk); never raises."""
        if not self.enabled or not self.cacheable(result):
            return
        new = result.new if result.changed else None
        meta = {
            "findings": [{k: getattr(f, k) for k in _FINDING_FIELDS} for f in result.findings],
            "error": result.error,
            "diff": result.diff,
            "new": None if new is None else len(new),
        }
        try:
            data = json.dumps(meta, ensure_ascii=True, separators=(",", ":")).encode() + b"\n" + (new or b"")
            entry = self._entry(digest)
            self._ensure(entry.parent)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=entry.parent)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, entry)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except (OSError, ValueError, TypeError):
            self.enabled = False  # read-only tree, full disk, ...: run on without the cache

    def _ensure(self, folder: Path) -> None:
        key = str(folder)
        if key in self._made:
            return
        if not self.folder.is_dir() or not (self.folder / ".gitignore").exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            _write_once(self.folder / ".gitignore", b"# Created by kmigrate automatically.\n*\n")
            _write_once(self.folder / "CACHEDIR.TAG", CACHEDIR_TAG.encode())
        folder.mkdir(parents=True, exist_ok=True)
        self._made.add(key)

    def __getstate__(self):
        return {"folder": self.folder, "key": self.key, "enabled": self.enabled}

    def __setstate__(self, state):
        self.__init__(state["folder"], state["key"])
        self.enabled = state["enabled"]


def _write_once(path: Path, data: bytes) -> None:
    if path.exists():
        return
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
