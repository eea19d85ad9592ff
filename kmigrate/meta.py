"""Per-module metadata, computed on first use only.

LibCST's MetadataWrapper computes every declared provider before the first node is visited,
and its providers are costly: positions about 2x the parse, scopes about 3.5x, qualified names
on top of scopes another 3x. Most files need none of it (no finding, no alias to follow), so
here each is computed the first time a rule asks, over the module's own nodes (the wrapper is
built with unsafe_skip_copy, so the nodes rules hold are the ones it indexes).

Positions use a cheaper codegen than PositionProvider's: it records token indices per node
and turns only the requested ones into lines and columns, and generates only the top-level
statements that hold a requested node (same results: tests/test_walk.py).
"""
from __future__ import annotations

import ast
import bisect
import re
import warnings
from dataclasses import dataclass, field
from typing import Optional

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, QualifiedNameProvider, ScopeProvider

from .walk import WHITESPACE_TYPES, children


@dataclass
class _OffsetState(CodegenState):
    """Codegen that remembers, per node, the token indices where it starts and ends."""

    ranges: dict = field(default_factory=dict)  # node -> (first token, end token); syntactic range
    _stack: list = field(default_factory=list)

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._stack.append(len(self.tokens))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._stack.pop()
        if node not in self.ranges:  # a syntactic range recorded inside wins (as in PositionProvider)
            self.ranges[node] = (start, len(self.tokens))

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)

    def pop_trailing_newline(self) -> None:
        pass  # the tokens only count positions; PositionProvider counts that newline too

    def record_syntactic_position(self, node: cst.CSTNode, *, start_node: Optional[cst.CSTNode] = None,
                                  end_node: Optional[cst.CSTNode] = None) -> "_Syntactic":
        return _Syntactic(self, node, start_node, end_node)


class _Syntactic:
    """The context of `record_syntactic_position`: a class, cheaper than a generator's."""

    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state: _OffsetState, node, start_node, end_node):
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start = len(self.state.tokens)

    def __exit__(self, *exc) -> bool:
        ranges = self.state.ranges
        start = self.start if self.start_node is None else ranges[self.start_node][0]
        end = len(self.state.tokens) if self.end_node is None else ranges[self.end_node][1]
        ranges[self.node] = (start, end)
        return False


class _Segment:
    """The codegen tokens of the module, or of one top-level statement starting at `line` (column 0)."""

    def __init__(self, tokens: list[str], line: int = 1):
        self.tokens = tokens
        self._cache: dict[int, CodePosition] = {0: CodePosition(line, 0)}
        self._known: list[int] = [0]  # sorted keys of _cache

    def at(self, index: int) -> CodePosition:
        """Line (1-based) and column (0-based) where token `index` starts."""
        pos = self._cache.get(index)
        if pos is None:
            # Count from the nearest index already known below this one.
            k = bisect.bisect_left(self._known, index)
            base = self._known[k - 1]
            line, column = self._cache[base].line, self._cache[base].column
            for tok in self.tokens[base:index]:
                if "\n" in tok or "\r" in tok:
                    parts = tok.replace("\r\n", "\n").replace("\r", "\n").split("\n")
                    line += len(parts) - 1
                    column = len(parts[-1])
                else:
                    column += len(tok)
            pos = self._cache[index] = CodePosition(line, column)
            self._known.insert(k, index)
        return pos


