"""KM102: Keras module paths that no longer exist -> the public module that holds the names today.

Works on both roots (`keras.*` and `tensorflow.keras.*`, plus private `tensorflow.python.keras`),
in imports and in attribute chains; KM101 changes the root separately, so the two compose.
"""
from __future__ import annotations

import ast
from typing import Optional

import libcst as cst
from libcst.helpers import get_full_name_for_node

from kmigrate.names import NameResolver
from kmigrate.rule import Example, Rule, Safety, Severity
from kmigrate.rules.lint import bound_to, calls_and_attributes
from kmigrate.rules.tables.keras_modules import FUNCTIONS_NOT_MODULES, MOVED_MODULES, NAME_HOMES, PRIVATE_ROOTS
from kmigrate.rules.tables.keras_public_names import KERAS3, TF_KERAS

ROOTS = ("tensorflow.keras", "keras")


def split_root(dotted: str) -> tuple[Optional[str], str]:
    """'tensorflow.keras.layers.core' -> ('tensorflow.keras', 'layers.core')."""
    for root in (*PRIVATE_ROOTS, *ROOTS):
        if dotted == root or dotted.startswith(root + "."):
            return root, dotted[len(root) + 1:]
    return None, dotted


def moved(rest: str) -> Optional[tuple[str, str]]:
    """The longest gone module at the start of `rest`: (old, new or '') ; None if not gone."""
    parts = rest.split(".")
    for i in range(len(parts), 0, -1):
        old = ".".join(parts[:i])
        if old in MOVED_MODULES:
            return old, MOVED_MODULES[old] or ""
    return None


# The last word of each gone module's path -> the words that may come before it in an attribute
# chain that names the module: the word before it in the path (`keras` for a top module).
_WORD_BEFORE: dict[str, set[str]] = {}
for _old in MOVED_MODULES:
    _head, _, _last = _old.rpartition(".")
    _WORD_BEFORE.setdefault(_last, set()).add(_head.rpartition(".")[2] or "keras")


def _gone_chain(tree: ast.AST) -> bool:
    """Whether visit_Attribute could resolve some `<w>.<last>` to a gone module (a walk of the
    `ast` tree, for the few files whose attributes hold such a last word): <w> is the word before
    <last> in the module's path, or a name bound by an import or a plain alias (`L = keras.layers`)
    that may stand for the path up to there (kmigrate.names.Bindings resolves nothing else)."""
    aliases = None
    for node in calls_and_attributes(tree)[1]:
        if node.attr not in _WORD_BEFORE:
            continue
        v = node.value
        w = v.attr if type(v) is ast.Attribute else v.id if type(v) is ast.Name else None
        if w is None:
            continue  # a call or a subscript: no qualified name
        if w in _WORD_BEFORE[node.attr]:
            return True
        if aliases is None:
            aliases = bound_to(tree)
        if w in aliases:
            return True
    return False


def _expr(dotted: str) -> cst.BaseExpression:
    return cst.parse_expression(dotted)


def _new_root(root: str) -> str:
    return "tensorflow.keras" if root in PRIVATE_ROOTS else root


