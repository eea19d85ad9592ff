"""KM503: a layer created in `__init__` (as `self.x`) that nothing ever uses."""
from __future__ import annotations

import ast

import libcst as cst

from kmigrate.rule import KERAS_OR_TF, Rule, Safety, Severity

from kmigrate.rules.analysis.keras_facts import MODEL_BASES, Facts, FactsRule, _attr_targets, _params, nodes_of, small_statements
from kmigrate.rules.lint import bound_to, calls_and_attributes, statements, statements_in

# attributes the Keras base classes read themselves
_KERAS_OWN = {"input_spec", "supports_masking", "activity_regularizer", "optimizer", "loss", "compiled_loss",
              "compiled_metrics", "cell", "layer", "forward_layer", "backward_layer"}
_DYNAMIC = {"getattr", "setattr", "vars", "__dict__", "layers", "submodules", "_layers",
            "_flatten_layers", "__getattr__", "__getattribute__"}


class UnusedLayer(FactsRule, Rule):
    """
    ## What it does
    Reports `self.x = SomeLayer(...)` in the `__init__` of a `Model`/`Layer` subclass that
    defines `call()`, when `x` is never read anywhere in the file (not in `call()`, not in a
    helper method, not from outside as `model.x`). Classes whose base classes live in another
    module, or that reach their attributes dynamically (`getattr`, `self.layers`,
    `self.submodules`, `__dict__`), are left alone.

    ## Why is this bad
    The layer takes no part in the forward pass: usually a typo or a left-over (`fc_1` built,
    `fc_2` applied twice). Keras still tracks it, so its unbuilt weights appear in
    `model.weights`, warnings come up when saving, and the architecture is not what it seems.

    ## Example
    ```python
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(64, activation="relu")   # KM503: never used
            self.out = layers.Dense(10)

        def call(self, inputs):
            return self.out(inputs)
    ```

    ## Fix safety
    No fix: removing the layer changes the saved weights; using it changes the model.
    """

    code = "KM503"
    name = "unused-layer"
    summary = "A layer assigned to `self.x` in `__init__` is never used by `call()`"
    severity = Severity.WARNING
    fix_safety = Safety.NONE
    triggers = ("def call",)
    needs_import = KERAS_OR_TF

    @classmethod
    def screen(cls, facts, context) -> bool:
        # `self.x = <call>` in `__init__` of a class with a base and a `call` method, and no `.x`
        # read anywhere
        if not ("call" in facts.functions and "__init__" in facts.functions):
            return False
        unread, layer = set(), None
        for c in statements(facts.tree):
            if type(c) is ast.ClassDef and c.bases:
                methods = {m.name: m for m in c.body if type(m) in (ast.FunctionDef, ast.AsyncFunctionDef)}
                if "call" in methods and "__init__" in methods:
                    layer = layer or _MayBeLayer(facts.tree)
                    unread.update(_assigned_calls(methods["__init__"], layer))
        # `<expr>.x(...)` reads `.x` (`x` in `calls` and not a name: no bare `x(...)` put it there)
        unread = {a for a in unread if a not in facts.calls or a in facts.names}
        return bool(unread) and _some_unread(facts.tree, unread)

    VALID = [
        "from tensorflow import keras\n"
        "class M(keras.Model):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.d = keras.layers.Dense(3)\n"
        "    def call(self, x):\n"
        "        return self.d(x)\n",
        # used from outside the class
        "from tensorflow import keras\n"
        "class M(keras.Model):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.encoder = keras.layers.Dense(3)\n"
        "    def call(self, x):\n"
        "        return x\n"
        "m = M()\n"
        "z = m.encoder(1)\n",
        # the base class is in another module: it may use the layer
        "from tensorflow import keras\n"
        "from base import Base\n"
        "class M(Base, keras.Model):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.head = keras.layers.Dense(3)\n"
        "    def call(self, x):\n"
        "        return x\n",
    ]
    INVALID = [
        "from tensorflow import keras\n"
        "class M(keras.Model):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.d1 = keras.layers.Dense(3)\n"
        "        self.d2 = keras.layers.Dense(3)\n"
        "    def call(self, x):\n"
        "        return self.d2(x)\n",
    ]

    def check(self, facts: Facts) -> None:
        dynamic = _dynamic_candidates(facts) if facts.keras_classes else []
        for kc in facts.keras_classes.values():
            init, call = kc.methods.get("__init__"), kc.methods.get("call")
            if init is None or call is None or not kc.bases_visible:
                continue
            # the module's calls and attributes by name, not a walk of each class
            if any(isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and n.func.value in _DYNAMIC or
                   isinstance(n, cst.Attribute) and n.attr.value in _DYNAMIC and isinstance(n.value, cst.Name)
                   and facts.keras_name(n) is None
                   for n in dynamic if facts.inside(n, kc.node)):
                continue
            params = _params(init)
            if not params:
                continue
            me = params[0].value
            for stmt in small_statements(init.body):  # an assignment is a statement
                if not isinstance(stmt, cst.Assign) or len(stmt.targets) != 1:
                    continue
                targets = list(_attr_targets(stmt.targets[0].target, me))
                if len(targets) != 1 or targets[0] is not stmt.targets[0].target:
                    continue
                attr = targets[0].attr.value
                if attr in _KERAS_OWN:
                    continue
                value = stmt.value
                if not isinstance(value, cst.Call):
                    continue
                kind = facts.layer_kind(value.func)
                if kind is None and facts.keras_name(value.func) not in MODEL_BASES:
                    continue
                if kind in ("Input", "InputLayer"):
                    continue
                if facts.attr_loads.get(attr, 0) == 0 and not _named_in_strings(facts, attr):
                    self.report(stmt.targets[0].target, f"layer `self.{attr}` is created in `__init__` "
                                f"but never used: `call()` does not apply it")


