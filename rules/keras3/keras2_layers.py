"""KM330..KM334, KM336: layer constructor arguments of Keras 1/2 that Keras 3 removed or changed
(KM335, `weights=`, is in layer_weights.py)."""
from __future__ import annotations

import ast
from typing import Optional, Sequence

import libcst as cst

from libcst.helpers import get_full_name_for_node

from kmigrate.names import canonical_keras, keras_module
from kmigrate.walk import walk
from kmigrate.rule import KERAS_OR_TF, Example, ImportEdit, Safety, Severity
from kmigrate.rules.keras3.keras2_common import (
    KerasRule, LayerKeywordRule, code_of, is_layer, kwarg, make_kw, positional, with_args,
)
from kmigrate.rules.keras3.screens import called_with, keras_call_with, keras_import_words, nodes, scan, spelled
from kmigrate.rules.tables.keras2_api import INPUT_DIM_IS_NOT_SHAPE, POOLING_WITHOUT_DEFAULT, SEQUENCE_INPUT_DIM

_SHAPE_KWS = ("input_shape", "batch_input_shape", "input_dim", "input_length")
_POOLING = tuple(k.rpartition(".")[2] for k in POOLING_WITHOUT_DEFAULT)


def _first_layer_shape(facts) -> bool:
    """KM330: a call with a shape keyword first in a list (`Sequential([Dense(4, input_dim=3), ...])`)
    or alone in an `.add(...)` (`model.add(Dense(4, input_dim=3))`)."""
    def shaped(node) -> bool:
        return type(node) is ast.Call and any(k.arg in _SHAPE_KWS for k in node.keywords)

    ns = nodes(facts)
    return any(shaped(c) for c in ns.list_heads) or any(
        type(n.func) is ast.Attribute and (n.args and shaped(n.args[0]) or any(shaped(k.value) for k in n.keywords))
        for n in ns.calls.get("add", ()))




