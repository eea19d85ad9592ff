"""KM508: stacked recurrent layers where an inner one lacks `return_sequences=True`."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from kmigrate.rule import KERAS_OR_TF, Example, Rule, Safety

from kmigrate.rules.analysis.model_facts import (
    RANK_PRESERVING,
    LayerCtor,
    ModuleFacts,
    ScopeFacts,
    argument,
    line_of,
    sequential_chains,
    walk,
    with_keyword,
)


class StackedRecurrentWithoutSequences(Rule):
    """
    ## What it does
    Finds a recurrent layer (`LSTM`, `GRU`, `SimpleRNN`, `RNN`, `ConvLSTM2D`, `CuDNNLSTM`, or one
    of them inside `Bidirectional`) whose output goes straight into another recurrent layer
    while it does not set `return_sequences=True`. Both spellings are followed: consecutive layers
    of a `Sequential` model (a list or `model.add()` calls in the same block; shape-keeping
    layers such as `Dropout` or `BatchNormalization` in between do not matter) and functional
    calls (`x = LSTM(64)(x)` then `LSTM(32)(x)`, also through `self.lstm1` set in `__init__`).
    A layer whose `return_sequences` is not a literal, that takes `**kwargs` or returns its
    states is left alone.

    ## Why is this bad
    Without `return_sequences=True` a recurrent layer returns only its last output, a 2-D tensor
    `(batch, units)`; the next recurrent layer needs the whole sequence `(batch, time, units)`.
    Building the model fails with `Input 0 of layer "lstm_1" is incompatible with the layer:
    expected ndim=3, found ndim=2`.

    ## Example
    ```python
    model = Sequential([
        LSTM(64, input_shape=(10, 8)),
        LSTM(32),
    ])
    ```
    becomes, with `--unsafe-fixes`,
    ```python
    model = Sequential([
        LSTM(64, input_shape=(10, 8), return_sequences=True),
        LSTM(32),
    ])
    ```
    An encoder that should hand one vector to the next layer wants a `RepeatVector` in between
    instead (the usual sequence-to-sequence autoencoder); that is why the fix is not safe.

    ## Fix safety
    Unsafe: the code cannot build as written, and `return_sequences=True` is the usual intent,
    but a `RepeatVector(n)` between the layers is the other possible repair.
    """

    code = "KM508"
    name = "rnn-stack-without-sequences"
    summary = "An inner recurrent layer feeds another one without `return_sequences=True`"
    fix_safety = Safety.UNSAFE
    triggers = ("LSTM", "GRU", "RNN")  # and `keras` (wants)
    needs_import = KERAS_OR_TF

    @classmethod
    def wants(cls, context) -> bool:
        return super().wants(context) and "keras" in context.text

    VALID = [
        "from tensorflow.keras import layers, Sequential\n"
        "m = Sequential([layers.LSTM(64, return_sequences=True), layers.LSTM(32)])\n",
        # the seq2seq autoencoder: RepeatVector turns the vector back into a sequence
        "from keras.layers import LSTM, RepeatVector\nfrom keras.models import Sequential\n"
        "m = Sequential()\nm.add(LSTM(64, input_shape=(10, 3)))\nm.add(RepeatVector(10))\n"
        "m.add(LSTM(64, return_sequences=True))\n",
        # not a literal: unknown
        "from tensorflow.keras import layers\ndef f(x, rs):\n"
        "    x = layers.GRU(8, return_sequences=rs)(x)\n    return layers.GRU(8)(x)\n",
        # adds in different branches are not known to be adjacent
        "from tensorflow import keras\nm = keras.Sequential()\nm.add(keras.layers.LSTM(4))\n"
        "if deep:\n    m.add(keras.layers.LSTM(4))\n",
    ]
    INVALID = [
        Example("from tensorflow.keras import layers, Sequential\n"
                "m = Sequential([layers.LSTM(64), layers.LSTM(32)])\n"),
        Example("from tensorflow.keras import layers, Sequential\n"
                "m = Sequential([layers.LSTM(64), layers.Dropout(0.2), layers.LSTM(32)])\n",
                "from tensorflow.keras import layers, Sequential\n"
                "m = Sequential([layers.LSTM(64, return_sequences=True), layers.Dropout(0.2), layers.LSTM(32)])\n",
                {"unsafe_fixes": True}),
        Example("import keras\nx = keras.layers.GRU(8, return_sequences=False)(x)\n"
                "y = keras.layers.Bidirectional(keras.layers.GRU(8))(x)\n",
                "import keras\nx = keras.layers.GRU(8, return_sequences=True)(x)\n"
                "y = keras.layers.Bidirectional(keras.layers.GRU(8))(x)\n",
                {"unsafe_fixes": True}),
    ]

    def visit_Module(self, node: cst.Module) -> None:
        self.facts = ModuleFacts.of(self)
        self.done: set[int] = set()
        for scope in self.facts.scopes:
            self._sequential(scope)
            self._functional(scope)

    # ------------------------------------------------------------------ Sequential models
    def _sequential(self, scope: ScopeFacts) -> None:
        for chain in sequential_chains(self.facts, scope):
            pending: Optional[LayerCtor] = None
            prev = None
            for el in chain.elements:
                if prev is not None and not _adjacent(prev, el, chain):
                    pending = None
                prev = el
                layer = None if isinstance(el.expr, cst.StarredElement) else self.facts.layer(el.expr, scope)
                if layer is None:
                    pending = None
                elif layer.recurrent:
                    if pending is not None:
                        self._report(pending, layer)
                    pending = layer if layer.returns_sequences() is False else None
                elif layer.kind not in RANK_PRESERVING:
                    pending = None

    # ------------------------------------------------------------------ functional calls
    def _functional(self, scope: ScopeFacts) -> None:
        self.scope = scope
        owner = scope.owner
        body = owner.body if isinstance(owner, cst.FunctionDef) else owner
        self._block(body, {})

    def _block(self, body, state: dict) -> None:
        for stmt in getattr(body, "body", ()):
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    self._small(small, state)
            elif isinstance(stmt, cst.BaseSmallStatement):
                self._small(stmt, state)
            elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                state.pop(stmt.name.value, None)
            elif isinstance(stmt, cst.With):
                for item in stmt.items:
                    self._eval(item.item, state)
                    if item.asname is not None:
                        _forget(item.asname, state)
                self._block(stmt.body, state)
            else:  # if / for / while / try / match: each branch on a copy, then forget
                for n in _headers(stmt):
                    self._eval(n, state)
                for sub in _sub_blocks(stmt):
                    self._block(sub, dict(state))
                _forget(stmt, state)

    def _small(self, small: cst.BaseSmallStatement, state: dict) -> None:
        if isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None:
            out = self._eval(small.value, state)
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
            for t in targets:
                _forget(t, state)
                if isinstance(t, cst.Name) and len(targets) == 1 and out is not None:
                    state[t.value] = out
            return
        for n in walk(small):
            if isinstance(n, cst.Call):
                self._eval(n, state)
        if not isinstance(small, (cst.Expr, cst.Return)):
            _forget(small, state)

    def _eval(self, expr: cst.BaseExpression, state: dict) -> Optional[LayerCtor]:
        """The recurrent layer whose last-step-only output `expr` is, if the file shows it."""
        if isinstance(expr, cst.Name):
            return state.get(expr.value)
        if not isinstance(expr, cst.Call):
            return None
        layer = self.facts.layer(expr.func, self.scope)  # `LSTM(8)(x)`, `lstm(x)`, `self.lstm(x)`
        inputs = argument(expr, 0, "inputs")
        if layer is None:
            for a in expr.args:
                self._eval(a.value, state)
            return None
        source = self._eval(inputs, state) if inputs is not None else None
        if layer.recurrent:
            if source is not None:
                self._report(source, layer, expr)
            return layer if layer.returns_sequences() is False else None
        if layer.kind in RANK_PRESERVING:
            return source
        return None

    # ------------------------------------------------------------------ report
    def _report(self, producer: LayerCtor, consumer: LayerCtor, at: Optional[cst.CSTNode] = None) -> None:
        call = producer.core.call
        if id(call) in self.done:
            return
        self.done.add(id(call))
        line = line_of(self, at if at is not None else consumer.call)
        expected = _SEQUENCE_RANK.get(consumer.core.kind, 3)
        found = _SEQUENCE_RANK.get(producer.core.kind, 3) - 1
        self.report(
            call,
            f"`{producer.core.kind}` returns only its last output (no `return_sequences=True`) but "
            f"feeds the recurrent layer `{consumer.kind}` (line {line}), which needs the whole "
            f"sequence: the model fails to build (`expected ndim={expected}, found ndim={found}`). Set "
            f"`return_sequences=True` here (or put a `RepeatVector` in between).",
            with_keyword(call, "return_sequences", cst.Name("True")),
        )


_SEQUENCE_RANK = {"ConvLSTM1D": 4, "ConvLSTM2D": 5, "ConvLSTM3D": 6}  # others: 3


def _adjacent(prev, el, chain) -> bool:
    if not el.via_add and not prev.via_add:
        return True
    if el.stmt.block != prev.stmt.block or el.stmt.loops != prev.stmt.loops:
        return False
    return not any(prev.stmt.index < u < el.stmt.index for u in chain.other_uses)


def _headers(stmt) -> list:
    if isinstance(stmt, (cst.If, cst.While)):
        return [stmt.test]
    if isinstance(stmt, cst.For):
        return [stmt.iter]
    return []


def _sub_blocks(stmt) -> list:
    out = []
    for attr in ("body", "orelse", "finalbody"):
        sub = getattr(stmt, attr, None)
        if isinstance(sub, cst.If):
            out.extend(_sub_blocks(sub))
        elif sub is not None and hasattr(sub, "body"):
            out.append(sub.body if isinstance(sub, (cst.Else, cst.Finally)) else sub)
    for h in getattr(stmt, "handlers", ()):
        out.append(h.body)
    for case in getattr(stmt, "cases", ()):
        out.append(case.body)
    return out


def _forget(node: cst.CSTNode, state: dict) -> None:
    if not state:
        return
    if isinstance(node, cst.Name):
        state.pop(node.value, None)
        return
    for n in walk(node, into_scopes=True):
        if isinstance(n, cst.Name):
            state.pop(n.value, None)
