"""KM504: `input_shape`/`input_dim`/`batch_input_shape` where Keras ignores them."""
from __future__ import annotations

import ast
from typing import Optional

import libcst as cst

from kmigrate.names import canonical_keras
from kmigrate.rule import KERAS_OR_TF, Example, Rule, Safety, Severity

from kmigrate.rules.analysis.keras_facts import SEQUENTIAL, Facts, FactsRule, _attr_targets, _params, kwarg, small_statements, without_arg
from kmigrate.rules.lint import bound_to, calls_and_attributes

SHAPE_ARGS = ("input_shape", "input_dim", "batch_input_shape")
_NOT_LAYERS = {"Input", "InputLayer"}


class IgnoredInputShape(FactsRule, Rule):
    """
    ## What it does
    Reports `input_shape=`, `input_dim=` or `batch_input_shape=` given to a layer where Keras
    never reads it:

    - a layer built in a `Model`/`Layer` subclass and assigned to `self.x` (the subclassed
      model gets its input shape from the data, not from its layers);
    - a layer that is not the first of a `Sequential` model (in the constructor list, or a
      later `model.add(...)` after a certain earlier one);
    - a layer called at once on a tensor in the functional API (`Dense(4, input_dim=8)(x)`).

    ## Why is this bad
    Keras only reads the argument on the first layer of a `Sequential` model. Anywhere else it is
    dropped (Keras 3 only warns "Do not pass an `input_shape`/`input_dim` argument to a layer"),
    so the shape the code claims is never checked and may be wrong without anyone noticing.
    `batch_input_shape=` is gone in Keras 3 and raises there.

    ## Example
    ```python
    class LeNet(keras.Model):
        def __init__(self):
            super().__init__()
            self.conv = layers.Conv2D(6, 3, input_shape=(32, 32, 1))   # KM504: ignored
    ```
    becomes `layers.Conv2D(6, 3)`.

    ## Fix safety
    Safe for `input_shape`/`input_dim`: the argument is removed only where Keras ignores it and
    the layer object is used nowhere else (a `self.x` only ever called as `self.x(...)`, an inline
    layer). Removing `batch_input_shape` is unsafe: Keras 3 raises on it, so removing it changes
    what happens.
    """

    code = "KM504"
    name = "ignored-input-shape"
    summary = "`input_shape`/`input_dim` on a layer where Keras ignores it"
    severity = Severity.WARNING
    fix_safety = Safety.SAFE
    triggers = ("input_shape", "input_dim")
    needs_import = KERAS_OR_TF

    @classmethod
    def screen(cls, facts, context) -> bool:
        # a call given `input_shape=` or `batch_input_shape=` by keyword, or `input_dim=` (an
        # `Embedding`'s vocabulary size) and its callee may be another Keras layer
        if not facts.keywords.isdisjoint(("input_shape", "batch_input_shape")):
            return True
        return "input_dim" in facts.keywords and _input_dim_off_embedding(facts.tree)

    VALID = [
        "from tensorflow import keras\n"
        "model = keras.Sequential([keras.layers.Dense(3, input_shape=(4,)), keras.layers.Dense(2)])\n",
        "from tensorflow import keras\n"
        "model = keras.Sequential()\n"
        "model.add(keras.layers.Dense(3, input_dim=4))\n"
        "model.add(keras.layers.Dense(2))\n",
        # the first add is conditional: this one may be first
        "from tensorflow import keras\n"
        "model = keras.Sequential()\n"
        "if deep:\n"
        "    model.add(keras.layers.Dense(3))\n"
        "model.add(keras.layers.Dense(2, input_shape=(4,)))\n",
        "from tensorflow import keras\n"
        "inputs = keras.layers.Input(shape=(4,))\n",
        "from tensorflow import keras\n"
        "class M(keras.Model):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.emb = keras.layers.Embedding(input_dim=100, output_dim=8)\n"
        "    def call(self, x):\n"
        "        return self.emb(x)\n",
    ]
    INVALID = [
        Example(
            "from tensorflow import keras\n"
            "model = keras.Sequential([keras.layers.Dense(3, input_shape=(4,)), keras.layers.Dense(2, input_shape=(3,))])\n",
            "from tensorflow import keras\n"
            "model = keras.Sequential([keras.layers.Dense(3, input_shape=(4,)), keras.layers.Dense(2)])\n"),
        Example(
            "from tensorflow import keras\n"
            "class M(keras.Model):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.d = keras.layers.Dense(3, input_shape=(4,))\n"
            "    def call(self, x):\n"
            "        return self.d(x)\n",
            "from tensorflow import keras\n"
            "class M(keras.Model):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.d = keras.layers.Dense(3)\n"
            "    def call(self, x):\n"
            "        return self.d(x)\n"),
    ]

    def check(self, facts: Facts) -> None:
        done: set[cst.CSTNode] = set()
        # 1. layers assigned to self.x in a Keras subclass
        for kc in facts.keras_classes.values():
            if any(facts.keras_name(b.value) in SEQUENTIAL for b in kc.node.bases):
                continue  # a Sequential subclass may add its layers: the first one's shape counts
            for fn in kc.methods.values():
                params = _params(fn)
                if not params:
                    continue
                me = params[0].value
                for stmt in small_statements(fn.body):  # an assignment is a statement
                    if not isinstance(stmt, cst.Assign) or len(stmt.targets) != 1:
                        continue
                    t = stmt.targets[0].target
                    if list(_attr_targets(t, me)) != [t] or not isinstance(stmt.value, cst.Call):
                        continue
                    if kwarg(stmt.value, *SHAPE_ARGS) is None:
                        continue  # nothing for _check_layer to find (and no count of the calls needed)
                    attr = t.attr.value
                    only_called = facts.attr_loads.get(attr, 0) == sum(
                        1 for c in facts.calls if isinstance(c.func, cst.Attribute) and c.func.attr.value == attr)
                    if not only_called:
                        continue  # the layer may be put into a Sequential model elsewhere
                    self._check_layer(facts, stmt.value, done,
                                      f"is ignored on a layer of a subclassed {kc.kind} (`self.{attr}`): "
                                      f"the input shape comes from the data", fixable=only_called)
        # 2. non-first layers of Sequential models
        for call in facts.calls:
            k = facts.keras_name(call.func)
            if k in SEQUENTIAL and call.args and call.args[0].keyword is None:
                lst = call.args[0].value
                if isinstance(lst, (cst.List, cst.Tuple)):
                    for i, el in enumerate(lst.elements):
                        if i > 0 and isinstance(el.value, cst.Call):
                            self._check_layer(facts, el.value, done,
                                              f"is ignored on layer {i + 1} of a Sequential model: only the "
                                              f"first layer's input shape counts", fixable=True)
            elif isinstance(call.func, cst.Attribute) and call.func.attr.value == "add" \
                    and isinstance(call.func.value, cst.Name) and call.args \
                    and isinstance(call.args[0].value, cst.Call):
                layers = facts.sequential_layers(call.func.value, call)
                if layers and any(item is not None for item in layers):
                    self._check_layer(facts, call.args[0].value, done,
                                      "is ignored on a layer added after the first one of a Sequential "
                                      "model: only the first layer's input shape counts", fixable=True)
            # 3. functional: a layer built and applied at once
            elif isinstance(call.func, cst.Call):
                self._check_layer(facts, call.func, done, "is ignored on a layer called on a tensor "
                                  "(functional API): the shape comes from the input tensor", fixable=True)

    def _check_layer(self, facts: Facts, ctor: cst.Call, done: set, why: str, fixable: bool = True) -> None:
        if ctor in done:
            return
        kind = facts.layer_kind(ctor.func)
        if kind is None or kind in _NOT_LAYERS or kind.startswith("local:"):
            return
        names = SHAPE_ARGS if kind != "Embedding" else ("input_shape", "batch_input_shape")
        arg: Optional[cst.Arg] = kwarg(ctor, *names)  # Embedding's input_dim is its vocabulary size
        if arg is None:
            return
        done.add(ctor)
        name = arg.keyword.value
        message = f"`{name}=` {why}; remove it"
        safety = Safety.UNSAFE if name == "batch_input_shape" else Safety.SAFE
        if name == "batch_input_shape":
            message += " (it raises in Keras 3)"
        self.report(ctor, message, without_arg(ctor, arg), safety=safety, at=arg)


# ---------------------------------------------------------------------------- screen (`ast`)


def _input_dim_off_embedding(tree: ast.AST) -> bool:
    """Whether a call given `input_dim=` may be a Keras layer other than `Embedding`: its callee
    is `<x>.<name>` with another name, or a bare name imported as another Keras layer or bound
    to an alias (a name bound otherwise resolves to itself: no Keras layer)."""
    bindings = None
    for n in calls_and_attributes(tree)[0]:
        if not any(k.arg == "input_dim" for k in n.keywords):
            continue
        f = n.func
        if type(f) is ast.Attribute:
            if f.attr != "Embedding":
                return True
        elif type(f) is ast.Name:
            if bindings is None:
                bindings = bound_to(tree)
            if any(p is None or p.rpartition(".")[2] != "Embedding" and (canonical_keras(p) or "").startswith("layers.")
                   for p in bindings.get(f.id, ())):
                return True
        else:
            return True  # `Dense(3)(...)`: the layer of the inner call
    return False
