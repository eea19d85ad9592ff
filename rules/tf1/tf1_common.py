"""What the KM6xx rules share: which `tensorflow.X` a node names (through any alias), whether a
file is a TF1 program, and how to spell `tf.<path>` through the file's own tensorflow import.
"""
from __future__ import annotations

import re
from typing import Optional

import libcst as cst

from kmigrate.codegen import code_of
from kmigrate.names import NameResolver
from kmigrate.rule import FileContext, ImportEdit, Rule

# Not part of TensorFlow's public API (private modules, other rules' families).
_PRIVATE = frozenset({"python", "core", "tools", "_api", "include", "compiler", "tsl", "xla"})

# Words that make a file a TF1 program (graph building or TF1-only names); see is_tf1_file.
_TF1_WORDS = re.compile(
    r"\b(?:placeholder|Session|InteractiveSession|get_variable|variable_scope|global_variables_initializer|"
    r"initialize_all_variables|FileWriter|merge_all|compat\s*\.\s*v1|AdamOptimizer|GradientDescentOptimizer|"
    r"MomentumOptimizer|RMSPropOptimizer|AdagradOptimizer|Saver|get_collection|GraphKeys|"
    r"random_normal|random_uniform|truncated_normal|to_float|to_int32|reduction_indices|keep_dims|"
    r"enable_eager_execution|disable_v2_behavior|contrib|layers\s*\.\s*dense|train\s*\.\s*\w+Optimizer)\b")


def is_tf1_file(text: str) -> bool:
    """A file that uses TensorFlow 1 names (graph building, TF1 ops, TF1 keywords)."""
    return _TF1_WORDS.search(text) is not None


class TF1Rule(Rule):
    """Base of the KM6xx rules: the names a node resolves to under `tensorflow`."""

    triggers = ("tensorflow",)
    requires = ("tensorflow",)
    # names resolve to tensorflow only through an import of it (a comment saying so is not enough)
    trigger_pattern = r"^[ \t]*(?:import|from)[ \t][^\n]*\btensorflow\b"

    def __init__(self, context: FileContext):
        super().__init__(context)
        self._names: Optional[NameResolver] = None
        self.in_import = 0
        self._skip: set[int] = set()
        self._tf1: Optional[bool] = None

    @property
    def names(self) -> NameResolver:
        if self._names is None:
            self._names = NameResolver(self)
        return self._names

    @property
    def tf1_file(self) -> bool:
        if self._tf1 is None:
            self._tf1 = is_tf1_file(self.context.text)
        return self._tf1

    def visit_Import(self, node) -> None:
        self.in_import += 1

    def leave_Import(self, node) -> None:
        self.in_import -= 1

    def visit_ImportFrom(self, node) -> None:
        self.in_import += 1

    def leave_ImportFrom(self, node) -> None:
        self.in_import -= 1

    def skip_non_references(self, node: cst.CSTNode) -> None:
        """Names that are not references: `x.attr`'s attr, `f(kw=...)`'s kw, assignment targets."""
        kind = type(node)
        if kind is cst.Attribute:
            self._skip.add(id(node.attr))
        elif kind is cst.Arg and node.keyword is not None:
            self._skip.add(id(node.keyword))

    def tf_path(self, node: cst.CSTNode) -> Optional[str]:
        """'train.AdamOptimizer' for `tf.train.AdamOptimizer` (any alias of `tensorflow`), '' for
        the module itself, None when the node does not name something under tensorflow (or names
        it ambiguously, or names private or Keras parts)."""
        if self.in_import:
            return None
        qnames = self.names.qualified_names(node, "tensorflow")
        if len(qnames) != 1:
            return None
        q = next(iter(qnames))
        if q == "tensorflow":
            return ""
        if not q.startswith("tensorflow."):
            return None
        rel = q[len("tensorflow."):]
        if rel.split(".", 1)[0] in _PRIVATE:
            return None
        if rel == "keras" or rel.startswith(("keras.", "compat.v1.keras", "compat.v2.keras")):
            return None
        return rel

    # ---------------------------------------------------------------- spelling

    def tf_local(self) -> Optional[str]:
        """A name bound to `tensorflow` only by imports (`import tensorflow as tf`)."""
        cached = getattr(self, "_tf_local", False)
        if cached is not False:
            return cached
        found = None
        b = self.names.bindings
        for local, qs in b.imports.items():
            if qs == {"tensorflow"} and local not in b.others:
                found = local
                if local == "tf":
                    break
        self._tf_local = found
        return found

    def spell(self, node: cst.CSTNode, path: str) -> tuple[Optional[cst.BaseExpression], list[ImportEdit]]:
        """`<tf>.<path>` as an expression where `node` stood, with the import it needs: the
        chain's own root when it is bound to tensorflow, else the file's tensorflow alias, else
        `import tensorflow as tf` (None when `tf` is taken by something else)."""
        root = node
        while isinstance(root, cst.Attribute):
            root = root.value
        if isinstance(root, cst.Name) and root is not node and self.names.qualified_names(root) == {"tensorflow"}:
            return cst.parse_expression(f"{root.value}.{path}"), []
        edits = self.import_removal(root)
        local = self.tf_local()
        if local is not None:
            return cst.parse_expression(f"{local}.{path}"), edits
        if re.search(r"\btf\b", self.context.text) is None:
            return cst.parse_expression(f"tf.{path}"), [ImportEdit("tensorflow", asname="tf"), *edits]
        return None, []

    def import_removal(self, base: cst.CSTNode) -> list[ImportEdit]:
        """`from tensorflow[.x] import y [as z]` binding `base`: removed once unused."""
        if not isinstance(base, cst.Name):
            return []
        edits = []
        for stmt in self.names.bindings.import_nodes.get(base.value, ()):
            if isinstance(stmt, cst.ImportFrom) and not stmt.relative and not isinstance(stmt.names, cst.ImportStar) \
                    and stmt.module is not None:
                module = code_of(stmt.module)
                if module != "tensorflow" and not module.startswith("tensorflow."):
                    continue
                for alias in stmt.names:
                    asname = alias.asname.name.value if alias.asname else None
                    obj = code_of(alias.name)
                    if (asname or obj) == base.value:
                        edits.append(ImportEdit(module, obj, asname, remove=True))
        return edits


def matches(path: str, prefixes) -> Optional[str]:
    """The entry of `prefixes` (a trailing '.' means the module and everything in it) `path` falls under."""
    for p in prefixes:
        if p.endswith("."):
            if path == p[:-1] or path.startswith(p):
                return p
        elif path == p:
            return p
    return None
