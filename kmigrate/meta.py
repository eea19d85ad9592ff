"""Per-module metadata, computed on first use only.

LibCST's MetadataWrapper computes every declared provider before the first node is visited,
and its providers are costly: positions about 2x the parse, scopes about 3.5x, qualified names
on top of scopes another 3x. Most files need none of it (no finding, no alias to follow), so
here each is computed the first time a rule asks, over the module's own nodes (the wrapper is
built with unsafe_skip_copy, so the nodes rules hold are the ones it indexes).

Positions use a cheaper codegen than PositionProvider's: it records token indices per node
and turns only the requested ones into lines and columns, and generates only the innermost
statements that hold a requested node (same results: tests/engine/test_fast_tree_walk.py).
"""
from __future__ import annotations

import ast
import bisect
import weakref
from dataclasses import dataclass, field
from typing import Callable, Optional

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, QualifiedNameProvider, ScopeProvider

from .source import compile_quietly, line_starts
from .codegen import code_of
from .walk import code_children


@dataclass
class _OffsetState(CodegenState):
    """Codegen that remembers, per node, the token indices where it starts and ends."""

    ranges: dict = field(default_factory=dict)  # id(node) -> (first token, end token); syntactic range
    _stack: list = field(default_factory=list)
    stop_at: Optional[cst.CSTNode] = None  # generate up to this node (a compound statement's header)

    def before_codegen(self, node: cst.CSTNode) -> None:
        if node is self.stop_at:
            raise _HeaderDone
        self._stack.append(len(self.tokens))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._stack.pop()
        key = id(node)  # ids: a node's own hash is computed in Python
        if key not in self.ranges:  # a syntactic range recorded inside wins (as in PositionProvider)
            self.ranges[key] = (start, len(self.tokens))

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)

    def pop_trailing_newline(self) -> None:
        pass  # the tokens only count positions; PositionProvider counts that newline too

    def record_syntactic_position(self, node: cst.CSTNode, *, start_node: Optional[cst.CSTNode] = None,
                                  end_node: Optional[cst.CSTNode] = None) -> "_Syntactic":
        return _Syntactic(self, node, start_node, end_node)


class _HeaderDone(Exception):
    """Codegen reached the body of the compound statement whose header was asked for."""


class _Syntactic:
    """The context of `record_syntactic_position`: a class, cheaper than a generator's."""

    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state: _OffsetState, node, start_node, end_node):
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start = len(self.state.tokens)

    def __exit__(self, kind, *exc) -> bool:
        if kind is not None:  # generation stopped inside: the node's end was not reached
            return False
        ranges = self.state.ranges
        start = self.start if self.start_node is None else ranges[id(self.start_node)][0]
        end = len(self.state.tokens) if self.end_node is None else ranges[id(self.end_node)][1]
        ranges[id(self.node)] = (start, end)
        return False


