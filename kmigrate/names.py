"""Qualified-name resolution: any alias of keras / tf.keras / tf.layers -> one canonical name.

Rules never compare source spellings. They ask `resolver.keras_name(node)` and get e.g.
"layers.Dense" for `Dense`, `keras.layers.Dense`, `tf.keras.layers.Dense`, `KL.Dense`
(`import keras.layers as KL`), `keras.layers.core.Dense`, `tensorflow.python.keras.layers.Dense`;
and `resolver.tf_layers_name(node)` gives "dense" for `tf.layers.dense`, `T.compat.v1.layers.dense`,
`tfl.dense` (`tfl = tf.layers`) or `from tensorflow.layers import dense`.
"""
from __future__ import annotations

import builtins
import re
import weakref
from collections import Counter
from typing import Optional

import libcst as cst

from .walk import concrete_types

# Roots under which the Keras API lives, longest first.
KERAS_ROOTS = (
    "tensorflow.compat.v1.keras.",
    "tensorflow.compat.v2.keras.",
    "tensorflow.python.keras.",
    "tensorflow.keras.",
    "tf_keras.",
    "keras.",
)
TF_LAYERS_ROOTS = (
    "tensorflow.compat.v1.layers.",
    "tensorflow.python.layers.",
    "tensorflow.layers.",
)

# TF1 contrib layer libraries (`slim = tf.contrib.slim` is followed like `tfl = tf.layers`).
TF_CONTRIB_LAYERS_ROOTS = (
    "tensorflow.contrib.layers.",
    "tensorflow.contrib.slim.",
)

# Keras 1/2 sub-modules whose names now live one level up (keras.layers.core.Dense -> layers.Dense).
_FLATTENED = (
    "layers.core.", "layers.convolutional.", "layers.convolutional_recurrent.", "layers.recurrent.",
    "layers.normalization.", "layers.embeddings.", "layers.pooling.", "layers.advanced_activations.",
    "layers.noise.", "layers.merge.", "layers.wrappers.", "layers.local.", "layers.cudnn_recurrent.",
    "layers.normalization_v2.", "layers.recurrent_v2.", "layers.dense_attention.",
)
_MOVED = {
    "engine.topology.": "models.",
    "engine.training.": "models.",
    "engine.sequential.": "models.",
    "engine.input_layer.": "layers.",
    "engine.base_layer.": "layers.",
    "engine.": "models.",
    "objectives.": "losses.",
    "initializations.": "initializers.",
    "utils.np_utils.": "utils.",
}


def canonical_keras(qname: str) -> Optional[str]:
    """'tensorflow.keras.layers.core.Dense' -> 'layers.Dense'; None if not under a Keras root."""
    for root in KERAS_ROOTS:
        if qname.startswith(root):
            rest = qname[len(root):]
            break
    else:
        if qname in ("keras", "tensorflow.keras", "tf_keras", "tensorflow.python.keras"):
            return ""
        return None
    for old in _FLATTENED:
        if rest.startswith(old):
            return "layers." + rest[len(old):]
    for old, new in _MOVED.items():
        if rest.startswith(old):
            return new + rest[len(old):]
    return rest


def canonical_tf_layers(qname: str) -> Optional[str]:
    for root in TF_LAYERS_ROOTS:
        if qname.startswith(root):
            return qname[len(root):]
    return None


