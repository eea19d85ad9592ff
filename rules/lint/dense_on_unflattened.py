"""KM507: `Dense` on the output of a convolution, pooling or sequence layer without flattening."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from kmigrate.rule import KERAS_OR_TF, Rule, Safety, Severity

from kmigrate.rules.analysis.keras_facts import _iter as _walk
from kmigrate.rules.analysis.keras_facts import (
    ACTIVATION_LAYERS, DENSE, FUNCTIONAL, KEEPS_RANK, NEUTRAL, RANK3, RANK4, RANK5, RNN, SEQUENTIAL,
    Facts, FactsRule, LayerFacts, arg_value,
)
from kmigrate.rules.lint import spelled

_SKIP = NEUTRAL | KEEPS_RANK | set(ACTIVATION_LAYERS) | {"Activation"}
_BEFORE_DENSE = frozenset(RANK3 | RANK4 | RANK5 | RNN | {"Bidirectional"})  # what `_spatial`/`_sequence` accept


def _spatial(lf: LayerFacts) -> bool:
    return lf.kind in RANK4 or lf.kind in RANK5


def _sequence(facts: Facts, lf: LayerFacts) -> bool:
    if lf.kind in RANK3:
        return True
    if lf.kind in RNN and lf.kind != "ConvLSTM2D":
        return lf.return_sequences is True
    if lf.kind == "Bidirectional":
        inner = arg_value(lf.call, 0, "layer")
        inner = facts.value_of(inner) if isinstance(inner, cst.Name) else inner
        if isinstance(inner, cst.Call):
            ilf = facts.layer_facts(inner)
            return ilf is not None and ilf.kind in RNN and ilf.return_sequences is True
    return False


class DenseOnUnflattened(FactsRule, Rule):
    """
    ## What it does
    Reports a `Dense` layer applied directly to the output of a 2D/3D convolution or pooling
    layer (looking through dropout, normalization, activation, padding and upsampling layers),
    with no `Flatten`, global pooling or `Reshape` between, at the head of a model: the last
    layers of a `Sequential` model, the `outputs` of a functional `Model`, or what `call()` of a
    subclassed model returns. For 1D convolutions and recurrent layers with
    `return_sequences=True` it reports only the clear case: a model whose single-unit `Dense`
    output sits right on the sequence.

    ## Why is this bad
    `Dense` works on the last axis only. After `Conv2D` it runs once per pixel and the model
    outputs `(batch, height, width, units)` instead of `(batch, units)`; the loss then
    broadcasts against the labels or fails far from the cause. A 1-unit head on a sequence
    predicts one value per time step where one per sample was meant.

    ## Example
    ```python
    model = keras.Sequential([
        layers.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
        layers.MaxPooling2D(),
        layers.Dense(10, activation="softmax"),     # KM507: add layers.Flatten() before
    ])
    ```
    A `Dense` in the middle of a network that goes on to pool or reshape (a per-pixel MLP as
    in ConvNeXt) is intended and left alone: only a `Dense` on a spatial tensor that reaches the
    model's output through `Dense` and shape-keeping layers alone is reported.

    ## Fix safety
    No fix: `Flatten` and global pooling give different models; the author chooses.
    """

    code = "KM507"
    name = "dense-on-unflattened"
    summary = "`Dense` after Conv/Pooling/RNN-sequence output without Flatten or global pooling"
    severity = Severity.WARNING
    fix_safety = Safety.NONE
    triggers = ("Dense",)
    needs_import = KERAS_OR_TF

    @classmethod
    def screen(cls, facts, context) -> bool:
        # a Dense layer and a layer with spatial or sequence output
        return spelled(facts, DENSE) and spelled(facts, _BEFORE_DENSE)

    VALID = [
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "model = keras.Sequential([layers.Conv2D(8, 3), layers.MaxPooling2D(), layers.Flatten(), layers.Dense(10)])\n",
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "x = layers.Conv2D(8, 3)(inputs)\nx = layers.GlobalAveragePooling2D()(x)\ny = layers.Dense(10)(x)\n",
        # per-time-step Dense after a sequence (tagging) is fine
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "model = keras.Sequential([layers.LSTM(8, return_sequences=True), layers.Dense(5, activation='softmax')])\n"
        "model.compile(loss='categorical_crossentropy')\n",
    ]
    INVALID = [
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "model = keras.Sequential([layers.Conv2D(8, 3), layers.MaxPooling2D(), layers.Dense(10)])\n",
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "x = layers.Conv2D(8, 3)(inputs)\nx = layers.Dropout(0.5)(x)\ny = layers.Dense(10)(x)\n"
        "model = keras.Model(inputs, y)\n",
    ]

    def check(self, facts: Facts) -> None:
        done: set[cst.CSTNode] = set()
        last_add: dict[int, cst.Call] = {}
        for call in facts.calls:
            k = facts.keras_name(call.func)
            if k in SEQUENTIAL and call.args and call.args[0].keyword is None \
                    and isinstance(call.args[0].value, (cst.List, cst.Tuple)):
                self._check_list(facts, [(el.value, el.value) for el in call.args[0].value.elements], done)
            elif k in FUNCTIONAL:
                self._check_tensor(facts, arg_value(call, 1, "outputs", "output"), done)
            elif isinstance(call.func, cst.Attribute) and isinstance(call.func.value, cst.Name):
                meth = call.func.attr.value
                if meth == "add" and call.args:
                    b = facts.binding(call.func.value.value, call)
                    if b is not None:
                        last_add[id(b)] = call  # the calls come in source order: the last one wins
                elif meth == "compile":
                    self._sequence_head(facts, call, done)
        for add in last_add.values():
            layers = facts.sequential_layers(add.func.value, add, inclusive=True)
            if layers:
                self._check_list(facts, layers, done)
        for kc in facts.keras_classes.values():
            fn = kc.methods.get("call")
            if fn is not None and kc.kind == "model":
                for n in _walk(fn):
                    if isinstance(n, cst.Return) and n.value is not None:
                        self._check_tensor(facts, n.value, done)

    def _check_tensor(self, facts: Facts, expr, done: set) -> None:
        """Walk back from a model output through Dense and shape-keeping layers only."""
        for _ in range(30):
            p = facts.producer(expr)
            if p is None:
                return
            what, inp, call = p
            if isinstance(what, str) or what.kind in _SKIP:
                expr = inp
                continue
            if what.kind not in DENSE:
                return
            prev = self._back_tensor(facts, inp)
            if prev is not None and _spatial(prev):
                self._report(call, what, prev, done)
                return
            expr = inp

    def _check_list(self, facts: Facts, items: list, done: set) -> None:
        """The Sequential layers: a Dense on a spatial output followed only by Dense/shape-keeping
        layers up to the model's output."""
        for i in range(len(items) - 1, -1, -1):
            item = items[i]
            if item is None:
                return
            lf = self._ctor(facts, item[0])
            if lf is None:
                return
            if lf.kind in _SKIP:
                continue
            if lf.kind not in DENSE:
                return
            prev = self._back_list(facts, items[:i])
            if prev is not None and _spatial(prev):
                where = item[1] if isinstance(item[1], cst.Call) and item[1] is not item[0] else lf.call
                self._report(where, lf, prev, done)
                return

    def _sequence_head(self, facts: Facts, compile_call: cst.Call, done: set) -> None:
        """A 1-unit Dense output right on a sequence (LSTM(return_sequences=True), Conv1D)."""
        model = compile_call.func.value
        b = facts.binding(model.value, compile_call)
        if b is None or not isinstance(b.value, cst.Call):
            return
        k = facts.keras_name(b.value.func)
        dense: Optional[LayerFacts] = None
        prev: Optional[LayerFacts] = None
        where: Optional[cst.CSTNode] = None
        if k in SEQUENTIAL:
            layers = facts.sequential_layers(model, compile_call)
            if not layers:
                return
            i = len(layers)
            while i > 0:
                i -= 1
                item = layers[i]
                lf = self._ctor(facts, item[0]) if item is not None else None
                if lf is None:
                    return
                if lf.kind in _SKIP:
                    continue
                if lf.kind in DENSE:
                    dense, where = lf, item[1]
                    prev = self._back_list(facts, layers[:i])
                break
        elif k in FUNCTIONAL:
            expr = arg_value(b.value, 1, "outputs", "output")
            for _ in range(20):
                p = facts.producer(expr)
                if p is None:
                    return
                what, inp, call = p
                if isinstance(what, str) or what.kind in _SKIP:
                    expr = inp
                    continue
                if what.kind in DENSE:
                    dense, where = what, call
                    prev = self._back_tensor(facts, inp)
                break
        if dense is None or prev is None or dense.units != 1 or not _sequence(facts, prev):
            return
        self._report(where, dense, prev, done, sequence=True)

    @staticmethod
    def _ctor(facts: Facts, expr) -> Optional[LayerFacts]:
        expr = facts.value_of(expr) if isinstance(expr, cst.Name) else expr
        return facts.layer_facts(expr) if isinstance(expr, cst.Call) else None

    def _back_list(self, facts: Facts, items: list) -> Optional[LayerFacts]:
        for item in reversed(items):
            if item is None:
                return None
            lf = self._ctor(facts, item[0])
            if lf is None:
                return None
            if lf.kind not in _SKIP:
                return lf
        return None

    @staticmethod
    def _back_tensor(facts: Facts, expr) -> Optional[LayerFacts]:
        for _ in range(30):
            p = facts.producer(expr)
            if p is None:
                return None
            what, inp, _call = p
            if isinstance(what, str) or what.kind in _SKIP:
                expr = inp
                continue
            return what
        return None

    def _report(self, node: cst.CSTNode, dense: LayerFacts, prev: LayerFacts, done: set,
                sequence: bool = False) -> None:
        if node in done or dense.call in done:
            return
        done.add(node)
        done.add(dense.call)
        if sequence:
            what = "a recurrent layer with `return_sequences=True`" if prev.kind in RNN or prev.kind == "Bidirectional" \
                else f"`{prev.kind}`"
            self.report(node, f"1-unit `Dense` output on the sequence output of {what}: it predicts one value "
                        f"per time step; use `return_sequences=False`, `Flatten` or global pooling (or "
                        f"`TimeDistributed` if per-step output is meant)")
            return
        self.report(node, f"`Dense` on the output of `{prev.kind}` without `Flatten` or global pooling: "
                    f"it runs per position and keeps the spatial axes; add `Flatten()` or "
                    f"`GlobalAveragePooling` before it")
