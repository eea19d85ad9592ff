"""KM340..KM342, KM344..KM346: Keras 1/2 utilities, backend functions, deprecated preprocessing,
old names of losses/metrics/constraints/initializers/regularizers and missing Keras attributes
(KM343, the scikit-learn wrappers, is in sklearn_wrappers.py)."""
from __future__ import annotations

import ast
from typing import Optional

import libcst as cst

from kmigrate.names import KERAS_ROOTS, TF_CONTRIB_LAYERS_ROOTS, TF_LAYERS_ROOTS, canonical_keras

from kmigrate.rule import KERAS_OR_TF, Example, ImportEdit, Safety, Severity
from kmigrate.rules.keras3.keras2_common import KerasRule, import_from_names, kwarg, rename_kw, walk
from kmigrate.rules.tables.keras2_api import (
    BACKEND_DROPPABLE, BACKEND_GONE, BACKEND_TF_ONLY_HINTS, BACKEND_TO_OPS, BACKEND_TO_OPS_POSITIONAL, DEPRECATED_PREPROCESSING,
    KERAS3_BACKEND,
    OLD_NAMES_BY_TARGET, SKLEARN_MODULE, FUNCTION_KEYWORDS,
    UNSAFE_ALIASES,
)
from kmigrate.rules.keras3.screens import ROOT_HEADS, nodes, scan, spelled, used

# KM341: the backend functions it reports with --target keras
_KM341_FUNCTIONS = frozenset({*BACKEND_TO_OPS, *BACKEND_TO_OPS_POSITIONAL, *BACKEND_TF_ONLY_HINTS})




