"""Adding and removing imports once a pass's fixes are applied.

The edits LibCST's AddImportsVisitor and RemoveImportsVisitor make (which statements count
as the leading imports, merging into an existing `from x import ...` line, where new lines go
and in which order, commas and comments when a name is dropped), written over the statements
they touch only and without libcst.codemod: importing it, with the matchers it pulls in, takes
about 0.2 s, more than the rest of a run on a small file. "Unused" means the name occurs
nowhere else in the code (as a name, or in a string of `__all__` or of an annotation), which is
stricter than LibCST's per-scope check, so an import is kept whenever in doubt.
"""
from __future__ import annotations

from typing import Optional, Sequence

import libcst as cst
from libcst.helpers import get_full_name_for_node

from .codegen import code_of
from .names import Bindings, canonical_keras
from .reparse import Replace, ancestors
from .walk import children

_STATEMENT_PARTS = (cst.BaseStatement, cst.BaseSmallStatement, cst.IndentedBlock, cst.SimpleStatementSuite,
                    cst.Else, cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally, cst.MatchCase)

Item = tuple  # (module, obj or None, asname or None)


def edit_imports(module: cst.Module, edits: Sequence, added: Optional[list] = None) -> cst.Module:
    """Apply ImportEdits (kmigrate.rule): additions first, then removals of unused imports.
    `added` collects the `from m import ...` lines written anew, as (m, its (name, alias) pairs)."""
    adds = [(e.module, e.obj, e.asname) for e in edits if not e.remove]
    removes = [(e.module, e.obj, e.asname) for e in edits if e.remove]
    if adds:
        module = _add(module, adds, added if added is not None else [])
    if removes:
        module = _remove(module, removes)
    return module


# ------------------------------------------------------------------------------ adding


def _add(module: cst.Module, items: list[Item], added: list) -> cst.Module:
    modules = {m for m, o, a in items if o is None and a is None}
    objects = {m: {o for m2, o, a in items if m2 == m and o is not None and a is None}
               for m in sorted({m for m, o, a in items if o is not None and a is None})}
    module_aliases = {m: a for m, o, a in items if o is None and a is not None}
    aliases = {m: [(o, a) for m2, o, a in items if m2 == m and o is not None and a is not None]
               for m in sorted({m for m, o, a in items if o is not None and a is not None})}

    # What the leading imports already give.
    top = [module.body[i].body[0] for i in _leading(module)]
    for imp in top:
        if type(imp) is cst.Import:
            for alias in imp.names:
                if alias.asname is None:
                    modules.discard(alias.evaluated_name)
                elif module_aliases.get(alias.evaluated_name) == alias.evaluated_alias:
                    del module_aliases[alias.evaluated_name]
            continue
        name = _from_module(imp)
        if name is None:
            continue
        if isinstance(imp.names, cst.ImportStar):
            objects.pop(name, None)
            continue
        for alias in imp.names:
            pair = (alias.evaluated_name, alias.evaluated_alias)
            if alias.asname is None:
                if name in objects:
                    objects[name].discard(pair[0])
                    if not objects[name]:
                        del objects[name]
            elif pair in aliases.get(name, ()):
                aliases[name].remove(pair)
                if not aliases[name]:
                    del aliases[name]
    if not (modules or objects or module_aliases or aliases):
        return module

    # Names for a module some leading `from` line imports from go into that line, in front.
    merged: dict = {}
    for imp in top:
        if type(imp) is not cst.ImportFrom or isinstance(imp.names, cst.ImportStar):
            continue
        name = _from_module(imp)
        if name is None or (name not in objects and name not in aliases):
            continue
        new = [(o, None) for o in sorted(objects.pop(name, ()))] + sorted(aliases.pop(name, ()))
        merged[imp] = imp.with_changes(names=[*_aliases(new), *imp.names])
    if merged:
        lines = {stmt for stmt in module.body if type(stmt) is cst.SimpleStatementLine and stmt.body[0] in merged}
        module = module.visit(Replace(merged, lines | {module}))
    if not (modules or objects or module_aliases or aliases):
        return module

    # The rest as new lines after the leading imports (__future__ ones before them).
    body = list(module.body)
    lead = _leading(module)
    first, end = lead.start, lead.stop
    rest = body[end:]
    if rest and not rest[0].leading_lines:
        rest[0] = rest[0].with_changes(leading_lines=(cst.EmptyLine(),))
    elif rest and rest[0].leading_lines[0].comment is not None:
        rest[0] = rest[0].with_changes(leading_lines=(cst.EmptyLine(), *rest[0].leading_lines))
    pairs: dict = {}
    for m, found in aliases.items():
        pairs.setdefault(m, []).extend(found)
    for m, found in objects.items():
        pairs.setdefault(m, []).extend((o, None) for o in found)
    pairs = {m: sorted(found, key=lambda p: (p[0], p[1] or "")) for m, found in pairs.items()}
    config = module.config_for_parsing

    def line(code: str) -> cst.BaseStatement:
        return cst.parse_statement(code, config=config)

    def from_line(m: str) -> cst.BaseStatement:
        if m != "__future__":
            added.append((m, tuple(pairs[m])))
        return line(f"from {m} import " + ", ".join(o if a is None else f"{o} as {a}" for o, a in pairs[m]))

    return module.with_changes(body=(
        *body[:first],
        *[from_line(m) for m in pairs if m == "__future__"],
        *body[first:end],
        *[line(f"import {m}") for m in sorted(modules)],
        *[line(f"import {m} as {a}") for m, a in module_aliases.items()],
        *[from_line(m) for m in pairs if m != "__future__"],
        *rest,
    ))


