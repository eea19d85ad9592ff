"""One file on disk: read it, hand .py text to the engine and .ipynb files to the notebook
module, and turn every failure into a KM000 finding with the file left as it was.

It sits above both: `engine` knows nothing of notebooks, `notebook` calls the engine per cell.
"""
from __future__ import annotations

import os
import sys

from .engine import FileError, Options, fix_text
from .result import ERROR_CODE, FileResult, error_finding
from .source import Source, SourceError

# LibCST walks trees recursively: deep (but valid) nesting needs more than Python's 1000 frames.
RECURSION_LIMIT = 8000


def process_file(path: str, options: Options, display: str | None = None) -> FileResult:
    """Read, fix and verify one file; never raises; never writes (the caller writes `new`)."""
    display = display or path
    result = FileResult(path=display)
    if sys.getrecursionlimit() < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)
    try:
        if os.path.islink(path):
            raise FileError("is a symbolic link; not followed (pass the file it points to)")
        try:
            with open(path, "rb") as fh:
                raw = fh.read()
        except OSError as exc:
            raise FileError(f"cannot read: {exc.strerror or exc}") from None
        result.old = raw
        if path.endswith(".ipynb"):
            from . import notebook  # imported only when a notebook is met

            new, findings, diff = notebook.process_notebook(raw, display, options)
            result.findings, result.diff = findings, diff
            result.error = any(f.code == ERROR_CODE for f in findings)  # a cell that could not be processed
        else:
            source = Source.from_bytes(raw)
            out = fix_text(source.text, display, options)
            result.findings = out.findings
            new = source.to_bytes(out.text) if out.text != source.text else raw
        result.new = new if new != raw else None
    except SourceError as exc:
        _fail(result, display, exc.message, exc.line, exc.column)
    except FileError as exc:
        _fail(result, display, exc.message, exc.line, exc.column)
    except (RecursionError, MemoryError):
        _fail(result, display, "code nested too deeply to process")
    except Exception as exc:  # a rule crash must not stop the run or touch the file
        _fail(result, display, f"internal error ({type(exc).__name__}: {exc}); file left as is")
    return result


def _fail(result: FileResult, path: str, message: str, line: int = 1, column: int = 1) -> None:
    result.error = True
    result.new = None
    result.findings = [error_finding(path, message, line, column)]
