"""Fast read-only traversal of LibCST trees.

`CSTNode.children` and `CSTNode.visit` go through `_visit_and_replace_children`, which builds a
new copy of every node it passes (dataclass init and validation): reading a tree that way costs
about as much as parsing it. The rules only read the tree, so here children are read straight
from the node's fields, in the order `_visit_and_replace_children` visits them (taken once per
node class from its source), which is source order. `children(n)` equals `n.children` (same
objects, same order: tests/test_walk.py checks it on real code) at a fraction of the cost.
"""
from __future__ import annotations

import inspect
import re
from typing import Callable, Iterator, Sequence

import libcst as cst

_FIELD = re.compile(r"""visit_\w+\(\s*self\s*,\s*["'](\w+)["']""")
_FIELDS: dict[type, tuple[str, ...]] = {}

# Whitespace and comment nodes: no rule visits them, and nothing else lives under them.
WHITESPACE = (
    cst.SimpleWhitespace, cst.ParenthesizedWhitespace, cst.TrailingWhitespace, cst.EmptyLine,
    cst.Newline, cst.Comment,
)


def child_fields(cls: type) -> tuple[str, ...]:
    """Field names holding children, in visiting order."""
    fields = _FIELDS.get(cls)
    if fields is None:
        try:
            source = inspect.getsource(cls._visit_and_replace_children)
        except (OSError, TypeError):  # no source: fall back to LibCST's own (slow) way
            fields = ()
        else:
            fields = tuple(dict.fromkeys(_FIELD.findall(source)))
        _FIELDS[cls] = fields
    return fields


def _concrete(cls: type) -> set[type]:
    out = {cls}
    for sub in cls.__subclasses__():
        out |= _concrete(sub)
    return out


# `isinstance` against LibCST's classes goes through ABCMeta (slow); exact types are looked up.
_NODE_TYPES = frozenset(_concrete(cst.CSTNode))
_WHITESPACE_TYPES = frozenset(t for t in _NODE_TYPES if issubclass(t, WHITESPACE))


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """`node.children` without rebuilding the node."""
    fields = _FIELDS.get(type(node)) or child_fields(type(node))
    if not fields:
        return list(node.children)
    out: list[cst.CSTNode] = []
    nodes = _NODE_TYPES
    for name in fields:
        value = getattr(node, name)
        kind = type(value)
        if kind in nodes:
            out.append(value)
        elif kind is tuple or kind is list:
            out.extend(v for v in value if type(v) in nodes)
    return out


def code_children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """`children(node)` without whitespace and comment nodes."""
    ws = _WHITESPACE_TYPES
    return [k for k in children(node) if type(k) not in ws]


def walk(node: cst.CSTNode, *, whitespace: bool = False) -> Iterator[cst.CSTNode]:
    """`node` and every node under it, depth first in source order (whitespace nodes skipped)."""
    ws = _WHITESPACE_TYPES
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        kids = children(n)
        if not whitespace:
            kids = [k for k in kids if type(k) not in ws]
        stack.extend(reversed(kids))


Visit = Callable[[cst.CSTNode], object]


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
    ws = _WHITESPACE_TYPES

    # Iterative (deeply nested code would exhaust Python's stack): an entry is a node to enter,
    # or (node,) to leave.
    stack: list = [module]
    while stack:
        item = stack.pop()
        if type(item) is tuple:
            node = item[0]
            for fn in leave.get(type(node).__name__, empty):
                fn(node)
            continue
        name = type(item).__name__
        for fn in enter.get(name, empty):
            fn(item)
        stack.append((item,))
        kids = children(item)
        if skip_ws:
            kids = [k for k in kids if type(k) not in ws]
        stack.extend(reversed(kids))
