"""KM348, KM349, KM351, KM353, KM354: Keras 2 habits that Keras 3 turned into run-time errors: `model.reset_states()`,
layer sizes computed with NumPy, the metric names `acc`/`val_acc`, checkpoint file suffixes and a
Sequential model's `input`/`output`."""
from __future__ import annotations

import ast
import re
from typing import Optional

import libcst as cst

from kmigrate.rule import KERAS_OR_TF, Example, Safety, Severity
from kmigrate.rules.analysis.keras_facts import ModuleIndex
from kmigrate.rules.keras3.keras2_common import (
    KerasRule, code_of, kwarg, make_kw, name_bindings, positional, string_literal, walk, with_args,
)
from kmigrate.rules.keras3.screens import nodes, scan, spelled
from kmigrate.rules.tables.keras2_api import (
    ACCURACY_NAMES, CALLBACKS_WITH_MONITOR, MODEL_FACTORIES, NUMPY_INT_RESULTS, SIZE_ARGUMENTS,
)

_SIZED_LAYERS = tuple(k.rpartition(".")[2] for k in SIZE_ARGUMENTS)  # KM349
_SIZE_KEYWORDS = frozenset(k for names, _ in SIZE_ARGUMENTS.values() for k in names)


def _numpy_sizes(facts) -> bool:
    """KM349: a sized layer (or an alias) called with a size `_numpy` may find NumPy's: an expression
    with a call of a name `import numpy` binds or an argument-less `.max()`, or a name an assignment
    gives such a value."""
    ns = nodes(facts)
    numpy = {a.asname or a.name for n in ns.imports if type(n) is ast.Import for a in n.names if a.name == "numpy"}

    def computed(expr) -> bool:
        for x in ast.walk(expr):
            if type(x) is ast.Call and type(x.func) is ast.Attribute:
                if x.func.attr in NUMPY_INT_RESULTS and not x.args and not x.keywords:
                    return True
                root = x.func
                while type(root) is ast.Attribute:
                    root = root.value
                if type(root) is ast.Name and root.id in numpy:
                    return True
        return False

    names = {t.id for a in ns.assigns if type(a) is ast.Assign and computed(a.value)
             for t in a.targets if type(t) is ast.Name}

    def sized(call) -> bool:
        values = [a for a in call.args if type(a) is not ast.Starred][:2] + [
            k.value for k in call.keywords if k.arg in _SIZE_KEYWORDS]
        return any((type(v) is ast.Name and v.id in names) or computed(v) for v in values)

    return scan(facts, _SIZED_LAYERS, call=sized)


def _io_of_assigned(facts) -> bool:
    """KM354: `x.output`/`x.input` of a name `x` some statement assigns a call to."""
    ns = nodes(facts)
    read = {n.value.id for a in ("output", "input") for n in ns.attributes.get(a, ()) if type(n.value) is ast.Name}
    return bool(read) and any(type(t) is ast.Name and t.id in read for n in ns.assigns if type(n.value) is ast.Call
                              for t in (n.targets if type(n) is ast.Assign else (n.target,)))


# ---------------------------------------------------------------------------------- KM348


