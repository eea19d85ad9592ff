"""Fast read-only traversal of LibCST trees.

`CSTNode.children` and `CSTNode.visit` go through `_visit_and_replace_children`, which builds a
new copy of every node it passes (dataclass init and validation): reading a tree that way costs
about as much as parsing it. The rules only read the tree, so here children are read straight
from the node's fields, in the order `_visit_and_replace_children` visits them (taken once per
node class from its source), which is source order. `children(n)` equals `n.children` (same
objects, same order: tests/engine/test_fast_tree_walk.py checks it on real code) at a fraction of the cost.
"""
from __future__ import annotations

import inspect
import linecache
import re
import sys
import typing
from typing import Optional, Callable, Iterator, Sequence

import libcst as cst

_FIELD = re.compile(r"""visit_(\w+)\(\s*self\s*,\s*["'](\w+)["']""")

# Whitespace and comment nodes: no rule visits them, and nothing else lives under them.
WHITESPACE = (
    cst.SimpleWhitespace, cst.ParenthesizedWhitespace, cst.TrailingWhitespace, cst.EmptyLine,
    cst.Newline, cst.Comment,
)


def child_fields(cls: type) -> tuple[str, ...]:
    """Field names holding children, in visiting order."""
    return tuple(name for _, name in _visits(cls))


def _visits(cls: type) -> list[tuple[str, str]]:
    """(how, field) in visiting order; how: required, optional, sentinel, sequence, body_sequence
    (the visit_* helper LibCST uses for it), or any (a field visited in more than one way)."""
    source = _source_of(cls._visit_and_replace_children)
    kinds: dict[str, set[str]] = {}
    for how, name in _FIELD.findall(source):
        kinds.setdefault(name, set()).add(how)
    # A field visited in two ways (ImportFrom.names: a sequence, or ImportStar) is "any".
    return [(next(iter(hows)) if len(hows) == 1 else "any", name) for name, hows in kinds.items()]


def _source_of(fn) -> str:
    """A method's source: its lines up to the next one indented no deeper than its `def`
    (inspect.getsource tokenizes the file to find the end: ten times slower, at start-up)."""
    code = getattr(fn, "__code__", None)
    lines = linecache.getlines(code.co_filename) if code is not None else []
    start = code.co_firstlineno - 1 if code is not None else -1
    if not 0 <= start < len(lines) or not lines[start].lstrip().startswith("def "):
        try:
            return inspect.getsource(fn)
        except (OSError, TypeError):
            return ""
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent
                                or lines[end].lstrip()[0] in ")]}"):  # the end of a signature on lines of its own
        end += 1
    return "".join(lines[start:end])


def _compile_children(cls: type, code_only: bool = False) -> Callable[[cst.CSTNode], list]:
    """A function listing the children of a `cls` node: straight-line code, one line per field.
    `code_only`: without whitespace and comment nodes (fields typed to hold only those are
    not read at all)."""
    visits = _visits(cls)
    if not visits:  # no source to read: LibCST's own (slow) way
        if code_only:
            return lambda node: [k for k in node.children if type(k) not in WHITESPACE_TYPES]
        return lambda node: list(node.children)
    skip = _whitespace_fields(cls) if code_only else frozenset()
    kinds = "CODE" if code_only else "NODES"
    lines = ["def children(node):", "    out = []"]
    for how, name in visits:
        if name in skip:
            continue
        if how == "required" and not code_only:
            lines.append(f"    out.append(node.{name})")
        else:  # a sequence, None (optional), MaybeSentinel (sentinel), or any of these
            lines.append(f"    v = node.{name}")
            if code_only:
                lines.append("    if type(v) is tuple or type(v) is list: out.extend([k for k in v if type(k) in CODE])")
            else:
                lines.append("    if type(v) is tuple or type(v) is list: out.extend(v)")
            lines.append(f"    elif type(v) in {kinds}: out.append(v)")
    lines.append("    return out")
    namespace: dict = {"NODES": _NODE_TYPES, "CODE": _NODE_TYPES - WHITESPACE_TYPES}
    exec("\n".join(lines), namespace)  # noqa: S102  (generated from LibCST's field names only)
    return namespace["children"]


def _instantiable(c: type) -> bool:
    """Not an abstract base, nor the first draft of a class that LibCST's add_slots replaced
    (it stays among the subclasses of the base, under the same name)."""
    return not inspect.isabstract(c) and getattr(sys.modules.get(c.__module__), c.__name__, None) is c


def _whitespace_fields(cls: type) -> frozenset:
    """Fields whose annotation admits only whitespace and comment nodes (or None, a sentinel)."""
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # an annotation that does not resolve: read every field
        return frozenset()

    def leaves(t) -> list:
        args = typing.get_args(t)
        return [x for a in args for x in leaves(a)] if typing.get_origin(t) is not None else [t]

    def only_whitespace(t) -> bool:
        if t is type(None) or (isinstance(t, type) and issubclass(t, cst.MaybeSentinel)):
            return True
        return isinstance(t, type) and issubclass(t, cst.CSTNode) and all(
            c in WHITESPACE_TYPES for c in _concrete(t) if _instantiable(c))

    return frozenset(name for _, name in _visits(cls) if name in hints
                     and all(only_whitespace(t) for t in leaves(hints[name])))


