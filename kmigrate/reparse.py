"""Between passes: the tree LibCST would parse from the fixed text, parsing only what changed.

The rules of the next pass must see what LibCST parses, not the nodes the fixes built (a built
tree can differ from the parsed one and still print the same). Statements the fixes left alone
were parsed from the same text and are kept. A changed top-level statement whose header is
unchanged (a class or function with one line fixed inside) is descended into, down to the
innermost changed statements of its blocks; each of those is parsed on its own, inside `if 1:`
lines that give it the indentation of its blocks, and kept only when it prints exactly as the
fixed statement did in place. What cannot be done that way is parsed as whole top-level
statements, and failing that, the whole text.
"""
from __future__ import annotations

from typing import Callable, Optional

import libcst as cst

from .codegen import code_of
from .parsing import parse_module
from .walk import children

Parse = Callable[[str], cst.Module]

# Parts of a compound statement that hold blocks of statements (an elif is an If in the If).
_CLAUSES = (cst.Else, cst.If, cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally)


class Replace(cst.CSTTransformer):
    """Swap nodes, rebuilding only their ancestors (`spine`); every other subtree is kept as it is."""

    def __init__(self, replacements: dict, spine: set):
        super().__init__()
        self.replacements, self.spine = replacements, spine

    def on_visit(self, node) -> bool:
        return node in self.spine

    def on_leave(self, original_node, updated_node):
        return self.replacements.get(original_node, updated_node)


def ancestors(targets, parent: dict, by_id: bool = False) -> set[cst.CSTNode]:
    """The targets and every node above them, by a child -> parent map (`by_id`: keyed by id(child))."""
    out: set[cst.CSTNode] = set()
    for t in targets:
        while t is not None and t not in out:
            out.add(t)
            t = parent.get(id(t) if by_id else t)
    return out


def reparse(before: cst.Module, after: cst.Module, text: str, parse: Parse) -> cst.Module:
    """What `parse(text)` gives for the fixed module `after` (text == after.code)."""
    body, old = list(after.body), before.body
    if not body or not old:
        return parse(text)
    kept = {id(s) for s in old}
    fresh = {i for i, s in enumerate(body) if id(s) not in kept}
    # A new first (last) statement: the parser may share the module's header (footer) out anew.
    edges = {i for i, j in ((0, 0), (len(body) - 1, -1)) if body[i] is not old[j]}
    if len(body) == len(old):
        for i in sorted(fresh):  # a statement rebuilt in place: its own lines are unchanged
            inner = _inner_reparse(body[i], old[i], after)
            if inner is not None:
                body[i] = inner
                fresh.discard(i)
                edges.discard(i)
    fresh |= edges
    if not fresh:
        return after.with_changes(body=body)
    if 2 * len(fresh) > len(body):
        return parse(text)  # most of it is new: one parse of the whole
    return _top_level(after, body, sorted(fresh), text, parse)


def _top_level(after: cst.Module, body: list, order: list[int], text: str, parse: Parse) -> cst.Module:
    """Parse the top-level statements `order` together: after a `pass` line that keeps their
    leading comments theirs, or, when the first (last) statement is new, after the module's
    header (before its footer), which the parser may then share out differently."""
    first, last = order[0] == 0, order[-1] == len(body) - 1
    head = "".join(code_of(line, after) for line in after.header) if first else "pass" + after.default_newline
    tail = "".join(code_of(line, after) for line in after.footer) if last else ""
    try:
        parsed = parse_module(head + "".join(code_of(body[i], after) for i in order) + tail, _config(after))
    except (cst.ParserSyntaxError, RecursionError):
        return parse(text)
    got = parsed.body if first else parsed.body[1:]
    if len(got) != len(order) or (not first and parsed.header) or (not last and parsed.footer):
        return parse(text)
    for i, stmt in zip(order, got):
        body[i] = stmt
    return after.with_changes(body=body, header=parsed.header if first else after.header,
                              footer=parsed.footer if last else after.footer)


def _config(module: cst.Module) -> cst.PartialParserConfig:
    return cst.PartialParserConfig(default_indent=module.default_indent, default_newline=module.default_newline)


# ------------------------------------------------------------------------------ inside a statement


def _inner_reparse(new: cst.CSTNode, old: cst.CSTNode, module: cst.Module) -> Optional[cst.CSTNode]:
    """`new` (a fixed top-level statement) with its innermost changed statements parsed again;
    None when its header changed or a statement does not parse back the same."""
    found = changed_statements(new, old, module)
    if found is None:
        return None
    changed, spine = found
    swaps = {}
    for stmt, indents, following, before in changed:
        parsed = _parse_in_blocks(stmt, indents, following, before, module)
        if parsed is None:
            return None
        swaps[stmt] = parsed
    return new.visit(Replace(swaps, spine))