class ModelResetStates(KerasRule):
    """
    ## What it does
    Rewrites `model.reset_states()` on a Keras model, a statement of its own, into a loop that
    resets each layer that has state:
    `for layer in model.layers: if hasattr(layer, "reset_states"): layer.reset_states()`.
    The receiver must be a name bound to `Sequential(...)`/`Model(...)` in the file, or
    `self.model` (a callback's model, or a class holding one; unsafe).

    ## Why is this bad
    Keras 3 models have no `reset_states()` (`AttributeError: 'Sequential' object has no
    attribute 'reset_states'`); the recurrent layers still have it.

    ## Example
    ```python
    model.reset_states()
    ```
    becomes
    ```python
    for layer in model.layers:
        if hasattr(layer, "reset_states"):
            layer.reset_states()
    ```

    ## Fix safety
    Safe when the file builds exactly one model, so none is nested in another; unsafe otherwise
    (and for `self.model`): a nested model is a layer without `reset_states` in Keras 3, so its
    stateful layers would keep their state (reset them through the nested model's `layers`).
    """

    code = "KM348"
    name = "model-reset-states"
    summary = "`model.reset_states()` is gone in Keras 3; reset each stateful layer"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("reset_states",)
    requires = ("keras",)

    @classmethod
    def screen(cls, facts, context) -> bool:
        # `self.model.reset_states()` (a callback) is reported without any import
        return "reset_states" in facts.calls and ("model" in facts.attrs or facts.reaches(*KERAS_OR_TF))

    VALID = [
        "from keras.layers import LSTM\nlstm = LSTM(4, stateful=True)\nlstm.reset_states()\n",
        "from keras.models import Sequential\nm = Sequential()\nfor layer in m.layers:\n    layer.reset_states()\n",
    ]
    INVALID = [
        Example("from keras.models import Sequential\nmodel = Sequential()\nmodel.reset_states()\n",
                "from keras.models import Sequential\nmodel = Sequential()\nfor layer in model.layers:\n"
                "    if hasattr(layer, 'reset_states'):\n        layer.reset_states()\n"),
        Example("from keras.models import Sequential, Model\na = Sequential()\nb = Model(x, y)\nb.reset_states()\n",
                "from keras.models import Sequential, Model\na = Sequential()\nb = Model(x, y)\nfor layer in b.layers:\n"
                "    if hasattr(layer, 'reset_states'):\n        layer.reset_states()\n", {"unsafe_fixes": True}),
        Example("from keras.models import Sequential\nmodel = Sequential()\nx = model.reset_states() or 1\n"),
    ]

    def __init__(self, context):
        super().__init__(context)
        self.statements: dict = {}

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        if len(node.body) == 1 and isinstance(node.body[0], cst.Expr):
            self.statements[node.body[0].value] = node

    def visit_Call(self, node: cst.Call) -> None:
        if not (isinstance(node.func, cst.Attribute) and node.func.attr.value == "reset_states" and not node.args):
            return
        receiver = node.func.value
        nested_possible = None
        if isinstance(receiver, cst.Name) and self.models.is_model(receiver):
            factories = sum(1 for n in walk(self.module) if isinstance(n, cst.Call)
                            and self.call_kname(n) in MODEL_FACTORIES)
            nested_possible = factories != 1
        elif (isinstance(receiver, cst.Attribute) and receiver.attr.value == "model"
              and isinstance(receiver.value, cst.Name) and receiver.value.value == "self"):
            nested_possible = True
        if nested_possible is None:
            return
        message = "Keras 3 models have no `reset_states()`: reset each layer that has state"
        stmt = self.statements.get(node)
        if stmt is None:
            self.report(node, message + " (`for layer in model.layers: if hasattr(layer, 'reset_states'): "
                        "layer.reset_states()`); the call is part of an expression: rewrite by hand")
            return
        taken = {n.value for n in walk(self.module) if isinstance(n, cst.Name)}
        var = next((v for v in ("layer", "stateful_layer", "layer_", "_layer") if v not in taken), None)
        if var is None:
            self.report(node, message + "; rewrite by hand")
            return
        quote = string_literal("reset_states", like=self.module)
        text = (f"for {var} in {code_of(receiver)}.layers:\n    if hasattr({var}, {quote.value}):\n"
                f"        {var}.reset_states()\n")
        loop = cst.parse_statement(text).with_changes(leading_lines=stmt.leading_lines)
        self.report(stmt, message + (" (unsafe: a nested model's layers are not reached)" if nested_possible else ""),
                    loop, safety=Safety.UNSAFE if nested_possible else Safety.SAFE, at=node)


# ---------------------------------------------------------------------------------- KM349


