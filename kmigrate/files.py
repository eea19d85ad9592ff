"""Which files: .py and .ipynb under the given paths, minus excludes, .gitignore and venvs.

Explicitly named files are always processed. Symbolic links are never followed while walking
(a link to a folder outside the tree could loop or escape the root).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, Optional

if TYPE_CHECKING:  # imported when a folder is walked: a run on named files does without it
    import pathspec

SUFFIXES = (".py", ".ipynb")
SKIP_DIRS = {
    ".git", ".hg", ".svn", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache",
    ".tox", ".nox", ".venv", "venv", ".eggs", "node_modules", "site-packages",
    ".ipynb_checkpoints", ".kmigrate_cache",
}


def _spec(patterns: Iterable[str]) -> pathspec.PathSpec:
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(patterns)


def _is_venv(folder: str) -> bool:
    return os.path.isfile(os.path.join(folder, "pyvenv.cfg"))


def iter_files(paths: Iterable[str], exclude: Iterable[str] = (), respect_gitignore: bool = True) -> Iterator[str]:
    """Yield files to process, each once, in a stable order."""
    excluded: Optional[pathspec.PathSpec] = None
    seen: set[str] = set()
    for given in paths:
        if os.path.isdir(given) and not os.path.islink(given):
            if excluded is None:
                excluded = _spec(exclude)
            files = _walk(given, excluded, respect_gitignore)
        else:
            files = iter([given])  # explicit file (even a missing one: it is reported)
        for f in files:
            key = os.path.normpath(f)
            if key not in seen:
                seen.add(key)
                yield f


def _walk(root: str, excluded: pathspec.PathSpec, respect_gitignore: bool) -> Iterator[str]:
    # (folder, gitignore specs that apply with the folder each is relative to)
    ignores: list[tuple[str, pathspec.PathSpec]] = []
    if respect_gitignore:
        ignores = _parent_gitignores(root)

    def ignored(path: str, is_dir: bool) -> bool:
        rel = os.path.relpath(path, root).replace(os.sep, "/")
        probe = rel + "/" if is_dir else rel
        if excluded.match_file(probe) or excluded.match_file(os.path.basename(path) + ("/" if is_dir else "")):
            return True
        for base, spec in ignores:
            r = os.path.relpath(path, base).replace(os.sep, "/")
            if not r.startswith("..") and spec.match_file(r + "/" if is_dir else r):
                return True
        return False

    def walk(folder: str) -> Iterator[str]:
        added = 0
        if respect_gitignore:
            gi = os.path.join(folder, ".gitignore")
            if os.path.isfile(gi):
                try:
                    with open(gi, encoding="utf-8", errors="replace") as fh:
                        ignores.append((folder, _spec(fh.read().splitlines())))
                        added = 1
                except OSError:
                    pass
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            entries = []
        for entry in entries:
            if entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                if entry.name in SKIP_DIRS or _is_venv(entry.path) or ignored(entry.path, True):
                    continue
                yield from walk(entry.path)
            elif entry.name.endswith(SUFFIXES) and not ignored(entry.path, False):
                yield entry.path
        if added:
            ignores.pop()

    yield from walk(root)


def _parent_gitignores(root: str) -> list[tuple[str, pathspec.PathSpec]]:
    """The .gitignore files of the folders above `root`, up to the repository top."""
    out: list[tuple[str, pathspec.PathSpec]] = []
    here = Path(os.path.abspath(root))
    for folder in here.parents:
        gi = folder / ".gitignore"
        if gi.is_file():
            try:
                out.append((str(folder), _spec(gi.read_text(encoding="utf-8", errors="replace").splitlines())))
            except OSError:
                pass
        if (folder / ".git").exists():
            break
    return out[::-1]
