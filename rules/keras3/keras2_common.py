"""Helpers shared by the KM32x..KM34x rules (Keras 1/2 APIs that are gone): call surgery and a
small, file-local view of which names hold a Keras model and what its output width is."""
from __future__ import annotations

import weakref
from typing import Iterator, Optional, Sequence

import libcst as cst
from libcst.helpers import get_full_name_for_node

from kmigrate.rules.analysis.keras_facts import ModuleIndex, small_statements
from kmigrate.rules.analysis.literals import module_quote, string_literal as literal
from kmigrate.names import NameResolver
from kmigrate.rules.analysis.call_args import code_of, has_star, kwarg, make_kw, positional, walk, with_args  # noqa: F401
from kmigrate.rule import FileContext, Rule
from kmigrate.rules.imports.removed_keras_module import split_root
from kmigrate.rules.tables.keras2_api import MODEL_FACTORIES, SAME_WIDTH_LAYERS, UNITS_LAYERS


def method(call: cst.Call) -> Optional[str]:
    """`x.fit(...)` -> 'fit'."""
    return call.func.attr.value if isinstance(call.func, cst.Attribute) else None


def rename_kw(arg: cst.Arg, new: str) -> cst.Arg:
    return arg.with_changes(keyword=cst.Name(new))


def int_literal(node: cst.BaseExpression) -> Optional[int]:
    if isinstance(node, cst.Integer):
        try:
            return int(node.value, 0)
        except ValueError:
            return None
    return None


class KerasRule(Rule):
    """Base for the KM3xx rules of this family: name resolution and a lazy model index."""

    triggers = ("keras",)

    def __init__(self, context: FileContext):
        super().__init__(context)
        self._resolver: Optional[NameResolver] = None
        self._index: Optional[ModelIndex] = None

    @property
    def names(self) -> NameResolver:
        if self._resolver is None:
            self._resolver = NameResolver(self)
        return self._resolver

    def kname(self, node: cst.CSTNode) -> Optional[str]:
        return self.names.keras_name(node)

    def call_kname(self, call: cst.CSTNode) -> Optional[str]:
        """The Keras name a call is made to; None for anything that is not a call (`add(base)`)."""
        return self.kname(call.func) if isinstance(call, cst.Call) else None

    @property
    def models(self) -> "ModelIndex":
        if self._index is None:
            self._index = ModelIndex(self)
        return self._index


def is_layer(kname: Optional[str]) -> bool:
    """A Keras layer class (`layers.Dense`), not `Input`/`InputLayer`/`InputSpec`."""
    return bool(kname) and kname.startswith("layers.") and kname[7:8].isupper() and kname not in (
        "layers.Input", "layers.InputLayer", "layers.InputSpec")


class LayerKeywordRule(KerasRule):
    """A rule about a keyword of Keras layer constructors (`layers`: which ones; empty: any)."""

    # Fires only on names resolved to Keras: a file that never spells "keras" is not parsed.
    requires = ("keras",)
    layers: frozenset = frozenset()

    def layer_call(self, node: cst.Call) -> Optional[str]:
        k = self.call_kname(node)
        return k if is_layer(k) and (not self.layers or k in self.layers) else None


