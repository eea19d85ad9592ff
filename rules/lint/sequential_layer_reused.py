"""KM509: one weighted layer instance placed twice in a Sequential model."""
from __future__ import annotations

import libcst as cst

from kmigrate.rule import KERAS_OR_TF, Example, Rule, Safety

from kmigrate.rules.analysis.model_facts import (
    WEIGHTED,
    Chain,
    Element,
    ModuleFacts,
    ScopeFacts,
    line_of,
    sequential_chains,
    walk,
    walk_with_self,
)
from kmigrate.rules.lint import spelled


class SequentialLayerReuse(Rule):
    """
    ## What it does
    Finds a layer with weights (`Dense`, `Conv2D`, `LSTM`, `Embedding`, `BatchNormalization`...)
    whose one instance is put into a `Sequential` model more than once: the same name twice in
    the layer list or in `model.add()` calls of the same block, `model.add(d)` inside a loop when
    `d` was created before the loop, `Sequential([d for _ in range(3)])`, and
    `[Dense(64)] * 3`, which repeats one instance.

    ## Why is this bad
    Keras does not copy a layer that is added twice: both positions call the same object, so
    they share one kernel and one bias. The model builds and trains without any error or
    warning, but it has fewer parameters than its summary of layers suggests and is not the
    network that was meant (`Sequential([d, d])` has 2 weights, not 4).

    ## Example
    ```python
    hidden = Dense(64, activation="relu")
    model = Sequential([Input((64,)), hidden, hidden, Dense(10)])
    ```
    Create one layer per position: `Sequential([Input((64,)), Dense(64, ...), Dense(64, ...), Dense(10)])`.
    `[Dense(64)] * 3` becomes, with `--unsafe-fixes`, `[Dense(64) for _ in range(3)]`.

    ## Fix safety
    Unsafe, and only for `[layer] * n`: separate layers change the model (more weights), which
    is what the code most likely meant. A named layer added twice is reported only: which of
    its uses should get a new layer (and its arguments) is for the author to decide.
    """

    code = "KM509"
    name = "sequential-layer-reused"
    summary = "One weighted layer instance is added twice to a Sequential model (shared weights)"
    fix_safety = Safety.UNSAFE
    triggers = ("Sequential",)  # and `keras` (wants)
    needs_import = KERAS_OR_TF

    @classmethod
    def screen(cls, facts, context) -> bool:
        # a Sequential model and a layer with weights
        return spelled(facts, ("Sequential",)) and spelled(facts, WEIGHTED)

    @classmethod
    def wants(cls, context) -> bool:
        return super().wants(context) and "keras" in context.text

    VALID = [
        "from tensorflow.keras import layers, Sequential\n"
        "m = Sequential([layers.Dense(8), layers.Dense(8)])\n",
        # a weightless layer may be reused
        "from tensorflow.keras import layers, Sequential\ndrop = layers.Dropout(0.5)\n"
        "m = Sequential([layers.Dense(8), drop, layers.Dense(8), drop])\n",
        # a new layer on every pass
        "from keras.models import Sequential\nfrom keras.layers import Dense\nm = Sequential()\n"
        "for units in (64, 32):\n    d = Dense(units)\n    m.add(d)\n",
        "from tensorflow.keras import layers, Sequential\n"
        "m = Sequential([layers.Dense(8) for _ in range(3)])\n",
        # exclusive branches
        "from tensorflow import keras\nd = keras.layers.Dense(4)\nm = keras.Sequential()\n"
        "if big:\n    m.add(d)\nelse:\n    m.add(d)\n",
    ]
    INVALID = [
        Example("from tensorflow.keras import layers, Sequential\nd = layers.Dense(8)\n"
                "m = Sequential([d, d])\n"),
        Example("from keras.models import Sequential\nfrom keras.layers import Dense\nd = Dense(8)\n"
                "m = Sequential()\nfor _ in range(3):\n    m.add(d)\n"),
        Example("from tensorflow.keras import layers, Sequential\n"
                "m = Sequential([layers.Input((8,))] + [layers.Dense(8)] * 3)\n",
                "from tensorflow.keras import layers, Sequential\n"
                "m = Sequential([layers.Input((8,))] + [layers.Dense(8) for _ in range(3)])\n",
                {"unsafe_fixes": True}),
    ]

    def visit_Module(self, node: cst.Module) -> None:
        self.facts = ModuleFacts.of(self)
        for scope in self.facts.scopes:
            for chain in sequential_chains(self.facts, scope):
                self._chain(chain, scope)

    def _chain(self, chain: Chain, scope: ScopeFacts) -> None:
        seen: dict[str, Element] = {}
        for el in chain.elements:
            found = self._weighted_instance(el.expr, scope)
            if found is None:
                continue
            key, kind, where = found
            first = seen.get(key)
            if first is None:
                seen[key] = el
            elif first.stmt.block == el.stmt.block and first.stmt.loops == el.stmt.loops:
                self.report(el.expr, f"the same `{kind}` instance `{key}` is added to this Sequential "
                            f"model again (first on line {line_of(self, first.expr)}): both places share "
                            f"one set of weights, silently; create a new `{kind}(...)` for each place")
                continue
            if el.via_add:
                outer = set(chain.stmt.loops) | set(where.loops if where else ())
                if any(loop not in outer for loop in el.stmt.loops):
                    self.report(el.expr, f"`{key}` is one `{kind}` instance, created before this loop, "
                                f"and is added to the model on every pass: all those places share one "
                                f"set of weights; create the layer inside the loop")
        for arg in chain.ctor.args:
            for n in walk_with_self(arg.value):
                if isinstance(n, cst.BinaryOperation) and isinstance(n.operator, cst.Multiply):
                    self._repeat(n, scope)
                elif isinstance(n, cst.ListComp) and isinstance(n.elt, cst.Name):
                    bound = {x.value for x in walk(n.for_in) if isinstance(x, cst.Name)}
                    found = self._weighted_instance(n.elt, scope)
                    if found is not None and n.elt.value not in bound:
                        self.report(n, f"this comprehension puts the one `{found[1]}` instance "
                                    f"`{n.elt.value}` into the model on every pass: all places share "
                                    f"one set of weights; create the layer inside the comprehension")

    def _weighted_instance(self, expr, scope: ScopeFacts):
        """(key, kind, binding statement) when `expr` names one weighted layer instance."""
        if isinstance(expr, cst.Name):
            binding = scope.single(expr.value)
            layer = self.facts.layer(binding.value) if binding else None
            if layer is not None and layer.kind in WEIGHTED:
                return expr.value, layer.kind, binding.stmt
        elif isinstance(expr, cst.Attribute) and scope.klass is not None:
            layer = self.facts.layer(expr, scope)
            if layer is not None and layer.kind in WEIGHTED:
                return f"self.{expr.attr.value}", layer.kind, None
        return None

    def _repeat(self, node: cst.BinaryOperation, scope: ScopeFacts) -> None:
        for lst, count in ((node.left, node.right), (node.right, node.left)):
            if not isinstance(lst, cst.List) or len(lst.elements) != 1:
                continue
            el = lst.elements[0]
            if isinstance(el, cst.StarredElement) or not isinstance(el.value, cst.Call):
                continue
            layer = self.facts.layer(el.value, scope)
            if layer is None or layer.kind not in WEIGHTED:
                continue
            if isinstance(count, cst.Integer) and count.evaluated_value <= 1:
                continue
            fix = None
            if not lst.lpar and not lst.rpar and "range" not in scope.bindings:
                fix = cst.ListComp(
                    elt=el.value,
                    for_in=cst.CompFor(target=cst.Name("_"), iter=cst.Call(cst.Name("range"), [cst.Arg(count)])),
                    lbracket=lst.lbracket, rbracket=lst.rbracket, lpar=node.lpar, rpar=node.rpar,
                )
            self.report(node, f"`[{layer.kind}(...)] * n` repeats one `{layer.kind}` instance: all its "
                        f"places in the model share one set of weights; write "
                        f"`[{layer.kind}(...) for _ in range(n)]` for separate layers", fix)
            return
