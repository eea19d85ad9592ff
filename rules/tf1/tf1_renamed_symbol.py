"""KM601: a TensorFlow 1 name or argument TensorFlow 2.21 no longer has -> its TF2 home, else tf.compat.v1;
tf.contrib names with an exact TF 2.21 home -> that home (imports included)."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from kmigrate.rule import Example, Safety, Severity
from kmigrate.rules.tables.tf1_contrib import CONTRIB, MODULES
from kmigrate.rules.tables.tf1_contrib import KEYWORDS as CONTRIB_KEYWORDS
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

    `tf.contrib` names with an exact TF 2.21 home move there too: `tf.contrib.signal.*` ->
    `tf.signal.*`, `tf.contrib.framework.nest.*` -> `tf.nest.*`, the contrib global-step and
    checkpoint helpers -> `tf.compat.v1.train` / `tf.train` (`checkpoint_dir=` ->
    `ckpt_dir_or_file=`), `tf.contrib.data.*` -> `tf.data.experimental.*`, `sort`, `argsort`,
    `is_tensor`, `constant_value` -> `tf.get_static_value`. Imports from tf.contrib are rewritten
    to import the same names from their home (`from tensorflow.contrib.framework import nest` ->
    `from tensorflow import nest`, `from tensorflow.contrib.signal import frames` -> `from
    tensorflow.signal import frame as frames`), so the code using them stays as it is; a module
    import (`from tensorflow.contrib import signal`) only when every use of it has a home (else
    its uses move one by one and KM603 reports the import). Names without a home
    (`arg_scope`, `nest.flatten_up_to`, RNN cells, `tf.contrib.summary`) stay KM603's.

    The tables are data (rules/tables/tf1_renames.py, derived from the facts of TensorFlow's
    upgrade script and kept only where TF 2.21 agrees; rules/tables/tf1_contrib.py, the same
    facts for tf.contrib with TF 1's parameters; rules/tables/tf1_gone.py); a test checks every
    source is absent from and every target present in the installed TensorFlow, taking the TF 1
    parameters. `tf.layers`, `tf.contrib.layers`/slim, `tf.estimator` and `tf.keras` are other
    rules' (KM2xx, KM603, KM3xx).

    ## Why is this bad
    `tf.placeholder`, `tf.log`, `tf.to_float`, `keep_dims=` ... raise `AttributeError` or
    `TypeError` on TensorFlow 2.21, at the first line that uses them.

    ## Example
    ```python
    from tensorflow.contrib.framework import nest
    x = tf.placeholder(tf.float32, [None, 3])
    m = tf.reduce_mean(tf.log(tf.to_float(x)), axis=1, keep_dims=True)
    s = tf.contrib.signal.stft(w, frame_length=256, frame_step=128)
    ```
    becomes
    ```python
    from tensorflow import nest
    x = tf.compat.v1.placeholder(tf.float32, [None, 3])
    m = tf.reduce_mean(tf.math.log(tf.cast(x, tf.float32)), axis=1, keepdims=True)
    s = tf.signal.stft(w, frame_length=256, frame_step=128)
    ```

    ## Fix safety
    Safe: every target is the same function (or the op TF1 ran) under its TensorFlow 2.21 name;
    for tf.contrib, the function TF 1 re-exported there (tf.contrib.signal was tf.signal since
    TF 1.13, tf.contrib.data's functions were wrappers of tf.data.experimental's) or one that
    computes the same from the same arguments.
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
        "import signal\nsignal.signal(signal.SIGINT, handler)\n",
        "import tensorflow as tf\nup = tf.contrib.framework.nest.flatten_up_to(a, b)\n",  # no home: KM603's
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
        Example("import tensorflow as tf\ns = tf.contrib.signal.stft(w, 256, 128)\n",
                "import tensorflow as tf\ns = tf.signal.stft(w, 256, 128)\n"),
        Example("from tensorflow.contrib.framework import nest\nf = nest.flatten(x)\n",
                "from tensorflow import nest\nf = nest.flatten(x)\n"),
        Example("from tensorflow.contrib.signal import stft, frames\n",
                "from tensorflow.signal import stft, frame as frames\n"),
        Example("import tensorflow as tf\nstep = tf.contrib.framework.get_or_create_global_step()\n",
                "import tensorflow as tf\nstep = tf.compat.v1.train.get_or_create_global_step()\n"),
    ]

    def __init__(self, context):
        super().__init__(context)
        self._calls: dict[int, cst.Call] = {}
        self._lines: dict[int, cst.SimpleStatementLine] = {}  # an import -> its line, if alone on it

    def visit_Arg(self, node: cst.Arg) -> None:
        self.skip_non_references(node)

    def visit_Call(self, node: cst.Call) -> None:
        path = self.tf_path(node.func) if self.tf_rooted(node.func) else None
        if path is not None and path in CONTRIB_KEYWORDS:
            self._arguments(node, path)
            return
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
        if node.value in self.tf_heads() and id(node) not in self._skip:  # else nothing under tensorflow
            self._ref(node)

    # ---------------------------------------------------------------- references

    def _target(self, path: str) -> Optional[str]:
        if path.startswith("contrib."):
            return CONTRIB.get(path)
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
        root = chain[-1]
        if type(root) is cst.Name and root.value not in self.tf_heads():
            # nothing under tensorflow, unless an assignment bound it to a tf.contrib module
            if root.value in self.contrib_bound():
                self._contrib_attribute(chain)
            return
        if self.contrib_rewritten_root(root):
            self._contrib_attribute(chain)
            return
        for n in chain:
            if not isinstance(n, (cst.Attribute, cst.Name)):
                return
            path = self.tf_path(n)
            if path is None:
                continue
            new = self._target(path) if path != "nn.dropout" else None  # a call: visit_Call
            if new is None and path in MODULES and n is node and self.contrib_value(n):
                new = MODULES[path]  # `nest = tf.contrib.framework.nest`, every use of `nest` tabled
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

    def _contrib_attribute(self, chain: list) -> None:
        """`signal.frames` where `signal` is bound to tf.contrib.signal (rewritten by its import
        or assignment): the attribute TF 2.21 names differently (`signal.frame`)."""
        root = chain[-1]
        bound = self.contrib_bound().get(root.value) if isinstance(root, cst.Name) else None
        if bound is None or len(chain) < 2:
            return
        module, home, _ = bound
        use = chain[-2]
        new = CONTRIB.get(f"{module}.{use.attr.value}", "").rpartition(".")[2]
        if new and new != use.attr.value:
            self.report(use, f"`{code_of(use, self.module)}`: `tf.{module}.{use.attr.value}` is "
                        f"`tf.{home}.{new}` in TensorFlow 2.21", use.with_changes(attr=cst.Name(new)))

    # ---------------------------------------------------------------- imports

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        if len(node.body) == 1 and isinstance(node.body[0], cst.ImportFrom):
            self._lines[id(node.body[0])] = node

    def visit_Import(self, node: cst.Import) -> None:
        super().visit_Import(node)
        self._contrib_import(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        super().visit_ImportFrom(node)
        self._contrib_import(node)

    def _contrib_import(self, node) -> None:
        """An import from tf.contrib whose names have an exact TF 2.21 home: the same names
        imported from there (`from tensorflow.contrib.framework import nest` -> `from tensorflow
        import nest`); names without one stay in the original statement (KM603's)."""
        plan = self.contrib_import(node)
        if not plan or all(new is None for _, new in plan):
            return
        kept = [alias for alias, new in plan if new is None]
        target = node
        if isinstance(node, cst.Import):
            names = [alias if new is None else alias.with_changes(name=cst.parse_expression(new[0]))
                     for alias, new in plan]
            replacement = node.with_changes(names=names)
        else:
            modules: dict[str, list[cst.ImportAlias]] = {}
            for alias, new in plan:
                if new is None:
                    continue
                module, name, asname = new
                modules.setdefault(module, []).append(alias.with_changes(
                    name=cst.Name(name),
                    asname=cst.AsName(cst.Name(asname)) if asname is not None else None))
            if not kept and len(modules) == 1:
                (module, aliases), = modules.items()
                replacement = node.with_changes(module=cst.parse_expression(module), names=aliases)
            else:
                parts = []
                if kept:
                    parts.append(node.with_changes(names=_last_without_comma(kept)))
                for module, aliases in modules.items():
                    parts.append(cst.ImportFrom(module=cst.parse_expression(module),
                                                names=_last_without_comma(aliases)))
                line = self._lines.get(id(node))
                if line is not None:  # the import is a line of its own: one line per import
                    lines = [line.with_changes(body=[parts[0]])]
                    lines += [cst.SimpleStatementLine(body=[p]) for p in parts[1:]]
                    target, replacement = line, cst.FlattenSentinel(lines)
                else:
                    replacement = cst.FlattenSentinel(parts)
        source = code_of(node.module) + "." if isinstance(node, cst.ImportFrom) else ""
        moved = ", ".join(f"`{source}{code_of(a.name)}` is `{new[0]}{'.' + new[1] if new[1] else ''}`"
                          for a, new in plan if new is not None)
        self.report(target, f"tf.contrib is gone in TensorFlow 2.21, but {moved} there: imported from its new home",
                    replacement, at=node)

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
        renames = KEYWORDS.get(path) or CONTRIB_KEYWORDS.get(path, {})
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
        if new is not None and not self.contrib_rewritten_root(call.func):  # else: its import is rewritten
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


def _last_without_comma(aliases: list[cst.ImportAlias]) -> list[cst.ImportAlias]:
    return [*aliases[:-1], aliases[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)] if aliases else aliases


def _is_stop_gradient(node) -> bool:
    return isinstance(node, cst.Call) and code_of(node.func).endswith("stop_gradient")


def _commas(args: list[cst.Arg]) -> list[cst.Arg]:
    out = []
    for i, a in enumerate(args):
        out.append(a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) if i < len(args) - 1
                   else a.with_changes(comma=cst.MaybeSentinel.DEFAULT))
    return out