class ModelIndex:
    """Names bound exactly once in the file to a Keras model, and the model's visible output width."""

    def __init__(self, rule: KerasRule):
        self._rule = weakref.ref(rule)  # the rule holds its index: a cycle would keep the tree alive
        self.assigned: dict[str, list[cst.BaseExpression]] = {}
        self.adds: dict[str, list[cst.Call]] = {}
        # Bindings are statements (none is inside an expression); `.add()` calls come from the
        # module's shared index, in source order (the order the layers are added).
        for n in (small for stmt in rule.module.body for small in small_statements(stmt)):
            kind = type(n)
            if kind is cst.Assign:
                for t in n.targets:
                    target = t.target
                    if type(target) is cst.Name:
                        self.assigned.setdefault(target.value, []).append(n.value)
                    elif type(target) is cst.Tuple or type(target) is cst.List:
                        for el in target.elements:
                            if type(el.value) is cst.Name:
                                self.assigned.setdefault(el.value.value, []).append(cst.Name("_unknown_"))
            elif (kind is cst.AnnAssign or kind is cst.AugAssign) and type(n.target) is cst.Name:
                self.assigned.setdefault(n.target.value, []).append(n.value or cst.Name("_unknown_"))
        for n in ModuleIndex.of(rule).method_calls("add"):
            if type(n.func.value) is cst.Name:
                self.adds.setdefault(n.func.value.value, []).append(n)

    @property
    def rule(self) -> KerasRule:
        return self._rule()

    def value_of(self, name: str) -> Optional[cst.BaseExpression]:
        values = self.assigned.get(name, [])
        return values[0] if len(values) == 1 else None

    def factory(self, name: str) -> Optional[str]:
        """'models.Sequential' if `name = Sequential(...)` (assigned once), else None."""
        value = self.value_of(name)
        if isinstance(value, cst.Call):
            k = self.rule.call_kname(value)
            if k in MODEL_FACTORIES:
                return k
        return None

    def is_model(self, receiver: cst.BaseExpression) -> bool:
        return isinstance(receiver, cst.Name) and self.factory(receiver.value) is not None

    def output_width(self, receiver: cst.BaseExpression) -> Optional[int]:
        """The model's last layer width when the file shows it beyond doubt, else None."""
        if not isinstance(receiver, cst.Name):
            return None
        kind = self.factory(receiver.value)
        value = self.value_of(receiver.value)
        if kind is None or not isinstance(value, cst.Call):
            return None
        if kind.endswith("Sequential"):
            layers: list[cst.BaseExpression] = []
            first = positional(value)
            arg = first[0].value if first else (kwarg(value, "layers").value if kwarg(value, "layers") else None)
            if arg is not None:
                if not isinstance(arg, cst.List) or any(isinstance(e, cst.StarredElement) for e in arg.elements):
                    return None
                layers = [e.value for e in arg.elements]
            for add in self.adds.get(receiver.value, []):
                if len(add.args) != 1:
                    return None
                layers.append(add.args[0].value)
            return self._width_of_stack(layers)
        # functional: Model(inputs, outputs) / Model(input=, output=)
        out = kwarg(value, "outputs") or kwarg(value, "output")
        pos = positional(value)
        out_expr = out.value if out is not None else (pos[1].value if len(pos) > 1 else None)
        return self._width_of_tensor(out_expr, depth=0)

    def _width_of_stack(self, layers: list[cst.BaseExpression]) -> Optional[int]:
        for layer in reversed(layers):
            if not isinstance(layer, cst.Call):
                return None
            k = self.rule.call_kname(layer)
            if k in SAME_WIDTH_LAYERS:
                continue
            return self._units(layer) if k in UNITS_LAYERS else None
        return None

    def _int(self, expr: cst.BaseExpression) -> Optional[int]:
        """An int literal, or a name assigned once to one (`nb_classes = 10`)."""
        if isinstance(expr, cst.Name):
            value = self.value_of(expr.value)
            return int_literal(value) if value is not None else None
        return int_literal(expr)

    def _width_of_tensor(self, expr, depth: int) -> Optional[int]:
        if depth > 8 or expr is None:
            return None
        if isinstance(expr, cst.Name):
            return self._width_of_tensor(self.value_of(expr.value), depth + 1)
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Call) and len(expr.args) == 1:
            layer = expr.func
            k = self.rule.call_kname(layer)
            if k in UNITS_LAYERS:
                return self._units(layer)
            if k in SAME_WIDTH_LAYERS:
                return self._width_of_tensor(expr.args[0].value, depth + 1)
        return None

    def _units(self, layer: cst.Call) -> Optional[int]:
        units = kwarg(layer, "units") or kwarg(layer, "output_dim")
        if units is not None:
            return self._int(units.value)
        pos = positional(layer)
        return self._int(pos[0].value) if pos else None


# ----------------------------------------------------------------------------- shared by the runtime fixes

def parent_map(module: cst.Module) -> dict:
    """child -> parent for every code node of `module` (one walk)."""
    from kmigrate.walk import code_children

    parents: dict = {}
    stack = [module]
    while stack:
        n = stack.pop()
        for k in code_children(n):
            parents[k] = n
            stack.append(k)
    return parents


def enclosing_line(node: cst.CSTNode, parents: dict) -> Optional[cst.SimpleStatementLine]:
    """The `SimpleStatementLine` that holds `node` (climbing `parents`), or None when a lambda or a
    compound statement (`if`, `for`, `def`, ...) comes first: `node` is not simply part of one line."""
    line = parents.get(node)
    while line is not None and type(line) is not cst.SimpleStatementLine:
        if isinstance(line, (cst.Lambda, cst.BaseCompoundStatement)):
            return None
        line = parents.get(line)
    return line


def string_literal(value: str, like=None) -> cst.SimpleString:
    """A string literal for `value` in the quote style of `like` (a string node or a module);
    the shared rules/analysis/literals.py decides the style."""
    if isinstance(like, cst.SimpleString) and like.quote in ("'", '"'):
        quote = like.quote
    elif isinstance(like, cst.Module):
        quote = module_quote(like)
    else:
        quote = "'"
    return literal(value, quote)


def name_bindings(module: cst.Module) -> dict[str, list[cst.CSTNode]]:
    """Every name bound anywhere in `module` -> the binding nodes (assign targets, params, imports,
    defs, loop targets, ...). Scope-blind on purpose: a rule that follows a value through a name
    only does so when the name is bound exactly once in the whole file.

    Computed once per module object and shared by every rule that asks (a dozen do): treat the
    answer as read-only."""
    if _BINDINGS[0] is not module:
        _BINDINGS[:] = [module, _name_bindings(module)]
    return _BINDINGS[1]


