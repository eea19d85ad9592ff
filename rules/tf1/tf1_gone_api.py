"""KM603: TensorFlow 1 APIs with no home in TensorFlow 2.21 (tf.contrib, tf.estimator, tutorials, ...)."""
from __future__ import annotations

import libcst as cst

from kmigrate.rule import Example, Safety, Severity
from kmigrate.rules.tables.tf1_contrib import MODULES
from kmigrate.rules.tables.tf1_gone import GONE, SHIMS
from kmigrate.rules.tf1.tf1_common import TF1Rule, code_of, contrib_home, matches

# tf.contrib.layers / tf.contrib.slim are KM204's (converted or reported there).
_KM204 = ("contrib.layers", "contrib.slim")
_TF_ROOTS = ({"tensorflow"}, {"tensorflow.compat.v1"})


def _strip(path: str) -> str:
    return path[len("compat.v1."):] if path.startswith("compat.v1.") else path


def _words() -> tuple[str, ...]:
    out = set()
    for p in (*GONE, *SHIMS):
        out.add(p.rstrip(".").split(".")[0])
    return tuple(sorted(out))


class TF1GoneAPI(TF1Rule):
    """
    ## What it does
    Reports, at the line, the TensorFlow 1 APIs that have no home in TensorFlow 2.21, with what
    to use instead: `tf.contrib.*` (beyond the layers KM204 converts and the names KM601 moves
    to an exact TF 2.21 home: `tf.contrib.signal`, `tf.contrib.framework.nest`, the global-step
    helpers, `tf.contrib.data`, ...; rules/tables/tf1_contrib.py), `tf.estimator`,
    `tensorflow.examples.tutorials.mnist` (-> `tf.keras.datasets.mnist`, a different API),
    `tf.nn.rnn_cell` (-> Keras RNN cells), in imports and in uses through
    any alias. `tf.enable_eager_execution()` is dropped: eager execution is TF2's default.

    As information (never failing a run), names that still run through `tf.compat.v1` but
    belong to another API today: `tf.app.run` / `tf.app.flags` / `tf.flags` (-> `absl.app.run`,
    `absl.flags`), queues, input producers and reader ops (graph mode only; -> `tf.data`).
    KM601 moves those to `tf.compat.v1`, where they run.

    An import from tf.contrib is reported unless KM601 moves every name of it to its home; a
    `name = tf.contrib.signal` unless every use of `name` has one.

    ## Why is this bad
    The import or the attribute fails with `ImportError`/`AttributeError` on TensorFlow 2.21;
    no rename helps, the code needs a human.

    ## Example
    ```python
    from tensorflow.examples.tutorials.mnist import input_data   # KM603
    tf.enable_eager_execution()                                   # KM603: dropped
    with tf.contrib.framework.arg_scope([conv2d]):                # KM603: no home
        ...
    s = tf.contrib.signal.stft(w, 256, 128)                       # KM601's: tf.signal.stft
    ```

    ## Fix safety
    Safe for `tf.enable_eager_execution()` as a statement of its own (TF2 is eager). Everything
    else is reported only.
    """

    code = "KM603"
    name = "tf1-gone-api"
    summary = "TensorFlow 1 API with no home in TensorFlow 2.21 (tf.contrib, tf.estimator, ...)"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = _words()

    VALID = [
        "import tensorflow as tf\nm = tf.keras.datasets.mnist.load_data()\n",
        "import tensorflow as tf\ny = tf.contrib_thing\n",
        "from absl import app\napp.run(main)\n",
        "import tensorflow as tf\ny = tf.contrib.layers.flatten(x)\n",  # KM204's
        "import tensorflow as tf\ns = tf.contrib.signal.stft(w, 256, 128)\n",  # KM601's: tf.signal.stft
        "from tensorflow.contrib.framework import nest\nf = nest.flatten(x)\n",  # KM601's: tf.nest
    ]
    INVALID = [
        Example("import tensorflow as tf\nest = tf.estimator.Estimator(model_fn)\n"),
        Example("from tensorflow.examples.tutorials.mnist import input_data\n"),
        Example("import tensorflow as tf\ncell = tf.contrib.rnn.LSTMCell(8)\n"),
        Example("import tensorflow as tf\nwith tf.contrib.framework.arg_scope([f]):\n    pass\n"),
        Example("from tensorflow.contrib.framework import nest\nup = nest.flatten_up_to(a, b)\n"),
        Example("import tensorflow as tf\ntf.enable_eager_execution()\nx = tf.constant(1)\n",
                "import tensorflow as tf\nx = tf.constant(1)\n"),
        Example("import tensorflow as tf\ntf.app.run()\n"),
        Example("import tensorflow as tf\nq = tf.train.string_input_producer(files)\n"),
    ]

    def visit_Arg(self, node) -> None:
        self.skip_non_references(node)

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        if len(node.body) == 1 and isinstance(node.body[0], cst.Expr) and isinstance(node.body[0].value, cst.Call):
            call = node.body[0].value
            if not call.args and isinstance(call.func, (cst.Attribute, cst.Name)):
                path = self.tf_path(call.func)
                if path is not None and _strip(path) == "enable_eager_execution":
                    self._skip.add(id(call.func))
                    self.report(node, "`enable_eager_execution()` is gone: eager execution is TF2's default; "
                                "call dropped", cst.RemovalSentinel.REMOVE, at=call)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.skip_non_references(node)
        self._ref(node)

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self.tf_heads():
            self._ref(node)

    def _ref(self, node) -> None:
        if id(node) in self._skip:
            return
        chain = [node]
        while isinstance(chain[-1], cst.Attribute):
            chain.append(chain[-1].value)
        for n in chain[1:]:
            self._skip.add(id(n))
        # through an alias of tensorflow itself (names imported from a gone module: the import says it)
        root = chain[-1]
        if type(root) is not cst.Name or root.value not in self.tf_heads() \
                or self.names.qualified_names(root, "tensorflow") not in _TF_ROOTS:
            return
        for n in chain:
            if not isinstance(n, (cst.Attribute, cst.Name)):
                continue
            path = self.tf_path(n)
            if path is None:
                return
            if self._check(n, _strip(path), f"tf.{_strip(path)}"):
                return

    def _check(self, node, path: str, spelled: str) -> bool:
        if path.startswith(_KM204):
            return True
        if contrib_home(path) is not None or (path in MODULES and self.contrib_value(node)):
            return True  # KM601 moves it to its TF 2.21 home
        gone = matches(path, GONE)
        if gone is not None:
            if gone == "enable_eager_execution":
                self.report(node, f"`{spelled}` is gone: {GONE[gone]}")
            else:
                self.report(node, f"`{spelled}`: {GONE[gone]}")
            return True
        shim = SHIMS.get(path)
        if shim is not None:
            self.report(node, f"`{spelled}` runs through tf.compat.v1 only: {shim}", severity=Severity.INFO)
            return True
        return False

    def visit_Import(self, node: cst.Import) -> None:
        super().visit_Import(node)
        moved = {id(alias) for alias, new in self.contrib_import(node) or () if new is not None}
        for alias in node.names:
            if id(alias) not in moved:  # KM601 imports it from its TF 2.21 home
                self._module(node, code_of(alias.name))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        super().visit_ImportFrom(node)
        if node.relative or node.module is None:
            return
        plan = self.contrib_import(node)
        if plan and all(new is not None for _, new in plan):
            return  # KM601 imports every name from its TF 2.21 home
        module = code_of(node.module)
        if module == "tensorflow.contrib" and not isinstance(node.names, cst.ImportStar):
            # per name: `from tensorflow.contrib import slim` is KM204's, `signal` may be KM601's
            moved = {id(alias) for alias, new in plan or () if new is not None}
            for alias in node.names:
                name = code_of(alias.name)
                if id(alias) not in moved and not f"contrib.{name}".startswith(_KM204):
                    self._module(node, f"{module}.{name}")  # one finding per statement
                    return
            return
        if self._module(node, module) or isinstance(node.names, cst.ImportStar):
            return
        if module in ("tensorflow", "tensorflow.compat.v1"):
            for alias in node.names:
                self._module(node, f"{module}.{code_of(alias.name)}")

    def _module(self, node, dotted: str) -> bool:
        if dotted != "tensorflow" and not dotted.startswith("tensorflow."):
            return False
        path = _strip(dotted[len("tensorflow."):])
        if path.startswith(_KM204):
            return True
        return self._check(node, path, dotted)
