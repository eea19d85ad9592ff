"""KM5xx: bugs in Keras code (one rule per file, named after the rule).

Also what the rules' screens (kmigrate.rule.Rule.screen) share: questions about a file's `ast`
tree and CodeFacts, cheap next to running a rule (a walk of every node only after the cheap tests
left a doubt, once per file).
"""
from __future__ import annotations

import ast
import re
import weakref


def spelled(facts, names) -> bool:
    """One of the identifiers `names` ends a name, an attribute or an import path of the code.
    The last word of any Keras name kmigrate.names resolves (`layers.Dense` for `L.Dense`, or
    for `D` from `from keras.layers import Dense as D`) is spelled so somewhere: a rule that
    needs a layer or model of one of these kinds cannot report on code that spells none."""
    return not (facts.names.isdisjoint(names) and facts.attrs.isdisjoint(names)) or any(
        m.rpartition(".")[2] in names for m in facts.imports)


def in_words(facts, pattern: "re.Pattern[str]") -> bool:
    """`pattern` matches an identifier or a (decoded) string literal of the code."""
    return pattern.search(facts.words) is not None


# Each live tree's statements; an entry goes with its tree (no tree is kept alive here).
_STATEMENTS: "weakref.WeakKeyDictionary[ast.AST, list]" = weakref.WeakKeyDictionary()


def statements(tree: ast.AST) -> list:
    """Every statement of an `ast` module, at any depth (in classes, functions, loops...), without
    reading any expression: a small part of a walk of every node. Kept while the tree lives
    (several screens ask about the same file)."""
    found = _STATEMENTS.get(tree)
    if found is None:
        found = _STATEMENTS[tree] = statements_in(getattr(tree, "body", []))
    return found


_NODES: "weakref.WeakKeyDictionary[ast.AST, tuple]" = weakref.WeakKeyDictionary()
CHILD_FIELDS: dict = {}  # node type -> its fields that may hold nodes (not `ctx`, `op`): see child_fields


def child_fields(kind: type) -> tuple:
    """The fields of an `ast` node type worth walking into (CHILD_FIELDS, filled on first use)."""
    found = CHILD_FIELDS[kind] = tuple(f for f in kind._fields if f not in ("ctx", "op"))
    return found


def push_children(stack: list, node: ast.AST, kind: type) -> None:
    """Put the child nodes of `node` (of type `kind`) on `stack`: ast.iter_child_nodes, faster."""
    for field in CHILD_FIELDS.get(kind) or child_fields(kind):
        v = getattr(node, field, None)
        if type(v) is list:
            stack.extend(x for x in v if isinstance(x, ast.AST))
        elif isinstance(v, ast.AST):
            stack.append(v)


def calls_and_attributes(tree: ast.AST) -> tuple[list, list]:
    """Every `ast.Call` and every `ast.Attribute` of the tree, from one walk (faster than
    `ast.walk`), kept while the tree lives: for the screens that need to look at call sites or
    attribute chains, after the cheap tests have left them in doubt."""
    found = _NODES.get(tree)
    if found is not None:
        return found
    calls: list = []
    attributes: list = []
    stack: list = [tree]
    Call, Attribute = ast.Call, ast.Attribute
    while stack:
        n = stack.pop()
        kind = type(n)
        if kind is Call:
            calls.append(n)
        elif kind is Attribute:
            attributes.append(n)
        push_children(stack, n, kind)
    found = _NODES[tree] = (calls, attributes)
    return found


def bound_to(tree: ast.AST) -> dict:
    """What kmigrate.names.Bindings may resolve a name to, from the statements: name -> the paths
    its imports give it, and None for an assignment of a name or an attribute chain (an alias);
    a name bound in no such way resolves to itself."""
    out: dict = {}
    for s in statements(tree):
        kind = type(s)
        if kind is ast.Import:
            for a in s.names:
                head = a.name.split(".")[0]
                out.setdefault(a.asname or head, set()).add(a.name if a.asname else head)
        elif kind is ast.ImportFrom:
            module = "." * s.level + (s.module or "")
            for a in s.names:
                out.setdefault(a.asname or a.name, set()).add(
                    f"{module}.{a.name}" if module and not module.endswith(".") else module + a.name)
        elif (kind is ast.Assign or kind is ast.AnnAssign) and type(s.value) in (ast.Name, ast.Attribute):
            for t in (s.targets if kind is ast.Assign else [s.target]):
                if type(t) is ast.Name:
                    out.setdefault(t.id, set()).add(None)
    return out


def statements_in(body: list, not_into=()) -> list:
    """The statements of a block and of every block inside it (nested defs and classes too,
    unless their types are in `not_into`: those are listed, not entered)."""
    out: list = []
    todo = [body]
    while todo:
        for s in todo.pop():
            out.append(s)
            if type(s) in not_into:
                continue
            for field in ("body", "orelse", "finalbody"):
                block = getattr(s, field, None)
                if type(block) is list:
                    todo.append(block)
            for part in getattr(s, "handlers", ()) or getattr(s, "cases", ()):
                todo.append(part.body)
    return out


# ----------------------------------------------------------------------------- KM520..KM523
# The shape rules (rules/analysis/shape_program.py) report contradictions between known shapes;
# a shape is known only from an `Input`/`InputLayer`, an input-shape keyword of a layer, the
# `build(shape)` of a Sequential model, or arrays (numpy, Keras' `load_data`, `pad_sequences`)
# given to `fit` and the like.

_SHAPE_KEYWORDS = frozenset({"input_shape", "batch_input_shape", "input_dim", "input_length"})
FEEDS = frozenset({"fit", "evaluate", "train_on_batch", "test_on_batch", "predict", "predict_on_batch"})
TRAINS = FEEDS - {"predict", "predict_on_batch"}  # the methods given labels


def data_known(facts, methods=FEEDS) -> bool:
    """Arrays of known shape may reach one of the model `methods`."""
    return not facts.calls.isdisjoint(methods) and (
        facts.reaches("numpy") or spelled(facts, ("load_data", "pad_sequences")))


def shapes_known(facts) -> bool:
    """A tensor or an array of known shape may reach a model."""
    return (not facts.keywords.isdisjoint(_SHAPE_KEYWORDS) or spelled(facts, ("Input", "InputLayer"))
            or ("build" in facts.calls and spelled(facts, ("Sequential",))) or data_known(facts))
