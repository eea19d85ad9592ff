"""One file: parse once per pass, run the enabled rules in one traversal, apply fixes, re-check.

`fix_text` works on Python text (a .py file or one notebook cell); kmigrate/process.py reads a
file and dispatches .py text here and .ipynb files to kmigrate/notebook.py (which calls back here
per cell): the engine never imports the notebook module.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, replace
from typing import Optional, Sequence

import libcst as cst

from .code_facts import CodeFacts
from .codegen import code_of
from .meta import ModuleMeta
from .parsing import parse_module
from .reconcile import reconcile
from .imports import edit_imports, leading_import_code, tidy_imports
from .reparse import Replace, ancestors, changed_statements, reparse
from .result import ERROR_CODE, error_finding  # noqa: F401  (re-exported)
from .rule import FileContext, Finding, Report, Rule, Safety
from .source import LINE_BREAK, compile_quietly
from .walk import WHITESPACE_TYPES, children, code_children, traverse

MAX_PASSES = 8
_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]*(?:\s*,\s*[A-Z]+[0-9]*)*))?", re.IGNORECASE)


class FileError(Exception):
    """The file cannot be processed; it is left as it was and reported as KM000."""

    def __init__(self, message: str, line: int = 1, column: int = 1):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


@dataclass(frozen=True)
class Options:
    """What the engine needs from the configuration (picklable, for worker processes)."""

    rules: tuple[type[Rule], ...]
    target: str = "tensorflow.keras"
    to: str | None = None
    unsafe_fixes: bool = False
    tf1_layers: str = "keras"  # or "compat": TF1 layers to tf.compat.v1.layers with tf-keras (KM606)


@dataclass
class TextResult:
    text: str
    findings: list[Finding]

    def changed(self, original: str) -> bool:
        return self.text != original


# ------------------------------------------------------------------------------ text level


# The pre-check lives in a LibCST-free module: the main process of a run uses it on the rule
# index without importing LibCST; here it gets the rule classes of `options` back.
from .precheck import active_rules, needs_parsing  # noqa: E402,F401


def _context(text: str, path: str, options: Options, is_notebook: bool) -> FileContext:
    return FileContext(path=path, text=text, target=options.target, to=options.to,
                       unsafe_fixes=options.unsafe_fixes, is_notebook=is_notebook, tf1_layers=options.tf1_layers)


def fix_text(text: str, path: str, options: Options, *, is_notebook: bool = False, _round: int = 0) -> TextResult:
    """Run the rules over `text` until no fix applies.

    Findings: every finding of the original text (what each rule sees in the file as it is,
    whatever else is selected), marked fixed when a fix removed it; and, when fixes changed the
    text, the findings of the fixed text that no original finding accounts for (`after_fix`).
    What remains is what the rules find in the fixed text, as `--check` on the output finds it
    (kmigrate/reconcile.py).
    """
    context = _context(text, path, options, is_notebook)
    rules = by_text = active_rules(text, options, context)
    if not rules:
        return TextResult(text, [])
    tree = check_syntax(text, path, is_notebook)
    rules = active_rules(text, options, context, CodeFacts(tree), among=rules)
    first_rules = set(rules)
    if not rules:
        return TextResult(text, [])

    findings: list[Finding] = []
    current = text
    module = first = _parse(text)
    function_scopes: dict = {}
    added: list = []  # import lines the passes wrote
    for n in range(MAX_PASSES):
        meta = ModuleMeta(module, current, tree if current is text else None, function_scopes)
        context.text = current
        visitors = [rule(context).start(meta) for rule in rules]
        traverse(meta.module, visitors)
        last_pass = (module, visitors)
        reports = [r for v in visitors for r in v.reports]
        if n and not any(r.has_fix and _allowed(r, options) for r in reports):
            break  # a later pass with nothing to fix: the final pass below says what remains
        if not reports:
            break
        positions = meta.positions
        reports = _unsuppressed(reports, positions, current)
        fixable = [r for r in reports if r.has_fix and _allowed(r, options)]
        if not n:
            findings = [_finding(r, positions, path, fixed=r in fixable) for r in reports]
        if not fixable:
            break
        fixed = _apply(meta.module, fixable, positions, meta.parents, added)
        new = _code_after(meta.module, fixed, current, positions)
        if new == current:
            break
        module = _reparse(meta.module, fixed, new)
        current = new
        # Later passes run the rules that can still fix something in the new text (a rename
        # may bring a rule's trigger in); report-only rules run once more, on the final text.
        # (A rule the syntax check left out stays out unless the new text brought its trigger.)
        context.text = current
        rules = [r for r in active_rules(current, options, context) if r.fix_safety is not Safety.NONE
                 and (r in first_rules or r not in by_text)]
    else:
        raise FileError(f"fixes did not settle after {MAX_PASSES} passes (a kmigrate bug); file left as is")

    if current == text:
        return TextResult(text, sorted(findings, key=_order))
    fixed_text = current
    current = _tidy_imports(first, module, added, current)
    if current == text:
        return TextResult(text, sorted(findings, key=_order))
    checked = verify_output(current, path, is_notebook)
    same = current == fixed_text
    final = _final_findings(current, module if same else None, path, options, is_notebook,
                            last_pass if same and last_pass[0] is module else None, checked)
    if _round < 2 and any(f.fix_applied for f in final):
        # Something fixable appeared only in the final text (import lines folded): one more run.
        again = fix_text(current, path, options, is_notebook=is_notebook, _round=_round + 1)
        current = again.text
        final = [replace(f, written=None, **_place(f.written)) if f.written else f
                 for f in again.findings if not f.fix_applied]
    return TextResult(current, sorted(reconcile(findings, final, text, current), key=_order))


def _place(written) -> dict:
    line, column, end_line, end_column = written
    return {"line": line, "column": column, "end_line": end_line, "end_column": end_column}


def _order(f: Finding):
    return (f.line, f.column, f.code)


def _final_findings(text: str, module: Optional[cst.Module], path: str, options: Options,
                    is_notebook: bool, last_pass: Optional[tuple] = None,
                    tree: Optional[ast.Module] = None) -> list[Finding]:
    """Every selected rule over the fixed text, as `--check` on the written file runs them (a
    fresh context: what a rule remembered of the original file is not known there).
    `fix_applied` marks a finding whose fix the run's settings allow.

    `tree`: the text's `ast` tree, if known. `last_pass`: (module, visitors) of the fix loop's last pass, when it ran over this very
    module: a rule it ran answers the same here (same tree, same text, same settings) unless
    it remembers the original text, so its reports are taken, not computed again."""
    tree = tree if tree is not None else check_syntax(text, path, is_notebook)
    context = _context(text, path, options, is_notebook)
    rules = active_rules(text, options, context, tree)
    if not rules:
        return []
    meta = ModuleMeta(module if module is not None else _parse(text), text, tree, {})
    done = {type(v): v for v in last_pass[1] if not v.remembers_original} if last_pass is not None else {}
    fresh = {rule: rule(context).start(meta) for rule in rules if rule not in done}
    if fresh:
        traverse(meta.module, list(fresh.values()))
    reports = [r for rule in rules for r in (done[rule] if rule in done else fresh[rule]).reports]
    if not reports:
        return []
    positions = meta.positions
    return [_finding(r, positions, path, fixed=r.has_fix and _allowed(r, options))
            for r in _unsuppressed(reports, positions, text)]


def check_syntax(text: str, path: str, is_notebook: bool = False) -> ast.Module:
    """The `ast` tree of `text`, or FileError."""
    try:
        return compile_quietly(text, path, ast.PyCF_ONLY_AST | (ast.PyCF_ALLOW_TOP_LEVEL_AWAIT if is_notebook else 0))
    except SyntaxError as exc:
        if "\x00" in text and not exc.lineno:
            _nul_error(text)
        hint = " (Python 2 code? kmigrate reads Python 3)" if _looks_python2(exc) else ""
        raise FileError(f"syntax error: {exc.msg}{hint}", exc.lineno or 1, exc.offset or 1) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        if "\x00" in text:
            _nul_error(text)
        raise FileError(f"cannot parse: {type(exc).__name__}: {exc}") from None


def _nul_error(text: str) -> None:
    """compile() names no line for a NUL byte: find it."""
    nul = text.find("\x00")
    line = text.count("\n", 0, nul) + 1
    raise FileError("source contains a NUL byte", line, nul - (text.rfind("\n", 0, nul) + 1) + 1)


def verify_output(text: str, path: str, is_notebook: bool = False) -> ast.Module:
    """The fixed text must parse and compile, or nothing is written. Returns its `ast` tree
    (the final check of the fixed text needs it: parsed once)."""
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT if is_notebook else 0
    try:
        tree = compile_quietly(text, path, ast.PyCF_ONLY_AST | flags)
        compile_quietly(tree, path, flags)  # what only compiling finds (`return` outside a function, ...)
        return tree
    except (SyntaxError, ValueError, RecursionError) as exc:
        line = getattr(exc, "lineno", 1) or 1
        raise FileError(f"fixed code would not compile ({exc}); a kmigrate bug, file left as is", line) from None


def _looks_python2(exc: SyntaxError) -> bool:
    return "Missing parentheses" in (exc.msg or "") or "print" in (exc.text or "") or "except" in (exc.text or "")


def _parse(text: str) -> cst.Module:
    try:
        module = parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise FileError(f"syntax error: {exc.message}", exc.raw_line, exc.raw_column + 1) from None
    except RecursionError:
        raise FileError("cannot parse: expression nested too deeply") from None
    if text.endswith("\r") and not module.has_trailing_newline:
        # LibCST counts only \n as a final newline and would drop a lone \r at the end.
        module = module.with_changes(has_trailing_newline=True)
    return module


def _code_after(before: cst.Module, after: cst.Module, text: str, positions) -> str:
    """`after.code`, `before` being the module parsed from `text` and `after` the same with
    fixes: the statements the fixes left alone are copied from the text, not generated."""
    same = (_same_nodes(after.header, before.header) and _same_nodes(after.footer, before.footer) and after.body
            and after.has_trailing_newline == before.has_trailing_newline
            and after.default_indent == before.default_indent and after.default_newline == before.default_newline)
    spans = positions.statement_spans() if same else None
    if spans is None:
        return code_of(after)
    where = {id(s): span for s, span in zip(before.body, spans)}
    in_place = len(after.body) == len(before.body)
    parts = [text[:spans[0][0]]]
    for i, stmt in enumerate(after.body):
        span = where.get(id(stmt))
        if span is not None:
            parts.append(text[span[0]:span[1]])
            continue
        piece = _spliced(before.body[i], stmt, text, spans[i], positions, after) if in_place else None
        parts.append(piece if piece is not None else code_of(stmt, after))
    parts.append(text[spans[-1][1]:])
    return "".join(parts)


def _same_nodes(a, b) -> bool:
    """The same node objects (a transformer rebuilds a module's header and footer sequences
    even when it keeps every line in them)."""
    return a is b or (len(a) == len(b) and all(x is y for x, y in zip(a, b)))


def _spliced(old: cst.CSTNode, new: cst.CSTNode, text: str, span: tuple[int, int], positions,
             module: cst.Module) -> Optional[str]:
    """The code of `new`, a top-level statement rebuilt in place of `old` (whose text is
    `text[span]`): the old text with only the innermost statements the fixes changed printed
    anew (a class with one line fixed is not printed whole); None when that cannot be done."""
    found = changed_statements(new, old, module)
    if found is None:
        return None
    edits = []
    for stmt, indents, _following, replaced in found[0]:
        at = positions.block_statement_span(replaced)
        if at is not None and at[1] is None:  # where it ends: as long as its code
            code = code_of(replaced, module, indents)
            at = (at[0], at[0] + len(code)) if text.startswith(code, at[0]) else None
        if at is None or not span[0] <= at[0] < at[1] <= span[1]:
            return None
        edits.append((at[0], at[1], stmt, indents))
    edits.sort(key=lambda e: e[0])
    out, at = [], span[0]
    for a, b, stmt, indents in edits:
        if a < at:
            return None
        out.append(text[at:a])
        out.append(code_of(stmt, module, indents))
        at = b
    out.append(text[at:span[1]])
    return "".join(out)


def _reparse(before: cst.Module, after: cst.Module, text: str) -> cst.Module:
    """What `_parse(text)` gives for the fixed module `after`, parsing only what changed."""
    return reparse(before, after, text, _parse)


def _allowed(report: Report, options: Options) -> bool:
    return report.safety is Safety.SAFE or (report.safety is Safety.UNSAFE and options.unsafe_fixes)


def _unsuppressed(reports: list[Report], positions, text: str) -> list[Report]:
    """The reports no `# noqa` comment silences (a file without one needs no positions here)."""
    if not _NOQA.search(text):
        return reports
    lines = LINE_BREAK.split(text)
    return [r for r in reports if not _suppressed(r, positions, lines)]


def _suppressed(report: Report, positions, lines: list[str]) -> bool:
    pos = positions.get(report.anchor or report.node, hint=report.top, statement=report.statement)
    if pos is None:
        return False
    for lineno in {pos.start.line, pos.end.line}:
        if 0 < lineno <= len(lines):
            m = _NOQA.search(lines[lineno - 1])
            if m and "#" in lines[lineno - 1]:
                codes = m.group("codes")
                if not codes or any(report.rule.code.startswith(c.strip().upper()) for c in codes.split(",")):
                    return True
    return False


def _finding(report: Report, positions, path: str, fixed: bool) -> Finding:
    pos = positions.get(report.anchor or report.node, hint=report.top, statement=report.statement)
    start_line, start_col, end_line, end_col = (
        (pos.start.line, pos.start.column + 1, pos.end.line, pos.end.column + 1) if pos else (1, 1, 1, 1)
    )
    rule = report.rule
    return Finding(
        path=path, line=start_line, column=start_col, end_line=end_line, end_column=end_col,
        code=rule.code, name=rule.name, message=report.message, severity=report.severity.value,
        fix_safety=report.safety.value, fix_applied=fixed,
    )


def _ancestors(module: cst.Module, targets, positions=None, parents: Optional[dict] = None) -> set[cst.CSTNode]:
    """The targets and every node above them (`parents`: the module's parent map, if known)."""
    if parents is not None and all(t is module or t in parents for t in targets):
        return ancestors(targets, parents)
    # Only the top-level statements that hold a target, when the positions know which those are;
    # code nodes only (fixes replace code), keyed by id (a node's own hash is computed in Python).
    where = {positions.statement_index(t) for t in targets} if positions is not None else {None}
    stack: list[cst.CSTNode] = [module] if None in where else [module.body[i] for i in where]
    parent: dict[int, cst.CSTNode] = {id(s): module for s in stack}
    get = children if any(type(t) in WHITESPACE_TYPES for t in targets) else code_children
    while stack:
        n = stack.pop()
        for k in get(n):
            parent[id(k)] = n
            stack.append(k)
    return ancestors(targets, parent, by_id=True)


def _apply(module: cst.Module, fixes: Sequence[Report], positions, parents: Optional[dict] = None,
           added: Optional[list] = None) -> cst.Module:
    """Apply the fixes whose source ranges do not overlap (others wait for the next pass)."""
    chosen: dict[cst.CSTNode, object] = {}
    taken: list[tuple[tuple[int, int], tuple[int, int]]] = []
    imports: list = []
    for r in sorted(fixes, key=lambda r: _span(positions, r.node, r.top, r.statement)):
        span = _span(positions, r.node, r.top, r.statement)
        if r.replacement is not None:
            if r.node in chosen or any(span[0] < t[1] and t[0] < span[1] for t in taken):
                continue
            if span[0] == span[1] == (0, 0) and not isinstance(r.node, cst.Module):
                continue
            chosen[r.node] = r.replacement
            taken.append(span)
        imports.extend(r.imports)
    new = module.visit(Replace(chosen, _ancestors(module, chosen, positions, parents))) if chosen else module
    if imports:
        new = _apply_imports(new, imports, added)
    return new


def _span(positions, node, hint=None, statement=None):
    pos = positions.get(node, hint=hint, statement=statement)
    if pos is None:
        return ((0, 0), (0, 0))
    return ((pos.start.line, pos.start.column), (pos.end.line, pos.end.column))


def _apply_imports(module: cst.Module, edits, added: Optional[list] = None) -> cst.Module:
    return edit_imports(module, edits, added)


def _tidy_imports(first: cst.Module, module: cst.Module, added: list, text: str) -> str:
    """Import lines the passes made redundant, folded (kmigrate.imports.tidy_imports)."""
    tidied = tidy_imports(module, added, leading_import_code(first))
    return text if tidied is module else code_of(tidied)