def _dynamic_candidates(facts: Facts) -> list:
    """Calls of a bare name and attributes whose name is in _DYNAMIC: the only nodes the check
    above can match (from the module's index)."""
    found = [c for c in facts.calls if type(c.func) is cst.Name and c.func.value in _DYNAMIC]
    return found + [a for name in _DYNAMIC for a in facts.index.attributes.get(name, ())]


def _named_in_strings(facts: Facts, attr: str) -> bool:
    """`'dense_1'` in a string (getattr-style access by name) counts as a use."""
    for n in nodes_of(facts.module):
        if isinstance(n, cst.SimpleString) and attr in n.value:
            return True
    return False


# ---------------------------------------------------------------------------- screen (`ast`)


def _assigned_calls(init, layer) -> set[str]:
    """The attributes `<x>.a = <call>` sets in an `__init__` (nested blocks and defs included) when
    the call may make a layer or a model, those Keras reads itself left out."""
    return {s.targets[0].attr for s in statements_in(init.body)
            if type(s) is ast.Assign and len(s.targets) == 1 and type(s.targets[0]) is ast.Attribute
            and type(s.value) is ast.Call and layer(s.value.func)} - _KERAS_OWN


class _MayBeLayer:
    """Whether a callee may be what `layer_kind` or MODEL_BASES take for a layer or a model: a Keras
    name that starts with a capital (`layers.Dense`, `Model`), as `<x>.Name`, or a name imported as
    one or bound to an alias; or a class of the module."""

    def __init__(self, tree: ast.Module):
        self.tree = tree
        self.bound = None
        self.classes = {s.name for s in tree.body if type(s) is ast.ClassDef}

    def __call__(self, f: ast.AST) -> bool:
        while type(f) is ast.Call or type(f) is ast.Subscript:  # `Dense(3)(x)`: named as kmigrate.names does
            f = f.func if type(f) is ast.Call else f.value
        if type(f) is ast.Attribute:
            return f.attr[:1].isupper()
        if type(f) is not ast.Name:
            return False
        if f.id[:1].isupper() or f.id in self.classes:
            return True
        if self.bound is None:
            self.bound = bound_to(self.tree)
        return any(p is None or p.rpartition(".")[2][:1].isupper() for p in self.bound.get(f.id, ()))


def _some_unread(tree: ast.AST, attrs: set[str]) -> bool:
    """Whether one of `attrs` is never read as an attribute (`.a` in a load context) in the file."""
    read = {a.attr for a in calls_and_attributes(tree)[1] if type(a.ctx) is ast.Load}
    return not attrs <= read
