"""What the language server asks of kmigrate, per document; no pygls here.

A document is a `Snapshot`: a .py text, the code cells of a notebook (LSP notebook sync), or an
.ipynb file opened as JSON text. It goes through the engine the CLI uses, with the CLI's
configuration (`[tool.kmigrate]` of the nearest pyproject.toml: select/ignore, target, `to`,
unsafe-fixes; `# noqa` is the engine's): `fix_text` for Python, `process_notebook` for
notebooks (all code cells as one module, IPython syntax masked, findings per cell as the CLI
reports them). An `Outcome` holds the findings per part (the .py document or each cell) and the
fixed text of each part that the fixes change.

Everything a document cannot get through (syntax error, a rule crash, a bad configuration)
becomes one KM000 finding; nothing here raises but `StaleRun` (a newer change superseded the
run, see kmigrate/server/worker.py).

`incremental` is the fast path after a change: the top-level blocks (a function, a class, a run
of module-level statements) whose text is unchanged keep their findings (shifted), and only the
changed blocks are run, each after the file's leading imports. The full run that follows is the
authoritative answer, as the CLI would give it.
"""
from __future__ import annotations

import ast
import json
import logging
import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional

from ..result import ERROR_CODE, Finding, error_finding
from ..source import line_starts
from .text import Edit, Lines, apply_edits, edits_for_lines, minimal_edits

log = logging.getLogger("kmigrate.server")

RECURSION_LIMIT = 8000  # as for the CLI: LibCST walks trees recursively
MAX_CHANGED_BLOCKS = 4  # more changed blocks than this: no fast path, the full run answers
MAX_CHANGED_LINES = 400

PYTHON, NOTEBOOK, IPYNB = "python", "notebook", "ipynb"


@dataclass
class Part:
    """One text the editor holds: a .py document or a notebook cell."""

    uri: str
    text: str
    language: Optional[str] = None  # a cell's language id when it is not Python
    version: Optional[int] = None


@dataclass
class Snapshot:
    key: str  # the document's (or notebook's) URI
    path: Optional[str]  # its file, for the configuration and messages (None: untitled)
    kind: str  # PYTHON, NOTEBOOK or IPYNB
    parts: list[Part]  # PYTHON, IPYNB: one; NOTEBOOK: the code cells in order
    version: Optional[int] = None
    root: Optional[str] = None  # the workspace folder, for untitled documents

    @property
    def display(self) -> str:
        return self.path or self.key

    def texts(self) -> dict[str, str]:
        return {p.uri: p.text for p in self.parts}


@dataclass
class Outcome:
    findings: dict[str, list[Finding]]  # part URI -> findings in that part's coordinates
    fixed: dict[str, str] = field(default_factory=dict)  # part URI -> text after the fixes (changed only)
    provisional: bool = False  # from the fast path

    def all(self) -> list[tuple[str, Finding]]:
        return [(uri, f) for uri, fs in self.findings.items() for f in fs]


# ------------------------------------------------------------------------------ configuration


class Settings:
    """The configuration of each document: [tool.kmigrate] of its nearest pyproject.toml.

    Read again when that file changes (its modification time is checked on every run); the
    engine's Options are built once per distinct selection.
    """

    def __init__(self):
        self._configs: dict[tuple, object] = {}
        self._options: dict[tuple, object] = {}

    def config(self, snap: Snapshot):
        from .. import config as cfg

        start = os.path.dirname(snap.path) if snap.path else (snap.root or os.getcwd())
        if not os.path.isdir(start):
            start = snap.root or os.getcwd()
        pyproject = cfg.find_pyproject(start)
        try:
            stamp = pyproject.stat().st_mtime_ns if pyproject else None
        except OSError:
            stamp = None
        key = (str(pyproject), stamp, None if pyproject else start)
        found = self._configs.get(key)
        if found is None:
            found = self._configs[key] = cfg.load(start)  # raises ConfigError
        return found

    def options(self, config, *, codes: Optional[tuple[str, ...]] = None, to: Optional[str] = "config"):
        """The engine's Options for `config`; `codes`: only those rules; `to`: override `--to`."""
        style = config.to if to == "config" else to
        key = (tuple(config.select), tuple(config.extend_select), tuple(config.ignore), config.target,
               style, config.unsafe_fixes, config.tf1_layers, codes)
        found = self._options.get(key)
        if found is None:
            from ..engine import Options
            from ..rule import select_rules

            rules = select_rules(config.select + config.extend_select, config.ignore)
            if codes is not None:
                rules = [r for r in rules if r.code in codes]
            found = self._options[key] = Options(rules=tuple(rules), target=config.target, to=style,
                                                 unsafe_fixes=config.unsafe_fixes, tf1_layers=config.tf1_layers)
        return found


