"""KM201 TF1 `tf.layers` functions -> a Keras layer applied to the input; KM202 `tf.layers`
classes -> `tf.keras.layers`; KM203 the `tf.layers` module itself (aliases) and names with no
Keras form. Every spelling is matched through NameResolver.tf_layers_name (tf.layers.x,
tf.compat.v1.layers.x, `import tensorflow as T`, `from tensorflow.layers import dense`,
`tfl = tf.layers`); `mtf.layers` and other objects that merely have a `layers` attribute are not.
"""
from __future__ import annotations

import libcst as cst

from kmigrate.rule import Example, Safety, Severity
from kmigrate.rules.tables.tf_layers import (
    CALL_DEFAULTS,
    CLASS_NOTES,
    CLASS_DEFAULTS,
    CLASS_POSITIONAL,
    CLASSES,
    CTOR_DEFAULTS,
    DROPPABLE,
    FUNCTIONS,
    KERAS_POSITIONAL,
    WEIGHTED_CLASSES,
    WEIGHTLESS,
)
from kmigrate.rules.analysis.literals import expression, quote_for
from kmigrate.rules.tf1.tf_layers_common import (
    Walker,
    as_kw,
    as_positional,
    code_of,
    join_args,
    literal,
    make_kw,
    string_value,
    trailing_comma,
)

_FALSE_TRAINING = ("False", "None")