class Positions:
    """node -> CodeRange (as PositionProvider gives), for any node of the module.

    Given the module's text, only the top-level statements that hold an asked-for node are
    generated: each starts at a line the `ast` tree gives (its first token's line, minus its
    leading blank and comment lines), checked against the text (the generated code must be
    the text from that line to the next statement's). Anything else (the module node, its
    header and footer, whitespace and comment nodes, a check that fails) generates the whole
    module once.
    """

    def __init__(self, module: cst.Module, text: Optional[str] = None, tree: Optional[ast.Module] = None):
        self.module = module
        self._text = text
        self._tree = tree
        self._ranges: dict = {}  # node -> (segment, first token, end token)
        self._whole = text is None
        self._owners: Optional[dict] = None  # node -> index of its top-level statement
        self._starts: Optional[list[int]] = None
        self._offsets: list[int] = []  # text offset of each line start
        self._done: set[int] = set()
        if self._whole:
            self._generate_whole()

    def get(self, node: cst.CSTNode, default=None):
        r = self._ranges.get(node)
        if r is None:
            if self._whole or not self._load(node):
                return default
            r = self._ranges.get(node)
            if r is None:
                return default
        seg, a, b = r
        return CodeRange(seg.at(a), seg.at(b))

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        found = self.get(node)
        if found is None:
            raise KeyError(node)
        return found

    def statement_index(self, node: cst.CSTNode) -> Optional[int]:
        """The index in module.body of the top-level statement holding `node`, if known without
        another walk (the positions were asked statement by statement)."""
        return None if self._whole or self._owners is None else self._owners.get(node)

    def _generate_whole(self) -> None:
        self._whole = True
        state = _OffsetState(default_indent=self.module.default_indent, default_newline=self.module.default_newline)
        self.module._codegen(state)
        seg = _Segment(state.tokens)
        self._ranges = {n: (seg, a, b) for n, (a, b) in state.ranges.items()}

    def _load(self, node: cst.CSTNode) -> bool:
        """Generate the statement holding `node` (or the whole module); False: nothing new to look at."""
        if self._owners is None:
            # Code nodes only (no rule reports whitespace; if one did, the whole module is generated).
            self._owners = owners = {}
            ws = WHITESPACE_TYPES
            for i, stmt in enumerate(self.module.body):
                stack = [stmt]
                while stack:
                    n = stack.pop()
                    owners[n] = i
                    for k in children(n):
                        if type(k) not in ws:
                            stack.append(k)
        i = self._owners.get(node)
        if i is None or i in self._done:
            if i is None:
                self._generate_whole()
            return i is None
        self._done.add(i)
        if not self._statement(i):
            self._generate_whole()
        return True

    def _statement(self, i: int) -> bool:
        starts = self._statement_lines()
        if starts is None:
            return False
        stmt = self.module.body[i]
        state = _OffsetState(default_indent=self.module.default_indent, default_newline=self.module.default_newline)
        stmt._codegen(state)
        code = "".join(state.tokens)
        text, offsets = self._text, self._offsets
        if not 0 < starts[i] <= len(offsets):
            return False
        at = offsets[starts[i] - 1]
        if i + 1 < len(starts):
            if not 0 < starts[i + 1] <= len(offsets) or text[at:offsets[starts[i + 1] - 1]] != code:
                return False
        elif not text.startswith(code, at):
            # The module's last newline may be missing (LibCST drops it from the text only).
            last = state.tokens[-1] if state.tokens else ""
            if self.module.has_trailing_newline or last not in ("\n", "\r\n", "\r") or text[at:] != code[:-len(last)]:
                return False
        seg = _Segment(state.tokens, starts[i])
        for n, (a, b) in state.ranges.items():
            self._ranges[n] = (seg, a, b)
        return True

    def _statement_lines(self) -> Optional[list[int]]:
        """The line where each top-level statement starts (its leading lines included), or None."""
        if self._starts is None:
            self._starts = _statement_lines(self.module, self._text, self._tree) or []
            self._offsets = [0] + [m.end() for m in _NEWLINE.finditer(self._text)]
        return self._starts or None


_NEWLINE = re.compile(r"\r\n?|\n")


def _statement_lines(module: cst.Module, text: str, tree: Optional[ast.Module]) -> Optional[list[int]]:
    if tree is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = compile(text, "<kmigrate>", "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
                               dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
    body = tree.body
    out: list[int] = []
    k = 0
    for stmt in module.body:
        if k >= len(body):
            return None
        first = body[k]
        if isinstance(stmt, cst.SimpleStatementLine):
            k += len(stmt.body)
            line = first.lineno
        else:
            k += 1
            decorators = getattr(stmt, "decorators", ())
            line = first.lineno
            if decorators:
                if not getattr(first, "decorator_list", None):
                    return None
                line = first.decorator_list[0].lineno - len(decorators[0].leading_lines)
        out.append(line - len(stmt.leading_lines))
    return out if k == len(body) else None


class ModuleMeta:
    """The lazily computed metadata of one module."""

    def __init__(self, module: cst.Module, text: Optional[str] = None, tree: Optional[ast.Module] = None,
                 function_scopes: Optional[dict] = None):
        self.module = module
        self._text, self._tree = text, tree  # the module's text and `ast` tree, when known
        self._positions: Optional[Positions] = None
        self._wrapper: Optional[MetadataWrapper] = None
        self._resolved: dict = {}
        # By function node; the engine passes one dict to every pass over a file: a function the
        # fixes left alone is the same object in the next pass (kmigrate.engine._reparse).
        self._function_scopes: dict = {} if function_scopes is None else function_scopes

    @property
    def positions(self) -> Positions:
        if self._positions is None:
            self._positions = Positions(self.module, self._text, self._tree)
        return self._positions

    def _provider(self, key):
        table = self._resolved.get(key)
        if table is None:
            if self._wrapper is None:
                self._wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
            table = self._resolved[key] = self._wrapper.resolve(key)
        return table

    def scope(self, node: cst.CSTNode):
        return self._provider(ScopeProvider).get(node)

    def function_scopes(self, fn: cst.FunctionDef):
        """ScopeProvider's answers for the nodes of one function, analysed on its own.

        Costs in proportion to the function, not the module. Inside `fn` the scopes are what the
        module's analysis gives, except that names `fn` does not bind resolve to an empty global
        scope (so ask about `fn`'s own bindings and reads, not about globals).
        """
        table = self._function_scopes.get(fn)
        if table is None:
            table = MetadataWrapper(cst.Module(body=[fn]), unsafe_skip_copy=True).resolve(ScopeProvider)
            self._function_scopes[fn] = table
        return table

    def get(self, key, node: cst.CSTNode, default):
        """What `MetadataDependent.get_metadata(key, node, default)` would give."""
        from libcst.metadata import PositionProvider

        if key is PositionProvider:
            table = self.positions
        elif key in (ScopeProvider, QualifiedNameProvider) or isinstance(key, type):
            table = self._provider(key)
        else:
            raise KeyError(key)
        value = table.get(node, _MISSING)
        if value is _MISSING:
            if default is _MISSING:
                raise KeyError(f"no {getattr(key, '__name__', key)} for {type(node).__name__}")
            return default
        return value


_MISSING = object()
