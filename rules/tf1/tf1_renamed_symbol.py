"""KM601: a TensorFlow 1 name or argument TensorFlow 2.21 no longer has -> its TF2 home, else tf.compat.v1."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from kmigrate.rule import Example, Safety, Severity
from kmigrate.rules.tables.tf1_gone import CASTS, GONE, SHIMS, TF1_BEHAVIOUR
from kmigrate.rules.tables.tf1_renames import KEYWORDS, REORDERS, SYMBOLS
from kmigrate.rules.tf1.tf1_common import TF1Rule, code_of, matches

_SOFTMAX_CE = ("nn.softmax_cross_entropy_with_logits",)


class TF1RenamedSymbol(TF1Rule):
    """
    ## What it does
    Moves every TensorFlow 1 name that TensorFlow 2.21 no longer has to the name with the same
    behaviour there, through any spelling (`import tensorflow as tf`, `from tensorflow import
    log`, `tensorflow.log`): its TF2 home when there is one (`tf.log` -> `tf.math.log`,
    `tf.random_normal` -> `tf.random.normal`, `tf.gfile.Exists` -> `tf.io.gfile.exists`), else
    `tf.compat.v1.X` (`tf.placeholder`, `tf.Session`, `tf.train.AdamOptimizer`, `tf.get_variable`).
    `tf.to_float(x)` and the other `to_*` helpers become `tf.cast(x, tf.float32)`. Keywords the
    TF2 function renamed follow (`keep_dims=` -> `keepdims=`, `reduction_indices=`/`dim=`/
    `dimension=` -> `axis=`), and positional arguments at positions the TF2 signature reordered
    become keywords. In a TF1 program (a file using TF1-only names), names TF 2.21 still has
    with TF2 behaviour keep their TF1 meaning through `tf.compat.v1` (`tf.summary.scalar`,
    `tf.nn.dropout` whose second argument is `keep_prob`), and
    `tf.nn.softmax_cross_entropy_with_logits` keeps its TF1 semantics (no gradient into the
    labels: `labels=tf.stop_gradient(...)`).

    The tables are data (rules/tables/tf1_renames.py, derived from the facts of TensorFlow's
    upgrade script and kept only where TF 2.21 agrees; rules/tables/tf1_gone.py); a test checks
    every source is absent from and every target present in the installed TensorFlow.
    `tf.layers`, `tf.contrib`, `tf.estimator` and `tf.keras` are other rules' (KM2xx, KM603, KM3xx).

    ## Why is this bad
    `tf.placeholder`, `tf.log`, `tf.to_float`, `keep_dims=` ... raise `AttributeError` or
    `TypeError` on TensorFlow 2.21, at the first line that uses them.

    ## Example
    ```python
    x = tf.placeholder(tf.float32, [None, 3])
    m = tf.reduce_mean(tf.log(tf.to_float(x)), axis=1, keep_dims=True)
    ```
    becomes
    ```python
    x = tf.compat.v1.placeholder(tf.float32, [None, 3])
    m = tf.reduce_mean(tf.math.log(tf.cast(x, tf.float32)), axis=1, keepdims=True)
    ```

    ## Fix safety
    Safe: every target is the same function (or the op TF1 ran) under its TensorFlow 2.21 name.
    Graph-mode names need graph mode to run: KM602 adds `tf.compat.v1.disable_eager_execution()`.
    """

    code = "KM601"
    name = "tf1-renamed-symbol"
    summary = "TensorFlow 1 name or keyword TensorFlow 2.21 no longer has; use its TF2 home or tf.compat.v1"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE

    VALID = [
        "import tensorflow as tf\ny = tf.math.log(x)\nz = tf.compat.v1.placeholder(tf.float32)\n",
        "import tensorflow as tf\ny = tf.reduce_sum(x, axis=1, keepdims=True)\n",
        "import tensorflow.compat.v1 as tf\nx = tf.placeholder(tf.float32)\n",
        "import numpy as np\ny = np.log(x)\n",
        "import tensorflow as tf\ns = tf.summary.scalar('loss', 1.0)\n",  # a TF2 file: TF2 summaries
        "import tensorflow as tf\ny = tf.nn.dropout(x, 0.2)\n",
    ]
    INVALID = [
        Example("import tensorflow as tf\nx = tf.placeholder(tf.float32, [None, 3])\n",
                "import tensorflow as tf\nx = tf.compat.v1.placeholder(tf.float32, [None, 3])\n"),
        Example("import tensorflow as tf\ny = tf.log(x)\n", "import tensorflow as tf\ny = tf.math.log(x)\n"),
        Example("import tensorflow as tf\ny = tf.to_float(x)\n", "import tensorflow as tf\ny = tf.cast(x, tf.float32)\n"),
        Example("import tensorflow as tf\ny = tf.reduce_sum(x, axis=1, keep_dims=True)\n",
                "import tensorflow as tf\ny = tf.reduce_sum(x, axis=1, keepdims=True)\n"),
        Example("import tensorflow as tf\ni = tf.argmax(y, 1, 'am')\n",
                "import tensorflow as tf\ni = tf.argmax(y, 1, name='am')\n"),
        Example("from tensorflow import random_normal\nw = random_normal([3])\n",
                "import tensorflow as tf\n\nw = tf.random.normal([3])\n"),
        Example("import tensorflow as tf\nx = tf.placeholder(tf.float32)\ny = tf.nn.dropout(x, 0.8)\n",
                "import tensorflow as tf\nx = tf.compat.v1.placeholder(tf.float32)\ny = tf.compat.v1.nn.dropout(x, 0.8)\n"),
        Example("import tensorflow as tf\nx = tf.placeholder(tf.float32)\n"
                "l = tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=x, dim=1)\n",
                "import tensorflow as tf\nx = tf.compat.v1.placeholder(tf.float32)\n"
                "l = tf.nn.softmax_cross_entropy_with_logits(labels=tf.stop_gradient(y), logits=x, axis=1)\n"),
    ]

    def __init__(self, context):
        super().__init__(context)
        self._calls: dict[int, cst.Call] = {}

    def visit_Arg(self, node: cst.Arg) -> None:
        self.skip_non_references(node)

    def visit_Call(self, node: cst.Call) -> None:
        path = self.tf_path(node.func) if isinstance(node.func, (cst.Name, cst.Attribute)) else None
        if path is None or matches(path, GONE):
            return
        if path in CASTS:
            self._cast(node, path)
        elif path == "nn.dropout":
            self._dropout(node)
        elif path in KEYWORDS or path in REORDERS or (self.tf1_file and path in _SOFTMAX_CE):
            self._arguments(node, path)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.skip_non_references(node)
        self._ref(node)

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in _FIRST_WORDS or node.value in self._imported_words():
            self._ref(node)

    def _imported_words(self) -> frozenset:
        cached = getattr(self, "_words", None)
        if cached is None:
            cached = self._words = frozenset(
                n for n, qs in self.names.bindings.imports.items() if any(q.startswith("tensorflow.") for q in qs))
        return cached

    # ---------------------------------------------------------------- references

    def _target(self, path: str) -> Optional[str]:
        if matches(path, GONE):
            return None
        new = SYMBOLS.get(path)
        if new is None and self.tf1_file:
            new = TF1_BEHAVIOUR.get(path)
        return new

    def _ref(self, node) -> None:
        if id(node) in self._skip:
            return
        # the outermost chain only: inner parts are looked at from here
        chain = [node]
        while isinstance(chain[-1], cst.Attribute):
            chain.append(chain[-1].value)
        for n in chain[1:]:
            self._skip.add(id(n))
        for n in chain:
            if not isinstance(n, (cst.Attribute, cst.Name)):
                return
            path = self.tf_path(n)
            if path is None:
                continue
            new = self._target(path) if path != "nn.dropout" else None  # a call: visit_Call
            if new is None:
                if path in SHIMS or "." not in path:
                    return
                continue
            expr, edits = self.spell(n, new)
            spelled = code_of(n, self.module)
            why = ("has TF2 behaviour on TensorFlow 2.21; this TF1 program needs" if path in TF1_BEHAVIOUR
                   else "does not exist in TensorFlow 2.21: use")
            if expr is None:
                self.report(n, f"`{spelled}` {why} `tf.{new}`")
            else:
                self.report(n, f"`{spelled}` {why} `tf.{new}`", expr, imports=edits)
            return

    # ---------------------------------------------------------------- calls

    def _dropout(self, call: cst.Call) -> None:
        """TF1's `tf.nn.dropout(x, keep_prob)`: TF2's second argument is `rate`."""
        positional = [a for a in call.args if a.keyword is None and not a.star]
        keywords = {a.keyword.value for a in call.args if a.keyword is not None}
        if not self.tf1_file or "rate" in keywords or not ("keep_prob" in keywords or len(positional) >= 2):
            return
        func, edits = self.spell(call.func, "compat.v1.nn.dropout")
        if func is None:
            return
        self._skip.add(id(call.func))
        self.report(call.func, "`tf.nn.dropout(x, keep_prob)`: TensorFlow 2.21's second argument is `rate`; "
                    "use `tf.compat.v1.nn.dropout` (keeps `keep_prob`)", func, imports=edits)

    def _cast(self, call: cst.Call, path: str) -> None:
        args = list(call.args)
        if any(a.star for a in args):
            return self.report(call, f"`tf.{path}` is gone: use `tf.cast(x, tf.{CASTS[path]})`")
        x = next((a for a in args if a.keyword is None), None) or next((a for a in args if a.keyword and a.keyword.value == "x"), None)
        name = [a for a in args if a is not x]
        if x is None or len(name) > 1 or (name and name[0].keyword is not None and name[0].keyword.value != "name"):
            return self.report(call, f"`tf.{path}` is gone: use `tf.cast(x, tf.{CASTS[path]})`")
        func, edits = self.spell(call.func, "cast")
        dtype, _ = self.spell(call.func, CASTS[path])
        if func is None:
            return self.report(call, f"`tf.{path}` is gone: use `tf.cast(x, tf.{CASTS[path]})`")
        new_args = [cst.Arg(x.value), cst.Arg(dtype)]
        if name:
            new_args.append(cst.Arg(name[0].value, keyword=cst.Name("name"),
                                    equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))))
        self._skip.add(id(call.func))
        self.report(call, f"`tf.{path}(x)` is gone: use `tf.cast(x, tf.{CASTS[path]})`",
                    call.with_changes(func=func, args=_commas(new_args)), imports=edits)

    def _arguments(self, call: cst.Call, path: str) -> None:
        renames = KEYWORDS.get(path, {})
        order = REORDERS.get(path)
        new_args: list[cst.Arg] = []
        changed = []
        pos = 0
        for a in call.args:
            if a.star:
                if order and a.keyword is None and a.star == "*" and any(order[pos:]):
                    return self.report(call, f"`tf.{path}(*args)`: TF 2.21 reordered its arguments; "
                                             "pass them by keyword")
                new_args.append(a)
                continue
            if a.keyword is None:
                kw = order[pos] if order and pos < len(order) else None
                pos += 1
                if kw is not None:
                    if kw == "keyword_required":
                        return
                    a = a.with_changes(keyword=cst.Name(renames.get(kw, kw)), equal=_EQ)
                    changed.append(f"argument {pos} -> `{renames.get(kw, kw)}=`")
            elif a.keyword.value in renames:
                changed.append(f"`{a.keyword.value}=` -> `{renames[a.keyword.value]}=`")
                a = a.with_changes(keyword=cst.Name(renames[a.keyword.value]))
            if self.tf1_file and path in _SOFTMAX_CE and a.keyword is not None and a.keyword.value == "labels" \
                    and not _is_stop_gradient(a.value):
                wrap, _ = self.spell(call.func, "stop_gradient")
                if wrap is not None:
                    a = a.with_changes(value=cst.Call(wrap, [cst.Arg(a.value)]))
                    changed.append("labels wrapped in `tf.stop_gradient` (TF1: no gradient into the labels)")
            new_args.append(a)
        new = self._target(path)
        func, edits = (call.func, [])
        if new is not None:
            func, edits = self.spell(call.func, new)
            if func is None:
                return
            changed.insert(0, f"`tf.{new}`")
        if not changed:
            return
        self._skip.add(id(call.func))
        self.report(call, f"`tf.{path}(...)` as TF1 called it fails on TensorFlow 2.21: " + ", ".join(changed),
                    call.with_changes(func=func, args=new_args), imports=edits)


_EQ = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))
# The first word of every SYMBOLS / TF1_BEHAVIOUR path: a bare name is looked up only if it is one
# (or was imported from tensorflow).
_FIRST_WORDS = frozenset(p.split(".", 1)[0] for p in (*SYMBOLS, *TF1_BEHAVIOUR, *CASTS)) - {"tf"}


def _is_stop_gradient(node) -> bool:
    return isinstance(node, cst.Call) and code_of(node.func).endswith("stop_gradient")


def _commas(args: list[cst.Arg]) -> list[cst.Arg]:
    out = []
    for i, a in enumerate(args):
        out.append(a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) if i < len(args) - 1
                   else a.with_changes(comma=cst.MaybeSentinel.DEFAULT))
    return out
