"""KM104: an import of a Keras module or name that does not exist in today's Keras."""
from __future__ import annotations

import ast
from typing import Optional

import libcst as cst
from libcst.helpers import get_full_name_for_node

from kmigrate.rule import Example, Rule, Safety, Severity
from kmigrate.rules.imports.removed_keras_module import moved, split_root
from kmigrate.rules.lint import statements
from kmigrate.rules.tables.keras_modules import GONE_HINTS
from kmigrate.rules.tables.keras_public_names import KERAS3, TF_KERAS


class MissingKerasName(Rule):
    """
    ## What it does
    Checks every import from a Keras module (`keras.*` or `tensorflow.keras.*`) against the
    public modules and names of the Keras the code targets (TensorFlow 2.21's `tf.keras`, or
    standalone Keras 3 with `--target keras`) and reports the ones that do not exist, with what
    to use instead when that is known (`multi_gpu_model`, `model_from_yaml`, `CuDNNLSTM`, ...).
    Module paths that only moved are KM102's job; Keras 3's private `keras.src` is not checked.

    ## Why is this bad
    The import fails with `ImportError` before anything runs. Reporting it with the line and
    the replacement saves a round of trial and error per name.

    ## Example
    ```python
    from keras.utils import multi_gpu_model   # KM104: use tf.distribute.MirroredStrategy
    ```

    ## Fix safety
    None: the replacement needs a human (other rules fix the names that have an exact successor).
    """

    code = "KM104"
    name = "missing-keras-name"
    summary = "Import of a Keras module or name that no longer exists"
    severity = Severity.ERROR
    fix_safety = Safety.NONE
    needs_import = ("keras", "tensorflow")  # import statements under split_root's roots only

    VALID = [
        "from tensorflow.keras.layers import Dense, LSTM\nimport tensorflow.keras.backend as K\n",
        "from keras.utils import to_categorical\nfrom keras import layers, models\n",
        "from keras.src.layers import Dense\n",
        "from keras.layers.core import Dense\n",  # moved, not missing: KM102
        "from tensorflow.keras.applications.vgg16 import VGG16\n",
    ]
    INVALID = [
        Example("from keras.utils import multi_gpu_model\n"),
        Example("from tensorflow.keras.models import model_from_yaml, load_model\n"),
        Example("import keras.engine as KE\n"),
        Example("from keras.legacy import interfaces\n"),
        Example("from tensorflow.keras.utils import conv_utils\n"),
    ]

    @classmethod
    def screen(cls, facts, context) -> bool:
        # an import statement (any depth) of a Keras module or name the target's table lacks
        if not any(split_root(m)[0] is not None for m in facts.imports):
            return False
        table = _table(context.target)
        for s in statements(facts.tree):
            if type(s) is ast.ImportFrom and not s.level and s.module:
                names = None if any(a.name == "*" for a in s.names) else [a.name for a in s.names]
                if missing_from(s.module, names, table):
                    return True
            elif type(s) is ast.Import and any(missing_import(a.name, table) for a in s.names):
                return True
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None:
            return
        dotted = get_full_name_for_node(node.module) or ""
        names = None if isinstance(node.names, cst.ImportStar) else [
            get_full_name_for_node(alias.name) or "" for alias in node.names]
        for what, key in missing_from(dotted, names, _table(self.context.target)):
            self._missing(node, what, key)

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            found = missing_import(get_full_name_for_node(alias.name) or "", _table(self.context.target))
            if found:
                self._missing(node, *found)

    def _missing(self, node: cst.CSTNode, what: str, key: str) -> None:
        keras = "TensorFlow 2.21's tf.keras" if self.context.target == "tensorflow.keras" else "Keras 3"
        hint = GONE_HINTS.get(key)
        self.report(node, f"{what} does not exist in {keras}" + (f"; {hint}" if hint else ""))


def _table(target: str):
    return TF_KERAS if target == "tensorflow.keras" else KERAS3


def missing_from(dotted: str, names: Optional[list[str]], table) -> list[tuple[str, str]]:
    """What `from <dotted> import <names>` (None: `*`) imports that `table` lacks, as (what, key)."""
    root, rest = split_root(dotted)
    if root is None or rest.startswith("src") or moved(rest) is not None:
        return []
    if rest not in table:
        return [(f"module `{dotted}`", rest.rpartition(".")[2])]
    out = []
    for name in names or ():
        sub = f"{rest}.{name}" if rest else name
        if name not in table[rest] and sub not in table and moved(sub) is None:
            out.append((f"`{name}` in `{dotted}`", name))
    return out


def missing_import(dotted: str, table) -> Optional[tuple[str, str]]:
    """(what, key) when `import <dotted>` names a Keras module `table` lacks, else None."""
    root, rest = split_root(dotted)
    if root is None or not rest:
        return None
    # `import keras.engine as KE` has no single new home (KM102 moves names, not this).
    hit = moved(rest)
    if rest in table or rest == "src" or rest.startswith("src.") or (hit and hit[1]):
        return None
    return f"module `{dotted}`", rest.rpartition(".")[2]