class NameResolver:
    """Qualified names from the module's imports, following simple aliases (`tfl = tf.layers`).

    `qualified_names(node)` answers like LibCST's QualifiedNameProvider for what the rules ask
    (imported names, attribute chains on them, builtins, local names), from one walk over the
    module's statements (module.Bindings) instead of a full scope analysis, which costs several
    times the parse. Bindings are module-wide, not per scope: a name imported anywhere in the
    file resolves to its import everywhere, also where a function parameter shadows it.
    """

    METADATA: tuple = ()  # no LibCST metadata needed (kept for rules that list it)

    def __init__(self, visitor):
        # `visitor`: anything with a `.module` (a rule gets its module when the pass starts).
        # Held weakly: a visitor holds its resolver, and that cycle would keep the tree alive
        # until a garbage collection. The module last seen is held: a resolver that outlives
        # its visitor (the shared analyses of a module) still reads it.
        self._v = weakref.ref(visitor)
        self._module = visitor.module
        self._bindings: Optional[Bindings] = None  # of self._module (asked of every name: kept)

    @property
    def bindings(self) -> "Bindings":
        visitor = self._v()
        if visitor is not None:
            self._module = visitor.module
        b = self._bindings
        if b is None or b.module is not self._module:
            b = self._bindings = Bindings.of(self._module)
        return b

    def qualified_names(self, node: cst.CSTNode, under: Optional[str] = None) -> set[str]:
        """With `under` (a package name), nothing when no name of the node can be under it, from
        the head of its dotted name, checked once per module (the TF1 rules ask of every name);
        else every name, as without it."""
        parts = _dotted(node)
        if parts is None or (under is not None and not self.bindings.head_under(parts[0], under)):
            return set()
        return self.bindings.resolve(parts)

    def import_name(self, name: str) -> Optional[str]:
        """The qualified name of a bare name bound only by one import, else None."""
        b = self.bindings
        imported = b.imports.get(name)
        if imported is None or len(imported) != 1 or name in b.others:
            return None
        return next(iter(imported))

    def keras_name(self, node: cst.CSTNode) -> Optional[str]:
        """Canonical Keras path ('layers.Dense', 'backend.sum', 'Model') or None."""
        memo = self.bindings.keras_names  # many rules ask about the same call
        found = memo.get(node, _UNSET)
        if found is _UNSET:
            found = memo[node] = next(
                (c for c in map(canonical_keras, self.qualified_names(node)) if c is not None), None)
        return found

    def tf_layers_name(self, node: cst.CSTNode) -> Optional[str]:
        for q in self.qualified_names(node):
            c = canonical_tf_layers(q)
            if c is not None:
                return c
        return None


def _dotted(node: cst.CSTNode) -> Optional[list[str]]:
    """`a.b.c` -> ['a', 'b', 'c'] (through calls, subscripts, decorators, as get_full_name_for_node)."""
    tail: list[str] = []
    while True:
        kind = type(node)
        if kind is cst.Name:
            tail.append(node.value)
            tail.reverse()
            return tail
        if kind is cst.Attribute:
            tail.append(node.attr.value)
            node = node.value
        elif kind is cst.Call and not tail:
            node = node.func
        elif kind is cst.Subscript and not tail:
            node = node.value
        elif (kind is cst.FunctionDef or kind is cst.ClassDef) and not tail:
            node = node.name
        elif kind is cst.Decorator and not tail:
            node = node.decorator
        else:
            return None


_ALIAS_ROOTS = tuple(r for r in (*KERAS_ROOTS, *TF_LAYERS_ROOTS, *TF_CONTRIB_LAYERS_ROOTS))
_BLOCKS = (cst.IndentedBlock, cst.SimpleStatementSuite, cst.Else, cst.ExceptHandler, cst.ExceptStarHandler,
           cst.Finally, cst.MatchCase)
_STATEMENT_TYPES = concrete_types(cst.BaseStatement, cst.BaseSmallStatement, *_BLOCKS)


