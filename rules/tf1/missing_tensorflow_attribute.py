"""KM604: the safety net: a `tensorflow` path that TensorFlow 2.21's public API does not have."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from kmigrate.rule import Example, Safety, Severity
from kmigrate.rules.tables.tf1_gone import CASTS, GONE, SHIMS, TF1_BEHAVIOUR
from kmigrate.rules.tables.tf1_renames import SYMBOLS
from kmigrate.rules.tf1.tf1_common import TF1Rule, code_of, matches

# Handled by other rules: tf.layers (KM2xx), tf.contrib / estimator / ... (KM603, KM204).
_ELSEWHERE = ("layers", "compat.v1.layers", "contrib")


def _handled(missing: str, path: str = "") -> bool:
    """Another rule rewrites or reports `missing` (or a longer prefix of `path` through it)."""
    parts = path.split(".") if path.startswith(missing + ".") else []
    n = missing.count(".") + 1
    return any(_handled_one(".".join(parts[:i])) for i in range(n + 1, len(parts) + 1)) or _handled_one(missing)


def _handled_one(path: str) -> bool:
    bare = path[len("compat.v1."):] if path.startswith("compat.v1.") else path
    return (path in SYMBOLS or bare in CASTS or path in TF1_BEHAVIOUR or bare in SHIMS
            or matches(bare, GONE) is not None or path.split(".")[0] in _ELSEWHERE
            or path.startswith("compat.v1.layers") or bare.startswith("layers"))


def missing_part(path: str) -> Optional[str]:
    """The shortest prefix of `path` (relative to tensorflow) that TF 2.21 does not have, or None
    (everything exists, or the path goes through an object whose attributes are not tabled)."""
    from kmigrate.rules.tables.tf_public_names import ALIASES, TF

    module = ""
    parts = path.split(".")
    for i, part in enumerate(parts):
        names = TF.get(module)
        if names is None:
            return None  # not a module: a class or function, whose attributes are not listed
        if part not in names:
            return ".".join(parts[: i + 1])
        module = f"{module}.{part}" if module else part
        module = ALIASES.get(module, module)
    return None


class MissingTensorFlowAttribute(TF1Rule):
    """
    ## What it does
    The safety net of the TensorFlow 1 rules: after the fixes, every attribute path rooted at
    TensorFlow (`tf.a.b` through any alias, `tf.compat.v1.a.b`, `from tensorflow.a import b`,
    `import tensorflow.a.b`) that TensorFlow 2.21's public API does not have is reported. The
    public API is a data file generated from the installed TensorFlow
    (rules/tables/tf_public_names.py; a test keeps it current); the command line never imports
    TensorFlow. Paths other rules rewrite or report are theirs (KM601 renames, KM603 gone APIs,
    KM2xx `tf.layers`), and Keras paths (`tf.keras.*`, `keras.*`, `K.f`) are KM104's and
    KM346's. Private modules (`tensorflow.python`, `tensorflow.core`) are not checked.

    With the TF1 and Keras rules, "0 remaining" means: nothing kmigrate can see will raise
    AttributeError or ImportError on TensorFlow 2.21.

    ## Why is this bad
    The path fails at run time (`AttributeError: module 'tensorflow' has no attribute ...`).

    ## Example
    ```python
    opt = tf.train.LazyAdam(0.1)   # KM604: `tf.train.LazyAdam` does not exist
    ```

    ## Fix safety
    None: a path no table knows needs a human.
    """

    code = "KM604"
    name = "missing-tensorflow-attribute"
    summary = "TensorFlow path that does not exist in TensorFlow 2.21's public API"
    severity = Severity.ERROR
    fix_safety = Safety.NONE

    VALID = [
        "import tensorflow as tf\ny = tf.math.log(tf.compat.v1.placeholder(tf.float32))\n",
        "import tensorflow as tf\nd = tf.float32.as_numpy_dtype\n",
        "from tensorflow.python.ops import array_ops\n",
        "import tensorflow as tf\nm = tf.keras.layers.Dense(3)\n",
        "import tensorflow as tf\nx = tf.placeholder(tf.float32)\n",  # KM601's
    ]
    INVALID = [
        Example("import tensorflow as tf\nopt = tf.train.NoSuchOptimizer(0.1)\n"),
        Example("import tensorflow as tf\nn = tf.compat.v1.no_such_function(2)\n"),
        Example("from tensorflow.train import no_such_thing\n"),
        Example("import tensorflow.no_such_module\n"),
    ]

    def visit_Arg(self, node) -> None:
        self.skip_non_references(node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.skip_non_references(node)
        if id(node) in self._skip:
            return
        inner = node.value
        while isinstance(inner, cst.Attribute):
            self._skip.add(id(inner))
            inner = inner.value
        self._skip.add(id(inner))
        if type(inner) is cst.Name and inner.value in self.tf_heads():
            self._check(node, self.tf_path(node))

    def _check(self, node, path: Optional[str]) -> None:
        if not path:
            return
        missing = missing_part(path)
        if missing is None or _handled(missing, path):
            return
        self.report(node, f"`tf.{missing}` does not exist in TensorFlow 2.21; rewrite by hand")

    def visit_Import(self, node: cst.Import) -> None:
        super().visit_Import(node)
        for alias in node.names:
            dotted = code_of(alias.name)
            self._module(node, dotted, f"`import {dotted}`")

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        super().visit_ImportFrom(node)
        if node.relative or node.module is None:
            return
        module = code_of(node.module)
        if not self._module(node, module, f"`from {module} import ...`") or isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            self._module(node, f"{module}.{code_of(alias.name)}", f"`from {module} import {code_of(alias.name)}`")

    def _module(self, node, dotted: str, spelled: str) -> bool:
        """Checks an imported path; True when it is fine (or not ours)."""
        if not dotted.startswith("tensorflow."):
            return dotted == "tensorflow"
        rel = dotted[len("tensorflow."):]
        if rel.split(".")[0] in ("python", "core", "tools", "_api", "include", "compiler", "tsl", "xla", "keras") \
                or rel.startswith(("compat.v1.keras", "compat.v2.keras")):
            return False
        missing = missing_part(rel)
        if missing is None:
            return True
        if not _handled(missing, rel):
            self.report(node, f"`tensorflow.{missing}` does not exist in TensorFlow 2.21 ({spelled})")
        return False