class _Segment:
    """The codegen tokens of the module, or of one statement starting at `line` (column 0)."""

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

    Given the module's text, only the statements that hold an asked-for node are generated,
    the innermost one in a block (a method, not its class; a line of a function, not the whole
    function): each starts at a line the `ast` tree gives (its first token's line, minus its
    leading blank and comment lines) and is generated with the indentation of its blocks,
    then checked against the text (the generated code must be the text from that line to the
    next statement of the block). Anything else (the module node, its header and footer,
    whitespace and comment nodes, a check that fails) generates the whole module once.
    """

    def __init__(self, module: cst.Module, text: Optional[str] = None, tree: Optional[ast.Module] = None,
                 parents: Optional[Callable[[], Optional[dict]]] = None):
        self.module = module
        self._text = text
        self._tree = tree
        self._parents_of = parents  # the module's parent map, if some walk already made one
        self._parents: Optional[dict] = None
        self._ranges: dict = {}  # node -> (segment, first token, end token)
        self._whole = text is None
        self._layout: Optional[dict] = None  # statement -> _Place, for every statement in a block
        self._owners: Optional[dict] = None  # id(code node) -> innermost statement holding it
        self._statement_ids: Optional[set] = None
        self._small: Optional[dict] = None  # small statement -> its line (statement)
        self._hinted: dict = {}  # id -> owner, within the top-level statements of hints (`_mapped`)
        self._mapped: set = set()
        self._own_mapped: set = set()  # ids of statements whose own nodes are in _hinted
        self._offsets: list[int] = []  # text offset of each line start
        self._done: dict = {}  # statement -> True: generated, False: its header only
        if self._whole:
            self._generate_whole()

    def get(self, node: cst.CSTNode, default=None, hint: Optional[cst.CSTNode] = None,
            statement: Optional[cst.CSTNode] = None):
        """`hint`: a top-level statement that likely holds `node`; `statement`: the innermost
        statement that likely holds it (looked in first, then `hint`)."""
        r = self._ranges.get(id(node))
        if r is None:
            if self._whole or not self._load(node, hint, statement):
                return default
            r = self._ranges.get(id(node))
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
        if self._whole or self._layout is None:
            return None
        owner = self._owner(node)
        return None if owner is None else self._layout[owner].top

    def _owner(self, node: cst.CSTNode, hint: Optional[cst.CSTNode] = None,
               statement: Optional[cst.CSTNode] = None) -> Optional[cst.CSTNode]:
        """The innermost statement holding `node` (`statement`, then `hint`, a top-level
        statement: where to look first)."""
        if self._owners is not None:
            return self._owners.get(id(node))
        layout, parents = self._layout, self._parents
        if parents is None:
            # No parent map: a statement, or a small statement of a line (an import: the
            # findings of Keras 3 code), is found without the walk that maps every node.
            if node in layout:
                return node
            if self._small is None:
                self._small = {s: line for line in layout if type(line) is cst.SimpleStatementLine for s in line.body}
            owner = self._small.get(node)
            if owner is not None:
                return owner
            owner = self._hinted.get(id(node))
            if owner is not None:
                return owner
            if statement is not None and statement in layout and id(statement) not in self._own_mapped:
                # the statement the rule was visiting: its own nodes (not its blocks' statements)
                self._own_mapped.add(id(statement))
                self._map_own(statement)
                owner = self._hinted.get(id(node))
                if owner is not None:
                    return owner
            if hint is not None and hint in layout and hint not in self._mapped:
                self._mapped.add(hint)  # the top-level statement the rule was in: mapped alone first
                self._map_owners([hint], self._hinted)
            owner = self._hinted.get(id(node))
            if owner is not None:
                return owner
            self._map_owners()
            return self._owners.get(id(node))
        while node is not None and node not in layout:
            node = parents.get(node)
        return node

    def block_statement_span(self, stmt: cst.CSTNode) -> Optional[tuple[int, Optional[int]]]:
        """(start, end) text offsets of a statement of a block, its leading blank and comment
        lines included, up to the next statement of its block; the end is None for the last
        compound statement of a block (its blocks' footers decide where it ends). None: unknown."""
        if self._text is None or (self._layout is None and not self._map()):
            return None
        place = self._layout.get(stmt)
        offsets = self._offsets
        if place is None or not 0 < place.line <= len(offsets):
            return None
        start = offsets[place.line - 1]
        if place.next_line is not None:
            return (start, offsets[place.next_line - 1]) if place.line < place.next_line <= len(offsets) else None
        if place.end_line is not None:  # the last of its block, a simple line: up to its own newline
            return (start, offsets[place.end_line]) if place.line <= place.end_line < len(offsets) else None
        return start, None

    def statement_spans(self) -> Optional[list[tuple[int, int]]]:
        """(start, end) text offsets of each top-level statement, its leading blank and comment
        lines included, from the `ast` layout; None when that does not line up with the text."""
        module, text = self.module, self._text
        if text is None or not module.body or not module.has_trailing_newline:
            return None
        layout = self._layout if self._layout is not None else _layout(module, text, self._tree)
        if layout is None:
            return None
        offsets = self._offsets or line_starts(text)
        starts = []
        for stmt in module.body:
            line = layout[stmt].line
            if not (0 < line <= len(offsets) and _opens(stmt, text, offsets, line)):
                return None
            starts.append(offsets[line - 1])
        footer = "".join(code_of(line, module) for line in module.footer)
        ends = starts[1:] + [len(text) - len(footer)]
        header = "".join(code_of(line, module) for line in module.header)
        if text[:starts[0]] != header or not text.endswith(footer) or any(a >= b for a, b in zip(starts, ends)):
            return None
        return list(zip(starts, ends))

    def _generate_whole(self) -> None:
        self._whole = True
        state = _OffsetState(default_indent=self.module.default_indent, default_newline=self.module.default_newline)
        self.module._codegen(state)
        seg = _Segment(state.tokens)
        self._ranges = {n: (seg, a, b) for n, (a, b) in state.ranges.items()}

    def _load(self, node: cst.CSTNode, hint: Optional[cst.CSTNode] = None,
              statement: Optional[cst.CSTNode] = None) -> bool:
        """Generate the statement holding `node` (or the whole module); False: nothing new to look at.
        A compound statement's header is generated first (findings in `with tf.Session() as s:`
        need no code of its body)."""
        if self._layout is None and not self._map():
            self._generate_whole()
            return True
        owner = self._owner(node, hint, statement)
        if owner is None:
            self._generate_whole()
            return True
        done = self._done.get(owner)
        if done:
            return False
        if done is None and type(owner) is not cst.SimpleStatementLine:
            self._done[owner] = False
            if not self._statement(owner, header=True):
                self._generate_whole()
                return True
            if id(node) in self._ranges:
                return True
        self._done[owner] = True
        if not self._statement(owner):
            self._generate_whole()
        return True

    def _map(self) -> bool:
        """Lay out the statements and map each code node to its innermost statement."""
        layout = _layout(self.module, self._text, self._tree)
        if layout is None:
            return False
        self._layout = layout
        self._offsets = line_starts(self._text)
        self._parents = self._parents_of() if self._parents_of is not None else None
        return True  # owners are found by going up the parent map, or on first need (_owner)

    def _statement_id_set(self) -> set:
        """The ids of the laid-out statements (blocks' statements: owners of code nodes)."""
        if self._statement_ids is None:
            self._statement_ids = {id(s) for s in self._layout}
        return self._statement_ids

    def _map_own(self, stmt: cst.CSTNode) -> None:
        """Map the code nodes of `stmt` that no statement of its blocks holds to `stmt`."""
        statements = self._statement_id_set()
        owners = self._hinted
        stack = [stmt]
        while stack:
            n = stack.pop()
            owners[id(n)] = stmt
            stack.extend(k for k in code_children(n) if id(k) not in statements)

    def _map_owners(self, tops=None, owners: Optional[dict] = None) -> None:
        """Map the code nodes of the top-level statements `tops` (all: self._owners) to their
        innermost statements. No rule reports whitespace; if one did, the whole module is generated."""
        statements = self._statement_id_set()
        if owners is None:
            self._owners = owners = {}
        stack = [(s, s) for s in (self.module.body if tops is None else tops)]
        while stack:
            n, owner = stack.pop()
            owners[id(n)] = owner
            for k in code_children(n):
                stack.append((k, k if id(k) in statements else owner))

    def _statement(self, stmt: cst.CSTNode, header: bool = False) -> bool:
        """Generate `stmt` (`header`: up to its body) where the layout places it, and check the
        code against the text."""
        place = self._layout[stmt]
        state = _OffsetState(default_indent=self.module.default_indent, default_newline=self.module.default_newline)
        state.indent_tokens = list(place.indents)
        body = getattr(stmt, "body", None) if header else None
        if body is not None:
            state.stop_at = body
            try:
                stmt._codegen(state)
            except _HeaderDone:
                pass
            else:
                return False  # no body reached: not the statement the layout says
        else:
            stmt._codegen(state)
        code = "".join(state.tokens)
        text, offsets = self._text, self._offsets
        if not 0 < place.line <= len(offsets):
            return False
        at = offsets[place.line - 1]
        if body is not None:
            if not text.startswith(code, at):
                return False
        elif place.next_line is not None:
            if not 0 < place.next_line <= len(offsets) or text[at:offsets[place.next_line - 1]] != code:
                return False
        elif not text.startswith(code, at):
            # The module's last newline may be missing (LibCST drops it from the text only).
            last = state.tokens[-1] if state.tokens else ""
            if self.module.has_trailing_newline or last not in ("\n", "\r\n", "\r") or text[at:] != code[:-len(last)]:
                return False
        seg = _Segment(state.tokens, place.line)
        for n, (a, b) in state.ranges.items():
            self._ranges[n] = (seg, a, b)
        return True


def _opens(stmt: cst.CSTNode, text: str, offsets: list[int], line: int) -> bool:
    """Whether `stmt`'s leading lines (blank, or the same comments) start at `line` and code follows."""

    def at(k: int) -> str:
        return text[offsets[k - 1]:offsets[k] if k < len(offsets) else len(text)].strip()

    for i, empty in enumerate(stmt.leading_lines):
        if line + i > len(offsets) or at(line + i) != ("" if empty.comment is None else empty.comment.value.strip()):
            return False
    first = line + len(stmt.leading_lines)
    return first <= len(offsets) and at(first) != "" and not at(first).startswith("#")


@dataclass
class _Place:
    """Where a statement of a block starts, what indentation it is generated with."""

    line: int  # its first line, leading blank and comment lines included
    indents: tuple[str, ...]  # the indentation of each enclosing block
    top: int  # index of its top-level statement in module.body
    next_line: Optional[int] = None  # the next statement of the same block, if any
    end_line: Optional[int] = None  # a simple statement line's last line (its code and newline)


def _layout(module: cst.Module, text: str, tree: Optional[ast.Module]) -> Optional[dict]:
    """statement -> _Place for every statement of every block (module body included), from
    the `ast` tree of `text`; None when the two trees do not line up."""
    if tree is None:
        try:
            tree = compile_quietly(text, "<kmigrate>", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
    out: dict = {}
    try:
        ok = _lay_block(module.body, tree.body, (), None, module.default_indent, out)
    except (AttributeError, IndexError, TypeError):  # the trees differ: the whole module is generated
        return None
    return out if ok else None


def _lay_block(stmts, body: list, indents: tuple, top: Optional[int], default_indent: str, out: dict) -> bool:
    k = 0
    previous: Optional[_Place] = None
    for i, stmt in enumerate(stmts):
        if k >= len(body):
            return False
        first = body[k]
        here = i if top is None else top
        end = None
        if type(stmt) is cst.SimpleStatementLine:
            k += len(stmt.body)
            line = first.lineno
            end = body[k - 1].end_lineno if k <= len(body) else None
        else:
            k += 1
            line = first.lineno
            decorators = getattr(stmt, "decorators", ())
            if decorators:
                if not getattr(first, "decorator_list", None):
                    return False
                line = first.decorator_list[0].lineno - len(decorators[0].leading_lines)
            # A match statement indents its cases, then each case body is a block of its own.
            outer = indents if type(stmt) is not cst.Match else indents + (
                default_indent if stmt.indent is None else stmt.indent,)
            for block, inner in _blocks(stmt, first):
                if type(block) is cst.IndentedBlock:
                    indent = default_indent if block.indent is None else block.indent
                    if not _lay_block(block.body, inner, outer + (indent,), here, default_indent, out):
                        return False
        place = out[stmt] = _Place(line - len(stmt.leading_lines), indents, here, end_line=end)
        if previous is not None:
            previous.next_line = place.line
        previous = place
    return k == len(body)


def _blocks(stmt: cst.CSTNode, node: ast.AST):
    """(LibCST block, the `ast` statements in it) of a compound statement, elif chains followed."""
    kind = type(stmt)
    if kind is cst.If:
        yield stmt.body, node.body
        orelse = stmt.orelse
        while type(orelse) is cst.If:  # elif: an If inside the If, not a statement of a block
            if len(node.orelse) != 1 or type(node.orelse[0]) is not ast.If:
                raise TypeError("elif")
            node = node.orelse[0]
            yield orelse.body, node.body
            orelse = orelse.orelse
        if orelse is not None:
            yield orelse.body, node.orelse
    elif kind in (cst.Try, cst.TryStar):
        yield stmt.body, node.body
        if len(stmt.handlers) != len(node.handlers):
            raise TypeError("handlers")
        for h, nh in zip(stmt.handlers, node.handlers):
            yield h.body, nh.body
        if stmt.orelse is not None:
            yield stmt.orelse.body, node.orelse
        if stmt.finalbody is not None:
            yield stmt.finalbody.body, node.finalbody
    elif kind is cst.Match:
        if len(stmt.cases) != len(node.cases):
            raise TypeError("cases")
        for c, nc in zip(stmt.cases, node.cases):
            yield c.body, nc.body
    else:  # def, class, for, while, with
        yield stmt.body, node.body
        orelse = getattr(stmt, "orelse", None)
        if orelse is not None:
            yield orelse.body, node.orelse


class ModuleMeta:
    """The lazily computed metadata of one module."""

    def __init__(self, module: cst.Module, text: Optional[str] = None, tree: Optional[ast.Module] = None,
                 function_scopes: Optional[dict] = None):
        self.module = module
        self._text, self._tree = text, tree  # the module's text and `ast` tree, when known
        self._positions: Optional[Positions] = None
        # child -> parent for every code node, when a rule's analysis walked the whole module
        # anyway (kmigrate.rules.analysis.keras_facts): positions and fixes then go up instead of walking.
        self.parents: Optional[dict] = None
        self._wrapper: Optional[MetadataWrapper] = None
        self._resolved: dict = {}
        # By function node; the engine passes one dict to every pass over a file: a function the
        # fixes left alone is the same object in the next pass (kmigrate.engine._reparse).
        self._function_scopes: dict = {} if function_scopes is None else function_scopes

    @property
    def positions(self) -> Positions:
        if self._positions is None:
            meta = weakref.ref(self)  # not `self`: a cycle would keep the module until a collection
            self._positions = Positions(self.module, self._text, self._tree, lambda: meta().parents)
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