class NumpyLayerSize(KerasRule):
    """
    ## What it does
    Wraps in `int(...)` a layer size computed with NumPy: `units`/`output_dim`/`input_dim` (or the
    first positional argument of `Dense`, `GRU`, `SimpleRNN`, both of `Embedding`: the layers
    whose check rejects NumPy integers; `LSTM` and the conv layers accept them) given a NumPy expression (`np.max(y) + 1`, `y.max() + 1`, `np.prod(shape)`), or a
    name bound once in the file to one (`num_classes = np.max(y) + 1`), where the name is bound.

    ## Why is this bad
    Keras 3 checks sizes with `isinstance(units, int)`, which a NumPy integer fails:
    `ValueError: Received an invalid value for units, expected a positive integer. Received:
    units=10`. Keras 2 accepted it.

    ## Example
    ```python
    num_classes = np.max(y_train) + 1
    model.add(Dense(num_classes))
    ```
    becomes
    ```python
    num_classes = int(np.max(y_train) + 1)
    model.add(Dense(num_classes))
    ```

    ## Fix safety
    Safe: the same number, as a Python `int` (a size is a whole number; `int()` of a NumPy
    integer or integral float is exact). A name bound more than once (a function's parameter and
    the module-level value passed to it) gets `int(...)` at each binding computed with NumPy:
    whichever reaches the layer is then an `int`; a NumPy binding that assigns several names at
    once is reported; a name whose origin the file does not show (a parameter, an import) is
    left alone.
    """

    code = "KM349"
    needs_import = KERAS_OR_TF
    name = "numpy-layer-size"
    summary = "Layer size computed with NumPy (`np.max(y) + 1`); Keras 3 wants a Python `int`"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("numpy",)
    requires = ("keras",)

    @classmethod
    def screen(cls, facts, context) -> bool:
        # a sized layer of its table, and a NumPy call (`import numpy`) or an argument-less `.max()`
        return ("numpy" in facts.imports or not facts.calls.isdisjoint(NUMPY_INT_RESULTS)) \
            and spelled(facts, _SIZED_LAYERS) and _numpy_sizes(facts)

    VALID = [
        "import numpy as np\nfrom keras.layers import Dense\nn = int(np.max(y) + 1)\nd = Dense(n)\n",
        "import numpy as np\nfrom keras.layers import Dense\nd = Dense(x.shape[1])\nk = Dense(len(np.unique(y)))\n",
    ]
    INVALID = [
        Example("import numpy as np\nfrom keras.layers import Dense\nn = np.max(y) + 1\nd = Dense(n)\n",
                "import numpy as np\nfrom keras.layers import Dense\nn = int(np.max(y) + 1)\nd = Dense(n)\n"),
        Example("import numpy as np\nfrom keras.layers import Dense\nd = Dense(units=y.max() + 1)\n",
                "import numpy as np\nfrom keras.layers import Dense\nd = Dense(units=int(y.max() + 1))\n"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        k = self.call_kname(node)
        if not k or k not in SIZE_ARGUMENTS:
            return
        names, count = SIZE_ARGUMENTS[k]
        pos = positional(node)
        args = list(pos[:count]) + [a for a in node.args if a.keyword is not None and a.keyword.value in names]
        for arg in args:
            self._size(arg.value, k)

    def _bindings(self) -> dict:
        return name_bindings(self.module)  # computed once per module, shared with the other rules

    def _is_numpy(self, name: str) -> bool:
        """Whether some `import numpy` / `import numpy as <name>` in the file binds `name`."""
        known = self.__dict__.setdefault("_np", {})
        found = known.get(name)
        if found is None:
            parents = ModuleIndex.of(self).parent
            found = False
            for b in self._bindings().get(name, ()):
                alias = parents.get(b) if type(b) is cst.AsName else b
                if type(alias) is cst.ImportAlias and type(parents.get(alias)) is cst.Import \
                        and code_of(alias.name) == "numpy":
                    found = True
                    break
            known[name] = found
        return found

    def _numpy(self, expr: cst.BaseExpression) -> bool:
        """An expression whose value NumPy computes (a numpy call or a reduction method)."""
        for n in walk(expr):
            if isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and n.func.value in ("int", "len", "round"):
                return False
            if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute):
                root = n.func
                while isinstance(root, cst.Attribute):
                    root = root.value
                if isinstance(root, cst.Name) and self._is_numpy(root.value):
                    return True
                if n.func.attr.value in NUMPY_INT_RESULTS and not n.args:
                    return True
        return False

    def _assign(self, target) -> Optional[cst.Assign]:
        """The `Assign` statement of a binding `AssignTarget` (None for other bindings)."""
        if type(target) is not cst.AssignTarget:
            return None
        return ModuleIndex.of(self).parent.get(target)

    def _size(self, value: cst.BaseExpression, k: str) -> None:
        cls = k.split(".")[1]
        message = (f"`{cls}` size computed with NumPy: Keras 3 rejects NumPy integers "
                   "(\"expected a positive integer\"); make it a Python `int`")
        if isinstance(value, cst.Name):
            found = self._bindings().get(value.value, ())
            if len(found) > 1:
                # bound more than once (a parameter and a module-level value passed to it, say):
                # each binding computed with NumPy gets its `int(...)`; the others are not NumPy's
                numpy_bound = [a for t in found if (a := self._assign(t)) is not None and self._numpy(a.value)]
                done = self.__dict__.setdefault("_done", set())
                for assign in numpy_bound:
                    if id(assign) in done:
                        continue
                    done.add(id(assign))
                    if len(assign.targets) != 1:
                        self.report(value, message + f"; `{value.value}` is bound more than once (one binding "
                                    "computes it with NumPy): wrap that value in `int(...)` by hand")
                        continue
                    self.report(assign.value, message + f" where `{value.value}` is bound (one of its bindings)",
                                cst.Call(func=cst.Name("int"), args=[cst.Arg(assign.value)]))
                return
            if len(found) != 1 or not isinstance(found[0], cst.AssignTarget):
                return
            assign = self._assign(found[0])
            if assign is None or len(assign.targets) != 1 or not self._numpy(assign.value):
                return
            done = self.__dict__.setdefault("_done", set())
            if id(assign) in done:
                return
            done.add(id(assign))
            self.report(assign.value, message + f" where `{value.value}` is bound",
                        cst.Call(func=cst.Name("int"), args=[cst.Arg(assign.value)]))
        elif self._numpy(value):
            self.report(value, message, cst.Call(func=cst.Name("int"), args=[cst.Arg(value)]))


# ---------------------------------------------------------------------------------- KM351


class AccuracyMetricNames(KerasRule):
    """
    ## What it does
    When the file compiles its models with `metrics=['accuracy']`, renames the Keras 2.2 log keys
    `'acc'`/`'val_acc'` to `'accuracy'`/`'val_accuracy'` where they are read: `monitor=` of the
    Keras callbacks (`EarlyStopping`, `ModelCheckpoint`, `ReduceLROnPlateau`), `{val_acc...}` in a
    `ModelCheckpoint` file name, and `history.history['acc']`. With `metrics=['acc']` the logs
    keep the name `acc`, but Keras 3 cannot tell whether `monitor='val_acc'` is to be maximized:
    there `mode='max'` is added.

    ## Why is this bad
    Keras 2.3 renamed the logs; Keras 3 raises on the old monitor name (`EarlyStopping callback
    received monitor=val_acc, but Keras isn't able to automatically determine whether that
    metric should be maximized or minimized`) and `history.history['acc']` is a `KeyError`.

    ## Example
    ```python
    model.compile(loss='binary_crossentropy', optimizer='adam', metrics=['accuracy'])
    stop = EarlyStopping(monitor='val_acc', patience=2)
    plt.plot(history.history['acc'])
    ```
    becomes
    ```python
    stop = EarlyStopping(monitor='val_accuracy', patience=2)
    plt.plot(history.history['accuracy'])
    ```

    ## Fix safety
    Safe: the same metric under the name Keras 3 logs it by. Files whose `compile` calls are not
    all visible with literal metrics (or that mix `'acc'` and `'accuracy'`) are left alone.
    """

    code = "KM351"
    name = "accuracy-metric-names"
    summary = "`monitor='val_acc'`/`history['acc']`: Keras logs `accuracy`/`val_accuracy` since 2.3"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("acc",)
    requires = ("keras",)

    @classmethod
    def screen(cls, facts, context) -> bool:
        # `h.history['acc']` beside `.compile(metrics=['accuracy'])` is reported without any import
        return facts.reaches(*KERAS_OR_TF) or (
            "history" in facts.attrs and "compile" in facts.calls and "metrics" in facts.keywords)

    VALID = [
        "from keras.callbacks import EarlyStopping\nm.compile(loss='mse', metrics=['accuracy'])\n"
        "s = EarlyStopping(monitor='val_accuracy')\n",
        "from keras.callbacks import EarlyStopping\ns = EarlyStopping(monitor='val_acc')\n",
    ]
    INVALID = [
        Example("from keras.callbacks import EarlyStopping\nm.compile(loss='mse', metrics=['accuracy'])\n"
                "s = EarlyStopping(monitor='val_acc')\nprint(h.history['acc'])\n",
                "from keras.callbacks import EarlyStopping\nm.compile(loss='mse', metrics=['accuracy'])\n"
                "s = EarlyStopping(monitor='val_accuracy')\nprint(h.history['accuracy'])\n"),
        Example("from keras.callbacks import ModelCheckpoint\nm.compile(loss='mse', metrics=['acc'])\n"
                "c = ModelCheckpoint('w.h5', monitor='val_acc')\n",
                "from keras.callbacks import ModelCheckpoint\nm.compile(loss='mse', metrics=['acc'])\n"
                "c = ModelCheckpoint('w.h5', monitor='val_acc', mode='max')\n"),
    ]

    def _metric_style(self) -> Optional[str]:
        """'accuracy' / 'acc' when every compile in the file passes that literal metric name."""
        if "_style" in self.__dict__:
            return self._style
        found: set[str] = set()
        ok = True
        for n in walk(self.module):
            if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value == "compile":
                m = kwarg(n, "metrics")
                if m is None:
                    continue
                if not isinstance(m.value, (cst.List, cst.Tuple)):
                    ok = False
                    continue
                for e in m.value.elements:
                    if isinstance(e.value, cst.SimpleString) and e.value.evaluated_value in ("accuracy", "acc"):
                        found.add(e.value.evaluated_value)
        self._style = next(iter(found)) if ok and len(found) == 1 else None
        return self._style

    def visit_Call(self, node: cst.Call) -> None:
        k = self.call_kname(node)
        if k not in CALLBACKS_WITH_MONITOR:
            return
        style = self._metric_style()
        if style is None:
            return
        arg = kwarg(node, "monitor")
        if arg is not None and isinstance(arg.value, cst.SimpleString) and arg.value.evaluated_value in ACCURACY_NAMES:
            old = arg.value.evaluated_value
            if style == "accuracy":
                new = ACCURACY_NAMES[old]
                self.report(arg.value, f"`monitor={old!r}`: Keras logs `{new}` for `metrics=['accuracy']` since 2.3; "
                            "Keras 3 raises on the old name", string_literal(new, like=arg.value))
            elif kwarg(node, "mode") is None:
                self.report(node, f"`monitor={old!r}`: Keras 3 cannot tell that `{old}` is to be maximized; "
                            "pass `mode='max'`",
                            with_args(node, [*node.args, make_kw("mode", string_literal("max", like=arg.value),
                                                                 like=arg)]), at=arg)
        if style == "accuracy" and k.endswith("ModelCheckpoint"):
            pos = positional(node)
            path = pos[0] if pos else kwarg(node, "filepath")
            strings = [n for n in walk(path.value) if isinstance(n, cst.SimpleString)] if path is not None else []
            for string in strings:  # the literal, or the pieces of os.path.join(folder, '...{val_acc:.2f}...')
                old_text = string.value
                text = old_text.replace("{val_acc:", "{val_accuracy:").replace("{val_acc}", "{val_accuracy}")
                text = text.replace("{acc:", "{accuracy:").replace("{acc}", "{accuracy}")
                if text != old_text:
                    self.report(string, "`{val_acc}` in a checkpoint name: the log is `val_accuracy` since "
                                "Keras 2.3", string.with_changes(value=text))

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if not (isinstance(node.value, cst.Attribute) and node.value.attr.value == "history"):
            return
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return
        key = node.slice[0].slice.value
        if not (isinstance(key, cst.SimpleString) and key.evaluated_value in ACCURACY_NAMES):
            return
        if self._metric_style() != "accuracy":
            return
        new = ACCURACY_NAMES[key.evaluated_value]
        self.report(key, f"`history[{key.evaluated_value!r}]`: Keras logs `{new}` for `metrics=['accuracy']` "
                    "since 2.3 (KeyError today)", string_literal(new, like=key))


# ---------------------------------------------------------------------------------- KM353


class CheckpointFileSuffix(KerasRule):
    """
    ## What it does
    Gives a `ModelCheckpoint` file name the suffix Keras 3 requires: with
    `save_weights_only=True` it must end in `.weights.h5` (`'w.hdf5'`/`'w.h5'` -> `'w.weights.h5'`),
    otherwise in `.keras` or `.h5` (`'model.hdf5'` -> `'model.h5'`). The same literal elsewhere
    in the file (a later `load_model('model.hdf5')` / `load_weights(...)`) is renamed with it.

    ## Why is this bad
    Keras 3 raises when the callback is created: `ValueError: The filepath provided must end in
    .keras (Keras model format). Received: filepath=keras_weights.hdf5` (and `When using
    save_weights_only=True in ModelCheckpoint, the filepath provided must end in .weights.h5`).

    ## Example
    ```python
    ModelCheckpoint('best.hdf5', save_best_only=True)
    ```
    becomes
    ```python
    ModelCheckpoint('best.h5', save_best_only=True)
    ```

    ## Fix safety
    Safe: the same HDF5 file under the name Keras 3 accepts, renamed wherever the file spells
    it. A name that is not a literal, or another suffix, is reported.
    """

    code = "KM353"
    needs_import = KERAS_OR_TF
    name = "checkpoint-file-suffix"
    summary = "`ModelCheckpoint` file name without the `.keras`/`.h5`/`.weights.h5` suffix Keras 3 requires"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("ModelCheckpoint",)
    requires = ("keras",)

    VALID = ["from keras.callbacks import ModelCheckpoint\nc = ModelCheckpoint('m.keras')\n",
             "from keras.callbacks import ModelCheckpoint\nc = ModelCheckpoint('w.weights.h5', save_weights_only=True)\n"]
    INVALID = [
        Example("from keras.callbacks import ModelCheckpoint\nc = ModelCheckpoint('best.hdf5', save_best_only=True)\n"
                "m = load_model('best.hdf5')\n",
                "from keras.callbacks import ModelCheckpoint\nc = ModelCheckpoint('best.h5', save_best_only=True)\n"
                "m = load_model('best.h5')\n"),
        Example("from keras.callbacks import ModelCheckpoint\nc = ModelCheckpoint('w.h5', save_weights_only=True)\n",
                "from keras.callbacks import ModelCheckpoint\nc = ModelCheckpoint('w.weights.h5', save_weights_only=True)\n"),
        Example("from keras.callbacks import ModelCheckpoint\nc = ModelCheckpoint('best.model')\n"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if self.call_kname(node) != "callbacks.ModelCheckpoint":
            return
        pos = positional(node)
        arg = pos[0] if pos else kwarg(node, "filepath")
        if arg is None:
            return
        weights = kwarg(node, "save_weights_only")
        weights_only = weights is not None and code_of(weights.value) == "True"
        if weights is not None and code_of(weights.value) not in ("True", "False"):
            return
        value = arg.value
        strings = [value] if isinstance(value, cst.SimpleString) else [
            n for n in walk(value) if isinstance(n, cst.SimpleString)] if isinstance(value, cst.Call) else []
        last = strings[-1] if strings else None
        if last is None or not isinstance(last.evaluated_value, str):
            if not isinstance(value, (cst.SimpleString, cst.Call)):
                return  # a name: its value is not visible (Keras 3 checks it when the callback is built)
            self.report(arg, "Keras 3 requires a `ModelCheckpoint` file name ending in " +
                        ("`.weights.h5`" if weights_only else "`.keras` or `.h5`") + "; check it by hand")
            return
        old = last.evaluated_value
        if weights_only:
            if old.endswith(".weights.h5"):
                return
            stem = re.sub(r"\.(h5|hdf5|hdf)$", "", old)
            new = stem + ".weights.h5"
        else:
            if old.endswith((".keras", ".h5")):
                return
            if not re.search(r"\.(hdf5|hdf)$", old):
                self.report(arg, f"Keras 3 requires a `ModelCheckpoint` file name ending in `.keras` or `.h5`: "
                            f"{old!r}; rename it by hand")
                return
            new = re.sub(r"\.(hdf5|hdf)$", ".h5", old)
        message = (f"Keras 3 requires a `ModelCheckpoint` file name ending in "
                   f"{'`.weights.h5` with `save_weights_only=True`' if weights_only else '`.keras` or `.h5`'}: "
                   f"{old!r} becomes {new!r}")
        others = [n for n in walk(self.module) if isinstance(n, cst.SimpleString) and n is not last
                  and n.evaluated_value == old]
        self.report(last, message, string_literal(new, like=last))
        for other in others:
            self.report(other, f"the checkpoint file {old!r} is now {new!r}", string_literal(new, like=other))


# ---------------------------------------------------------------------------------- KM354


class SequentialInputOutput(KerasRule):
    """
    ## What it does
    Rewrites `model.output` and `model.input` on a Sequential model (a name bound once to
    `Sequential(...)` in the file) to `model.outputs[0]` and `model.inputs[0]`.

    ## Why is this bad
    A Keras 3 Sequential model is not a called layer: `model.output` raises `AttributeError: The
    layer sequential has never been called and thus has no defined output`, even after `fit()`.
    `outputs`/`inputs` hold its (single) symbolic output and input once it is built, as
    `output`/`input` did in Keras 2 (`Model(model.input, model.layers[-2].output)`,
    `K.int_shape(model.output)`).

    ## Example
    ```python
    model = Sequential([Input(shape=(4,)), Dense(3)])
    features = Model(model.input, model.layers[-2].output)
    ```
    becomes
    ```python
    features = Model(model.inputs[0], model.layers[-2].output)
    ```

    ## Fix safety
    Safe: a Sequential model has one input and one output. A layer's own `output`
    (`model.layers[-1].output`) still works and is left alone; so are assignments to the attribute.
    """

    code = "KM354"
    needs_import = KERAS_OR_TF
    name = "sequential-input-output"
    summary = "A Sequential model's `.output`/`.input` raise in Keras 3; use `.outputs[0]`/`.inputs[0]`"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = (".output", ".input")
    requires = ("Sequential",)

    @classmethod
    def screen(cls, facts, context) -> bool:
        # `.output`/`.input` of a name bound to Keras' `Sequential(...)`
        return not facts.attrs.isdisjoint(("output", "input")) and spelled(facts, ("Sequential",)) \
            and _io_of_assigned(facts)

    VALID = [
        "from keras.models import Sequential\nm = Sequential()\ny = m.layers[-1].output\n",
        "from keras.models import Model\nm = Model(a, b)\ny = m.output\n",  # a functional model has them
        "from keras.models import Sequential\nm = Sequential()\nm.output = 1\n",
        "from keras.models import Sequential\nm = Sequential()\nm = other()\ny = m.output\n",
    ]
    INVALID = [
        Example("from keras.models import Sequential, Model\nm = Sequential()\nf = Model(m.input, m.output)\n",
                "from keras.models import Sequential, Model\nm = Sequential()\nf = Model(m.inputs[0], m.outputs[0])\n"),
    ]

    def __init__(self, context):
        super().__init__(context)
        self._targets: set = set()

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._targets.add(id(node.target))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        attr = node.attr.value
        if attr not in ("output", "input") or id(node) in self._targets:
            return
        kind = self.models.factory(node.value.value) if isinstance(node.value, cst.Name) else None
        if kind is None or not kind.endswith("Sequential"):
            return
        new = cst.Subscript(value=node.with_changes(attr=cst.Name(attr + "s")),
                            slice=[cst.SubscriptElement(cst.Index(cst.Integer("0")))])
        self.report(node, f"a Keras 3 Sequential model has no `{attr}` (it raises \"never been called\"): "
                    f"use `{code_of(node.value)}.{attr}s[0]`", new)
