"""KM511: `fit`/`evaluate` on a model that is never compiled in that scope."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from kmigrate.rule import KERAS_OR_TF, Example, Rule, Safety, Severity
from kmigrate.rules.analysis.keras_facts import ModuleIndex
from kmigrate.rules.analysis.model_facts import (
    FIT_METHODS,
    UNCOMPILED_MODEL_FUNCTIONS,
    ModuleFacts,
    ScopeFacts,
    line_of,
)

from kmigrate.rules.lint import spelled

_MODEL_MAKERS = frozenset({"Sequential", "Model", *(f.rpartition(".")[2] for f in UNCOMPILED_MODEL_FUNCTIONS)})


class FitWithoutCompile(Rule):
    """
    ## What it does
    Finds `model.fit()`, `model.evaluate()` (and `fit_generator`, `evaluate_generator`,
    `train_on_batch`, `test_on_batch`) on a model that the same function (or module) builds
    itself — `Sequential(...)`, `Model(inputs, outputs)`, a `Model` subclass of the file,
    `clone_model(...)`, `model_from_json(...)` — and never compiles: there is no
    `model.compile(...)` anywhere in that scope. A model that is passed to another function,
    stored somewhere or loaded with `load_model` (which restores the compile settings) is left
    alone, as is a subclass that compiles itself or defines its own `fit`.

    ## Why is this bad
    A Keras model needs an optimizer and a loss before it can train or be evaluated. Keras 3
    raises `ValueError: You must call compile() before using the model.` at the `fit` call,
    after all the data loading that came before it.

    ## Example
    ```python
    model = keras.Sequential([layers.Dense(10, activation="softmax")])
    model.fit(x_train, y_train, epochs=5)
    ```
    needs `model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")` before `fit`.

    ## Fix safety
    None (report only): the optimizer and loss are the author's choice.
    """

    code = "KM511"
    name = "fit-without-compile"
    summary = "`fit`/`evaluate` on a model that this scope builds but never compiles"
    severity = Severity.ERROR
    fix_safety = Safety.NONE
    triggers = (".fit", ".evaluate", "_on_batch")  # and `keras` (wants)
    needs_import = KERAS_OR_TF

    @classmethod
    def screen(cls, facts, context) -> bool:
        # `<name>.fit(...)` (or evaluate...) and a model kind the file can build: Sequential, Model
        # (a subclass of the file has one among its bases), clone_model, model_from_...
        return not facts.calls.isdisjoint(FIT_METHODS) and spelled(facts, _MODEL_MAKERS)

    @classmethod
    def wants(cls, context) -> bool:
        return super().wants(context) and "keras" in context.text

    VALID = [
        "from tensorflow import keras\nm = keras.Sequential([keras.layers.Dense(1)])\n"
        "m.compile(optimizer='adam', loss='mse')\nm.fit(x, y)\n",
        # compiled elsewhere: passed to a function
        "from tensorflow import keras\nm = keras.Sequential([keras.layers.Dense(1)])\nsetup(m)\nm.fit(x, y)\n",
        # load_model restores the compile settings
        "from tensorflow import keras\nm = keras.models.load_model('m.keras')\nm.evaluate(x, y)\n",
        # not built here
        "def train(model, x, y):\n    model.fit(x, y)\nimport keras\n",
        # the subclass compiles itself
        "import keras\nclass Net(keras.Model):\n    def __init__(self):\n        super().__init__()\n"
        "        self.compile(optimizer='sgd', loss='mse')\nnet = Net()\nnet.fit(x, y)\n",
    ]
    INVALID = [
        Example("from tensorflow import keras\nm = keras.Sequential([keras.layers.Dense(1)])\nm.fit(x, y)\n"),
        Example("from keras.models import Model, clone_model\ndef f(base, x, y):\n"
                "    m = clone_model(base)\n    return m.evaluate(x, y)\n"),
    ]

    def visit_Module(self, node: cst.Module) -> None:
        self.facts = ModuleFacts.of(self)
        index = ModuleIndex.of(self)
        if not any(type(c.func.value) is cst.Name for m in FIT_METHODS for c in index.method_calls(m)):
            return  # no `<name>.fit(...)` anywhere: no scope to read
        for scope in self.facts.scopes:
            self._scope(scope)

    def _scope(self, scope: ScopeFacts) -> None:
        fits: dict[str, list[cst.Call]] = {}
        compiled: set[str] = set()  # `<name>.compile` read in this scope itself
        for n in scope.own_nodes():
            if isinstance(n, cst.Attribute) and isinstance(n.value, cst.Name) and n.attr.value == "compile":
                compiled.add(n.value.value)
            elif (isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value in FIT_METHODS
                    and isinstance(n.func.value, cst.Name)):
                fits.setdefault(n.func.value.value, []).append(n)
        if not fits:
            return
        for name, calls in fits.items():
            if name in compiled:  # a read of the same variable: the scope analysis would say so too
                continue
            bindings = scope.bindings.get(name, [])
            if not bindings or any(b.value is None for b in bindings):
                continue
            kinds = [self._uncompiled(b.value) for b in bindings]
            if not all(kinds):
                continue
            if not self._only_method_calls(bindings, name, scope):
                continue
            call = calls[0]
            method = call.func.attr.value
            self.report(
                call,
                f"`{name}.{method}()` on {kinds[0]} built on line {line_of(self, bindings[0].value)} that "
                f"is never compiled here: Keras raises `ValueError: You must call compile() before "
                f"using the model`. Call `{name}.compile(optimizer=..., loss=...)` before `{method}`.",
            )

    def _only_method_calls(self, bindings, name: str, scope: ScopeFacts) -> bool:
        """Every read of the model is `model.<method>`, and none is `model.compile`."""
        node = bindings[0].stmt.node
        targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
        target = next((t for t in targets if isinstance(t, cst.Name) and t.value == name), None)
        refs = self.facts.references(self, target, scope.owner) if target is not None else None
        if refs is None:
            return False
        for ref in refs:
            attr = self.facts.attribute_of(ref)
            if attr is None or attr.attr.value == "compile":
                return False
        return True

    def _uncompiled(self, value: cst.BaseExpression) -> Optional[str]:
        kind = self.facts.model_kind(value)
        if kind in ("Sequential", "Model"):
            return f"a `{kind}`"
        if kind == "class":
            facts = self.facts.class_by_name.get(value.func.value)
            lineage = self.facts.lineage(facts) if facts else []
            if not lineage or any(f.calls_self_compile or {"compile", "fit", "evaluate", "__call__"} & set(f.methods)
                                  for f in lineage):
                return None
            return f"a `{value.func.value}`"
        if isinstance(value, cst.Call) and self.facts.keras_name(value.func) in UNCOMPILED_MODEL_FUNCTIONS:
            return f"a model from `{self.facts.keras_name(value.func).split('.')[-1]}()`"
        return None
