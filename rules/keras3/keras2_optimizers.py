"""KM325..KM328: optimizer APIs of Keras 1/2 that Keras 3 removed (lr=, .lr, decay=, legacy)."""
from __future__ import annotations

from typing import Optional

import libcst as cst
from libcst.helpers import get_full_name_for_node

from kmigrate.names import keras_module
from kmigrate.rule import KERAS_OR_TF, Example, ImportEdit, Safety, Severity
from kmigrate.rules.keras3.keras2_common import KerasRule, code_of, kwarg, positional, rename_kw, with_args
from kmigrate.rules.keras3.screens import called_with, spelled
from kmigrate.rules.tables.keras2_api import (
    LEGACY_OPTIMIZER_NAMES, OPTIMIZER_ALIASES, OPTIMIZER_SUBMODULES_GONE, OPTIMIZERS,
)

_OPTIMIZER_WORDS = frozenset(k.rpartition(".")[2] for k in (*OPTIMIZERS, *OPTIMIZER_ALIASES))  # KM327
# KM328: the imports and attributes it reports on
_GONE_SUBMODULES = tuple("." + sub for sub in OPTIMIZER_SUBMODULES_GONE)
_GONE_ATTRS = frozenset({*(k.rpartition(".")[2] for k in OPTIMIZER_ALIASES),
                         *(sub.rpartition(".")[2] for sub in OPTIMIZER_SUBMODULES_GONE)})


class _OptimizerRule(KerasRule):
    def optimizer_name(self, call: cst.Call) -> Optional[str]:
        k = self.call_kname(call)
        if k is None:
            return None
        for sub in OPTIMIZER_SUBMODULES_GONE:
            if k.startswith(sub + "."):
                k = "optimizers." + k[len(sub) + 1:]
        k = OPTIMIZER_ALIASES.get(k, k)
        return k if k in OPTIMIZERS else None