class RemovedKerasModule(Rule):
    """
    ## What it does
    Rewrites Keras module paths that no longer exist (`keras.layers.core`, `.convolutional`,
    `.recurrent`, `.normalization`, `.embeddings`, `.pooling`, `.advanced_activations`,
    `.noise`, `.merge`, `keras.engine`, `keras.engine.topology`, `keras.utils.np_utils`,
    `keras.utils.data_utils`, `keras.objectives`, `keras.initializations`, ...) to the public
    module that holds the same names today, in `keras.*` and `tensorflow.keras.*` spellings,
    in imports and attribute chains (`keras.layers.core.Dense` -> `keras.layers.Dense`).
    Private `tensorflow.python.keras` imports become `tensorflow.keras`.

    ## Why is this bad
    These modules were internal layout of Keras 1/2; Keras 3 (TensorFlow 2.16+) removed them,
    so the import fails with `ModuleNotFoundError` before anything runs.

    ## Example
    ```python
    from keras.layers.core import Dense, Dropout
    from keras.utils import np_utils
    ```
    becomes
    ```python
    from keras.layers import Dense, Dropout
    from keras import utils as np_utils
    ```
    (and KM101 then moves `keras` to `tensorflow.keras`).

    A name that does not exist in the new home (for example `keras.utils.generic_utils.get_from_module`)
    is reported and left for a human.

    ## Fix safety
    Safe: the names are the same objects, exported from their public module.
    """

    code = "KM102"
    name = "removed-keras-module"
    summary = "Import from a Keras module path that no longer exists"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("keras",)
    needs_import = ("keras", "tensorflow")  # split_root: keras.*, tensorflow.*

    @classmethod
    def screen(cls, facts, context) -> bool:
        # a gone or private Keras module imported, or an attribute chain that may name a gone module
        if any(root is not None and (root in PRIVATE_ROOTS or moved(rest) is not None)
               for root, rest in map(split_root, facts.imports)):
            return True
        return not facts.attrs.isdisjoint(_WORD_BEFORE) and _gone_chain(facts.tree)

    VALID = [
        "from tensorflow.keras.layers import Dense\n",
        "from keras.layers import Dense\nimport keras.utils\n",
        "from mylib.layers.core import Dense\n",
        "from tensorflow.keras import utils\nutils.to_categorical([1], 2)\n",
    ]
    INVALID = [
        Example("from keras.layers.core import Dense, Dropout\n", "from keras.layers import Dense, Dropout\n"),
        Example("from tensorflow.keras.layers.convolutional import Conv2D\n",
                "from tensorflow.keras.layers import Conv2D\n"),
        Example("from keras.utils import np_utils\ny = np_utils.to_categorical(t, 3)\n",
                "from keras import utils as np_utils\ny = np_utils.to_categorical(t, 3)\n"),
        Example("from keras.utils.np_utils import to_categorical\n", "from keras.utils import to_categorical\n"),
        Example("from keras.layers import Dense, merge\nfrom keras.layers import noise\n",
                "from keras.layers import Dense, merge\nfrom keras import layers as noise\n"),
        Example("from keras.engine.topology import Layer, Input\nfrom keras.engine import Model\n",
                "from keras.layers import Layer, Input\nfrom keras.models import Model\n"),
        Example("from keras.engine.topology import Layer, Model\n",
                "from keras.layers import Layer; from keras.models import Model\n"),
        Example("import keras\nx = keras.layers.core.Dense(3)\n", "import keras\nx = keras.layers.Dense(3)\n"),
        Example("import keras.layers.core as core\n", "import keras.layers as core\n"),
        Example("import keras\nloss = keras.objectives.mse\n", "import keras\nloss = keras.losses.mse\n"),
        Example("from keras.objectives import categorical_crossentropy\n",
                "from keras.losses import categorical_crossentropy\n"),
        Example("from keras import initializations\n", "from keras import initializers as initializations\n"),
        Example("from tensorflow.python.keras.layers import Dense\n", "from tensorflow.keras.layers import Dense\n"),
        Example("from keras.utils.generic_utils import get_from_module\n"),  # reported, no home today
    ]

    def _names(self, root: str):
        return TF_KERAS if _new_root(root) == "tensorflow.keras" else KERAS3

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None:
            return
        dotted = get_full_name_for_node(node.module) or ""
        root, rest = split_root(dotted)
        if root is None:
            return
        if isinstance(node.names, cst.ImportStar):
            hit = moved(rest)
            if hit and hit[1]:
                self.report(node, f"`{dotted}` no longer exists; use `{_new_root(root)}.{hit[1]}`",
                            node.with_changes(module=_expr(f"{_new_root(root)}.{hit[1]}")))
            elif root in PRIVATE_ROOTS:
                self.report(node, f"`{dotted}` is private; use `tensorflow.keras`",
                            node.with_changes(module=_expr(f"tensorflow.keras.{rest}" if rest else "tensorflow.keras")))
            return
        hit = moved(rest)
        if hit is None:
            self._from_parent(node, root, rest)
            return
        old, new = hit
        tail = rest[len(old):]
        groups: dict[str, list[cst.ImportAlias]] = {}
        missing: list[str] = []
        for alias in node.names:
            name = get_full_name_for_node(alias.name) or ""
            home = new + tail if new else NAME_HOMES.get(name)
            if home is None or (home in self._names(root) and name not in self._names(root)[home]):
                missing.append(name)
                continue
            groups.setdefault(home, []).append(alias)
        where = f"{root}.{old}"
        if missing:
            self.report(node, f"`{where}` no longer exists and {', '.join(f'`{m}`' for m in missing)} "
                        f"has no public home in Keras 3; needs a manual rewrite", safety=Safety.NONE)
            return
        statements = []
        for home, aliases in groups.items():
            aliases = [*aliases[:-1], aliases[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
            statements.append(node.with_changes(module=_expr(f"{_new_root(root)}.{home}"), names=aliases))
        homes = ", ".join(f"`{_new_root(root)}.{h}`" for h in groups)
        replacement = statements[0] if len(statements) == 1 else cst.FlattenSentinel(statements)
        self.report(node, f"`{where}` no longer exists; import from {homes}", replacement)

    def _from_parent(self, node: cst.ImportFrom, root: str, rest: str) -> None:
        """`from keras.utils import np_utils` -> `from keras import utils as np_utils`."""
        keep, moved_aliases = [], []
        for alias in node.names:
            name = get_full_name_for_node(alias.name) or ""
            full = f"{rest}.{name}" if rest else name
            new = None if full in FUNCTIONS_NOT_MODULES else MOVED_MODULES.get(full)
            if new:
                asname = alias.asname or cst.AsName(name=cst.Name(name))
                home_mod, _, home_name = new.rpartition(".")
                module = f"{_new_root(root)}.{home_mod}" if home_mod else _new_root(root)
                moved_aliases.append((full, cst.ImportFrom(module=_expr(module),
                                      names=[cst.ImportAlias(cst.Name(home_name), asname=asname)])))
            else:
                keep.append(alias)
        if not moved_aliases:
            if root in PRIVATE_ROOTS:
                new_mod = f"tensorflow.keras.{rest}" if rest else "tensorflow.keras"
                self.report(node, f"`{root}` is private; use `tensorflow.keras`",
                            node.with_changes(module=_expr(new_mod)))
            return
        statements: list[cst.BaseSmallStatement] = []
        if keep:
            keep[-1] = keep[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            statements.append(node.with_changes(names=keep, lpar=None, rpar=None))
        statements.extend(s for _, s in moved_aliases)
        olds = ", ".join(f"`{root}.{full}`" for full, _ in moved_aliases)
        replacement = statements[0] if len(statements) == 1 else cst.FlattenSentinel(statements)
        self.report(node, f"{olds} no longer exists; import its public module instead", replacement)

    def visit_Import(self, node: cst.Import) -> None:
        changed, names = False, []
        for alias in node.names:
            dotted = get_full_name_for_node(alias.name) or ""
            root, rest = split_root(dotted)
            hit = moved(rest) if root else None
            if hit and hit[1]:
                old, new = hit
                names.append(alias.with_changes(name=_expr(f"{_new_root(root)}.{new}{rest[len(old):]}")))
                changed = True
            elif root in PRIVATE_ROOTS and alias.asname is not None:
                names.append(alias.with_changes(name=_expr(f"tensorflow.keras.{rest}" if rest else "tensorflow.keras")))
                changed = True
            else:
                names.append(alias)
        if changed:
            self.report(node, "import of a Keras module path that no longer exists", node.with_changes(names=names))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        """`keras.layers.core.Dense` -> `keras.layers.Dense` (the gone module is the node's value)."""
        value = node.value
        if not isinstance(value, cst.Attribute):
            return
        for q in NameResolver(self).qualified_names(value):
            root, rest = split_root(q)
            if root is None or root in PRIVATE_ROOTS or MOVED_MODULES.get(rest) is None:
                continue
            new = MOVED_MODULES[rest]
            parent = value.value
            if rest.rpartition(".")[0] == new:
                # keras.layers.core.X: drop the gone segment, keep the user's spelling of the rest
                self.report(node, f"`{q}` no longer exists; use `{root}.{new}`", node.with_changes(value=parent))
            elif "." not in rest and "." not in new:
                # keras.objectives.X -> keras.losses.X
                self.report(node, f"`{q}` no longer exists; use `{root}.{new}`",
                            node.with_changes(value=value.with_changes(attr=cst.Name(new))))
            return