def _concrete(cls: type) -> set[type]:
    out = {cls}
    for sub in cls.__subclasses__():
        out |= _concrete(sub)
    return out


def concrete_types(*classes: type) -> frozenset:
    """The classes and all their subclasses, for `type(node) in ...`: `isinstance` against
    LibCST's classes goes through ABCMeta's Python-level check, several times slower."""
    return frozenset(t for c in classes for t in _concrete(c))


_NODE_TYPES = concrete_types(cst.CSTNode)
WHITESPACE_TYPES = frozenset(t for t in _NODE_TYPES if issubclass(t, WHITESPACE))


_CHILDREN: dict[type, Callable[[cst.CSTNode], list]] = {}


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """`node.children` without rebuilding the node."""
    return (_CHILDREN.get(type(node)) or children_function(type(node)))(node)


def children_function(kind: type) -> Callable[[cst.CSTNode], list]:
    """The function `children` uses for nodes of type `kind` (for loops that inline it)."""
    fn = _CHILDREN.get(kind)
    if fn is None:
        fn = _CHILDREN[kind] = _compile_children(kind)
    return fn


_CODE_CHILDREN: dict[type, Callable[[cst.CSTNode], list]] = {}


def code_children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """`children(node)` without whitespace and comment nodes."""
    return (_CODE_CHILDREN.get(type(node)) or code_children_function(type(node)))(node)


def code_children_function(kind: type) -> Callable[[cst.CSTNode], list]:
    """The function `code_children` uses for nodes of type `kind` (for loops that inline it)."""
    fn = _CODE_CHILDREN.get(kind)
    if fn is None:
        fn = _CODE_CHILDREN[kind] = _compile_children(kind, code_only=True)
    return fn


def walk(node: cst.CSTNode, *, whitespace: bool = False) -> Iterator[cst.CSTNode]:
    """`node` and every node under it, depth first in source order (whitespace nodes skipped)."""
    get = children if whitespace else code_children
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(get(n)))


Visit = Callable[[cst.CSTNode], object]

_AT: list = [None, None]  # the top-level and the innermost statement `traverse` is in
# Statements of blocks (compound statements and simple statement lines); an elif is an If too.
_STATEMENTS = concrete_types(cst.BaseStatement)


def current_statements() -> tuple[Optional[cst.CSTNode], Optional[cst.CSTNode]]:
    """The top-level and the innermost statement the running (or last) `traverse` is in:
    hints of where a rule's report is (kmigrate.meta.Positions), not facts."""
    return _AT[0], _AT[1]


def traverse(module: cst.Module, visitors: Sequence[cst.BatchableCSTVisitor]) -> None:
    """What `module.visit_batched(visitors)` does, without rebuilding the tree.

    Each `visit_<Node>` of every visitor runs on entering a node and each `leave_<Node>` on
    leaving it, in visitor order, depth first in source order; as in LibCST's batched visits,
    children are always visited. Whitespace subtrees are skipped unless a visitor asks for them.
    """
    enter: dict[str, list[Visit]] = {}
    leave: dict[str, list[Visit]] = {}
    for v in visitors:
        for name, fn in v.get_visitors().items():
            kind, _, node_type = name.partition("_")
            if "_" in node_type:  # visit_<Node>_<attr>: not used by kmigrate's rules
                raise NotImplementedError(f"{type(v).__name__}.{name}: attribute visitors are not supported")
            (enter if kind == "visit" else leave).setdefault(node_type, []).append(fn)
    skip_ws = not any(c.__name__ in enter or c.__name__ in leave for c in WHITESPACE)
    empty: list[Visit] = []
    by_type: dict[type, tuple[list[Visit], list[Visit]]] = {}  # node type -> (visit_, leave_ functions)
    # children() or code_children(), inlined: this loop runs once per node
    children_of, compile_for = (_CODE_CHILDREN.get, code_children_function) if skip_ws \
        else (_CHILDREN.get, children_function)

    # Iterative (deeply nested code would exhaust Python's stack): an entry is a node to enter,
    # or (node, leave functions) to leave; none is pushed for a type no visitor leaves. The
    # statements it is in are kept in _AT (where the rules' reports most likely are): entering a
    # statement pushes (the enclosing statement, None), which puts it back once the statement is left.
    stack: list = [module]
    at, statements = _AT, _STATEMENTS
    at[0] = at[1] = None
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is tuple:
            node, fns = item
            if fns is None:
                at[1] = node
                continue
            for fn in fns:
                fn(node)
            continue
        if kind in statements:
            stack.append((at[1], None))
            if at[1] is None:
                at[0] = item
            at[1] = item
        visits = by_type.get(kind)
        if visits is None:
            visits = by_type[kind] = (enter.get(kind.__name__, empty), leave.get(kind.__name__, empty))
        for fn in visits[0]:
            fn(item)
        if visits[1]:
            stack.append((item, visits[1]))
        stack.extend(reversed((children_of(kind) or compile_for(kind))(item)))