def warm_up() -> None:
    """Import the engine and every rule module (what the first run would otherwise pay)."""
    if sys.getrecursionlimit() < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)
    from .. import engine, notebook  # noqa: F401
    from ..collector import tune
    from ..rule import all_rules

    all_rules()
    tune()


# ------------------------------------------------------------------------------ running the engine


def run(snap: Snapshot, settings: Settings, options=None) -> Outcome:
    """Findings and fixed texts of a document, as the CLI computes them; never raises
    (except StaleRun, which is no Exception)."""
    first = snap.parts[0].uri if snap.parts else snap.key
    try:
        if options is None:
            options = settings.options(settings.config(snap))
    except Exception as exc:  # ConfigError, or a rule module that fails to import
        log.error("configuration for %s: %s", snap.display, exc)
        return Outcome({first: [error_finding(snap.display, f"configuration error: {exc}")]})
    try:
        if snap.kind == NOTEBOOK:
            return _run_notebook(snap, options)
        if snap.kind == IPYNB:
            return _run_ipynb(snap, options)
        return _run_python(snap, options)
    except (RecursionError, MemoryError):
        return Outcome({first: [error_finding(snap.display, "code nested too deeply to process")]})
    except Exception as exc:  # a rule crash must not stop the server
        log.exception("kmigrate failed on %s", snap.display)
        return Outcome({first: [error_finding(snap.display, f"internal error ({type(exc).__name__}: {exc}); "
                                                            "nothing changed")]})


def _run_python(snap: Snapshot, options) -> Outcome:
    from ..engine import FileError, fix_text

    part = snap.parts[0]
    try:
        out = fix_text(part.text, snap.display, options)
    except FileError as exc:
        return Outcome({part.uri: [error_finding(snap.display, exc.message, exc.line, exc.column)]})
    fixed = {part.uri: out.text} if out.text != part.text else {}
    return Outcome({part.uri: out.findings}, fixed)


def notebook_json(parts: list[Part]) -> bytes:
    """An nbformat 4 notebook of the code cells, for kmigrate.notebook (cell N = the Nth code cell,
    as the CLI numbers them; a cell in another language keeps its language id and is skipped)."""
    cells = []
    for p in parts:
        cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": p.text}
        if p.language:
            cell["metadata"] = {"vscode": {"languageId": p.language}}
        cells.append(cell)
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode("utf-8")


def _run_notebook(snap: Snapshot, options) -> Outcome:
    from ..engine import FileError
    from ..notebook import Notebook, process_notebook

    findings: dict[str, list[Finding]] = {p.uri: [] for p in snap.parts}
    if not snap.parts:
        return Outcome(findings)
    raw = notebook_json(snap.parts)
    try:
        new, found, _ = process_notebook(raw, snap.display, options)
    except FileError as exc:
        return Outcome({snap.parts[0].uri: [error_finding(snap.display, exc.message, exc.line, exc.column)]})
    for f in found:
        k = (f.cell or 1) - 1
        findings[snap.parts[min(max(k, 0), len(snap.parts) - 1)].uri].append(f)
    fixed = {}
    if new != raw:
        for part, cell in zip(snap.parts, Notebook.from_bytes(new).cells):
            if cell.text != part.text:
                fixed[part.uri] = cell.text
    return Outcome(findings, fixed)


def _run_ipynb(snap: Snapshot, options) -> Outcome:
    """An .ipynb file opened as JSON text: findings at the lines of the JSON holding the code."""
    from ..engine import FileError
    from ..notebook import Notebook, process_notebook

    part = snap.parts[0]
    raw = part.text.encode("utf-8")
    try:
        new, found, _ = process_notebook(raw, snap.display, options)
    except FileError as exc:
        return Outcome({part.uri: [error_finding(snap.display, exc.message, exc.line, exc.column)]})
    nb = Notebook.from_bytes(raw)
    for f in found:
        if f.cell is not None:
            f.line, f.column = nb.file_position(f.cell, f.line, f.column)
            f.end_line, f.end_column = nb.file_position(f.cell, f.end_line, f.end_column)
            if (f.end_line, f.end_column) < (f.line, f.column):
                f.end_line, f.end_column = f.line, f.column
    fixed = {part.uri: new.decode("utf-8")} if new != raw else {}
    return Outcome({part.uri: found}, fixed)


# ------------------------------------------------------------------------------ the fast path


@dataclass(frozen=True)
class Block:
    start: int  # 1-based first line
    end: int  # 1-based last line
    text: str