class TFLayersFunction(Walker):
    """
    ## What it does
    Rewrites a TensorFlow 1 `tf.layers` function call into the Keras layer applied to its input:
    `dense`, `conv1d/2d/3d`, `conv2d_transpose`, `conv3d_transpose`, `separable_conv1d/2d`,
    `max_pooling1d/2d/3d`, `average_pooling1d/2d/3d`, `batch_normalization`, `dropout`, `flatten`.
    `inputs` (by position or keyword) becomes the argument of the layer call, `training=` moves to
    the call, positional arguments stay positional only where the Keras class has the same
    positional order, and every TF1 default that differs from Keras is written out:
    `data_format='channels_last'` (Keras reads `image_data_format()` from keras.json),
    `Dropout(rate=0.5)` (Keras has no default), and `training=False` for `dropout` and
    `batch_normalization` (TF1 ran them in inference mode unless told otherwise: a TF1 `dropout`
    without `training=` was a no-op, and stays one).

    With `--target keras` the layer is spelled `keras.layers.X` and `import keras` is added.

    What has no faithful Keras form is reported and left as is: `reuse=` and calls under
    `tf.variable_scope(..., reuse=...)` or in a function taking `reuse` (weight sharing by name),
    `batch_normalization` in a file that collects `tf.GraphKeys.UPDATE_OPS`, calls inside a
    `tf.function`, `virtual_batch_size=`/`adjustment=`, names containing `/`, `*args`/`**kwargs`,
    and a function used as a value (`fn=tf.layers.dense`).

    ## Why is this bad
    TensorFlow 2.21 has no `tf.layers`, and `tf.compat.v1.layers.dense` raises "not available with
    Keras 3". TensorFlow's own upgrade script leaves these calls untouched. Keras layers run
    today, in eager code and in `tf.compat.v1` graph code alike.

    ## Example
    ```python
    y = tf.layers.dense(x, 10, activation=tf.nn.relu, name='fc')
    y = tf.layers.dropout(y, 0.1, training=is_training)
    ```
    becomes
    ```python
    y = tf.keras.layers.Dense(10, activation=tf.nn.relu, name='fc')(x)
    y = tf.keras.layers.Dropout(0.1)(y, training=is_training)
    ```

    ## Fix safety
    Safe when nothing visible depends on TF1 variable naming; the computation is the same.
    Unsafe when the call sits under a `variable_scope` or the file uses a `Saver` (the variables
    are named `fc/kernel`, not `scope/fc/kernel`, so TF1 checkpoints no longer restore by name),
    when `training=` is not a literal (a Keras layer needs a Python bool there: a placeholder
    tensor fails), or for `batch_normalization` in training mode (Keras updates the moving
    statistics on each call, TF1 only through `UPDATE_OPS`). Weight sharing through a `reuse`
    scope opened by a caller in another file cannot be seen: review functions that are called
    under such scopes.
    """

    code = "KM201"
    name = "tf-layers-function"
    summary = "TF1 `tf.layers` function; use the Keras layer, applied to the input"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE

    VALID = [
        "import tensorflow as tf\ny = tf.keras.layers.Dense(10)(x)\n",
        "import mesh_tensorflow as mtf\ny = mtf.layers.dense(x, 10)\n",
        "import tensorflow as tf\ny = model.layers.dense(x, 10)\n",
        "from tensorflow.keras import layers\ny = layers.Dense(3)(x)\n",
    ]
    INVALID = [
        Example("import tensorflow as tf\ny = tf.layers.dense(x, 10, activation=tf.nn.relu, name='fc')\n",
                "import tensorflow as tf\ny = tf.keras.layers.Dense(10, activation=tf.nn.relu, name='fc')(x)\n"),
        Example("import tensorflow as T\ny = T.compat.v1.layers.dense(inputs=x, units=4)\n",
                "import tensorflow as T\ny = T.keras.layers.Dense(units=4)(x)\n"),
        Example("import tensorflow as tf\ny = tf.layers.dropout(x, 0.1, training=True)\n",
                "import tensorflow as tf\ny = tf.keras.layers.Dropout(0.1)(x, training=True)\n"),
        Example("import tensorflow as tf\ny = tf.layers.dropout(x)\n",
                "import tensorflow as tf\ny = tf.keras.layers.Dropout(rate=0.5)(x, training=False)\n"),
        Example("import tensorflow as tf\ny = tf.layers.conv2d(x, 32, 3, 2, 'same')\n",
                "import tensorflow as tf\ny = tf.keras.layers.Conv2D(32, 3, strides=2, padding='same', "
                "data_format='channels_last')(x)\n"),
        Example("from tensorflow.layers import dense\ny = dense(x, 3)\n",
                "import tensorflow as tf\n\ny = tf.keras.layers.Dense(3)(x)\n"),
        Example("import tensorflow as tf\ntfl = tf.layers\ny = tfl.flatten(x)\n",
                "import tensorflow as tf\ntfl = tf.layers\ny = tf.keras.layers.Flatten(data_format='channels_last')(x)\n"),
        Example("import tensorflow as tf\ny = tf.layers.dense(x, 3)\n",
                "import tensorflow as tf\nimport keras\n\ny = keras.layers.Dense(3)(x)\n", {"target": "keras"}),
        Example("import tensorflow as tf\nwith tf.variable_scope('a', reuse=True):\n    y = tf.layers.dense(x, 3)\n"),
        Example("import tensorflow as tf\ny = tf.layers.dense(x, 3, reuse=tf.AUTO_REUSE)\n"),
        Example("import tensorflow as tf\nfs = [tf.layers.dense]\n"),
    ]

    def __init__(self, context):
        super().__init__(context)
        self._calls: dict[int, cst.Call] = {}

    def visit_Call(self, node: cst.Call) -> None:
        super().visit_Call(node)
        self._calls[id(node.func)] = node

    def on_ref(self, node, name: str, is_call_func: bool) -> None:
        if name not in FUNCTIONS:
            return
        if not is_call_func:
            klass = FUNCTIONS[name][0]
            self.report(node, f"`tf.layers.{name}` used as a value: there is no Keras function form; "
                        f"create a `tf.keras.layers.{klass}(...)` and call it on the input, e.g. "
                        f"`lambda x, *a, **k: tf.keras.layers.{klass}(*a, **k)(x)`")
            return
        self._convert(self._calls[id(node)], name)

    def _convert(self, call: cst.Call, fname: str) -> None:
        klass, params = FUNCTIONS[fname]
        spelled = f"tf.layers.{fname}"

        def refuse(why: str) -> None:
            self.report(call, f"`{spelled}` not converted: {why}")

        if any(a.star for a in call.args):
            return refuse("`*args`/`**kwargs` hide which arguments are given; convert it by hand "
                          f"to `tf.keras.layers.{klass}(...)(inputs)`")
        bound: dict[str, cst.Arg] = {}
        order: list[tuple[str, cst.Arg]] = []
        for i, a in enumerate(call.args):
            if a.keyword is None:
                if i >= len(params):
                    return refuse(f"more positional arguments than `{fname}` takes")
                p = params[i]
            else:
                p = a.keyword.value
                if p not in params:
                    return refuse(f"`{fname}` has no argument `{p}=`")
            bound[p] = a
            order.append((p, a))
        if "inputs" not in bound:
            return refuse("no `inputs` argument")
        weightless = fname in WEIGHTLESS
        # Keras 3 Dropout holds a seed-generator variable: it may not be created inside tf.function.
        problem = self.sharing_problem(weights=not weightless, variables=not weightless or fname == "dropout")
        if problem:
            return refuse(problem)
        dropped = set()
        for p, (ok, why) in DROPPABLE.items():
            if p in bound:
                value = literal(bound[p].value)
                if value in ok:
                    dropped.add(p)
                else:
                    return refuse(f"`{p}={code_of(bound[p].value)}`: {why}")
        if "name" in bound:
            s = string_value(bound["name"].value)
            if s is not None and "/" in s:
                return refuse("Keras layer names cannot contain `/`; choose another name")
        if fname == "batch_normalization" and self.update_ops:
            return refuse("this file collects the batch-norm updates through `tf.GraphKeys.UPDATE_OPS`, "
                          "which Keras layers do not add to; rewrite the training step by hand "
                          "(or with Keras `fit`) before converting")

        notes = []
        naming = None if weightless else self.naming_note()
        if naming:
            notes.append(naming)
        training = bound.get("training")
        if training is not None and literal(training.value) not in ("True", "False"):
            notes.append(f"`training={code_of(training.value)}` must be a Python bool for a Keras layer "
                         "(a tensor such as a placeholder fails): check it")
        if fname == "batch_normalization" and training is not None and literal(training.value) not in _FALSE_TRAINING:
            notes.append("in training mode the Keras layer updates its moving statistics on each call "
                         "(TF1 did only through `tf.GraphKeys.UPDATE_OPS`)")

        # Constructor arguments: TF1 positional ones stay positional while they line up with Keras.
        positional_ok = KERAS_POSITIONAL[klass]
        ctor: list[cst.Arg] = []
        n_pos = 0
        keyword_seen = False
        for p, a in order:
            if p in ("inputs", "training") or p in dropped:
                continue
            if a.keyword is None and not keyword_seen and n_pos < len(positional_ok) and positional_ok[n_pos] == p:
                ctor.append(as_positional(a))
                n_pos += 1
            else:
                keyword_seen = True
                ctor.append(as_kw(a, p))
        quote = quote_for(call, self.module)  # written defaults follow the file's quotes
        for p, value in CTOR_DEFAULTS.get(fname, {}).items():
            if p not in bound:
                ctor.append(make_kw(p, expression(value, quote)))

        inputs_value = bound["inputs"].value
        call_args = [cst.Arg(value=inputs_value)]
        if training is not None:
            call_args.append(make_kw("training", training.value))
        else:
            for p, value in CALL_DEFAULTS.get(fname, {}).items():
                call_args.append(make_kw(p, expression(value, quote)))

        func, imports = self.keras_layers(call, klass)
        layer = cst.Call(func=func, args=join_args(ctor, trailing_comma(call)),
                         whitespace_before_args=call.whitespace_before_args if ctor else cst.SimpleWhitespace(""))
        new = cst.Call(func=layer, args=join_args(call_args, cst.MaybeSentinel.DEFAULT),
                       lpar=call.lpar, rpar=call.rpar)
        imports = [*imports, *self.import_removal(call.func)]
        message = f"`{spelled}` is gone in TF 2; use `{code_of(func)}(...)(inputs)`"
        if notes:
            self.report(call, message + "; " + "; ".join(notes), new, imports=imports, safety=Safety.UNSAFE)
        else:
            self.report(call, message, new, imports=imports)


