"""KM101 standalone `keras` imports -> `tensorflow.keras` (or back, with --target keras);
KM103 a file that mixes standalone `keras` and `tensorflow.keras`.

Both share one import rewriter, so KM103's fix is exactly KM101's.
"""
from __future__ import annotations

import functools
import re
from typing import Optional

import libcst as cst
from libcst.helpers import get_full_name_for_node

from kmigrate.names import NameResolver
from kmigrate.rule import Example, FileContext, ImportEdit, Rule, Safety, Severity

# Keras 3 code written for standalone Keras on purpose: its imports are left alone.
_KERAS3 = re.compile(
    r"\bkeras\.(?:ops|src|config|random|saving|tree)\b"
    r"|\bfrom\s+keras\s+import\s+[^\n]*\b(?:ops|config|random)\b"
    r"|KERAS_BACKEND|\bkeras_(?:hub|cv|nlp|core)\b"
)


@functools.lru_cache(maxsize=4)  # asked per rule and per pass, about the same text
def keras3_reason(text: str) -> Optional[str]:
    m = _KERAS3.search(text)
    return m.group(0).strip() if m else None


def _dotted(node) -> str:
    return get_full_name_for_node(node) or ""


def _mod(dotted: str) -> cst.BaseExpression:
    return cst.parse_expression(dotted)


def _swap_root(name: str, target: str) -> Optional[str]:
    """'keras.layers' -> 'tensorflow.keras.layers' for target tensorflow.keras, and back."""
    old, new = ("keras", "tensorflow.keras") if target == "tensorflow.keras" else ("tensorflow.keras", "keras")
    if name == old or name.startswith(old + "."):
        rest = name[len(old):]
        if rest.startswith(".src") or (target == "tensorflow.keras" and rest.startswith(".api")):
            return None  # private Keras 3 internals have no tensorflow.keras spelling
        return new + rest
    return None


def rewrite_import(node: cst.CSTNode, target: str):
    """The replacement for an import statement that names the wrong Keras, or None."""
    if isinstance(node, cst.ImportFrom):
        if node.relative:
            return None
        name = _dotted(node.module)
        if target == "keras" and name == "tensorflow" and not isinstance(node.names, cst.ImportStar):
            return _from_tensorflow_import_keras(node)
        new = _swap_root(name, target)
        return node.with_changes(module=_mod(new)) if new else None
    if isinstance(node, cst.Import):
        return _import(node, target)
    return None


def _import(node: cst.Import, target: str):
    kept: list[cst.ImportAlias] = []
    extra: list[cst.BaseSmallStatement] = []
    for alias in node.names:
        name = _dotted(alias.name)
        new = _swap_root(name, target)
        if new is None:
            kept.append(alias)
            continue
        asname = alias.asname
        if target == "tensorflow.keras" and (asname is None or name == "keras"):
            # `import keras` / `import keras.layers` bind `keras`; `from tensorflow import keras`
            # binds the same name, so every `keras.x.y` use stays as it is.
            extra.append(cst.ImportFrom(module=cst.Name("tensorflow"),
                                        names=[cst.ImportAlias(cst.Name("keras"), asname=asname)]))
        elif asname is None:
            return None  # `import tensorflow.keras` binds `tensorflow`: uses are rewritten instead
        else:
            kept.append(alias.with_changes(name=_mod(new)))
            continue
    if not extra and all(a is b for a, b in zip(kept, node.names)):
        return None
    if not kept:
        return extra[0] if len(extra) == 1 else cst.FlattenSentinel(extra)
    kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return cst.FlattenSentinel([node.with_changes(names=kept), *extra])