def blocks(text: str, first_line: int = 1, imports: bool = True) -> Optional[tuple[int, list[Block]]]:
    """(last line of the leading imports, the top-level blocks after them), or None when the
    text does not parse. A block is a function or class (decorators included) or a run of other
    top-level statements; the lines between blocks (comments, blank lines) go with the next.
    `first_line`: the line `text` starts at in its file; `imports=False`: no leading imports
    (a run of blocks cut from a file)."""
    from ..source import compile_quietly

    try:
        tree = compile_quietly(text, "<kmigrate>", ast.PyCF_ONLY_AST)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    lines = Lines(text)
    n = len(lines.starts)
    if n > 1 and lines.starts[-1] == len(text):
        n -= 1  # the text ends with a line break: no last, empty line
    body = tree.body
    k = 0
    while imports and k < len(body) and (
            isinstance(body[k], (ast.Import, ast.ImportFrom))
            or (k == 0 and isinstance(body[k], ast.Expr) and isinstance(body[k].value, ast.Constant)
                and isinstance(body[k].value.value, str))):
        k += 1
    header = body[k - 1].end_lineno if k else 0
    starts: list[int] = []
    previous_plain = False
    for stmt in body[k:]:
        plain = not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        first = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", ())])
        if not (plain and previous_plain):
            starts.append(first)
        previous_plain = plain
    out: list[Block] = []
    edges = [header + 1] + starts[1:] + [n + 1] if starts else []
    shift = first_line - 1
    for a, b in zip(edges, edges[1:]):
        lo = lines.starts[a - 1] if a - 1 < n else len(text)
        hi = lines.starts[b - 1] if b - 1 < n else len(text)
        out.append(Block(a + shift, b - 1 + shift, text[lo:hi]))
    return header + shift if header else 0, out


_SPLITS: dict[str, tuple[int, list[Block]]] = {}  # text -> blocks(text), for the last few texts


def _remember(text: str, split: tuple[int, list[Block]]) -> None:
    if len(_SPLITS) >= 8:
        _SPLITS.pop(next(iter(_SPLITS)))
    _SPLITS[text] = split


def _split_of(text: str) -> Optional[tuple[int, list[Block]]]:
    split = _SPLITS.get(text)
    if split is None:
        split = blocks(text)
        if split is not None:
            _remember(text, split)
    return split