class TFLayersClass(Walker):
    """
    ## What it does
    Rewrites the TensorFlow 1 layer classes `tf.layers.Dense`, `Conv1D/2D/3D`, `Conv2DTranspose`,
    `Conv3DTranspose`, `SeparableConv1D/2D`, `MaxPooling*`, `AveragePooling*`,
    `BatchNormalization`, `Dropout`, `Flatten`, `Layer` and `InputSpec` to `tf.keras.layers`
    (or `keras.layers` with `--target keras`), wherever they are named: constructed, subclassed,
    in `isinstance`. Where a class is constructed, the TF1 default `data_format='channels_last'`
    of the convolution, pooling and flatten classes is written out; `fused=` (a kernel choice) is
    dropped from `BatchNormalization`.

    ## Why is this bad
    TensorFlow 2.21 has no `tf.layers`; `tf.compat.v1.layers.Dense` raises "not available with
    Keras 3".

    ## Example
    ```python
    class Block(tf.layers.Layer): ...
    conv = tf.layers.Conv2D(32, 3)
    ```
    becomes
    ```python
    class Block(tf.keras.layers.Layer): ...
    conv = tf.keras.layers.Conv2D(32, 3, data_format='channels_last')
    ```

    ## Fix safety
    Safe for the classes whose Keras counterpart takes the same arguments with the same defaults.
    Unsafe for `Layer` (Keras 3's `add_weight` takes `shape` first and ignores variable_scope),
    `Dropout` and `BatchNormalization` (TF1 ran them in inference mode unless called with
    `training=True`; Keras follows the training flag of `fit` or its caller), and for convolution,
    pooling and flatten classes named without being constructed (their `data_format` default
    then comes from keras.json instead of 'channels_last').
    """

    code = "KM202"
    name = "tf-layers-class"
    summary = "TF1 `tf.layers` class; use the `tf.keras.layers` class"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE

    VALID = [
        "import tensorflow as tf\nd = tf.keras.layers.Dense(3)\n",
        "import mesh_tensorflow as mtf\nd = mtf.layers.Dense(3)\n",
    ]
    INVALID = [
        Example("import tensorflow as tf\nd = tf.layers.Dense(3)\n",
                "import tensorflow as tf\nd = tf.keras.layers.Dense(3)\n"),
        Example("import tensorflow as tf\nc = tf.layers.Conv2D(8, 3)\n",
                "import tensorflow as tf\nc = tf.keras.layers.Conv2D(8, 3, data_format='channels_last')\n"),
        Example("import tensorflow as tf\nspec = tf.layers.InputSpec(ndim=2)\n",
                "import tensorflow as tf\nspec = tf.keras.layers.InputSpec(ndim=2)\n"),
        Example("import tensorflow as tf\nclass B(tf.layers.Layer):\n    pass\n",
                "import tensorflow as tf\nclass B(tf.keras.layers.Layer):\n    pass\n", {"unsafe_fixes": True}),
        Example("import tensorflow as tf\nclass B(tf.layers.Layer):\n    pass\n"),
        Example("import tensorflow as tf\nd = tf.layers.Dense(3)\n",
                "import tensorflow as tf\nimport keras\n\nd = keras.layers.Dense(3)\n", {"target": "keras"}),
    ]

    def on_ref(self, node, name: str, is_call_func: bool) -> None:
        if name not in CLASSES:
            return
        klass = CLASSES[name]
        func, imports = self.keras_layers(node, klass)
        imports = [*imports, *self.import_removal(node)]
        message = f"`tf.layers.{name}` is gone in TF 2; use `{code_of(func)}`"
        notes = []
        if name in CLASS_NOTES:
            notes.append(CLASS_NOTES[name])
        defaults = CLASS_DEFAULTS.get(name, {})
        if not is_call_func:
            if "data_format" in defaults:
                notes.append("TF1 defaulted to data_format='channels_last'; Keras reads keras.json: "
                             "pass data_format= where it is constructed")
            self._emit(node, message, func, imports, notes)
            return
        call = self._calls[id(node)]

        def refuse(why: str) -> None:
            self.report(node, f"`tf.layers.{name}` not converted: {why}")

        params, same = CLASS_POSITIONAL.get(name, ((), 0))
        bound: dict[str, cst.Arg] = {}
        args: list[cst.Arg] = []
        for i, a in enumerate(call.args):
            if a.star:
                return refuse("`*args`/`**kwargs` hide which arguments are given; convert it by hand")
            if a.keyword is None:
                if i >= len(params):
                    return refuse(f"more positional arguments than `tf.layers.{name}` takes")
                p = params[i]
                a = a if i < same else as_kw(a, p)  # past the shared prefix Keras' order differs
            else:
                p = a.keyword.value
            bound[p] = a
            args.append(a)
        for p, (ok, why) in DROPPABLE.items():
            if p in bound:
                if literal(bound[p].value) in ok:
                    args.remove(bound[p])
                else:
                    return refuse(f"`{p}={code_of(bound[p].value)}`: {why}")
        if "_reuse" in bound or "_scope" in bound:
            return refuse("`_reuse=`/`_scope=` share weights by name; create the Keras layer once and "
                          "call it again instead")
        if name in WEIGHTED_CLASSES:
            problem = self.sharing_problem()
            if problem:
                return refuse(problem)
            naming = self.naming_note()
            if naming:
                notes.append(naming)
        quote = quote_for(call, self.module)
        for p, value in defaults.items():
            if p not in bound:
                args.append(make_kw(p, expression(value, quote)))
        if args != list(call.args):
            new = call.with_changes(func=func, args=join_args(args, trailing_comma(call)))
            self._emit(call, message, new, imports, notes, at=node)
        else:
            self._emit(node, message, func, imports, notes)

    def _emit(self, node, message, replacement, imports, notes, at=None) -> None:
        if notes:
            self.report(node, message + "; " + "; ".join(notes), replacement, imports=imports,
                        safety=Safety.UNSAFE, at=at)
        else:
            self.report(node, message, replacement, imports=imports, at=at)

    def __init__(self, context):
        super().__init__(context)
        self._calls: dict[int, cst.Call] = {}

    def visit_Call(self, node: cst.Call) -> None:
        super().visit_Call(node)
        self._calls[id(node.func)] = node