class InputShapeOnLayer(KerasRule):
    """
    ## What it does
    Moves `input_shape=`, `batch_input_shape=`, `input_dim=` (and Keras 1's `input_length=`)
    from the first layer of a `Sequential` model into a leading `Input(shape=...)`
    (`Input(batch_shape=...)` for `batch_input_shape`), both for `Sequential([...])` and for a
    `model = Sequential()` followed directly by `model.add(...)`. Elsewhere (a layer that is
    not visibly the first of a Sequential model) the keywords are reported.

    For `Embedding`, `input_dim` is the vocabulary size and stays; its `input_length=n`
    becomes `Input(shape=(n,))`. A recurrent layer or a 1D convolution read `input_dim=d` as the
    features of one step: `shape=(n, d)` with `input_length=n`, else `shape=(None, d)` (any number
    of steps, as Keras 1 and 2 built it). For other layers `input_dim=d` is `shape=(d,)`.

    ## Why is this bad
    Keras 3 rejects `batch_input_shape=` and `input_length=` on most layers (`ValueError:
    Unrecognized keyword arguments`), and warns about `input_shape=`/`input_dim=`
    ("Do not pass an `input_shape`/`input_dim` argument to a layer").

    ## Example
    ```python
    model = Sequential()
    model.add(Dense(64, input_dim=20, activation="relu"))
    ```
    becomes
    ```python
    model = Sequential()
    model.add(Input(shape=(20,)))
    model.add(Dense(64, activation="relu"))
    ```

    ## Fix safety
    Safe: the model gets the same input shape, declared the way Keras 3 expects.
    """

    # Fires only on names resolved to Keras: a file that never spells "keras" is not parsed.
    requires = ("keras",)

    code = "KM330"
    needs_import = KERAS_OR_TF
    name = "input-shape-on-layer"
    summary = "`input_shape=`/`batch_input_shape=`/`input_dim=` on a layer; start the model with `Input`"
    severity = Severity.WARNING
    fix_safety = Safety.SAFE
    triggers = ("input_shape", "input_dim", "input_length")

    @classmethod
    def screen(cls, facts, context) -> bool:
        # `batch_input_shape=`/`input_length=` on a layer, or a shape keyword in a Sequential model
        return keras_call_with(facts, ("batch_input_shape", "input_length")) or (
            not facts.keywords.isdisjoint(_SHAPE_KWS)
            and any(w.endswith("Sequential") for w in (*facts.attrs, *keras_import_words(facts)))
            and _first_layer_shape(facts))

    VALID = [
        "from keras.models import Sequential\nfrom keras.layers import Dense, Input\n"
        "m = Sequential([Input(shape=(3,)), Dense(2)])\n",
        "from keras.layers import Embedding\ne = Embedding(input_dim=100, output_dim=8)\n",
        "layer = MyLayer(input_shape=(3,))\n",
    ]
    INVALID = [
        Example("from keras.models import Sequential\nfrom keras.layers import Dense\n"
                "model = Sequential()\nmodel.add(Dense(64, input_dim=20, activation='relu'))\nmodel.add(Dense(1))\n",
                "from keras.models import Sequential\nfrom keras.layers import Dense\n"
                "from tensorflow.keras.layers import Input\n\n"
                "model = Sequential()\nmodel.add(Input(shape=(20,)))\nmodel.add(Dense(64, activation='relu'))\n"
                "model.add(Dense(1))\n"),
        Example("from tensorflow import keras\n"
                "m = keras.Sequential([keras.layers.Dense(4, batch_input_shape=(8, 3)), keras.layers.Dense(1)])\n",
                "from tensorflow import keras\n"
                "m = keras.Sequential([keras.layers.Input(batch_shape=(8, 3)), keras.layers.Dense(4), keras.layers.Dense(1)])\n"),
        Example("from keras.models import Sequential\nfrom keras.layers import Embedding, LSTM\n"
                "model = Sequential()\nmodel.add(Embedding(1000, 16, input_length=50))\nmodel.add(LSTM(8))\n",
                "from keras.models import Sequential\nfrom keras.layers import Embedding, LSTM\n"
                "from tensorflow.keras.layers import Input\n\n"
                "model = Sequential()\nmodel.add(Input(shape=(50,)))\nmodel.add(Embedding(1000, 16))\nmodel.add(LSTM(8))\n"),
        Example("from keras.models import Sequential\nfrom keras.layers import LSTM\n"
                "model = Sequential()\nmodel.add(LSTM(8, input_dim=3))\n",
                "from keras.models import Sequential\nfrom keras.layers import LSTM\n"
                "from tensorflow.keras.layers import Input\n\n"
                "model = Sequential()\nmodel.add(Input(shape=(None, 3)))\nmodel.add(LSTM(8))\n"),
        Example("from keras.layers import LSTM\nlayer = LSTM(8, input_dim=3, input_length=5)\n"),  # not visibly first
    ]

    def __init__(self, context):
        super().__init__(context)
        self.handled: set[cst.Call] = set()

    # -------------------------------------------------------------- Sequential([...])
    def visit_Call(self, node: cst.Call) -> None:
        k = self.call_kname(node)
        if k and k.endswith("Sequential"):
            self._sequential_list(node)
            return
        if node in self.handled or not is_layer(k):
            return
        # Only what Keras 3 rejects; `input_shape`/`input_dim` it ignores past the first layer (KM504's lint).
        rejected = ("batch_input_shape",) if k in INPUT_DIM_IS_NOT_SHAPE else ("batch_input_shape", "input_length")
        present = [a for a in node.args if a.keyword is not None and a.keyword.value in rejected]
        if present:
            names = ", ".join(f"`{a.keyword.value}=`" for a in present)
            self.report(node, f"{names} on a layer that is not visibly the first of a Sequential model: Keras 3 "
                        "rejects it; declare the input with `keras.Input(shape=...)` / `Input(batch_shape=...)`")

    def _split(self, layer: cst.Call) -> Optional[tuple[cst.Call, list[cst.Arg]]]:
        """(layer without the shape keywords, Input(...) arguments) or None if nothing to move."""
        k = self.call_kname(layer)
        if not is_layer(k):
            return None
        kws = {a.keyword.value: a for a in layer.args if a.keyword is not None}
        embedding = k in INPUT_DIM_IS_NOT_SHAPE
        moved = [n for n in _SHAPE_KWS if n in kws and not (embedding and n == "input_dim")]
        if not moved:
            return None
        if "batch_input_shape" in kws and len(moved) > 1:
            return None
        if "batch_input_shape" in kws:
            args = [make_kw("batch_shape", kws["batch_input_shape"].value)]
        elif "input_shape" in kws:
            if "input_dim" in moved or "input_length" in moved:
                return None
            args = [make_kw("shape", kws["input_shape"].value)]
        elif embedding:
            args = [make_kw("shape", cst.parse_expression(f"({code_of(kws['input_length'].value)},)"))]
        elif "input_dim" in kws:
            dim = code_of(kws["input_dim"].value)
            length = code_of(kws["input_length"].value) if "input_length" in kws else None
            if k in SEQUENCE_INPUT_DIM:  # one step's features: (steps, features), any number of steps
                length = length or "None"
            shape = f"({length}, {dim})" if length is not None else f"({dim},)"
            args = [make_kw("shape", cst.parse_expression(shape))]
        else:
            return None  # input_length alone on a non-Embedding layer: no shape to give
        if "batch_size" in kws and "batch_input_shape" not in kws:
            args.append(make_kw("batch_size", kws["batch_size"].value))
            moved.append("batch_size")
        if "dtype" in kws and k in INPUT_DIM_IS_NOT_SHAPE:
            pass  # Embedding's dtype is its weights' dtype; leave it
        rest = [a for a in layer.args if not (a.keyword is not None and a.keyword.value in moved)]
        return with_args(layer, rest), args

    def _input_call(self, layer: cst.Call, args: list[cst.Arg]) -> tuple[cst.Call, list[ImportEdit]]:
        func = layer.func
        if isinstance(func, cst.Attribute) and self.kname(func.value) == "layers":
            return cst.Call(func=func.with_changes(attr=cst.Name("Input")), args=args), []
        if isinstance(func, cst.Attribute) and self.kname(func.value) == "":
            return cst.Call(func=cst.Attribute(value=func.value, attr=cst.Name("Input")), args=args), []
        target = self._input_binding()
        if target is not None:
            return cst.Call(func=cst.Name(target), args=args), []
        return (cst.Call(func=cst.Name("Input"), args=args),
                [ImportEdit(keras_module(self.context.target, "layers"), "Input")])

    def _input_binding(self) -> Optional[str]:
        for stmt in self.module.body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                    module = get_full_name_for_node(small.module) if small.module and not small.relative else None
                    for alias in small.names:
                        bound = alias.evaluated_alias or alias.evaluated_name
                        if (module and alias.evaluated_name == "Input"
                                and canonical_keras(f"{module}.Input") in ("layers.Input", "Input")):
                            return bound
        return None

    def _sequential_list(self, node: cst.Call) -> None:
        pos = positional(node)
        arg = pos[0] if pos else kwarg(node, "layers")
        if arg is None or not isinstance(arg.value, cst.List) or not arg.value.elements:
            return
        first = arg.value.elements[0]
        if not isinstance(first.value, cst.Call):
            return
        split = self._split(first.value)
        if split is None:
            return
        layer, input_args = split
        self.handled.add(first.value)
        inp, imports = self._input_call(first.value, input_args)
        comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        elements = [cst.Element(inp, comma=comma), first.with_changes(value=layer), *arg.value.elements[1:]]
        new_list = arg.value.with_changes(elements=elements)
        new = node.with_changes(args=[a.with_changes(value=new_list) if a is arg else a for a in node.args])
        self.report(node, "declare the model input with `Input(...)` instead of shape keywords on "
                    "the first layer (Keras 3)", new, imports=imports, at=first.value)

    # -------------------------------------------------------------- model = Sequential(); model.add(...)
    def visit_Module(self, node: cst.Module) -> None:
        self._blocks(node.body)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._blocks(node.body)

    def _blocks(self, body: Sequence[cst.BaseStatement]) -> None:
        for i, stmt in enumerate(body):
            name = self._sequential_assign(stmt)
            if name is None:
                continue
            for later in body[i + 1:]:
                add = self._add_call(later, name)
                if add is None:
                    break  # the next statement that is not `name.add(...)`: only a direct first add counts
                split = self._split(add.args[0].value) if len(add.args) == 1 else None
                if split is not None:
                    layer, input_args = split
                    self.handled.add(add.args[0].value)
                    inp, imports = self._input_call(add.args[0].value, input_args)
                    line = later.body[0]
                    first_stmt = later.with_changes(body=[cst.Expr(add.with_changes(
                        args=[cst.Arg(inp)]))])
                    second = later.with_changes(body=[line.with_changes(value=add.with_changes(
                        args=[add.args[0].with_changes(value=layer)]))], leading_lines=[])
                    self.report(later, "declare the model input with `Input(...)` instead of shape keywords "
                                "on the first layer (Keras 3)", cst.FlattenSentinel([first_stmt, second]),
                                imports=imports)
                break

    def _sequential_assign(self, stmt) -> Optional[str]:
        if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
            return None
        a = stmt.body[0]
        if (isinstance(a, cst.Assign) and len(a.targets) == 1 and isinstance(a.targets[0].target, cst.Name)
                and isinstance(a.value, cst.Call) and not a.value.args):
            k = self.call_kname(a.value)
            if k and k.endswith("Sequential"):
                return a.targets[0].target.value
        return None

    @staticmethod
    def _add_call(stmt, name: str) -> Optional[cst.Call]:
        if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1 or not isinstance(stmt.body[0], cst.Expr):
            return None
        call = stmt.body[0].value
        if (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value == "add"
                and isinstance(call.func.value, cst.Name) and call.func.value.value == name):
            return call
        return None