def changed_statements(new: cst.CSTNode, old: cst.CSTNode, module: cst.Module) -> Optional[tuple[list, set]]:
    """The innermost statements the fixes changed in the top-level statement `old` (now `new`),
    as (statement, its blocks' indentation, the next statement of its block, the statement it
    replaced), and the nodes above them; None when the header of `new` or of a block changed."""
    changed: list = []
    spine: set = set()
    if not _pair(new, old, (), module.default_indent, changed, spine) or not changed:
        return None
    return changed, spine


def _pair(new, old, indents: tuple, default_indent: str, changed: list, spine: set) -> bool:
    """Match the children of `new` and `old`, a compound statement (or a clause of one) after
    and before the fixes: everything but the statements of its blocks must be the same nodes.
    Adds to `changed` and `spine` only when it returns True."""
    if type(new) is not type(old) or type(new) is cst.Match:
        return False
    kids, old_kids = children(new), children(old)
    if len(kids) != len(old_kids):
        return False
    found: list = []
    below: set = {new}
    for a, b in zip(kids, old_kids):
        if a is b:
            continue
        kind = type(a)
        if kind is cst.IndentedBlock:
            if type(b) is not cst.IndentedBlock or a.indent != b.indent or len(a.body) != len(b.body):
                return False
            stmts = {id(s) for s in a.body}
            inner_kids, old_inner = children(a), children(b)
            if len(inner_kids) != len(old_inner) or any(
                    x is not y and id(x) not in stmts for x, y in zip(inner_kids, old_inner)):
                return False  # the block's header or footer lines changed
            inner = indents + (default_indent if a.indent is None else a.indent,)
            below.add(a)
            for k, (x, y) in enumerate(zip(a.body, b.body)):
                if x is y or (type(x) is not cst.SimpleStatementLine
                              and _pair(x, y, inner, default_indent, found, below)):
                    continue
                found.append((x, inner, a.body[k + 1] if k + 1 < len(a.body) else None, y))
        elif kind in _CLAUSES:
            if not _pair(a, b, indents, default_indent, found, below):
                return False
        else:
            return False  # the statement's own line changed
    changed.extend(found)
    spine |= below
    return True


def _parse_in_blocks(stmt, indents: tuple, following, before, module: cst.Module):
    """`stmt` parsed on its own, as a statement of nested blocks with `indents`; None unless it
    prints exactly as `stmt` does there. `before`: the statement it replaced; `following`: the
    next statement of its block, if any."""
    if type(stmt) is not cst.SimpleStatementLine and (following is None or following.leading_lines) \
            and _tail(stmt) != _tail(before):
        # Comment and blank lines after a block go to the deepest block indented at least as far
        # (its footer): the lines after a compound statement that ends in other blocks than the
        # one it replaced could change owner in a full parse. Not decided here.
        return None
    nl = module.default_newline
    code = code_of(stmt, module, indents)
    wrapper, at = [], ""
    for indent in indents[:-1]:
        wrapper.append(f"{at}if 1:{nl}")
        at += indent
    wrapper.append(f"{at}if 1:{nl}{at}{indents[-1]}pass{nl}")
    try:
        parsed = parse_module("".join(wrapper) + code, _config(module))
    except (cst.ParserSyntaxError, RecursionError):
        return None
    if parsed.header or parsed.footer or len(parsed.body) != 1:
        return None
    node = parsed.body[0]
    for _ in indents[:-1]:
        if type(node) is not cst.If or len(node.body.body) != 1 or node.body.footer:
            return None
        node = node.body.body[0]
    if type(node) is not cst.If or len(node.body.body) != 2 or node.body.footer:
        return None
    got = node.body.body[1]
    return got if code_of(got, module, indents) == code else None


def _tail(stmt) -> Optional[tuple]:
    """The blocks a statement ends in, innermost last: (indent, footer lines) of each last
    block down the chain of last statements; None for a simple statement line."""
    shape = []
    while type(stmt) is not cst.SimpleStatementLine:
        block = _last_block(stmt)
        if type(block) is not cst.IndentedBlock:
            shape.append(type(block).__name__)  # `if x: pass` on one line, or unknown
            break
        shape.append((block.indent, len(block.footer)))
        if not block.body:
            break
        stmt = block.body[-1]
    return tuple(shape) or None


def _last_block(stmt):
    """The block a compound statement ends with (its last clause's body)."""
    kind = type(stmt)
    if kind is cst.If:
        return _last_block(stmt.orelse) if stmt.orelse is not None else stmt.body
    if kind in (cst.For, cst.While):
        return stmt.orelse.body if stmt.orelse is not None else stmt.body
    if kind in (cst.Try, cst.TryStar):
        if stmt.finalbody is not None:
            return stmt.finalbody.body
        if stmt.orelse is not None:
            return stmt.orelse.body
        return stmt.handlers[-1].body if stmt.handlers else stmt.body
    return getattr(stmt, "body", None)  # With, FunctionDef, ClassDef, Else (Match is not parsed here)