class TFLayersModule(Walker):
    """
    ## What it does
    Reports the `tf.layers` module used as a value (`tfl = tf.layers`, `getattr(tf.layers, n)`)
    and names under `tf.layers` that have no Keras form. Once every use of a single alias such as
    `tfl = tf.layers` has been converted (KM201/KM202), the alias is pointed at
    `tf.keras.layers`, so the line no longer fails on import. Other uses of the module are
    pointed at `tf.keras.layers` as an unsafe fix.

    ## Why is this bad
    `tf.layers` does not exist in TensorFlow 2: `tfl = tf.layers` raises AttributeError.

    ## Example
    ```python
    layers_module = tf.layers if old else tf.keras.layers
    ```
    becomes, with `--unsafe-fixes`,
    ```python
    layers_module = tf.keras.layers if old else tf.keras.layers
    ```

    ## Fix safety
    Safe for an alias that is no longer used. Unsafe otherwise: `tf.keras.layers` has the same
    classes but none of the TF1 functions (`dense`, `conv2d`, ...).
    """

    code = "KM203"
    name = "tf-layers-module"
    summary = "The TF1 `tf.layers` module used as a value, or a `tf.layers` name with no Keras form"
    severity = Severity.ERROR
    fix_safety = Safety.UNSAFE

    VALID = [
        "import tensorflow as tf\nl = tf.keras.layers\n",
        "import mesh_tensorflow as mtf\nl = mtf.layers\n",
    ]
    INVALID = [
        Example("import tensorflow as tf\ntfl = tf.layers\n",
                "import tensorflow as tf\ntfl = tf.keras.layers\n"),
        Example("import tensorflow as tf\nm = tf.layers if a else tf.keras.layers\n"),
        Example("import tensorflow as tf\nm = tf.layers if a else tf.keras.layers\n",
                "import tensorflow as tf\nm = tf.keras.layers if a else tf.keras.layers\n", {"unsafe_fixes": True}),
        Example("import tensorflow as tf\nx = tf.layers.experimental.y\n"),
    ]

    def __init__(self, context):
        super().__init__(context)
        self._assign_of: dict[int, cst.Name] = {}

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self._assign_of[id(node.value)] = node.targets[0].target

    def on_ref(self, node, name: str, is_call_func: bool) -> None:
        if name:
            if name.split(".")[0] not in FUNCTIONS and name.split(".")[0] not in CLASSES:
                self.report(node, f"`tf.layers.{name}` has no Keras counterpart known to kmigrate; "
                            "rewrite it with `tf.keras.layers`")
            return
        target = self._assign_of.get(id(node))
        func, imports = self.keras_layers(node)
        if target is not None:
            bindings = self.names.bindings
            name = target.value
            if len(bindings.others.get(name, ())) == 1 and name not in bindings.imports:
                if bindings.reads(name) <= 0:
                    self.report(node, f"`{target.value} = tf.layers`: `tf.layers` is gone in TF 2 and the "
                                f"alias is no longer used; points it at `{code_of(func)}`", func,
                                imports=imports, safety=Safety.SAFE)
                else:
                    self.report(node, f"`{target.value} = tf.layers`: `tf.layers` is gone in TF 2; its uses "
                                "are converted one by one (KM201/KM202), then this alias")
                return
        self.report(node, f"`tf.layers` is gone in TF 2; `{code_of(func)}` has the same classes but "
                    "none of the TF1 functions (`dense`, `conv2d`, ...)", func, imports=imports)
