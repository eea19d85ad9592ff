"""Where a finding is in the file itself, for formats that point into files (SARIF, GitHub).

For a .py file that is the finding's own line and column. For a notebook the finding's line and
column are those of its cell; here they are mapped to the line and column of the notebook's
JSON text where that code sits, so an annotation lands on the right line of the .ipynb file.
"""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote


class Locator:
    """Maps the findings of one FileResult to (start_line, start_col, end_line, end_col) in the file."""

    def __init__(self, result):
        self.notebook = None
        if result.path.endswith(".ipynb") and any(f.cell is not None for f in result.findings):
            from ..notebook import for_result

            self.notebook = for_result(result)

    def region(self, f) -> tuple[int, int, int, int]:
        if f.cell is None:
            sl, sc, el, ec = f.line, f.column, f.end_line, f.end_column
        elif self.notebook is None:  # the notebook can no longer be read: its top
            sl, sc, el, ec = 1, 1, 1, 1
        else:
            sl, sc = self.notebook.file_position(f.cell, f.line, f.column)
            el, ec = self.notebook.file_position(f.cell, f.end_line, f.end_column)
        if (el, ec) < (sl, sc):
            el, ec = sl, sc
        return sl, sc, el, ec


def cell_note(f) -> str:
    """` (cell 3, line 2)` for a notebook finding, else empty."""
    return f" (cell {f.cell}, line {f.line})" if f.cell is not None else ""


def relative(path: str) -> str | None:
    """The path relative to the current folder in URI form, or None if it lies outside it."""
    rel = os.path.relpath(os.path.abspath(path))
    if rel == ".." or rel.startswith(".." + os.sep):
        return None
    return rel.replace(os.sep, "/")


def uri(path: str) -> tuple[str, str | None]:
    """(uri, uriBaseId): relative to %SRCROOT% (the current folder) when possible."""
    rel = relative(path)
    if rel is not None:
        return quote(rel), "%SRCROOT%"
    return Path(os.path.abspath(path)).as_uri(), None


def srcroot_uri() -> str:
    return Path(os.getcwd()).as_uri().rstrip("/") + "/"