def tidy_imports(module: cst.Module, added: list, untouched: set[str]) -> cst.Module:
    """Import lines the run made redundant, once a later pass renamed an earlier leading line to
    the same module (`from keras.layers.core import Dense` became `from tensorflow.keras.layers
    import Dense`):
    - a line `_add` wrote (`added`: (module, pairs)) joins the first line from its module, its
      names in front, as they would have had that line been there first;
    - a line the run rewrote (its code is not in `untouched`, the leading import lines as the
      user wrote them) whose names earlier lines from its module import already is dropped
      (`from keras.layers.convolutional import Convolution2D` became a second `... import Conv2D`).
    Left alone: lines as the user wrote them, a line with comments before it, and anything that
    would move a name past another import of it."""
    body = list(module.body)
    lead = _leading(module)
    done = False

    def froms() -> dict[int, str]:
        return {i: f for i in lead if body[i] is not None and type(body[i].body[0]) is cst.ImportFrom
                and not isinstance(body[i].body[0].names, cst.ImportStar)
                and (f := _from_module(body[i].body[0])) is not None}

    def fold(k: int, m: str, lines: list[int], join: bool) -> bool:
        """Line k's names into the first of `lines` (join) or nowhere (all imported already)."""
        pairs = _pairs(body[k].body[0])
        target = lines[0]
        names = {a or o for o, a in pairs}
        if any(body[i] is not None and not _binds_as(body[i].body[0], m, pairs, names) for i in range(target + 1, k)):
            return False  # some other import of one of the names in between: the order matters
        covered = {p for i in lines if i < k for p in _pairs(body[i].body[0])}
        new = [(o, a) for o, a in pairs if (o, a) not in covered]
        if new and not join:
            return False
        if new:
            imp = body[target].body[0]
            body[target] = body[target].with_changes(body=[imp.with_changes(names=[*_aliases(new), *imp.names])])
        body[k] = None
        return True

    for m, pairs in added:
        found = froms()
        # The line as written, or as a later pass renamed it (`keras.layers` -> `tensorflow.keras.layers`).
        mine = [i for i, f in found.items() if _same_module(f, m)
                and not body[i].leading_lines and _pairs(body[i].body[0]) == list(pairs)]
        if mine:
            k = mine[-1]
            lines = [i for i, f in found.items() if f == found[k]]
            done |= lines[0] != k and fold(k, found[k], lines, join=True)
    found = froms()
    for k, m in found.items():
        if body[k] is None or body[k].leading_lines or code_of(body[k], module) in untouched:
            continue
        lines = [i for i, f in found.items() if f == m and body[i] is not None]
        done |= lines[0] != k and fold(k, m, lines, join=False)
    return module.with_changes(body=[s for s in body if s is not None]) if done else module


def leading_import_code(module: cst.Module) -> set[str]:
    """The code of the module's leading import lines (what `tidy_imports` leaves as it is)."""
    return {code_of(module.body[i], module) for i in _leading(module)}


def _same_module(a: str, b: str) -> bool:
    keras = canonical_keras(a)
    return a == b or (keras is not None and keras == canonical_keras(b))


def _binds_as(imp, m: str, pairs, names: set[str]) -> bool:
    """Whether `imp` binds none of `names`, or binds them as `from m import` with `pairs` does."""
    bound = names & _bound_names(imp)
    if not bound:
        return True
    if type(imp) is not cst.ImportFrom or _from_module(imp) != m:
        return False
    return all(p in pairs for p in _pairs(imp) if (p[1] or p[0]) in bound)


def _pairs(imp: cst.ImportFrom) -> list:
    return [(a.evaluated_name, a.evaluated_alias) for a in imp.names]


def _bound_names(imp) -> set[str]:
    if isinstance(imp.names, cst.ImportStar):
        return {"*"}
    return {_bound_name(a) for a in imp.names}


def _leading(module: cst.Module) -> range:
    """Indices in module.body of the leading import lines (after a docstring or __strict__ flag)."""
    start = end = 1 if _skip_first(module) else 0
    while end < len(module.body) and _is_import_line(module.body[end]):
        end += 1
    return range(start, end)