class Bindings:
    """Every name a module binds: by imports (-> qualified names) and otherwise (-> values).

    Built from the statements only (imports, assignments, defs, classes, parameters, `for`,
    `with ... as`, `except ... as`); names bound inside expressions (comprehensions, `:=`,
    lambdas) do not count. Cached per module object (the last one asked for).
    """

    _last: Optional[tuple] = None  # (module, Bindings)

    @classmethod
    def of(cls, module: cst.Module) -> "Bindings":
        last = cls._last
        if last is None or last[0] is not module:
            last = cls._last = (module, cls(module))
        return last[1]

    def __init__(self, module: cst.Module):
        self.module = module
        self._name_counts: Optional[Counter] = None
        self.keras_names: dict = {}  # node -> NameResolver.keras_name's answer
        self.tf_paths: dict = {}  # id(node) -> TF1Rule.tf_path's answer (the module holds the nodes)
        self._heads: dict = {}  # (name, package) -> head_under's answer
        self.imports: dict[str, set[str]] = {}
        self.import_nodes: dict[str, list[cst.CSTNode]] = {}  # name -> the Import/ImportFrom binding it
        # Other bindings: the value of `name = value` (one Name target), None for any other kind.
        self.others: dict[str, list[Optional[cst.BaseExpression]]] = {}
        for stmt in _iter_statements(module):
            self._add(stmt)

    @property
    def name_counts(self) -> "Counter[str]":
        """How often each name occurs in the code outside import statements (reads and writes;
        not `x.name` attributes or `f(name=...)` keywords), plus the words of the strings in
        `__all__` and in annotations (as LibCST's unused-import check). Computed on first use."""
        if self._name_counts is None:
            self._name_counts = _name_counts(self.module)
        return self._name_counts

    def head_under(self, head: str, root: str) -> bool:
        """Can a dotted name starting with `head` resolve under the package `root`?"""
        key = (head, root)
        found = self._heads.get(key)
        if found is None:
            found = self._heads[key] = any(q == root or q.startswith(root + ".") for q in self.resolve([head]))
        return found

    def heads_under(self, root: str) -> frozenset:
        """The names whose dotted references can resolve under the package `root` (a name
        outside it is answered by one set lookup: the TF1 rules ask of every name)."""
        key = ("*", root)
        found = self._heads.get(key)
        if found is None:
            found = self._heads[key] = frozenset(
                h for h in (*self.imports, *self.others) if self.head_under(h, root))
        return found

    def reads(self, name: str) -> int:
        """Occurrences of `name` beyond its bindings by statements (an upper bound on its reads)."""
        return self.name_counts[name] - len(self.others.get(name, ()))

    def _import(self, name: str, qualified: str, stmt: cst.CSTNode) -> None:
        self.imports.setdefault(name, set()).add(qualified)
        nodes = self.import_nodes.setdefault(name, [])
        if stmt not in nodes:
            nodes.append(stmt)

    def _other(self, name: str, value: Optional[cst.BaseExpression] = None) -> None:
        self.others.setdefault(name, []).append(value)

    def _targets(self, target: cst.CSTNode) -> None:
        if isinstance(target, cst.Name):
            self._other(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._targets(el.value)
        elif isinstance(target, cst.StarredElement):
            self._targets(target.value)

    def _add(self, stmt: cst.CSTNode) -> None:
        kind = type(stmt)  # exact types: isinstance on LibCST's classes goes through ABCMeta (slow)
        if kind is cst.Import:
            for a in stmt.names:
                full = _code(a.name)
                if a.asname is not None and isinstance(a.asname.name, cst.Name):
                    self._import(a.asname.name.value, full, stmt)
                else:
                    head = full.split(".")[0]
                    self._import(head, head, stmt)
        elif kind is cst.ImportFrom:
            if isinstance(stmt.names, cst.ImportStar):
                return
            mod = "." * len(stmt.relative) + (_code(stmt.module) if stmt.module is not None else "")
            for a in stmt.names:
                name = _code(a.name)
                local = a.asname.name.value if a.asname is not None and isinstance(a.asname.name, cst.Name) else name
                full = f"{mod}.{name}" if mod and not mod.endswith(".") else f"{mod}{name}"
                self._import(local, full, stmt)
        elif kind is cst.Assign:
            for t in stmt.targets:
                if isinstance(t.target, cst.Name):
                    self._other(t.target.value, stmt.value)
                else:
                    self._targets(t.target)
        elif kind is cst.AnnAssign or kind is cst.AugAssign:
            value = stmt.value if kind is cst.AnnAssign else None
            if isinstance(stmt.target, cst.Name):
                self._other(stmt.target.value, value)
        elif kind is cst.FunctionDef or kind is cst.ClassDef:
            self._other(stmt.name.value)
            if kind is cst.FunctionDef:
                p = stmt.params
                for param in (*p.posonly_params, *p.params, *p.kwonly_params):
                    self._other(param.name.value)
                for star in (p.star_arg, p.star_kwarg):
                    if isinstance(star, cst.Param):
                        self._other(star.name.value)
        elif kind is cst.For:
            self._targets(stmt.target)
        elif kind is cst.With:
            for item in stmt.items:
                if item.asname is not None:
                    self._targets(item.asname.name)
        elif kind is cst.ExceptHandler and stmt.name is not None:
            self._targets(stmt.name.name)

    def resolve(self, parts: list[str], depth: int = 0) -> set[str]:
        head, tail = parts[0], parts[1:]
        out: set[str] = set()
        for q in self.imports.get(head, ()):
            out.add(".".join([q, *tail]))
        others = self.others.get(head)
        if others:
            target = self._alias(head, others, depth)
            out.add(".".join([target, *tail]) if target else ".".join(parts))
        elif not out and head in _BUILTINS:
            out.add("builtins." + ".".join(parts))
        return out

    def _alias(self, head: str, values: list, depth: int) -> Optional[str]:
        """`tfl = tf.layers` (every binding of `tfl` is that): 'tensorflow.layers', else None."""
        if depth > 4 or head in self.imports:
            return None
        targets = set()
        for value in values:
            parts = _dotted(value) if isinstance(value, (cst.Name, cst.Attribute)) else None
            if parts is None or parts[0] == head:
                return None
            found = self.resolve(parts, depth + 1)
            if len(found) != 1:
                return None
            targets |= found
        if len(targets) != 1:
            return None
        target = next(iter(targets))
        return target if (target + ".").startswith(_ALIAS_ROOTS) else None


def _code(node: cst.CSTNode) -> str:
    parts = _dotted(node)
    return ".".join(parts) if parts else ""


def _iter_statements(module: cst.Module):
    """Every statement (compound and small) of the module, at any depth, in source order."""
    from .walk import children

    stack: list[cst.CSTNode] = list(reversed(module.body))
    while stack:
        n = stack.pop()
        yield n
        if type(n) is cst.SimpleStatementLine:
            stack.extend(reversed(n.body))
            continue
        stack.extend(reversed([k for k in children(n) if type(k) in _STATEMENT_TYPES]))


def _name_counts(module: cst.Module) -> Counter:
    from .walk import code_children

    counts: Counter = Counter()
    stack: list[tuple[cst.CSTNode, bool]] = [(module, False)]  # (node, inside __all__ or an annotation)
    while stack:
        n, names_in_strings = stack.pop()
        kind = type(n)
        if kind is cst.Import or kind is cst.ImportFrom:
            continue
        if kind is cst.Name:
            counts[n.value] += 1
        elif kind is cst.SimpleString:
            if names_in_strings:
                counts.update(_WORD.findall(n.value))
        elif kind is cst.Attribute:
            stack.append((n.value, names_in_strings))  # `x.layers` does not use a name `layers`
            continue
        elif kind is cst.Arg and n.keyword is not None:
            stack.append((n.value, names_in_strings))  # nor does `f(layers=1)`
            continue
        elif kind is cst.Annotation or _assigns_all(n):
            names_in_strings = True
        stack.extend((k, names_in_strings) for k in code_children(n))
    return counts


def _assigns_all(node: cst.CSTNode) -> bool:
    """`__all__ = [...]`, `__all__ += [...]`, `__all__: list = [...]`."""
    kind = type(node)
    if kind is cst.Assign:
        return any(type(t.target) is cst.Name and t.target.value == "__all__" for t in node.targets)
    if kind is cst.AugAssign or kind is cst.AnnAssign:
        return type(node.target) is cst.Name and node.target.value == "__all__"
    return False


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_UNSET = object()
_BUILTINS = frozenset(dir(builtins))


def keras_module(target: str, sub: str = "") -> str:
    """Dotted module of the Keras the code should end up on: ('tensorflow.keras', 'layers')."""
    base = "tensorflow.keras" if target == "tensorflow.keras" else "keras"
    return f"{base}.{sub}" if sub else base
