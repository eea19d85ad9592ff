"""Adding and removing imports once a pass's fixes are applied.

LibCST's AddImportsVisitor and RemoveImportsVisitor do the editing (merging into existing
`from x import ...` lines, placement after the leading imports, commas and comments), but as
shipped each costs several parses of the file: `transform_module` deep-copies the module,
AddImports walks the whole tree to read the leading imports and rebuilds every node, and
RemoveImports runs a full scope analysis to find unused names. Here they are driven over
just what they change: the module, the leading imports, and the statements holding an
import to remove; "unused" means the name occurs nowhere else in the code (as a name, or in a
string of `__all__` or of an annotation), which is stricter than LibCST's per-scope check, so
an import is kept whenever in doubt.
"""
from __future__ import annotations

from typing import Sequence

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, ImportItem, RemoveImportsVisitor
from libcst.helpers import get_full_name_for_node

from .names import Bindings
from .walk import children

_STATEMENT_PARTS = (cst.BaseStatement, cst.BaseSmallStatement, cst.IndentedBlock, cst.SimpleStatementSuite,
                    cst.Else, cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally, cst.MatchCase)


def edit_imports(module: cst.Module, edits: Sequence) -> cst.Module:
    """Apply ImportEdits (kmigrate.rule): additions first, then removals of unused imports."""
    ctx = CodemodContext()
    adds = [ImportItem(e.module, e.obj, e.asname) for e in edits if not e.remove]
    removes = [(e.module, e.obj, e.asname) for e in edits if e.remove]
    if adds:
        module = module.visit(_AddImports(ctx, adds))
    if removes:
        module = module.visit(_RemoveImports(ctx, removes))
    return module


class _Undecorated:
    """LibCST's matcher-aware visitors scan `dir(self)` on every instantiation for matcher
    decorators (about 4 ms each); these classes have none, so there is nothing to list."""

    def __dir__(self):
        return []


class _AddImports(_Undecorated, AddImportsVisitor):
    """AddImportsVisitor over the module and its leading import lines only."""

    def visit_Module(self, node: cst.Module) -> None:
        # The gatherer reads the imports that open the module: give it just those statements.
        super().visit_Module(node.with_changes(body=_leading(node)))
        self._descend = {s for s in node.body if isinstance(s, cst.SimpleStatementLine)
                         and any(b in self.all_imports for b in s.body)}

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Module) or node in self._descend:
            return super().on_visit(node)
        return False  # kept as is (leave_* still sees it: only top ImportFroms are changed)


def _leading(module: cst.Module) -> list[cst.BaseStatement]:
    """The module's first statements up to and including the first one that is not an import."""
    body = list(module.body)
    for i, stmt in enumerate(body):
        if i == 0 and _is_docstring(stmt):
            continue
        if not (isinstance(stmt, cst.SimpleStatementLine) and stmt.body
                and isinstance(stmt.body[0], (cst.Import, cst.ImportFrom))):
            return body[: i + 1]
    return body


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    return (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
            and isinstance(stmt.body[0], cst.Expr)
            and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


class _RemoveImports(_Undecorated, RemoveImportsVisitor):
    """RemoveImportsVisitor without scope analysis, rebuilding only the statements it edits."""

    def visit_Module(self, node: cst.Module) -> None:
        parent: dict[cst.CSTNode, cst.CSTNode] = {}
        candidates: dict[cst.ImportAlias, cst.CSTNode] = {}
        stack: list[cst.CSTNode] = [node]
        while stack:  # statements only (imports are statements)
            n = stack.pop()
            if isinstance(n, (cst.Import, cst.ImportFrom)):
                for alias in self._targets(n):
                    candidates[alias] = n
                continue
            for k in children(n):
                if isinstance(k, _STATEMENT_PARTS):
                    parent[k] = n
                    stack.append(k)
        counts = Bindings.of(node).name_counts if candidates else {}
        self._unused_imports = {a: stmt for a, stmt in candidates.items() if not counts.get(_bound_name(a))}
        self._spine: set[cst.CSTNode] = set()
        for stmt in self._unused_imports.values():
            n = parent.get(stmt)
            while n is not None and n not in self._spine:
                self._spine.add(n)
                n = parent.get(n)

    def _targets(self, stmt) -> list[cst.ImportAlias]:
        if isinstance(stmt, cst.Import):
            return [a for a in stmt.names
                    if a.evaluated_name in self.unused_module_imports
                    and a.evaluated_alias == self.unused_module_imports[a.evaluated_name]]
        if isinstance(stmt.names, cst.ImportStar) or stmt.relative or stmt.module is None:
            return []
        wanted = self.unused_obj_imports.get(get_full_name_for_node(stmt.module) or "", set())
        return [a for a in stmt.names if (a.evaluated_name, a.evaluated_alias) in wanted]

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Module) or node in self._spine:
            return super().on_visit(node)
        return False


def _bound_name(alias: cst.ImportAlias) -> str:
    return alias.evaluated_alias or alias.evaluated_name.split(".")[0]
