"""KM355: NumPy names removed since the Keras 1/2 days (`np.float`, `np.int`, `np.float_`,
`np.NaN`, ...), which old training scripts use for dtypes and constants."""
from __future__ import annotations

import libcst as cst

from kmigrate.rule import Example, Safety, Severity
from kmigrate.rules.keras3.keras2_common import KerasRule
from kmigrate.rules.tables.numpy_removed import REMOVED


class NumpyRemovedAlias(KerasRule):
    """
    ## What it does
    Replaces NumPy names that today's NumPy no longer has, from the table in
    `rules/tables/numpy_removed.py`: the builtin aliases removed in NumPy 1.24 (`np.float` ->
    `float`, `np.int` -> `int`, `np.object`, `np.str`, `np.unicode` -> `str`, `np.complex`) and
    the names removed in NumPy 2.0 (`np.float_` -> `np.float64`, `np.NaN` -> `np.nan`,
    `np.Inf` -> `np.inf`, `np.product` -> `np.prod`, ...), through any import of NumPy, in
    files that use Keras or TensorFlow.

    ## Why is this bad
    TensorFlow 2.21 needs NumPy 2, where `np.zeros(shape, dtype=np.float)` raises
    `AttributeError: module 'numpy' has no attribute 'float'`: an old Keras script stops there
    before its model is built.

    ## Example
    ```python
    movies = np.zeros((n, 15, 40, 40, 1), dtype=np.float)
    ```
    becomes
    ```python
    movies = np.zeros((n, 15, 40, 40, 1), dtype=float)
    ```

    ## Fix safety
    Safe: each old name was exactly its replacement (NumPy's own migration guide).
    """

    code = "KM355"
    name = "numpy-removed-alias"
    summary = "NumPy name removed in NumPy 1.24/2.0 (`np.float`, `np.int`, `np.float_`, `np.NaN`, ...)"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    # Old Keras and TensorFlow programs only: a file that never spells either is not parsed for it.
    triggers = ("keras", "tensorflow")
    requires = ("numpy",)

    @classmethod
    def screen(cls, facts, context) -> bool:
        # NumPy names (a local `numpy` binding resolves too), not Keras ones: no needs_import
        return not facts.attrs.isdisjoint(REMOVED) and (facts.imports_from("numpy") or "numpy" in facts.bound)

    VALID = ["import numpy as np\nx = np.zeros(3, dtype=np.float32) + np.nan\n",
             "import numpy as np\nclass A:\n    float = 1\nA.float\n"]
    INVALID = [
        Example("import numpy as np\nimport keras\nx = np.zeros(3, dtype=np.float)\n",
                "import numpy as np\nimport keras\nx = np.zeros(3, dtype=float)\n"),
        Example("import numpy\nimport tensorflow as tf\ny = numpy.array(v).astype(numpy.int) * numpy.NaN\n",
                "import numpy\nimport tensorflow as tf\ny = numpy.array(v).astype(int) * numpy.nan\n"),
        Example("import numpy as np\nfrom keras.layers import Dense\nz = np.product(s) + np.float_(1)\n",
                "import numpy as np\nfrom keras.layers import Dense\nz = np.prod(s) + np.float64(1)\n"),
    ]

    def visit_Attribute(self, node: cst.Attribute) -> None:
        new = REMOVED.get(node.attr.value)
        if new is None or not isinstance(node.value, (cst.Name, cst.Attribute)):
            return
        if f"numpy.{node.attr.value}" not in self.names.qualified_names(node, "numpy"):
            return
        if new.startswith("np."):
            replacement = node.with_changes(attr=cst.Name(new[3:]))
        else:
            replacement = cst.Name(new).with_changes(lpar=node.lpar, rpar=node.rpar)
        self.report(node, f"`numpy.{node.attr.value}` was removed from NumPy: use `{new.replace('np.', 'numpy.')}`",
                    replacement)
