"""KM606: with `tf1-layers = "compat"`, TF1 `tf.layers` -> `tf.compat.v1.layers` on tf-keras."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from kmigrate.rule import Example, Safety, Severity
from kmigrate.rules.tf1.tf1_common import TF1Rule, code_of

_LAYERS = ("tensorflow.layers", "tensorflow.python.layers")
_ENV = "TF_USE_LEGACY_KERAS"


class TF1LayersCompat(TF1Rule):
    """
    ## What it does
    Only with `tf1-layers = "compat"` (`--tf1-layers compat`): the legacy route for TF1 layers.
    Instead of KM201-KM203's Keras layers, every `tf.layers.X` (any spelling: `tf.layers.dense`,
    `tfl = tf.layers`, `from tensorflow.layers import dense`, `from tensorflow import layers`)
    becomes `tf.compat.v1.layers.X`, and a script gets
    `os.environ["TF_USE_LEGACY_KERAS"] = "1"` right before its first TensorFlow import.
    With the `tf-keras` package installed (the version matching TensorFlow) and that variable set
    before TensorFlow is imported, `tf.compat.v1.layers` is TF1's layers again: weights shared
    by name in a reused `variable_scope` (`D/h1/kernel:0` for both calls), TF1 checkpoint names,
    `UPDATE_OPS` batch norm, `training=` tensors. Use it for the calls KM201 refuses.

    A module imported by others is not changed at the top: the variable must be set by the
    program before anything imports TensorFlow (reported there). Each file also gets an info
    finding: add `tf-keras` to the dependencies.

    ## Why is this bad
    On TensorFlow 2.21 with Keras 3, `tf.layers` is gone and `tf.compat.v1.layers.dense` raises
    "not available with Keras 3"; a quarter of real TF1 layer calls share weights by name, which
    Keras layers cannot do without restructuring.

    ## Example
    ```python
    import tensorflow as tf
    with tf.variable_scope("D", reuse=True):
        h = tf.layers.dense(x, 16, name="h1")
    ```
    becomes (with `--tf1-layers compat`)
    ```python
    import os
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tensorflow as tf
    with tf.variable_scope("D", reuse=True):
        h = tf.compat.v1.layers.dense(x, 16, name="h1")
    ```

    ## Fix safety
    Safe: the same TF1 layer functions (from tf-keras), same variables and names. The program
    needs the `tf-keras` package; its `tf.keras` is then Keras 2 (tf-keras), not Keras 3.
    """

    code = "KM606"
    name = "tf1-layers-compat"
    summary = "TF1 `tf.layers` to `tf.compat.v1.layers` on tf-keras (opt-in: `tf1-layers = \"compat\"`)"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("layers",)

    VALID = [
        "import tensorflow as tf\ny = tf.layers.dense(x, 3)\n",  # the default target: KM201's
        Example("import os\nos.environ['TF_USE_LEGACY_KERAS'] = '1'\nimport tensorflow as tf\n"
                "y = tf.compat.v1.layers.dense(x, 3)\n", options={"tf1_layers": "compat"}),
    ]
    INVALID = [
        Example("import tensorflow as tf\ny = tf.layers.dense(x, 3, name='fc')\n",
                'import os\nos.environ["TF_USE_LEGACY_KERAS"] = "1"\nimport tensorflow as tf\n'
                "y = tf.compat.v1.layers.dense(x, 3, name='fc')\n", {"tf1_layers": "compat"}),
        Example("from tensorflow.layers import dense\ndef f(x):\n    return dense(x, 3)\n",
                "from tensorflow.compat.v1.layers import dense\ndef f(x):\n    return dense(x, 3)\n",
                {"tf1_layers": "compat"}),
    ]

    def __init__(self, context):
        super().__init__(context)
        self.on = getattr(context, "tf1_layers", "keras") == "compat"
        self.first_use: Optional[cst.CSTNode] = None
        self.depth = 0
        self.module_level = False

    def visit_FunctionDef(self, node) -> None:
        self.depth += 1

    def leave_FunctionDef(self, node) -> None:
        self.depth -= 1

    def visit_ClassDef(self, node) -> None:
        self.depth += 1

    def leave_ClassDef(self, node) -> None:
        self.depth -= 1

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.skip_non_references(node)
        if not self.on or self.in_import:
            return
        if self.depth == 0 and not self.module_level and isinstance(node.value, cst.Name) \
                and any(q.startswith("tensorflow") for q in self.names.qualified_names(node.value)):
            self.module_level = True  # TensorFlow used at module level: a script
        if node.attr.value != "layers":
            return
        qnames = self.names.qualified_names(node)
        if len(qnames) == 1 and next(iter(qnames)) in _LAYERS:
            self._use(node)
            self.report(node, f"`{code_of(node, self.module)}` (TF1 layers): `tf.compat.v1.layers` on tf-keras "
                        "(tf1-layers = \"compat\")", node.with_changes(value=cst.parse_expression(
                            f"{code_of(node.value)}.compat.v1")))
        elif len(qnames) == 1 and next(iter(qnames)) == "tensorflow.compat.v1.layers":
            self._use(node)

    def visit_Name(self, node: cst.Name) -> None:
        if self.on and not self.in_import and node.value in self.tf_heads() and id(node) not in self._skip:
            qnames = self.names.qualified_names(node)
            if len(qnames) == 1 and next(iter(qnames)).startswith(("tensorflow.compat.v1.layers", "tensorflow.layers")):
                self._use(node)

    def _use(self, node) -> None:
        if self.first_use is None:
            self.first_use = node
        if self.depth == 0:
            self.module_level = True

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        super().visit_ImportFrom(node)
        if not self.on or node.relative or node.module is None:
            return
        module = code_of(node.module)
        new = None
        if module in _LAYERS or module.startswith(tuple(m + "." for m in _LAYERS)):
            new = "tensorflow.compat.v1.layers" + module.split("layers", 1)[1]
        elif module == "tensorflow" and not isinstance(node.names, cst.ImportStar) \
                and [code_of(a.name) for a in node.names] == ["layers"]:
            new = "tensorflow.compat.v1"
        if new is not None:
            self.report(node, f"`from {module} import ...` (TF1 layers): from `{new}` on tf-keras "
                        "(tf1-layers = \"compat\")", node.with_changes(module=cst.parse_expression(new)))
            self.first_use = self.first_use or node

    def leave_Module(self, node: cst.Module) -> None:
        if not self.on or self.first_use is None:
            return
        self.report(self.first_use, "`tf.compat.v1.layers` needs the `tf-keras` package (the version of your "
                    "tensorflow, e.g. `tf-keras==2.21.*`): add it to the dependencies", severity=Severity.INFO,
                    safety=Safety.NONE)
        if _ENV in self.context.text:
            return
        script = self.context.is_notebook or self.module_level or _has_main_block(node)
        line = _first_tf_import(node)
        if not script or line is None:
            self.report(self.first_use, f"`tf.compat.v1.layers` needs `{_ENV}=1` set before TensorFlow is "
                        "imported: set it at the start of the program that imports this module",
                        safety=Safety.NONE)
            return
        has_os = any(isinstance(s, cst.SimpleStatementLine) and any(
            isinstance(i, cst.Import) and any(code_of(a.name) == "os" and a.asname is None for a in i.names)
            for i in s.body) for s in node.body[:node.body.index(line)])
        new = [] if has_os else [cst.parse_statement("import os\n")]
        new.append(cst.parse_statement(f'os.environ["{_ENV}"] = "1"\n'))
        first = line.with_changes(leading_lines=())
        new[0] = new[0].with_changes(leading_lines=line.leading_lines)
        self.report(line, f"`tf.compat.v1.layers` needs `{_ENV}=1` before TensorFlow is imported: set above the "
                    "import (and add `tf-keras` to the dependencies)", cst.FlattenSentinel([*new, first]),
                    at=self.first_use)


def _has_main_block(module: cst.Module) -> bool:
    for stmt in module.body:
        if isinstance(stmt, cst.If) and "__main__" in code_of(stmt.test):
            return True
    return False


def _first_tf_import(module: cst.Module):
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Import) and any(code_of(a.name).split(".")[0] == "tensorflow" for a in small.names):
                return stmt
            if isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative \
                    and code_of(small.module).split(".")[0] == "tensorflow":
                return stmt
    return None