def _common_prefix(a: str, b: str) -> int:
    """Length of the common prefix of a and b (slices compared in C, halving the range)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def incremental(snap: Snapshot, previous: Optional[tuple[str, Outcome]], settings: Settings) -> Optional[Outcome]:
    """Provisional findings for a changed .py document: the previous text's findings where its
    top-level blocks are unchanged (shifted), and a run over the changed blocks only, each after
    the file's leading imports. Only the changed stretch of the file is parsed again. None when
    that cannot be done (no previous result, the imports changed, a syntax error in the changed
    blocks, too much changed): the full run answers."""
    if snap.kind != PYTHON or previous is None:
        return None
    old_text, old = previous
    part = snap.parts[0]
    new_text = part.text
    previous_findings = old.findings.get(part.uri, [])
    if any(f.code == ERROR_CODE for f in previous_findings):
        return None
    old_split = _split_of(old_text)
    if old_split is None or not old_split[1]:
        return None
    header, old_blocks = old_split
    # the stretch that changed: common prefix and suffix of the two texts
    p = _common_prefix(old_text, new_text)
    q = _common_prefix(old_text[p:][::-1], new_text[p:][::-1])
    old_lines = Lines(old_text)
    first = old_lines.position(p, "utf-32")[0] + 1
    last = old_lines.position(len(old_text) - q, "utf-32")[0] + 1
    if first <= header:
        return None  # the imports changed: every block may read differently
    touched = [k for k, b in enumerate(old_blocks) if b.end >= first and b.start <= last] or [len(old_blocks) - 1]
    lo, hi = touched[0], touched[-1]
    start = old_lines.starts[old_blocks[lo].start - 1]
    end = (old_lines.starts[old_blocks[hi].end] if old_blocks[hi].end < len(old_lines.starts) else len(old_text))
    end = max(end, len(old_text) - q)
    segment = new_text[start:end + len(new_text) - len(old_text)]
    split = blocks(segment, old_blocks[lo].start, imports=False)
    if split is None:
        return None
    changed = split[1]
    if len(changed) > MAX_CHANGED_BLOCKS or sum(b.end - b.start + 1 for b in changed) > MAX_CHANGED_LINES:
        return None
    delta = len(line_starts(segment)) - len(line_starts(old_text[start:end]))
    after = [replace(b, start=b.start + delta, end=b.end + delta) for b in old_blocks[hi + 1:]]
    _remember(new_text, (header, old_blocks[:lo] + changed + after))
    try:
        options = settings.options(settings.config(snap))
    except Exception:
        return None
    from ..engine import FileError, fix_text

    head = old_text[:old_lines.starts[header]] if header else ""
    kept_until = old_blocks[lo].start - 1  # findings on lines up to here stay where they are
    moved_from = old_blocks[hi].end + 1  # findings from here on move by `delta`
    findings = [f for f in previous_findings if f.line <= kept_until]
    findings += [replace(f, line=f.line + delta, end_line=f.end_line + delta)
                 for f in previous_findings if f.line >= moved_from]
    for b in changed:
        try:
            out = fix_text(head + b.text, snap.display, options)
        except FileError:
            return None
        shift = b.start - header - 1
        findings += [replace(f, line=f.line + shift, end_line=f.end_line + shift)
                     for f in out.findings if f.line > header]
    findings.sort(key=lambda f: (f.line, f.column, f.code))
    return Outcome({part.uri: findings}, provisional=True)


# ------------------------------------------------------------------------------ fixes as edits


def edits_of(snap: Snapshot, outcome: Outcome) -> dict[str, list[Edit]]:
    """Part URI -> the minimal edits from its text to the fixed text."""
    texts = snap.texts()
    return {uri: minimal_edits(texts[uri], new) for uri, new in outcome.fixed.items() if uri in texts}


def _compiles(snap: Snapshot, uri: str, text: str) -> bool:
    from ..source import compile_quietly

    if snap.kind == IPYNB:
        try:
            json.loads(text)
            return True
        except ValueError:
            return False
    flags = 0
    if snap.kind == NOTEBOOK:
        from ..notebook import mask_ipython

        masked = mask_ipython(text)
        if masked.skip:
            return True
        text, flags = masked.text, ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    try:
        compile_quietly(text, "<kmigrate>", flags | ast.PyCF_ONLY_AST)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def _overlaps(f: Finding, line: int, end_line: int) -> bool:
    return f.line <= end_line and f.end_line >= line


def fix_for_finding(snap: Snapshot, outcome: Outcome, uri: str, code: str, line: int, end_line: int,
                    message: Optional[str] = None) -> Optional[tuple[Finding, dict[str, list[Edit]]]]:
    """The edits that fix one finding, from `outcome` (a run of that finding's rule alone):
    the changes on the finding's lines plus those on no finding's lines (an import the fix adds).
    If those alone would not compile, every change of the run. None: the run does not fix it."""
    candidates = [f for f in outcome.findings.get(uri, []) if f.code == code and f.fix_applied
                  and _overlaps(f, line, end_line)]
    if not candidates:
        return None
    candidates.sort(key=lambda f: (f.message != message, abs(f.line - line)))
    target = candidates[0]
    all_edits = edits_of(snap, outcome)
    texts = snap.texts()
    chosen: dict[str, list[Edit]] = {}
    for part_uri, edits in all_edits.items():
        spans = [(f.line, f.end_line) for f in outcome.findings.get(part_uri, []) if f.fix_applied]
        if part_uri == uri:
            picked = edits_for_lines(edits, spans, target.line, target.end_line)
        else:
            picked = edits_for_lines(edits, spans, 0, -1)  # only changes no finding owns
        if picked:
            chosen[part_uri] = picked
    if not chosen.get(uri):
        return None
    if any(not _compiles(snap, u, apply_edits(texts[u], es)) for u, es in chosen.items()):
        chosen = {u: es for u, es in all_edits.items() if es}
    return target, chosen


# ------------------------------------------------------------------------------ documentation


def rule_info(code: str) -> Optional[dict]:
    """name, summary, fix safety, documentation and page URL of a rule (None: unknown code)."""
    if code == ERROR_CODE:
        return {"name": "file-error", "summary": "A file (or notebook cell) kmigrate could not process",
                "fix_safety": "none", "doc": "The document is reported with the reason (syntax error, "
                "undecodable text, invalid notebook, configuration error, ...) and nothing is fixed.",
                "url": None}
    try:
        from ..rule import all_rules

        rule = all_rules().get(code)
    except Exception:
        log.exception("loading the rules")
        return None
    if rule is None:
        return None
    return {"name": rule.name, "summary": rule.summary, "fix_safety": rule.fix_safety.value,
            "doc": rule.documentation(), "url": doc_url(code)}


def doc_url(code: str) -> Optional[str]:
    """The rule's documentation page (docs/rules/<CODE>.md), as SARIF's helpUri links it."""
    try:
        from ..docs import rule_url
    except ImportError:  # pragma: no cover - an install without the documentation module
        return None
    try:
        return rule_url(code)
    except Exception:
        return None


def path_of(uri: str) -> Optional[str]:
    """The file of a file: URI (None for untitled:, vscode-notebook-cell:, ...)."""
    from urllib.parse import unquote, urlparse

    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    path = unquote(parsed.path)
    if os.name == "nt" and path.startswith("/") and len(path) > 2 and path[2] == ":":
        path = path[1:]
    return str(Path(path))