class EmbeddingDropout(LayerKeywordRule):
    """
    ## What it does
    Reports Keras 1's `Embedding(dropout=p)`. With `--unsafe-fixes` the keyword is removed.

    ## Why is this bad
    Keras 3 rejects it (`ValueError: Unrecognized keyword arguments passed to Embedding:
    {'dropout': ...}`). It dropped whole words of the vocabulary during training; the nearest
    thing today is a `SpatialDropout1D(p)` layer after the embedding (it drops embedding
    channels, not words) or dropping token ids in the input pipeline.

    ## Example
    ```python
    Embedding(20000, 128, dropout=0.2)
    ```
    becomes (with `--unsafe-fixes`)
    ```python
    Embedding(20000, 128)
    ```

    ## Fix safety
    Unsafe: the model loses that regularisation; add `SpatialDropout1D` by hand to keep some.
    """

    code = "KM331"
    needs_import = KERAS_OR_TF
    name = "embedding-dropout"
    summary = "`Embedding(dropout=)` is gone"
    severity = Severity.ERROR
    fix_safety = Safety.UNSAFE
    triggers = ("dropout",)
    layers = frozenset({"layers.Embedding"})

    @classmethod
    def screen(cls, facts, context) -> bool:
        # `Embedding(dropout=)`
        return called_with(facts, ("Embedding",), ("dropout",))

    VALID = ["from keras.layers import Embedding\ne = Embedding(100, 8)\n",
             "from keras.layers import LSTM\nl = LSTM(8, dropout=0.2)\n"]
    INVALID = [
        Example("from keras.layers import Embedding\ne = Embedding(100, 8, dropout=0.2)\n"),
        Example("from keras.layers import Embedding\ne = Embedding(100, 8, dropout=0.2)\n",
                "from keras.layers import Embedding\ne = Embedding(100, 8)\n", {"unsafe_fixes": True}),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        arg = kwarg(node, "dropout")
        if arg is not None and self.layer_call(node):
            self.report(node, "`Embedding(dropout=)` is gone in Keras 3 (it dropped whole words); remove it "
                        "and add `SpatialDropout1D(rate)` after the embedding if you need regularisation",
                        with_args(node, [a for a in node.args if a is not arg]))


class SimpleRNNImplementation(LayerKeywordRule):
    """
    ## What it does
    Removes `implementation=` from `SimpleRNN` (and its cell).

    ## Why is this bad
    Keras 2 took the keyword and dropped it with a deprecation warning (a simple RNN has one way
    to compute); Keras 3 rejects it: `ValueError: Unrecognized keyword arguments passed to
    SimpleRNN: {'implementation': 2}`. `LSTM` and `GRU` still take it.

    ## Example
    ```python
    SimpleRNN(32, implementation=2, return_sequences=True)
    ```
    becomes
    ```python
    SimpleRNN(32, return_sequences=True)
    ```

    ## Fix safety
    Safe: Keras 2 ignored the value. A computed value that is a call (it would no longer run) is
    removed only with `--unsafe-fixes`.
    """

    code = "KM336"
    needs_import = KERAS_OR_TF
    name = "simple-rnn-implementation"
    summary = "`SimpleRNN(implementation=)` is rejected by Keras 3 (Keras 2 ignored it)"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("implementation",)
    layers = frozenset({"layers.SimpleRNN", "layers.SimpleRNNCell"})

    @classmethod
    def screen(cls, facts, context) -> bool:
        # `SimpleRNN(implementation=)`
        return called_with(facts, ("SimpleRNN", "SimpleRNNCell"), ("implementation",))

    VALID = ["from keras.layers import LSTM\nl = LSTM(8, implementation=2)\n",
             "from keras.layers import SimpleRNN\nr = SimpleRNN(8)\n",
             "def SimpleRNN(n, implementation=0):\n    return n\nr = SimpleRNN(8, implementation=2)\n"]
    INVALID = [
        Example("from keras.layers import SimpleRNN\nr = SimpleRNN(8, implementation=2, return_sequences=True)\n",
                "from keras.layers import SimpleRNN\nr = SimpleRNN(8, return_sequences=True)\n"),
        Example("import tensorflow as tf\nc = tf.keras.layers.SimpleRNNCell(4, implementation=mode)\n",
                "import tensorflow as tf\nc = tf.keras.layers.SimpleRNNCell(4)\n"),
        Example("from keras.layers import SimpleRNN\nr = SimpleRNN(8, implementation=pick())\n"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        arg = kwarg(node, "implementation")
        kind = self.layer_call(node) if arg is not None else None
        if kind is None:
            return
        name = kind.rpartition(".")[2]
        safe = not any(type(n) is cst.Call for n in walk(arg.value))
        self.report(node, f"`{name}(implementation=)` is rejected by Keras 3 (Keras 2 ignored it): removed",
                    with_args(node, [a for a in node.args if a is not arg]),
                    safety=Safety.SAFE if safe else Safety.UNSAFE)


class EmbeddingInputLength(LayerKeywordRule):
    """
    ## What it does
    Removes `input_length=` from an `Embedding` layer that is not the first layer of a
    Sequential model (KM330 turns that one into an `Input(shape=(n,))`).

    ## Why is this bad
    Keras 3 ignores it and warns "Argument `input_length` is deprecated. Just remove it."; the
    sequence length now comes from the model input.

    ## Example
    ```python
    x = Embedding(1000, 64, input_length=100)(inp)
    ```
    becomes
    ```python
    x = Embedding(1000, 64)(inp)
    ```

    ## Fix safety
    Safe: Keras 3 already ignores the argument.
    """

    code = "KM332"
    needs_import = KERAS_OR_TF
    name = "embedding-input-length"
    summary = "`Embedding(input_length=)` is deprecated and ignored"
    severity = Severity.WARNING
    fix_safety = Safety.SAFE
    triggers = ("input_length",)
    layers = frozenset({"layers.Embedding"})

    @classmethod
    def screen(cls, facts, context) -> bool:
        # `Embedding(input_length=)`
        return called_with(facts, ("Embedding",), ("input_length",))

    VALID = ["from keras.layers import Embedding\nx = Embedding(1000, 64)(inp)\n"]
    INVALID = [
        Example("from keras.layers import Embedding\nx = Embedding(1000, 64, input_length=100)(inp)\n",
                "from keras.layers import Embedding\nx = Embedding(1000, 64)(inp)\n"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        arg = kwarg(node, "input_length")
        if arg is not None and self.layer_call(node):
            self.report(node, "`Embedding(input_length=)` is ignored by Keras 3; the input shape sets the length",
                        with_args(node, [a for a in node.args if a is not arg]))


class PoolingWithoutSize(LayerKeywordRule):
    """
    ## What it does
    Adds the old default `pool_size` to average-pooling layers created without one
    (`AveragePooling2D()` -> `AveragePooling2D(pool_size=(2, 2))`). Checked on TensorFlow 2.21:
    `AveragePooling1D/2D/3D` (and the `AvgPool*` aliases) have no default, while the
    `MaxPooling*` layers still default to 2.

    ## Why is this bad
    `AveragePooling2D()` raises `TypeError: missing 1 required positional argument: 'pool_size'`.

    ## Example
    ```python
    x = AveragePooling2D()(x)
    ```
    becomes
    ```python
    x = AveragePooling2D(pool_size=(2, 2))(x)
    ```

    ## Fix safety
    Safe: the value is Keras 2's default.
    """

    code = "KM333"
    needs_import = KERAS_OR_TF
    name = "pooling-without-size"
    summary = "`AveragePooling*D()` has no default `pool_size` any more"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("AveragePooling", "AvgPool")
    layers = frozenset(POOLING_WITHOUT_DEFAULT)

    @classmethod
    def screen(cls, facts, context) -> bool:
        # an average-pooling class (or an alias) called without positional arguments nor `pool_size=`
        return spelled(facts, _POOLING) and scan(facts, _POOLING, call=lambda c: not c.args and not any(
            k.arg in ("pool_size", "pool_length") for k in c.keywords))

    VALID = ["from keras.layers import MaxPooling2D\np = MaxPooling2D()\n",
             "from keras.layers import AveragePooling2D\np = AveragePooling2D(3)\n"]
    INVALID = [
        Example("from keras.layers import AveragePooling2D\nx = AveragePooling2D()(x)\n",
                "from keras.layers import AveragePooling2D\nx = AveragePooling2D(pool_size=(2, 2))(x)\n"),
        Example("from keras.layers import AveragePooling1D\nx = AveragePooling1D(padding='same')(x)\n",
                "from keras.layers import AveragePooling1D\nx = AveragePooling1D(pool_size=2, padding='same')(x)\n"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        k = self.layer_call(node)
        if not k or positional(node) or any(a.star for a in node.args):
            return
        if kwarg(node, "pool_size") or kwarg(node, "pool_length"):
            return
        size = make_kw("pool_size", cst.parse_expression(POOLING_WITHOUT_DEFAULT[k]))
        self.report(node, f"`{k.split('.')[1]}` needs `pool_size` in Keras 3; the old default was "
                    f"{POOLING_WITHOUT_DEFAULT[k]}", with_args(node, [size, *node.args]))


class BatchNormalizationMode(LayerKeywordRule):
    """
    ## What it does
    Removes Keras 1's `BatchNormalization(mode=0)` (the only mode Keras 2 kept) and reports
    `mode=1`/`mode=2`, which have no equivalent.

    ## Why is this bad
    Keras 3 rejects the keyword (`ValueError: Unrecognized keyword arguments passed to
    BatchNormalization: {'mode': 0}`).

    ## Example
    ```python
    BatchNormalization(mode=0, axis=1)
    ```
    becomes
    ```python
    BatchNormalization(axis=1)
    ```

    ## Fix safety
    Safe for `mode=0` (the default behaviour). Modes 1 and 2 (per-sample / per-batch
    statistics at test time too) need a human: `LayerNormalization` is the nearest to mode 1.
    """

    code = "KM334"
    needs_import = KERAS_OR_TF
    name = "batchnorm-mode"
    summary = "`BatchNormalization(mode=)` is gone"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("mode",)
    layers = frozenset({"layers.BatchNormalization"})

    @classmethod
    def screen(cls, facts, context) -> bool:
        # `BatchNormalization(mode=)`
        return called_with(facts, ("BatchNormalization",), ("mode",))

    VALID = ["from keras.layers import BatchNormalization\nb = BatchNormalization(axis=1)\n"]
    INVALID = [
        Example("from keras.layers import BatchNormalization\nb = BatchNormalization(mode=0, axis=1)\n",
                "from keras.layers import BatchNormalization\nb = BatchNormalization(axis=1)\n"),
        Example("from keras.layers import BatchNormalization\nb = BatchNormalization(mode=2)\n"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        arg = kwarg(node, "mode")
        if arg is None or not self.layer_call(node):
            return
        if code_of(arg.value) == "0":
            self.report(node, "`BatchNormalization(mode=0)` is the only behaviour left; Keras 3 rejects `mode=`",
                        with_args(node, [a for a in node.args if a is not arg]))
        else:
            self.report(node, f"`BatchNormalization(mode={code_of(arg.value)})` has no Keras 3 equivalent "
                        "(mode 1 normalised per sample: consider `LayerNormalization`; mode 2 used batch "
                        "statistics at test time too); rewrite by hand")
