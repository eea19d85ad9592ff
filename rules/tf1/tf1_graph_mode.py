"""KM602: a TF1 script that builds a graph gets `tf.compat.v1.disable_eager_execution()` after its TensorFlow import."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from kmigrate.rule import Example, Safety, Severity
from kmigrate.rules.tables.tf1_gone import GRAPH_BUILDERS
from kmigrate.rules.tf1.tf1_common import TF1Rule, code_of

_SWITCHES = ("disable_eager_execution", "disable_v2_behavior", "enable_eager_execution", "enable_v2_behavior")
_TF_MODULES = {"tensorflow": "compat.v1.", "tensorflow.compat.v1": ""}
_WORDS = frozenset(p.rsplit(".", 1)[-1] for p in GRAPH_BUILDERS)


class TF1GraphMode(TF1Rule):
    """
    ## What it does
    Finds TensorFlow 1 graph building (`placeholder`, `Session`, `global_variables_initializer`,
    `train.Saver`, `summary.FileWriter`, `get_collection`, ..., spelled `tf.X` or
    `tf.compat.v1.X`) and, in a script, inserts `tf.compat.v1.disable_eager_execution()` once,
    right after the module-level TensorFlow import. A file is a script when it has an
    `if __name__ == "__main__":` block, builds the graph at module level, or is a notebook.

    A module that only builds graphs inside functions and has no `__main__` block is imported
    by others: switching eager execution off is global to the process and must happen before
    any TensorFlow op runs, so a library must not do it on import (it would break the eager
    code of whoever imports it, and comes too late if they already ran an op). There the
    finding is reported, not fixed: call it at the start of the program that imports the module.

    Nothing is reported where the file already switches (`disable_eager_execution`,
    `disable_v2_behavior`, or `enable_eager_execution`: an eager TF1 script).

    ## Why is this bad
    TensorFlow 2.21 runs eagerly: `tf.compat.v1.placeholder` raises "tf.placeholder() is not
    compatible with eager execution", `Session.run` and `Saver` need a graph.

    ## Example
    ```python
    import tensorflow as tf
    x = tf.compat.v1.placeholder(tf.float32, [None, 3])
    ```
    becomes
    ```python
    import tensorflow as tf
    tf.compat.v1.disable_eager_execution()
    x = tf.compat.v1.placeholder(tf.float32, [None, 3])
    ```

    ## Fix safety
    Safe in a script: TF1 graph code only runs in graph mode. Reported only in a module that
    others import (see above), or when the TensorFlow import is not at module level.
    """

    code = "KM602"
    name = "tf1-graph-mode"
    summary = "TF1 graph-building script without `tf.compat.v1.disable_eager_execution()`"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = tuple(sorted(_WORDS))

    VALID = [
        "import tensorflow as tf\ntf.compat.v1.disable_eager_execution()\nx = tf.compat.v1.placeholder(tf.float32)\n",
        "import tensorflow as tf\nx = tf.constant(1.0)\n",
        "import tensorflow as tf\ntf.enable_eager_execution()\ns = tf.Session\n",
        "import tensorflow.compat.v1 as tf\ntf.disable_v2_behavior()\nx = tf.placeholder(tf.float32)\n",
    ]
    INVALID = [
        Example("import tensorflow as tf\nx = tf.compat.v1.placeholder(tf.float32)\n",
                "import tensorflow as tf\ntf.compat.v1.disable_eager_execution()\nx = tf.compat.v1.placeholder(tf.float32)\n"),
        Example("import numpy as np\nimport tensorflow.compat.v1 as tf  # TF1 API\nx = tf.placeholder(tf.float32)\n",
                "import numpy as np\nimport tensorflow.compat.v1 as tf  # TF1 API\ntf.disable_eager_execution()\n"
                "x = tf.placeholder(tf.float32)\n"),
        Example("import tensorflow as tf\ndef model():\n    return tf.compat.v1.placeholder(tf.float32)\n"),
    ]

    def __init__(self, context):
        super().__init__(context)
        self.depth = 0
        self.first: Optional[cst.CSTNode] = None
        self.at_module_level = False
        self.switched = any(s in context.text for s in _SWITCHES)

    def visit_FunctionDef(self, node) -> None:
        self.depth += 1

    def leave_FunctionDef(self, node) -> None:
        self.depth -= 1

    def visit_ClassDef(self, node) -> None:
        self.depth += 1

    def leave_ClassDef(self, node) -> None:
        self.depth -= 1

    def visit_Lambda(self, node) -> None:
        self.depth += 1

    def leave_Lambda(self, node) -> None:
        self.depth -= 1

    def visit_Arg(self, node) -> None:
        self.skip_non_references(node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.skip_non_references(node)
        if self.switched or node.attr.value not in _WORDS:
            return
        self._ref(node)

    def visit_Name(self, node: cst.Name) -> None:
        if not self.switched and node.value in _WORDS:
            self._ref(node)

    def _ref(self, node) -> None:
        if id(node) in self._skip:
            return
        path = self.tf_path(node)
        if path is None:
            return
        if path.startswith("compat.v1."):
            path = path[len("compat.v1."):]
        if path not in GRAPH_BUILDERS:
            return
        if self.first is None:
            self.first, self.first_path = node, path
        if self.depth == 0:
            self.at_module_level = True

    def leave_Module(self, node: cst.Module) -> None:
        if self.first is None or self.switched:
            return
        what = f"tf.{self.first_path}"  # the same before and after KM601 moves it to tf.compat.v1
        script = self.context.is_notebook or self.at_module_level or _has_main_block(node)
        if not script:
            self.report(self.first, f"`{what}` builds a TF1 graph, which needs graph mode on TensorFlow 2.21: "
                        "call `tf.compat.v1.disable_eager_execution()` at the start of the program that "
                        "imports this module (a library should not switch it on import)")
            return
        found = _tf_import_line(node)
        if found is None:
            self.report(self.first, f"`{what}` builds a TF1 graph: call `tf.compat.v1.disable_eager_execution()` "
                        "right after the TensorFlow import (no module-level `import tensorflow` to put it after)")
            return
        line, local, prefix = found
        call = cst.parse_statement(f"{local}.{prefix}disable_eager_execution()\n")
        self.report(line, f"`{what}` builds a TF1 graph, which needs graph mode on TensorFlow 2.21: "
                    f"`{local}.{prefix}disable_eager_execution()` added after the TensorFlow import",
                    cst.FlattenSentinel([line, call]), at=self.first)


def _has_main_block(module: cst.Module) -> bool:
    for stmt in module.body:
        if isinstance(stmt, cst.If) and "__name__" in code_of(stmt.test) and "__main__" in code_of(stmt.test):
            return True
    return False


def _tf_import_line(module: cst.Module):
    """(the first module-level line `import tensorflow [as tf]` / `import tensorflow.compat.v1 as tf`,
    the local name, the path prefix of disable_eager_execution under it), or None."""
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if not isinstance(small, cst.Import):
                continue
            for alias in small.names:
                full = code_of(alias.name)
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name) and full in _TF_MODULES:
                    return stmt, alias.asname.name.value, _TF_MODULES[full]
                if alias.asname is None and full.split(".")[0] == "tensorflow":
                    return stmt, "tensorflow", "compat.v1."
    return None