_BINDINGS: list = [None, None]  # [the last module asked about, its bindings]


def _name_bindings(module: cst.Module) -> dict[str, list[cst.CSTNode]]:
    out: dict[str, list[cst.CSTNode]] = {}

    def add(name: str, node: cst.CSTNode) -> None:
        found = out.get(name)
        if found is None:
            out[name] = [node]
        else:
            found.append(node)

    def targets(t):
        for x in walk(t):
            kind = type(x)
            if kind is cst.Name:
                add(x.value, x)
            elif kind is cst.Attribute or kind is cst.Subscript:
                return

    # exact types, one walk: isinstance on LibCST's classes goes through ABCMeta (slow)
    for n in walk(module):
        kind = type(n)
        if kind not in _BINDING_KINDS:
            continue
        if kind is cst.AssignTarget:
            if type(n.target) is cst.Name:
                add(n.target.value, n)
            else:
                targets(n.target)
        elif kind is cst.AnnAssign or kind is cst.AugAssign:
            if type(n.target) is cst.Name:
                add(n.target.value, n)
        elif kind is cst.For or kind is cst.CompFor:
            targets(n.target)
        elif kind is cst.AsName:
            if type(n.name) is cst.Name:
                add(n.name.value, n)
        elif kind is cst.Param:
            add(n.name.value, n)
        elif kind is cst.FunctionDef or kind is cst.ClassDef:
            add(n.name.value, n)
        elif kind is cst.ImportAlias:
            if n.asname is None:
                add(code_of(n.name).split(".")[0], n)
        elif kind is cst.Global or kind is cst.Nonlocal:
            for a in n.names:
                add(a.name.value, n)
        elif kind is cst.NamedExpr and type(n.target) is cst.Name:
            add(n.target.value, n)
    return out


_BINDING_KINDS = frozenset({cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For, cst.CompFor, cst.AsName,
                            cst.Param, cst.FunctionDef, cst.ClassDef, cst.ImportAlias, cst.Global, cst.Nonlocal,
                            cst.NamedExpr})


def name_loads(module: cst.Module, parents: dict, name: str) -> list[cst.Name]:
    """The `Name` nodes reading `name` (not attribute names, keywords, or binding targets)."""
    out = []
    for n in walk(module):
        if not isinstance(n, cst.Name) or n.value != name:
            continue
        p = parents.get(n)
        if isinstance(p, cst.Attribute) and p.attr is n:
            continue
        if isinstance(p, cst.Arg) and p.keyword is n:
            continue
        if isinstance(p, (cst.AssignTarget, cst.Param, cst.FunctionDef, cst.ClassDef, cst.AsName, cst.ImportAlias,
                          cst.AnnAssign, cst.AugAssign, cst.Global, cst.Nonlocal, cst.NamedExpr)):
            if not (isinstance(p, (cst.AnnAssign, cst.NamedExpr)) and getattr(p, "value", None) is n):
                continue
        if isinstance(p, (cst.For, cst.CompFor)) and p.target is n:
            continue
        out.append(n)
    return out


def import_from_names(node: cst.ImportFrom):
    """(root, module rest, [(alias, name)]) for `from <keras root>.<rest> import ...`."""
    if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
        return None
    dotted = get_full_name_for_node(node.module) or ""
    root, rest = split_root(dotted)
    if root is None:
        return None
    return root, rest, [(a, get_full_name_for_node(a.name) or "") for a in node.names]


def removal_edits(module: str, obj: str, asname=None) -> list:
    """Import removals (applied only if the name is unused) for `from <module> import obj`, also
    under the module name KM101 gives it in the same pass (`keras.x` -> `tensorflow.keras.x`)."""
    from kmigrate.rule import ImportEdit

    edits = [ImportEdit(module, obj, asname, remove=True)]
    if module.startswith("keras."):
        edits.append(ImportEdit("tensorflow." + module, obj, asname, remove=True))
    elif module.startswith("tensorflow.keras."):
        edits.append(ImportEdit(module[len("tensorflow."):], obj, asname, remove=True))
    return edits


def pure_expression(node) -> bool:
    """A literal, a (dotted) name, or `len(<one of those>)`: evaluating it twice is the same as once."""
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "len" \
            and len(node.args) == 1 and node.args[0].keyword is None and not node.args[0].star:
        node = node.args[0].value
    if isinstance(node, cst.Attribute):
        return pure_expression(node.value) and not isinstance(node.value, cst.Call)
    return isinstance(node, (cst.SimpleString, cst.Integer, cst.Float, cst.Name))