def _from_tensorflow_import_keras(node: cst.ImportFrom):
    """--target keras: `from tensorflow import keras [as k]` -> `import keras [as k]`."""
    names = list(node.names)
    keras_aliases = [a for a in names if _dotted(a.name) == "keras"]
    if not keras_aliases:
        return None
    imports = [cst.Import(names=[cst.ImportAlias(cst.Name("keras"), asname=a.asname)]) for a in keras_aliases]
    rest = [a for a in names if _dotted(a.name) != "keras"]
    if not rest:
        return imports[0] if len(imports) == 1 else cst.FlattenSentinel(imports)
    rest[-1] = rest[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return cst.FlattenSentinel([node.with_changes(names=rest, lpar=None, rpar=None), *imports])


def _wrong_keras(node: cst.CSTNode, target: str) -> bool:
    return rewrite_import(node, target) is not None


class _ImportRule(Rule):
    triggers = ("keras",)
    # keras imports (--target tensorflow.keras) or tensorflow ones and `tf.keras` uses (--target keras)
    needs_import = ("keras", "tensorflow")

    def __init__(self, context: FileContext):
        super().__init__(context)
        self.keras3 = keras3_reason(context.text) if context.target == "tensorflow.keras" else None

    def visit_Import(self, node: cst.Import) -> None:
        self._check(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self._check(node)

    def _check(self, node) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class StandaloneKerasImport(_ImportRule):
    """
    ## What it does
    Rewrites imports of standalone `keras` to `tensorflow.keras`, in every form: `import keras`,
    `import keras as K2`, `import keras.backend as K`, `from keras import layers`,
    `from keras.layers import Dense, Conv2D as C`, inside functions and `try:` blocks alike.
    The names the imports bind stay the same, so every later use (`keras.layers.Dense`, `K.sum`)
    keeps working unchanged and the diff stays minimal. With `--target keras` it goes the other
    way: `tensorflow.keras` imports and `tf.keras.x` uses become standalone Keras 3.

    ## Why is this bad
    Old scripts were written for the standalone `keras` package (Keras 1/2). On today's stack the
    Keras that ships with TensorFlow is `tf.keras`; mixing the two breaks models, and a plain
    `import keras` may pick up a Keras 3 install with another backend.

    Code written for Keras 3 on purpose (it uses `keras.ops`, `keras.src`, `keras.config`,
    `keras.random`, `KERAS_BACKEND`, `keras_hub`, `keras_cv`) is left alone with an info note.

    ## Example
    ```python
    import keras
    from keras.layers import Dense
    ```
    becomes
    ```python
    from tensorflow import keras
    from tensorflow.keras.layers import Dense
    ```

    ## Fix safety
    Safe: `tensorflow.keras` is the same Keras API under another import path.
    """

    code = "KM101"
    name = "standalone-keras-import"
    summary = "Standalone `keras` import; use `tensorflow.keras` (or the chosen --target)"
    fix_safety = Safety.SAFE

    VALID = [
        "from tensorflow import keras\nfrom tensorflow.keras.layers import Dense\n",
        "import keras_tuner\nimport tensorflow as tf\n",
        "from . import keras\nfrom .keras import layers\n",
        "import keras\nfrom keras import ops\nx = ops.add(1, 2)\n",  # Keras 3 on purpose (info only)
        Example("import tensorflow as tf\nfrom tensorflow.keras import layers\n", options={"target": "tensorflow.keras"}),
    ]
    INVALID = [
        Example("import keras\n", "from tensorflow import keras\n"),
        Example("import keras as K2\n", "from tensorflow import keras as K2\n"),
        Example("import keras.backend as K\n", "import tensorflow.keras.backend as K\n"),
        Example("import keras.layers\nx = keras.layers.Dense(3)\n",
                "from tensorflow import keras\nx = keras.layers.Dense(3)\n"),
        Example("from keras import layers, models\n", "from tensorflow.keras import layers, models\n"),
        Example("from keras.layers import Dense, Conv2D as C\n",
                "from tensorflow.keras.layers import Dense, Conv2D as C\n"),
        Example("def f():\n    from keras.models import Sequential, Model  # models\n    return Sequential\n",
                "def f():\n    from tensorflow.keras.models import Sequential, Model  # models\n    return Sequential\n"),
        Example("try:\n    import keras\nexcept ImportError:\n    keras = None\n",
                "try:\n    from tensorflow import keras\nexcept ImportError:\n    keras = None\n"),
        Example("import os, keras\n", "import os; from tensorflow import keras\n"),
        Example("from tensorflow import keras\n", "import keras\n", {"target": "keras"}),
        Example("from tensorflow.keras.layers import Dense\n", "from keras.layers import Dense\n",
                {"target": "keras"}),
        Example("import tensorflow as tf\nm = tf.keras.Sequential()\n",
                "import tensorflow as tf\nimport keras\n\nm = keras.Sequential()\n", {"target": "keras"}),
    ]

    def _check(self, node) -> None:
        if self.keras3:
            if _wrong_keras(node, self.context.target):
                self.report(node, f"standalone Keras 3 code (uses `{self.keras3}`): import left as is",
                            severity=Severity.INFO, safety=Safety.NONE)
            return
        new = rewrite_import(node, self.context.target)
        if new is not None:
            where = "`tensorflow.keras`" if self.context.target == "tensorflow.keras" else "standalone `keras`"
            self.report(node, f"import of the wrong Keras; use {where}", new)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        """--target keras: `tf.keras.layers.Dense` -> `keras.layers.Dense` (+ `import keras`)."""
        if self.context.target != "keras" or node.attr.value != "keras":
            return
        if "tensorflow.keras" in NameResolver(self).qualified_names(node):
            self.report(node, "`tf.keras` use; with --target keras use standalone `keras`",
                        cst.Name("keras"), imports=[ImportEdit("keras")])


class MixedKerasImports(_ImportRule):
    """
    ## What it does
    Reports a file that imports both standalone `keras` and `tensorflow.keras`.

    ## Why is this bad
    Layers, models and tensors of the two packages do not mix: a `keras.layers.Dense` added to a
    `tf.keras.Sequential` fails with a confusing type error, and two Keras versions may be loaded.
    This is the classic mixed-framework bug of Keras 2 era code.

    ## Example
    ```python
    import keras
    from tensorflow.keras.models import Sequential
    ```

    ## Fix safety
    Safe: the standalone imports are rewritten exactly as KM101 does.
    """

    code = "KM103"
    name = "mixed-keras-imports"
    summary = "File imports both standalone `keras` and `tensorflow.keras`"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    needs_import = ("keras",)  # reports only standalone `keras` imports

    @classmethod
    def screen(cls, facts, context) -> bool:
        # an import of standalone `keras` and one of `tensorflow.keras` (`from tensorflow import keras`)
        return context.target == "tensorflow.keras" and any(
            m.startswith("tensorflow.keras") for m in facts.imports) and any(
            m == "keras" or m.startswith("keras.") for m in facts.imports)

    VALID = ["from tensorflow import keras\nfrom tensorflow.keras import layers\n", "import keras\nfrom keras import layers\n"]
    INVALID = [
        Example("import keras\nfrom tensorflow.keras.models import Sequential\n",
                "from tensorflow import keras\nfrom tensorflow.keras.models import Sequential\n"),
    ]

    def __init__(self, context: FileContext):
        super().__init__(context)
        self.standalone: list[cst.CSTNode] = []
        self.tf_keras = False

    def _check(self, node) -> None:
        if rewrite_import(node, "tensorflow.keras") is not None:
            self.standalone.append(node)
        elif rewrite_import(node, "keras") is not None or self._imports_tf_keras(node):
            self.tf_keras = True

    @staticmethod
    def _imports_tf_keras(node) -> bool:
        if isinstance(node, cst.Import):
            return any(_dotted(a.name).startswith("tensorflow.keras") for a in node.names)
        return False

    def leave_Module(self, original_node: cst.Module) -> None:
        if not (self.standalone and self.tf_keras) or self.context.target != "tensorflow.keras":
            return
        for node in self.standalone:
            fix = None if self.keras3 else rewrite_import(node, "tensorflow.keras")
            self.report(node, "this file also imports `tensorflow.keras`; objects of the two Keras "
                        "packages do not mix", fix)
