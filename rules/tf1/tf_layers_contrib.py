"""KM204 `tf.contrib.layers` / slim: reported; `fully_connected` and `conv2d` converted (unsafe)."""
from __future__ import annotations

import libcst as cst

from kmigrate.rule import Example, FileContext, Safety, Severity
from kmigrate.rules.tables.tf_layers import (
    CONTRIB_CONVERT,
    CONTRIB_DATA_FORMATS,
    CONTRIB_DEFAULTS,
    CONTRIB_FIRST,
    CONTRIB_HINTS,
    CONTRIB_MUST_BE_NONE,
    CONTRIB_PARAMS,
    CONTRIB_RENAMES,
)
from kmigrate.rules.analysis.literals import expression, quote_for, string_literal
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

_ROOTS = ("tensorflow.contrib.layers", "tensorflow.contrib.slim")


class ContribLayers(Walker):
    """
    ## What it does
    Reports every use of `tf.contrib.layers` and TF-slim (`tf.contrib.slim`, `slim = tf.contrib.slim`,
    `from tensorflow.contrib import slim`), with the Keras replacement where one is known
    (`layer_norm` -> `LayerNormalization` and how its defaults differ, `l2_regularizer(s)` ->
    `regularizers.L2(s / 2)`, ...). The two common layers whose mapping is exact are converted,
    as an unsafe fix: `fully_connected(x, n, ...)` -> `Dense(n, activation='relu', ...)(x)` and
    `conv2d(x, n, k, ...)` -> `Conv2D(n, k, padding='same', activation='relu',
    data_format='channels_last', ...)(x)`, with contrib's defaults (ReLU activation, 'SAME'
    padding, NHWC) written out, `stride`/`rate`/`weights_*`/`biases_*`/`scope` renamed and
    `biases_initializer=None` turned into `use_bias=False`. Calls that use `normalizer_fn`,
    collections or `reuse`, files with `arg_scope` (which changes these defaults invisibly), and
    calls in weight-sharing scopes are reported only.

    ## Why is this bad
    `tf.contrib` was removed in TensorFlow 2.0; the code fails on import.

    ## Example
    ```python
    h = tf.contrib.layers.fully_connected(x, 64)
    ```
    becomes, with `--unsafe-fixes`,
    ```python
    h = tf.keras.layers.Dense(64, activation='relu')(x)
    ```

    ## Fix safety
    Unsafe: the computation is the same, but the variables are named differently (Keras ignores
    `scope` and `variable_scope`), so TF1 checkpoints no longer restore by name, and an
    `arg_scope` in another file could have changed the defaults.
    """

    code = "KM204"
    name = "tf-contrib-layers"
    summary = "`tf.contrib.layers` / slim are gone; Keras layers replace them"
    severity = Severity.ERROR
    fix_safety = Safety.UNSAFE
    roots = _ROOTS
    chain_attrs = ("layers", "slim")
    triggers = ("contrib",)
    # What can give a name under _ROOTS: `contrib.layers` / `contrib.slim` (also in imports),
    # `from ...contrib import x`, `import ...contrib as c`. Not `tf.contrib.rnn` alone.
    trigger_pattern = r"\bcontrib[\s\\]*\.[\s\\]*(?:layers|slim)\b|\bcontrib\s+(?:import|as)\b"

    VALID = [
        "import tensorflow as tf\nh = tf.keras.layers.Dense(64)(x)\n",
        "import tensorflow as tf\nh = tf.layers.dense(x, 3)\n",
        "import mycontrib as contrib\nh = contrib.layers.fully_connected(x, 3)\n",
    ]
    INVALID = [
        Example("import tensorflow as tf\nh = tf.contrib.layers.fully_connected(x, 64)\n"),
        Example("import tensorflow as tf\nh = tf.contrib.layers.fully_connected(x, 64)\n",
                "import tensorflow as tf\nh = tf.keras.layers.Dense(64, activation='relu')(x)\n",
                {"unsafe_fixes": True}),
        Example("import tensorflow as tf\nslim = tf.contrib.slim\nh = slim.conv2d(x, 8, [3, 3], stride=2, "
                "padding='VALID', activation_fn=None)\n",
                "import tensorflow as tf\nslim = tf.contrib.slim\nh = tf.keras.layers.Conv2D(8, [3, 3], strides=2, "
                "padding='valid', activation=None, data_format='channels_last')(x)\n", {"unsafe_fixes": True}),
        Example("import tensorflow as tf\nh = tf.contrib.layers.layer_norm(x)\n"),
        Example("from tensorflow.contrib import slim\n"),
    ]

    @classmethod
    def wants(cls, context: FileContext) -> bool:
        return "tensorflow" in context.text

    def __init__(self, context):
        super().__init__(context)
        self._calls: dict[int, cst.Call] = {}
        self.arg_scope = "arg_scope" in context.text

    def visit_Call(self, node: cst.Call) -> None:
        super().visit_Call(node)
        self._calls[id(node.func)] = node

    def visit_Import(self, node: cst.Import) -> None:
        super().visit_Import(node)
        for a in node.names:
            if code_of(a.name).startswith(tuple(r for r in _ROOTS)):
                self.report(node, f"`import {code_of(a.name)}`: tf.contrib is gone in TF 2; use tf.keras.layers")

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        super().visit_ImportFrom(node)
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            if node.module is not None and not node.relative and code_of(node.module).startswith(_ROOTS):
                self.report(node, "tf.contrib is gone in TF 2; use tf.keras.layers")
            return
        module = code_of(node.module)
        names = [code_of(a.name) for a in node.names]
        if module.startswith(_ROOTS) or (module == "tensorflow.contrib" and {"layers", "slim"} & set(names)):
            self.report(node, f"`from {module} import {', '.join(names)}`: tf.contrib is gone in TF 2; "
                        "use tf.keras.layers (see the uses reported below)")

    def on_ref(self, node, name: str, is_call_func: bool) -> None:
        head = name.split(".")[-1] if name else ""
        spelled = f"tf.contrib.layers.{name}"
        if is_call_func and name in CONTRIB_CONVERT:
            self._convert(self._calls[id(node)], name, spelled)
            return
        hint = CONTRIB_HINTS.get(head)
        if name in CONTRIB_CONVERT:
            hint = f"tf.keras.layers.{CONTRIB_CONVERT[name]}"
        if not name:
            self.report(node, "the `tf.contrib.layers` / slim module: tf.contrib is gone in TF 2; use "
                        "tf.keras.layers (its uses are reported one by one)")
            return
        what = f"use {hint}" if hint else "rewrite it with tf.keras (no automatic conversion)"
        self.report(node, f"`{spelled}`: tf.contrib is gone in TF 2; {what}")

    def _convert(self, call: cst.Call, fname: str, spelled: str) -> None:
        klass = CONTRIB_CONVERT[fname]
        params = CONTRIB_PARAMS[fname]

        def refuse(why: str) -> None:
            self.report(call, f"`{spelled}`: tf.contrib is gone in TF 2; use tf.keras.layers.{klass}; "
                        f"not converted: {why}")

        if self.arg_scope:
            return refuse("this file uses `arg_scope`, which changes these defaults invisibly")
        if any(a.star for a in call.args):
            return refuse("`*args`/`**kwargs`")
        bound: dict[str, cst.Arg] = {}
        order = []
        for i, a in enumerate(call.args):
            p = a.keyword.value if a.keyword is not None else (params[i] if i < len(params) else None)
            if p is None or p not in params:
                return refuse(f"unknown argument {code_of(a)}")
            bound[p] = a
            order.append((p, a))
        if "inputs" not in bound or "num_outputs" not in bound or (klass == "Conv2D" and "kernel_size" not in bound):
            return refuse("a required argument is missing")
        for p in CONTRIB_MUST_BE_NONE:
            if p in bound and literal(bound[p].value) not in ("None", "False" if p == "reuse" else "None"):
                return refuse(f"`{p}=` has no Keras form")
        problem = self.sharing_problem()
        if problem:
            return refuse(problem)
        defaults = dict(CONTRIB_DEFAULTS[fname])
        quote = quote_for(call, self.module)  # written literals follow the file's quotes
        ctor: list[cst.Arg] = []
        positional_ok = [CONTRIB_FIRST[klass]] + (["kernel_size"] if klass == "Conv2D" else [])
        n_pos = 0
        for p, a in order:
            if p == "inputs" or p in CONTRIB_MUST_BE_NONE:
                continue
            keras = CONTRIB_FIRST[klass] if p == "num_outputs" else CONTRIB_RENAMES[p]
            value = a.value
            if p == "padding":
                s = string_value(value)
                if s is None or s.upper() not in ("SAME", "VALID"):
                    return refuse("padding is not a literal 'SAME'/'VALID'")
                value = string_literal(s.lower(), quote)
            if p == "data_format":
                lit = literal(value)
                if lit not in CONTRIB_DATA_FORMATS:
                    return refuse("data_format is not a literal 'NHWC'/'NCHW'")
                value = expression(CONTRIB_DATA_FORMATS[lit], quote)
            if p == "scope":
                s = string_value(value)
                if s is not None and "/" in s:
                    return refuse("Keras layer names cannot contain `/`")
            if p == "biases_initializer" and literal(value) == "None":
                keras, value = "use_bias", cst.Name("False")
            defaults.pop(keras, None)
            arg = a.with_changes(value=value)
            if a.keyword is None and n_pos < len(positional_ok) and positional_ok[n_pos] == keras and n_pos == len(ctor):
                ctor.append(as_positional(arg))
                n_pos += 1
            else:
                ctor.append(as_kw(arg, keras))
        for p, value in defaults.items():
            ctor.append(make_kw(p, expression(value, quote)))
        func, imports = self.keras_layers(call, klass)
        layer = cst.Call(func=func, args=join_args(ctor, trailing_comma(call)),
                         whitespace_before_args=call.whitespace_before_args)
        new = cst.Call(func=layer, args=[cst.Arg(value=bound["inputs"].value)], lpar=call.lpar, rpar=call.rpar)
        self.report(call, f"`{spelled}`: tf.contrib is gone in TF 2; use `{code_of(func)}` (variable names "
                    "change, so TF1 checkpoints no longer restore by name)", new,
                    imports=[*imports, *self.import_removal(call.func)])
