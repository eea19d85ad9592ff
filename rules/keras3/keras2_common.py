"""Helpers shared by the KM32x..KM34x rules (Keras 1/2 APIs that are gone): call surgery and a
small, file-local view of which names hold a Keras model and what its output width is."""
from __future__ import annotations

from typing import Iterator, Optional, Sequence

import libcst as cst

from kmigrate.names import NameResolver
from kmigrate.rules.analysis.call_args import code_of, has_star, kwarg, make_kw, positional, walk, with_args  # noqa: F401
from kmigrate.rule import FileContext, Rule
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

    def call_kname(self, call: cst.Call) -> Optional[str]:
        return self.kname(call.func)

    @property
    def models(self) -> "ModelIndex":
        if self._index is None:
            self._index = ModelIndex(self)
        return self._index


class ModelIndex:
    """Names bound exactly once in the file to a Keras model, and the model's visible output width."""

    def __init__(self, rule: KerasRule):
        self.rule = rule
        self.assigned: dict[str, list[cst.BaseExpression]] = {}
        self.adds: dict[str, list[cst.Call]] = {}
        for n in walk(rule.module):
            if isinstance(n, cst.Assign):
                for t in n.targets:
                    if isinstance(t.target, cst.Name):
                        self.assigned.setdefault(t.target.value, []).append(n.value)
                    elif isinstance(t.target, (cst.Tuple, cst.List)):
                        for el in t.target.elements:
                            if isinstance(el.value, cst.Name):
                                self.assigned.setdefault(el.value.value, []).append(cst.Name("_unknown_"))
            elif isinstance(n, (cst.AnnAssign, cst.AugAssign)) and isinstance(n.target, cst.Name):
                self.assigned.setdefault(n.target.value, []).append(n.value or cst.Name("_unknown_"))
            elif isinstance(n, (cst.For, cst.With, cst.FunctionDef, cst.ClassDef)):
                pass
            if (isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value == "add"
                    and isinstance(n.func.value, cst.Name)):
                self.adds.setdefault(n.func.value.value, []).append(n)

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