class Keras1FunctionKeyword(KerasRule):
    """
    ## What it does
    Renames Keras 1 keywords of functions, from the table in `rules/tables/keras2_api.py`:
    `to_categorical(y, nb_classes=n)` -> `num_classes=`, `imdb.load_data(nb_words=n)` and
    `reuters.load_data(nb_words=n)` -> `num_words=`.

    ## Why is this bad
    `to_categorical()` takes `num_classes` since Keras 2:
    `TypeError: to_categorical() got an unexpected keyword argument 'nb_classes'`; so does
    `reuters.load_data(nb_words=)`. Worse, `imdb.load_data(nb_words=20000)` silently ignores the
    keyword and returns the whole 88,584-word vocabulary: the `Embedding(20000, ...)` that
    follows fails in training with "indices[...] = 2xxxx is not in [0, 20000)".

    ## Example
    ```python
    Y = np_utils.to_categorical(y, nb_classes=10)
    (x_train, y_train), (x_test, y_test) = imdb.load_data(nb_words=20000)
    ```
    becomes
    ```python
    Y = np_utils.to_categorical(y, num_classes=10)
    (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=20000)
    ```
    (KM102 turns `np_utils` into `keras.utils`.)

    ## Fix safety
    Safe: the same argument under its current name.
    """

    # Fires only on names resolved to Keras: a file that never spells "keras" is not parsed.
    requires = ("keras",)

    code = "KM340"
    needs_import = KERAS_OR_TF
    name = "keras1-function-keyword"
    summary = "Keras 1 function keyword (`to_categorical(nb_classes=)`, `load_data(nb_words=)`)"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("nb_classes", "nb_words")

    VALID = ["from keras.utils import to_categorical\nY = to_categorical(y, num_classes=3)\n",
             "f(y, nb_classes=3)\n",
             "from keras.datasets import imdb\ndata = imdb.load_data(num_words=100)\n",
             "from keras.preprocessing.text import Tokenizer\nt = Tokenizer(nb_words=100)\n"]
    INVALID = [
        Example("from keras.utils import np_utils\nY = np_utils.to_categorical(y, nb_classes=10)\n",
                "from keras.utils import np_utils\nY = np_utils.to_categorical(y, num_classes=10)\n"),
        Example("import keras\nY = keras.utils.to_categorical(y, nb_classes=10)\n",
                "import keras\nY = keras.utils.to_categorical(y, num_classes=10)\n"),
        Example("from keras.datasets import imdb\n(a, b), (c, d) = imdb.load_data(nb_words=100, maxlen=80)\n",
                "from keras.datasets import imdb\n(a, b), (c, d) = imdb.load_data(num_words=100, maxlen=80)\n"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not any(a.keyword is not None for a in node.args):
            return
        func = self.call_kname(node)
        table = FUNCTION_KEYWORDS.get(func or "")
        if not table:
            return
        short = ".".join(func.split(".")[-2:]) if func.startswith("datasets.") else func.split(".")[-1]
        for old, new in table.items():
            arg = kwarg(node, old)
            if arg is not None:
                self.report(arg, f"`{short}({old}=)` was renamed `{new}=`", rename_kw(arg, new))


class BackendOnlyInTfKeras(KerasRule):
    """
    ## What it does
    With `--target keras` (standalone Keras 3), rewrites `keras.backend` functions that
    survive only in TensorFlow 2.21's `tf.keras.backend` to their `keras.ops` twins when the
    two agree (`K.sum`, `K.mean`, `K.square`, `K.exp`, ...), and reports the others with what to
    use (`K.int_shape` -> `tuple(x.shape)`, `K.get_value` -> `keras.ops.convert_to_numpy`, ...).
    With the default target (`tensorflow.keras`) they still work and nothing is reported.

    ## Why is this bad
    Standalone Keras 3's `keras.backend` has 14 names left; `K.sum(x)` raises `AttributeError`.

    ## Example
    ```python
    from keras import backend as K
    y = K.sum(K.square(x), axis=-1)
    ```
    becomes (with `--target keras`)
    ```python
    import keras
    from keras import backend as K
    y = keras.ops.sum(keras.ops.square(x), axis=-1)
    ```

    ## Fix safety
    Safe: only functions whose `keras.ops` twin has the same parameters and defaults are rewritten
    (`K.concatenate`, `K.argmax`, `K.cumsum`, `K.shape` differ and are reported instead).
    """

    # Fires only on names resolved to Keras: a file that never spells "keras" is not parsed.
    requires = ("keras",)

    code = "KM341"
    needs_import = KERAS_OR_TF
    name = "backend-only-in-tf-keras"
    summary = "`keras.backend` function gone from standalone Keras 3 (use `keras.ops`)"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("backend",)

    @classmethod
    def screen(cls, facts, context) -> bool:
        # only with --target keras: `K.<function>` of its table, or an import from a backend module
        return context.target == "keras" and (not facts.attrs.isdisjoint(_KM341_FUNCTIONS)
                                              or any(m.endswith(".backend") for m in facts.imports))

    VALID = [
        "from tensorflow.keras import backend as K\ny = K.sum(x)\n",
        Example("from keras import backend as K\nK.clear_session()\n", options={"target": "keras"}),
    ]
    INVALID = [
        Example("from keras import backend as K\ny = K.sum(K.square(x), axis=-1)\n",
                "from keras import backend as K\nimport keras\n\ny = keras.ops.sum(keras.ops.square(x), axis=-1)\n",
                {"target": "keras"}),
        Example("from keras import backend as K\ns = K.int_shape(x)\n", options={"target": "keras"}),
        Example("from keras import backend as K\ny = K.maximum(x, 0.0)\nz = K.maximum(x=a, y=b)\n",
                "from keras import backend as K\nimport keras\n\ny = keras.ops.maximum(x, 0.0)\nz = K.maximum(x=a, y=b)\n",
                {"target": "keras"}),
    ]

    def __init__(self, context):
        super().__init__(context)
        self.positional_calls: set[cst.CSTNode] = set()  # `K.f` nodes called with positional arguments only

    def visit_Call(self, node: cst.Call) -> None:
        if self.context.target == "keras" and all(a.keyword is None and not a.star for a in node.args):
            self.positional_calls.add(node.func)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self.context.target != "keras":
            return
        k = self.kname(node)
        if not k or not k.startswith("backend.") or k.count(".") != 1:
            return
        fn = k.split(".")[1]
        if fn in KERAS3_BACKEND or fn in BACKEND_GONE:
            return
        if fn in BACKEND_TO_OPS or (fn in BACKEND_TO_OPS_POSITIONAL and node in self.positional_calls):
            new = BACKEND_TO_OPS.get(fn) or BACKEND_TO_OPS_POSITIONAL[fn]
            self.report(node, f"`keras.backend.{fn}` is gone from Keras 3; use `keras.ops.{new}`",
                        cst.parse_expression(f"keras.ops.{new}"), imports=[ImportEdit("keras")])
        elif fn in BACKEND_TO_OPS_POSITIONAL:
            self.report(node, f"`keras.backend.{fn}` is gone from Keras 3; use `keras.ops.{fn}` "
                        "(its parameters have other names: pass them by position)")
        elif fn in BACKEND_TF_ONLY_HINTS:
            self.report(node, f"`keras.backend.{fn}` is gone from Keras 3: {BACKEND_TF_ONLY_HINTS[fn]}")

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        info = import_from_names(node)
        if self.context.target != "keras" or info is None or info[1] != "backend":
            return
        gone = [n for _, n in info[2] if n not in KERAS3_BACKEND and n not in BACKEND_GONE]
        if gone:
            self.report(node, f"{', '.join(f'`{n}`' for n in gone)} no longer in `keras.backend` (Keras 3): "
                        "import `keras` and use `keras.ops.<name>`")


class BackendGone(KerasRule):
    """
    ## What it does
    Reports the `keras.backend` functions that are gone everywhere, `tf.keras.backend` included:
    `get_session`, `set_session`, `placeholder`, `function`, `learning_phase`,
    `set_learning_phase`, `in_train_phase`, ..., with what to do instead.

    ## Why is this bad
    They belonged to TensorFlow 1's graph-and-session model; on TensorFlow 2.21 they raise
    `AttributeError: module 'keras.api.backend' has no attribute 'get_session'`.

    ## Example
    ```python
    sess = K.get_session()
    K.set_learning_phase(0)
    ```

    ## Fix safety
    Unsafe, for a statement of its own that only set global state: `K.set_learning_phase(...)`
    (Keras 3 passes `training=` per call: predict runs in inference mode, fit in training mode; a
    phase forced for another reason, like dropout at test time, is lost) and
    `K.set_session(...)` (the session's configuration, such as GPU memory growth, is lost: set it
    with `tf.config`). Everything else needs the surrounding code changed (sessions,
    placeholders and `K.function` are replaced by eager calls) and is reported.
    """

    # Fires only on names resolved to Keras: a file that never spells "keras" is not parsed.
    requires = ("keras",)

    code = "KM342"
    needs_import = KERAS_OR_TF
    name = "backend-session-api"
    summary = "`K.get_session`/`set_session`/`placeholder`/`function`/`learning_phase` are gone"
    severity = Severity.ERROR
    fix_safety = Safety.UNSAFE
    triggers = ("backend",)

    @classmethod
    def screen(cls, facts, context) -> bool:
        # a gone backend function: imported from a backend module, or an attribute of one (an alias too)
        return any(m.rpartition(".")[2] in BACKEND_GONE for m in facts.imports) or (
            not facts.attrs.isdisjoint(BACKEND_GONE) and spelled(facts, ("backend",))
            and scan(facts, ("backend",), attrs=BACKEND_GONE))

    VALID = ["from keras import backend as K\nK.clear_session()\n", "sess = tf.compat.v1.Session()\n"]
    INVALID = [
        Example("from keras import backend as K\nsess = K.get_session()\n"),
        Example("import keras.backend as K\nx = K.placeholder(shape=(None, 3))\n"),
        Example("from keras.backend import set_session\n"),
        Example("from keras import backend as K\nK.set_learning_phase(0)\nm = 1\n", "from keras import backend as K\nm = 1\n",
                {"unsafe_fixes": True}),
    ]

    def __init__(self, context):
        super().__init__(context)
        self.statements: dict = {}

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        if len(node.body) == 1 and isinstance(node.body[0], cst.Expr) and isinstance(node.body[0].value, cst.Call):
            self.statements[node.body[0].value.func] = node

    def visit_Attribute(self, node: cst.Attribute) -> None:
        k = self.kname(node)
        if k and k.startswith("backend.") and k[8:] in BACKEND_GONE:
            message = f"`backend.{k[8:]}` is gone (TensorFlow 2 / Keras 3): {BACKEND_GONE[k[8:]]}"
            stmt = self.statements.get(node)
            if k[8:] in BACKEND_DROPPABLE and stmt is not None and stmt.body[0].value.func is node:
                self.report(stmt, message + "; the statement is removed (unsafe: " + BACKEND_DROPPABLE[k[8:]] + ")",
                            cst.RemovalSentinel.REMOVE, at=node)
                return
            self.report(node, message, safety=Safety.NONE)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        info = import_from_names(node)
        if info is None or info[1] != "backend":
            return
        gone = [n for _, n in info[2] if n in BACKEND_GONE]
        if gone:
            self.report(node, "; ".join(f"`backend.{n}` is gone: {BACKEND_GONE[n]}" for n in gone))




class DeprecatedPreprocessing(KerasRule):
    """
    ## What it does
    Flags `keras.preprocessing.text.Tokenizer` (and the other `preprocessing.text` helpers) and
    `keras.preprocessing.image.ImageDataGenerator`. TensorFlow 2.21's `tf.keras` still carries
    them as deprecated shims (checked), so with the default target this is an info note; with
    `--target keras` (standalone Keras 3, where they are gone) it is an error that names the
    replacement (`TextVectorization`, `image_dataset_from_directory` + augmentation layers).

    ## Why is this bad
    The shims are frozen legacy code that may disappear from `tf.keras`; standalone Keras 3 has
    already removed them (`ImportError`).

    ## Example
    ```python
    from keras.preprocessing.text import Tokenizer
    from keras.preprocessing.image import ImageDataGenerator
    ```

    ## Fix safety
    None: the replacements work differently (layers inside the model or `tf.data` pipelines).
    """

    # Fires only on names resolved to Keras: a file that never spells "keras" is not parsed.
    requires = ("keras",)

    code = "KM344"
    needs_import = KERAS_OR_TF
    name = "deprecated-preprocessing"
    summary = "`preprocessing.text.Tokenizer`/`ImageDataGenerator`: deprecated in tf.keras, gone in Keras 3"
    severity = Severity.INFO
    fix_safety = Safety.NONE
    triggers = ("preprocessing",)

    @classmethod
    def screen(cls, facts, context) -> bool:
        # a name of its table (imported or through an attribute)
        return used(facts, DEPRECATED_PREPROCESSING)

    VALID = ["from tensorflow.keras.layers import TextVectorization\n",
             "from keras.preprocessing.sequence import pad_sequences\n"]
    INVALID = [
        Example("from keras.preprocessing.text import Tokenizer\n"),
        Example("from keras.preprocessing.image import ImageDataGenerator\n", options={"target": "keras"}),
        Example("import tensorflow as tf\ng = tf.keras.preprocessing.image.ImageDataGenerator()\n"),
    ]

    def _report(self, node, qual: str) -> None:
        if self.context.target == "keras":
            self.report(node, f"`keras.{qual}` is gone in standalone Keras 3: use {DEPRECATED_PREPROCESSING[qual]}",
                        severity=Severity.ERROR)
        else:
            self.report(node, f"`tf.keras.{qual}` is deprecated (still in TensorFlow 2.21); its replacement is "
                        f"{DEPRECATED_PREPROCESSING[qual]}")

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        info = import_from_names(node)
        if info is None:
            return
        for _, n in info[2]:
            qual = f"{info[1]}.{n}"
            if qual in DEPRECATED_PREPROCESSING:
                self._report(node, qual)
                return

    def visit_Attribute(self, node: cst.Attribute) -> None:
        k = self.kname(node)
        if k in DEPRECATED_PREPROCESSING:
            self._report(node, k)


class OldKerasNames(KerasRule):
    """
    ## What it does
    Renames losses, metrics, constraints, initializers and regularizers that Keras 1/2 exported
    under names Keras 3 dropped: `constraints.maxnorm` -> `MaxNorm`, `initializers.normal` ->
    `RandomNormal`, `regularizers.l1l2` -> `l1_l2`, `losses.mean_squared_error` -> `mse` (TensorFlow
    2.21's `tf.keras.losses` kept only the short name; standalone Keras 3 the long one),
    `losses.cosine_proximity` -> `cosine_similarity`, ..., in imports (keeping the local name:
    `from keras.constraints import MaxNorm as maxnorm`) and attribute uses. `metrics.acc` is
    written as the string `"accuracy"` in a `compile(metrics=[...])` list and reported elsewhere.

    ## Why is this bad
    The import fails (`ImportError: cannot import name 'maxnorm'`) or the attribute is missing.

    ## Example
    ```python
    from keras.constraints import maxnorm
    from keras.losses import mean_squared_error
    ```
    becomes
    ```python
    from keras.constraints import MaxNorm as maxnorm
    from keras.losses import mse as mean_squared_error
    ```

    ## Fix safety
    Safe: the same objects under their current names (Keras 1/2's `maxnorm` was `MaxNorm`,
    `normal` was `RandomNormal` with the same 0.05 default). Unsafe for `cosine_proximity`
    (Keras 3's `cosine_similarity` loss reduces differently).
    """

    # Fires only on names resolved to Keras: a file that never spells "keras" is not parsed.
    requires = ("keras",)

    code = "KM345"
    needs_import = KERAS_OR_TF
    name = "old-keras-names"
    summary = "Loss/metric/constraint/initializer/regularizer imported by a name Keras 3 dropped"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("losses", "metrics", "constraints", "initializers", "regularizers", "objectives", "initializations")

    @classmethod
    def screen(cls, facts, context) -> bool:
        # a name of its table for the target (imported or through an attribute)
        return used(facts, OLD_NAMES_BY_TARGET[context.target])

    VALID = ["from tensorflow.keras.constraints import MaxNorm\n", "from keras.losses import mse\n",
             "from mylib.constraints import maxnorm\n",
             Example("from keras.losses import mean_squared_error\n", options={"target": "keras"})]
    INVALID = [
        Example("from keras.constraints import maxnorm\nc = maxnorm(3)\n",
                "from keras.constraints import MaxNorm as maxnorm\nc = maxnorm(3)\n"),
        Example("from keras.losses import mean_squared_error, mae\n",
                "from keras.losses import mse as mean_squared_error, mae\n"),
        Example("from keras import regularizers\nr = regularizers.l1l2(0.01)\n",
                "from keras import regularizers\nr = regularizers.l1_l2(0.01)\n"),
        Example("import keras\ni = keras.initializers.normal(seed=1)\n",
                "import keras\ni = keras.initializers.RandomNormal(seed=1)\n"),
        Example("from keras import metrics\nm = [metrics.acc]\n"),
        Example("from keras import metrics\nmodel.compile(loss='mse', metrics=[metrics.acc, 'mae'])\n",
                "from keras import metrics\nmodel.compile(loss='mse', metrics=['accuracy', 'mae'])\n"),
        Example("from keras.losses import mse\n", "from keras.losses import mean_squared_error as mse\n",
                {"target": "keras"}),
    ]

    def _table(self) -> dict:
        return OLD_NAMES_BY_TARGET[self.context.target]

    def _compile_metrics(self) -> set:
        """The elements of `metrics=[...]` lists of `.compile(...)` calls (where "accuracy" is a metric)."""
        found = self.__dict__.get("_metrics_elements")
        if found is None:
            found = set()
            for n in walk(self.module):
                if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value == "compile":
                    m = kwarg(n, "metrics")
                    if m is not None and isinstance(m.value, (cst.List, cst.Tuple)):
                        found.update(e.value for e in m.value.elements)
            self._metrics_elements = found
        return found

    def _message(self, old: str, new: Optional[str]) -> str:
        if new is None:
            return f"`{old}` is gone in Keras 3; in `compile(metrics=[...])` use the string \"accuracy\""
        return f"`{old}` is gone in Keras 3; use `{new}`"

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        info = import_from_names(node)
        if info is None:
            return
        root, rest, names = info
        rest = {"objectives": "losses", "initializations": "initializers"}.get(rest, rest)
        table = self._table()
        new_aliases, changed, messages, safety = [], False, [], Safety.SAFE
        blocked = False
        for alias, n in names:
            old = f"{rest}.{n}"
            if old not in table:
                new_aliases.append(alias)
                continue
            new = table[old]
            messages.append(self._message(old, new))
            if new is None:
                blocked = True
                new_aliases.append(alias)
                continue
            if old in UNSAFE_ALIASES:
                safety = Safety.UNSAFE
            local = alias.asname or cst.AsName(name=cst.Name(n))
            new_aliases.append(alias.with_changes(name=cst.Name(new.split(".")[1]), asname=local))
            changed = True
        if not messages:
            return
        fix = node.with_changes(names=new_aliases) if changed and not blocked else None
        self.report(node, "; ".join(messages), fix, safety=safety if fix is not None else None)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        k = self.kname(node)
        if not k or k not in self._table():
            return
        if not isinstance(node.value, (cst.Name, cst.Attribute)):
            return
        new = self._table()[k]
        if new is None:
            if node in self._compile_metrics():
                from kmigrate.rules.keras3.keras2_common import string_literal

                self.report(node, self._message(k, new) + ": written as the string",
                            string_literal("accuracy", like=self.module))
                return
            self.report(node, self._message(k, new))
            return
        self.report(node.attr, self._message(k, new), cst.Name(new.split(".")[1]),
                    safety=Safety.UNSAFE if k in UNSAFE_ALIASES else Safety.SAFE)


class MissingKerasAttribute(KerasRule):
    """
    ## What it does
    Reports a Keras name used through an attribute chain (`keras.models.model_from_yaml(...)`, `KE.Layer` with `import keras.engine as KE`,
    `keras.layers.CuDNNLSTM`) that does not exist in the Keras the code targets (TensorFlow 2.21's
    `tf.keras`, or standalone Keras 3 with `--target keras`), with what to do when that is known.
    It is the attribute-use twin of KM104 (which checks imports); names other KM3xx rules handle
    (backend session API, old loss/metric names, scikit-learn wrappers, ...) are left to them.

    ## Why is this bad
    The attribute lookup fails at run time (`AttributeError`), often deep inside a program.

    ## Example
    ```python
    import keras
    model = keras.models.model_from_yaml(text)
    ```

    ## Fix safety
    None: each replacement needs a human (other names, other return values).
    """

    code = "KM346"
    needs_import = KERAS_OR_TF
    name = "missing-keras-attribute"
    summary = "Use of a Keras name (through an attribute) that no longer exists"
    severity = Severity.ERROR
    fix_safety = Safety.NONE
    triggers = ("keras",)

    @classmethod
    def screen(cls, facts, context) -> bool:
        # an attribute chain naming a missing Keras name (resolved from the `ast` tree as kmigrate.names does)
        return missing_attribute_in(facts, context.target)

    VALID = ["from keras import backend as K\nf = K.image_data_format()\n",
             "import keras\nm = keras.models.load_model('m.keras')\n",
             "import keras.layers\n"]
    INVALID = [
        Example("import keras\nm = keras.models.model_from_yaml(s)\n"),
        Example("import keras.engine as KE\nclass L(KE.Layer):\n    pass\n"),
    ]

    def __init__(self, context):
        super().__init__(context)
        self.in_import = 0
        self.table = _public_names(context.target)

    def visit_Import(self, node) -> None:
        self.in_import += 1

    def leave_Import(self, node) -> None:
        self.in_import -= 1

    def visit_ImportFrom(self, node) -> None:
        self.in_import += 1

    def leave_ImportFrom(self, node) -> None:
        self.in_import -= 1

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self.in_import:
            return
        k = self.kname(node)
        if not _missing(k, self.table, self.context.target):
            return
        name = k.rpartition(".")[2]
        from kmigrate.rules.tables.keras2_api import MISSING_ATTRIBUTE_HINTS
        from kmigrate.rules.tables.keras_modules import GONE_HINTS

        hint = MISSING_ATTRIBUTE_HINTS.get(name) or GONE_HINTS.get(name)
        where = "tf.keras (TensorFlow 2.21)" if self.context.target == "tensorflow.keras" else "Keras 3"
        spelled = self.module.code_for_node(node)
        self.report(node, f"`{spelled}` does not exist in {where}" + (f": {hint}" if hint else "; rewrite by hand"))


def _public_names(target: str) -> dict:
    from kmigrate.rules.tables.keras_public_names import KERAS3, TF_KERAS

    return TF_KERAS if target == "tensorflow.keras" else KERAS3


def _handled_elsewhere(k: str, target: str) -> bool:
    from kmigrate.rules.tables.keras2_api import OPTIMIZER_ALIASES
    from kmigrate.rules.tables.keras_modules import MOVED_MODULES

    fn = k.partition(".")[2]
    if k in ("backend.image_dim_ordering", "backend.set_image_dim_ordering"):
        return True  # KM347 rewrites or reports them
    if any(k == m or k.startswith(m + ".") for m in MOVED_MODULES):
        return True  # a module that moved: KM102 rewrites the chain
    return (k in OLD_NAMES_BY_TARGET[target] or k in DEPRECATED_PREPROCESSING
            or k in OPTIMIZER_ALIASES or k.startswith((SKLEARN_MODULE, "optimizers.legacy", "optimizers.experimental"))
            or (k.startswith("backend.") and (fn in BACKEND_GONE or (target == "keras" and (
                fn in BACKEND_TO_OPS or fn in BACKEND_TO_OPS_POSITIONAL or fn in BACKEND_TF_ONLY_HINTS)))))


def _missing(k: Optional[str], table: dict, target: str) -> bool:
    """Whether KM346 reports a use of the canonical Keras name `k` (a name its Keras module lacks)."""
    if not k or k.startswith("src"):
        return False
    module, _, name = k.rpartition(".")
    return not (name.startswith("__") or module not in table or name in table[module] or k in table
                or _handled_elsewhere(k, target))


_ALIAS_ROOTS = (*KERAS_ROOTS, *TF_LAYERS_ROOTS, *TF_CONTRIB_LAYERS_ROOTS)  # as kmigrate.names follows aliases


def _dotted(node) -> Optional[list]:
    """`a.b.c` (an `ast` Attribute chain on a name) -> ['a', 'b', 'c']; None for anything else."""
    tail = []
    while type(node) is ast.Attribute:
        tail.append(node.attr)
        node = node.value
    if type(node) is not ast.Name:
        return None
    tail.append(node.id)
    tail.reverse()
    return tail


def missing_attribute_in(facts, target: str) -> bool:
    """KM346's screen: some attribute chain of the code may resolve to a name `_missing` reports.

    The names are resolved as kmigrate.names.Bindings resolves them, only more widely (every
    resolution it could give counts): through the imports, `x = a.b` aliases (any of their values)
    and a binding of a root's own name other than an import (`keras = importorskip('keras')`)."""
    ns = nodes(facts)
    imports: dict = {}
    values: dict = {}  # name -> the dotted names assigned to it
    for node in ns.imports:
        if type(node) is ast.Import:
            for a in node.names:
                local = a.asname or a.name.split(".", 1)[0]
                imports.setdefault(local, set()).add(a.name if a.asname else local)
        elif not node.level and node.module:  # relative: never a Keras name
            for a in node.names:
                if a.name != "*":
                    imports.setdefault(a.asname or a.name, set()).add(f"{node.module}.{a.name}")
    for node in ns.assigns:
        parts = _dotted(node.value)
        if parts is not None:
            for t in (node.targets if type(node) is ast.Assign else (node.target,)):
                if type(t) is ast.Name:
                    values.setdefault(t.id, []).append(parts)

    roots = ROOT_HEADS & facts.local

    def resolve(parts: list, depth: int) -> set:
        head, tail = parts[0], parts[1:]
        out = {".".join([q, *tail]) for q in imports.get(head, ())}
        if head in roots:
            out.add(".".join(parts))
        if depth <= 4:
            for value in values.get(head, ()):
                if value[0] != head:
                    out.update(".".join([t, *tail]) for t in resolve(value, depth + 1)
                               if (t + ".").startswith(_ALIAS_ROOTS))
        return out

    heads = imports.keys() | values.keys() | roots
    table = _public_names(target)
    seen = set()
    for node in (n for found in ns.attributes.values() for n in found):
        parts = _dotted(node)
        if parts is None or parts[0] not in heads:
            continue
        key = tuple(parts)
        if key in seen:
            continue
        seen.add(key)
        if any(_missing(canonical_keras(q), table, target) for q in resolve(parts, 0)):
            return True
    return False