class OptimizerLr(_OptimizerRule):
    """
    ## What it does
    Renames the `lr=` keyword of Keras optimizers (`SGD(lr=0.01)`, `Adam(lr=1e-3)`, any
    spelling: `keras.optimizers.Adam`, `optimizers.legacy.Adam`, `from keras.optimizers import SGD`)
    to `learning_rate=`.

    ## Why is this bad
    Keras 3 rejects it: `ValueError: Argument(s) not recognized: {'lr': 0.01}`. (In TensorFlow
    2.11-2.15 it was silently ignored, so such scripts trained with the default rate.)

    ## Example
    ```python
    opt = keras.optimizers.SGD(lr=0.01, momentum=0.9)
    ```
    becomes
    ```python
    opt = keras.optimizers.SGD(learning_rate=0.01, momentum=0.9)
    ```

    ## Fix safety
    Safe: the same learning rate under its current name.
    """

    # Fires only on names resolved to Keras: a file that never spells "keras" is not parsed.
    requires = ("keras",)

    code = "KM325"
    needs_import = KERAS_OR_TF
    name = "optimizer-lr"
    summary = "Optimizer `lr=` is gone; use `learning_rate=`"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("lr",)

    VALID = ["from keras.optimizers import SGD\nopt = SGD(learning_rate=0.1)\n", "opt = MyOpt(lr=0.1)\n"]
    INVALID = [
        Example("from keras.optimizers import SGD\nopt = SGD(lr=0.01, momentum=0.9)\n",
                "from keras.optimizers import SGD\nopt = SGD(learning_rate=0.01, momentum=0.9)\n"),
        Example("import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n",
                "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(learning_rate=1e-3)\n"),
        Example("from keras import optimizers\nopt = optimizers.RMSprop(lr=1e-3)\n",
                "from keras import optimizers\nopt = optimizers.RMSprop(learning_rate=1e-3)\n"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        arg = kwarg(node, "lr")
        if arg is not None and kwarg(node, "learning_rate") is None and self.optimizer_name(node):
            self.report(arg, "optimizer `lr=` was renamed `learning_rate=`; Keras 3 rejects `lr`",
                        rename_kw(arg, "learning_rate"))


class OptimizerLrAttribute(_OptimizerRule):
    """
    ## What it does
    Renames the optimizer attribute `lr` to `learning_rate` where the receiver is visibly an
    optimizer: `model.optimizer.lr`, or a name assigned once from a Keras optimizer constructor.
    `K.set_value(model.optimizer.lr, v)` becomes `model.optimizer.learning_rate.assign(v)`.

    ## Why is this bad
    Keras 3 optimizers have no `lr` attribute (`AttributeError: 'Adam' object has no attribute
    'lr'`), and `tf.keras.backend.set_value` no longer accepts an optimizer's learning-rate
    variable (TensorFlow 2.21 raises `AttributeError: 'str' object has no attribute 'name'`).

    ## Example
    ```python
    K.set_value(model.optimizer.lr, 0.001)
    print(K.get_value(model.optimizer.lr))
    ```
    becomes
    ```python
    model.optimizer.learning_rate.assign(0.001)
    print(K.get_value(model.optimizer.learning_rate))
    ```

    ## Fix safety
    Safe: the same variable under its current name.
    """

    code = "KM326"
    name = "optimizer-lr-attribute"
    summary = "Optimizer attribute `.lr` is gone; use `.learning_rate`"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = (".lr",)
    trigger_pattern = r"\.[\s\\]*lr\b"  # not `.lru_cache`, `.lr_schedule`

    @classmethod
    def screen(cls, facts, context) -> bool:
        # `<x>.optimizer.lr` is reported without any import; the rest needs a Keras name
        return ("lr" in facts.attrs and "optimizer" in facts.attrs) or facts.reaches(*KERAS_OR_TF)

    VALID = ["x = self.lr\n", "opt = make()\nprint(opt.lr)\n", "print(model.optimizer.learning_rate)\n"]
    INVALID = [
        Example("print(model.optimizer.lr)\n", "print(model.optimizer.learning_rate)\n"),
        Example("model.optimizer.lr = 0.1\n", "model.optimizer.learning_rate = 0.1\n"),
        Example("from keras.optimizers import SGD\nopt = SGD(0.1)\nv = opt.lr\n",
                "from keras.optimizers import SGD\nopt = SGD(0.1)\nv = opt.learning_rate\n"),
        Example("from keras import backend as K\nK.set_value(model.optimizer.lr, 0.001)\n",
                "from keras import backend as K\nmodel.optimizer.learning_rate.assign(0.001)\n"),
    ]

    def _is_optimizer(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Attribute) and expr.attr.value == "optimizer":
            return True
        if isinstance(expr, cst.Name):
            value = self.models.value_of(expr.value)
            return isinstance(value, cst.Call) and self.optimizer_name(value) is not None
        return False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value == "lr" and self._is_optimizer(node.value):
            self.report(node.attr, "optimizer `.lr` was renamed `.learning_rate` (Keras 3 has no `.lr`)",
                        cst.Name("learning_rate"))

    def visit_Call(self, node: cst.Call) -> None:
        if self.call_kname(node) != "backend.set_value" or len(node.args) != 2 or any(a.keyword for a in node.args):
            return
        target = node.args[0].value
        if (isinstance(target, cst.Attribute) and target.attr.value in ("lr", "learning_rate")
                and self._is_optimizer(target.value)):
            var = target.with_changes(attr=cst.Name("learning_rate"))
            fix = cst.Call(func=cst.Attribute(value=var, attr=cst.Name("assign")),
                           args=[node.args[1].with_changes(comma=cst.MaybeSentinel.DEFAULT)])
            self.report(node, "`K.set_value` no longer takes an optimizer's learning rate; "
                        "call `.learning_rate.assign(value)`", fix)


class OptimizerDecay(_OptimizerRule):
    """
    ## What it does
    Reports the `decay=` argument of Keras optimizers. With `--unsafe-fixes` it is replaced by the
    schedule Keras 2 applied, `InverseTimeDecay(lr, decay_steps=1, decay_rate=decay)`
    (`lr / (1 + decay * iteration)`), when the initial learning rate is written in the call.
    `decay=0` is simply removed.

    ## Why is this bad
    Keras 3 warns "Argument `decay` is no longer supported and will be ignored" and trains with
    a constant learning rate: results differ from what the script was tuned for.

    ## Example
    ```python
    opt = SGD(lr=0.01, decay=1e-6, momentum=0.9)
    ```
    becomes (with `--unsafe-fixes`)
    ```python
    opt = SGD(learning_rate=InverseTimeDecay(0.01, decay_steps=1, decay_rate=1e-6), momentum=0.9)
    ```

    ## Fix safety
    Unsafe: a schedule replaces a float learning rate, so code that reads or sets
    `optimizer.learning_rate` later behaves differently; the decay itself is Keras 2's.
    """

    # Fires only on names resolved to Keras: a file that never spells "keras" is not parsed.
    requires = ("keras",)

    code = "KM327"
    needs_import = KERAS_OR_TF
    name = "optimizer-decay"
    summary = "Optimizer `decay=` is ignored by Keras 3; use a learning-rate schedule"
    severity = Severity.WARNING
    fix_safety = Safety.UNSAFE
    triggers = ("decay",)

    @classmethod
    def screen(cls, facts, context) -> bool:
        # `decay=` on an optimizer class (or an alias)
        return called_with(facts, _OPTIMIZER_WORDS, ("decay",))

    VALID = ["from keras.optimizers import SGD\nopt = SGD(learning_rate=0.1)\n",
             "from keras.optimizers import AdamW\nopt = AdamW(weight_decay=0.1)\n"]
    INVALID = [
        Example("from keras.optimizers import SGD\nopt = SGD(lr=0.01, decay=1e-6, momentum=0.9)\n"),
        Example("from keras.optimizers import SGD\nopt = SGD(lr=0.01, decay=1e-6, momentum=0.9)\n",
                "from keras.optimizers import SGD\nfrom tensorflow.keras.optimizers.schedules import InverseTimeDecay\n\n"
                "opt = SGD(lr=InverseTimeDecay(0.01, decay_steps=1, decay_rate=1e-6), momentum=0.9)\n",
                {"unsafe_fixes": True}),
        Example("from keras.optimizers import Adam\nopt = Adam(decay=0.0)\n",
                "from keras.optimizers import Adam\nopt = Adam()\n"),
        Example("from keras.optimizers import Adam\nopt = Adam(decay=1e-4)\n"),  # no visible rate: report only
    ]

    def visit_Call(self, node: cst.Call) -> None:
        decay = kwarg(node, "decay")
        if decay is None or not self.optimizer_name(node):
            return
        if code_of(decay.value) in ("0", "0.", "0.0"):
            self.report(node, "`decay=0` is a no-op and Keras 3 no longer accepts it",
                        with_args(node, [a for a in node.args if a is not decay]), safety=Safety.SAFE)
            return
        rate = kwarg(node, "learning_rate") or kwarg(node, "lr")
        pos = positional(node)
        if rate is None and pos:
            rate = pos[0]
        msg = ("`decay=` is ignored by Keras 3 (constant learning rate); use "
               "`learning_rate=keras.optimizers.schedules.InverseTimeDecay(lr, decay_steps=1, decay_rate=decay)`")
        if rate is None:
            self.report(decay, msg + " with the optimizer's initial rate")
            return
        schedule = cst.parse_expression(
            f"InverseTimeDecay({code_of(rate.value)}, decay_steps=1, decay_rate={code_of(decay.value)})")
        args = [a.with_changes(value=schedule) if a is rate else a for a in node.args if a is not decay]
        imports = [ImportEdit(keras_module(self.context.target, "optimizers.schedules"), "InverseTimeDecay")]
        self.report(node, msg, with_args(node, args), imports=imports)


class LegacyOptimizers(KerasRule):
    """
    ## What it does
    Rewrites `keras.optimizers.legacy.X` and `keras.optimizers.experimental.X` (imports and
    attribute uses) to `keras.optimizers.X`, and the Keras 2 lower-case aliases
    (`optimizers.sgd`, `optimizers.adam`, ...) to the classes.

    ## Why is this bad
    In TensorFlow 2.21 `tf.keras.optimizers.legacy.Adam()` raises `ImportError: keras.optimizers.legacy
    is not supported in Keras 3`; the lower-case aliases are gone (`AttributeError`).

    ## Example
    ```python
    from tensorflow.keras.optimizers.legacy import Adam
    ```
    becomes
    ```python
    from tensorflow.keras.optimizers import Adam
    ```

    ## Fix safety
    Safe for the lower-case aliases (the same classes). Unsafe for `legacy`/`experimental`: the
    Keras 3 optimizers are a new implementation (other variable layout, no `decay`), so
    numbers and checkpoints can differ.
    """

    # Fires only on names resolved to Keras: a file that never spells "keras" is not parsed.
    requires = ("keras",)

    code = "KM328"
    needs_import = KERAS_OR_TF
    name = "legacy-optimizers"
    summary = "`optimizers.legacy`/`optimizers.experimental` and lower-case optimizer aliases are gone"
    severity = Severity.ERROR
    fix_safety = Safety.UNSAFE
    triggers = ("optimizers",)

    @classmethod
    def screen(cls, facts, context) -> bool:
        # an import from optimizers.legacy/experimental, or `optimizers.legacy.X` / `optimizers.adam`
        return any(m.endswith(_GONE_SUBMODULES) for m in facts.imports) or (
            not facts.attrs.isdisjoint(_GONE_ATTRS) and spelled(facts, ("optimizers",)))

    VALID = ["from tensorflow.keras.optimizers import Adam\n", "from keras import optimizers\nopt = optimizers.Adam()\n"]
    INVALID = [
        Example("from tensorflow.keras.optimizers.legacy import Adam\n"),
        Example("from tensorflow.keras.optimizers.legacy import Adam\n",
                "from tensorflow.keras.optimizers import Adam\n", {"unsafe_fixes": True}),
        Example("import tensorflow as tf\nopt = tf.keras.optimizers.legacy.SGD(0.1)\n",
                "import tensorflow as tf\nopt = tf.keras.optimizers.SGD(0.1)\n", {"unsafe_fixes": True}),
        Example("from keras import optimizers\nopt = optimizers.adam(learning_rate=0.1)\n",
                "from keras import optimizers\nopt = optimizers.Adam(learning_rate=0.1)\n"),
    ]

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            return
        dotted = get_full_name_for_node(node.module) or ""
        for root in ("tensorflow.keras.", "keras."):
            for sub in OPTIMIZER_SUBMODULES_GONE:
                if dotted == root + sub:
                    names = [get_full_name_for_node(a.name) for a in node.names]
                    if all(n in LEGACY_OPTIMIZER_NAMES for n in names):
                        self.report(node, f"`{dotted}` is gone in Keras 3; import from `{root}optimizers`",
                                    node.with_changes(module=cst.parse_expression(root + "optimizers")))
                    else:
                        self.report(node, f"`{dotted}` is gone in Keras 3; import from `{root}optimizers`")
                    return

    def visit_Attribute(self, node: cst.Attribute) -> None:
        k = self.kname(node)
        if k is None:
            return
        if k in OPTIMIZER_ALIASES and isinstance(node.value, (cst.Attribute, cst.Name)):
            new = OPTIMIZER_ALIASES[k].rpartition(".")[2]
            self.report(node.attr, f"`{k}` alias is gone; use `{new}`", cst.Name(new), safety=Safety.SAFE)
            return
        for sub in OPTIMIZER_SUBMODULES_GONE:
            if k.startswith(sub + ".") and isinstance(node.value, cst.Attribute) and node.value.attr.value == sub.split(".")[1]:
                self.report(node, f"`{sub}` is gone in Keras 3; use `optimizers.{node.attr.value}`",
                            node.with_changes(value=node.value.value))
