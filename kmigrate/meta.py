"""Per-module metadata, computed on first use only.

LibCST's MetadataWrapper computes every declared provider before the first node is visited,
and its providers are costly: positions about 2x the parse, scopes about 3.5x, qualified names
on top of scopes another 3x. Most files need none of it (no finding, no alias to follow), so
here each is computed the first time a rule asks, over the module's own nodes (the wrapper is
built with unsafe_skip_copy, so the nodes rules hold are the ones it indexes).

Positions use a cheaper codegen than PositionProvider's: it records token indices per node
and turns only the requested ones into lines and columns (same results: tests/test_meta.py).
"""
from __future__ import annotations

import bisect
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator, Optional

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, QualifiedNameProvider, ScopeProvider


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

    @contextmanager
    def record_syntactic_position(self, node: cst.CSTNode, *, start_node: Optional[cst.CSTNode] = None,
                                  end_node: Optional[cst.CSTNode] = None) -> Iterator[None]:
        start = len(self.tokens)
        try:
            yield
        finally:
            end = len(self.tokens)
            if start_node is not None:
                start = self.ranges[start_node][0]
            if end_node is not None:
                end = self.ranges[end_node][1]
            self.ranges[node] = (start, end)


class Positions:
    """node -> CodeRange (as PositionProvider gives), for any node of the module."""

    def __init__(self, module: cst.Module):
        state = _OffsetState(default_indent=module.default_indent, default_newline=module.default_newline)
        module._codegen(state)
        self._ranges = state.ranges
        self._tokens = state.tokens
        self._cache: dict[int, CodePosition] = {}
        self._known: list[int] = []  # sorted keys of _cache

    def get(self, node: cst.CSTNode, default=None):
        r = self._ranges.get(node)
        if r is None:
            return default
        return CodeRange(self._at(r[0]), self._at(r[1]))

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        found = self.get(node)
        if found is None:
            raise KeyError(node)
        return found

    def _at(self, index: int) -> CodePosition:
        """Line (1-based) and column (0-based) where token `index` starts."""
        pos = self._cache.get(index)
        if pos is None:
            # Count from the nearest index already known below this one.
            k = bisect.bisect_left(self._known, index)
            base = self._known[k - 1] if k else 0
            line, column = (self._cache[base].line, self._cache[base].column) if k else (1, 0)
            for tok in self._tokens[base:index]:
                if "\n" in tok or "\r" in tok:
                    parts = tok.replace("\r\n", "\n").replace("\r", "\n").split("\n")
                    line += len(parts) - 1
                    column = len(parts[-1])
                else:
                    column += len(tok)
            pos = self._cache[index] = CodePosition(line, column)
            self._known.insert(k, index)
        return pos


class ModuleMeta:
    """The lazily computed metadata of one module."""

    def __init__(self, module: cst.Module):
        self.module = module
        self._positions: Optional[Positions] = None
        self._wrapper: Optional[MetadataWrapper] = None
        self._resolved: dict = {}
        self._function_scopes: dict = {}

    @property
    def positions(self) -> Positions:
        if self._positions is None:
            self._positions = Positions(self.module)
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