def _aliases(pairs) -> list[cst.ImportAlias]:
    """`name` and `name as alias` for (name, alias or None) pairs, the unaliased ones first."""
    return [cst.ImportAlias(name=cst.Name(o)) for o, a in pairs if a is None] + \
        [cst.ImportAlias(name=cst.Name(o), asname=cst.AsName(name=cst.Name(a))) for o, a in pairs if a is not None]


def _is_import_line(stmt: cst.CSTNode) -> bool:
    return type(stmt) is cst.SimpleStatementLine and len(stmt.body) == 1 \
        and type(stmt.body[0]) in (cst.Import, cst.ImportFrom)


def _skip_first(module: cst.Module) -> bool:
    """A docstring or a `__strict__ = ...` flag opens the module: imports never go above it."""
    if not module.body or type(module.body[0]) is not cst.SimpleStatementLine or not module.body[0].body:
        return False
    small = module.body[0].body[0]
    if type(small) is cst.Expr:
        return type(small.value) is cst.SimpleString
    return type(small) is cst.Assign and len(small.targets) == 1 \
        and type(small.targets[0].target) is cst.Name and small.targets[0].target.value == "__strict__"


def _from_module(imp: cst.ImportFrom) -> Optional[str]:
    """The module of `from x import ...`; None for a relative import (the package is unknown)."""
    if imp.relative:
        return None
    return get_full_name_for_node(imp.module) if imp.module is not None else None


# ------------------------------------------------------------------------------ removing


def _remove(module: cst.Module, items: list[Item]) -> cst.Module:
    plain = {m: a for m, o, a in items if o is None}
    wanted: dict[str, set] = {}
    for m, o, a in items:
        if o is not None:
            wanted.setdefault(m, set()).add((o, a))

    def targets(stmt) -> list[cst.ImportAlias]:
        if type(stmt) is cst.Import:
            return [a for a in stmt.names if a.evaluated_name in plain and a.evaluated_alias == plain[a.evaluated_name]]
        if isinstance(stmt.names, cst.ImportStar) or stmt.relative or stmt.module is None:
            return []
        found = wanted.get(get_full_name_for_node(stmt.module) or "", set())
        return [a for a in stmt.names if (a.evaluated_name, a.evaluated_alias) in found]

    parent: dict[cst.CSTNode, cst.CSTNode] = {}
    candidates: dict[cst.ImportAlias, cst.CSTNode] = {}
    stack: list[cst.CSTNode] = [module]
    while stack:  # statements only (imports are statements)
        n = stack.pop()
        if type(n) in (cst.Import, cst.ImportFrom):
            for alias in targets(n):
                candidates[alias] = n
            continue
        for k in children(n):
            if isinstance(k, _STATEMENT_PARTS):
                parent[k] = n
                stack.append(k)
    if not candidates:
        return module
    counts = Bindings.of(module).name_counts
    unused = {a for a in candidates if not counts.get(_bound_name(a))}
    edited = {}
    for stmt in {candidates[a] for a in unused}:
        keep = [a for a in stmt.names if a not in unused]
        edited[stmt] = _without(stmt, keep)
    return module.visit(Replace(edited, ancestors(edited, parent)))


def _without(stmt, keep: list[cst.ImportAlias]):
    """`stmt` with only the names `keep` (RemoveFromParent when none is left); comments after a
    dropped name's comma move to the name before it (or to the opening parenthesis)."""
    if not keep:
        return cst.RemoveFromParent()
    updates: dict = {}
    if type(stmt) is cst.ImportFrom:
        kept: list = []
        for alias in stmt.names:
            if alias in keep:
                kept.append(alias)
                continue
            comma = alias.comma
            if not isinstance(comma, cst.Comma):
                continue
            if kept:
                prev = kept[-1]
                if isinstance(prev.comma, cst.Comma):
                    prev = prev.with_deep_changes(prev.comma, whitespace_after=_merge_whitespace_after(
                        prev.comma.whitespace_after, comma.whitespace_after))
                else:
                    prev = prev.with_changes(comma=comma)
                kept[-1] = prev
            elif isinstance(updates.get("lpar", stmt.lpar), cst.LeftParen):
                lpar = updates.get("lpar", stmt.lpar)
                updates["lpar"] = lpar.with_changes(
                    whitespace_after=_merge_whitespace_after(lpar.whitespace_after, comma.whitespace_after))
        keep = kept
    if keep[-1] is not stmt.names[-1] and keep[-1].comma is not cst.MaybeSentinel.DEFAULT:
        keep = [*keep[:-1], keep[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
    return stmt.with_changes(names=keep, **updates)


def _merge_whitespace_after(left, right):
    if not isinstance(right, cst.ParenthesizedWhitespace):
        return left
    if not isinstance(left, cst.ParenthesizedWhitespace):
        return right
    return left.with_changes(empty_lines=tuple(line for line in right.empty_lines if line.comment is not None))


def _bound_name(alias: cst.ImportAlias) -> str:
    return alias.evaluated_alias or alias.evaluated_name.split(".")[0]
