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
from kmigrate.rules.tables.tf1_contrib import CONTRIB, MODULES
from kmigrate.walk import code_children

_UNSET = object()

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
    needs_import = ("tensorflow",)

    def __init__(self, context: FileContext):
        super().__init__(context)
        self._names: Optional[NameResolver] = None
        self.in_import = 0
        self._skip: set[int] = set()
        self._tf1: Optional[bool] = None
        self._heads: Optional[frozenset] = None

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

    def tf_heads(self) -> frozenset:
        """The module's names that can start a reference to something under tensorflow."""
        heads = self._heads
        if heads is None:
            heads = self._heads = self.names.bindings.heads_under("tensorflow")
        return heads

    def tf_rooted(self, node: cst.CSTNode) -> bool:
        """A dotted name whose first word can name something under tensorflow (else tf_path is None)."""
        while type(node) is cst.Attribute:
            node = node.value
        return type(node) is cst.Name and node.value in self.tf_heads()

    def tf_path(self, node: cst.CSTNode) -> Optional[str]:
        """'train.AdamOptimizer' for `tf.train.AdamOptimizer` (any alias of `tensorflow`), '' for
        the module itself, None when the node does not name something under tensorflow (or names
        it ambiguously, or names private or Keras parts)."""
        if self.in_import:
            return None
        memo = self.names.bindings.tf_paths  # the KM6xx rules ask about the same nodes
        key = id(node)
        found = memo.get(key, _UNSET)
        if found is _UNSET:
            found = memo[key] = self._tf_path(node)
        return found

    def _tf_path(self, node: cst.CSTNode) -> Optional[str]:
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

    # ---------------------------------------------------------------- tf.contrib with a home

    def contrib_bound(self) -> dict[str, tuple[str, str, Optional[cst.CSTNode]]]:
        """Names bound to a tf.contrib module with a TF 2.21 home (MODULES) by an import
        (`from tensorflow.contrib import signal`, `import tensorflow.contrib.signal as S`) or by
        one assignment (`nest = tf.contrib.framework.nest`), every use of which is `name.attr`
        with a tabled `attr` that lives in that home: name -> (contrib module, home, the
        assigned value or None). KM601 rewrites the binding (and renamed attributes); the other
        uses stay. Computed once per file."""
        cached = getattr(self, "_contrib_bound", None)
        if cached is not None:
            return cached
        b = self.names.bindings
        candidates: dict[str, tuple[str, Optional[cst.CSTNode]]] = {}
        for local, qs in b.imports.items():
            if len(qs) == 1 and local not in b.others:
                q = next(iter(qs))
                if q.startswith("tensorflow.") and q[len("tensorflow."):] in MODULES:
                    candidates[local] = (q[len("tensorflow."):], None)
        for local, values in b.others.items():
            if local in b.imports or len(values) != 1 or not isinstance(values[0], cst.Attribute):
                continue
            qs = self.names.qualified_names(values[0], "tensorflow")
            if len(qs) == 1:
                q = next(iter(qs))
                if q.startswith("tensorflow.") and q[len("tensorflow."):] in MODULES:
                    candidates[local] = (q[len("tensorflow."):], values[0])
        found: dict[str, tuple[str, str, Optional[cst.CSTNode]]] = {}
        if candidates:
            attrs = _attribute_uses(self.module, frozenset(candidates))
            for local, (module, value) in candidates.items():
                home = MODULES[module]
                used = attrs.get(local, [])
                reads = b.reads(local) if value is not None else b.name_counts[local]
                if len(used) == reads and all(
                        CONTRIB.get(f"{module}.{a}", "").rpartition(".")[0] == home for a in used):
                    found[local] = (module, home, value)
        self._contrib_bound = found
        return found

    def contrib_value(self, node: cst.CSTNode) -> bool:
        """`node` is the value of a `name = tf.contrib.<module>` that contrib_bound keeps."""
        return any(v is node for _, _, v in self.contrib_bound().values())

    def contrib_import(self, node) -> Optional[list[tuple[cst.ImportAlias, Optional[tuple]]]]:
        """For an import from tf.contrib: each alias with what replaces it, or None where it has
        no TF 2.21 home. `from m import n as a` -> (module, name, asname); `import m as a` ->
        (module, None, asname). None for other imports."""
        if isinstance(node, cst.ImportFrom):
            if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
                return None
            module = code_of(node.module)
            if module != "tensorflow.contrib" and not module.startswith("tensorflow.contrib."):
                return None
            out = []
            bound = self.contrib_bound()
            for alias in node.names:
                obj = code_of(alias.name)
                local = alias.asname.name.value if alias.asname is not None else obj
                path = f"{module[len('tensorflow.'):]}.{obj}"
                target = CONTRIB.get(path)
                if target is None and path in MODULES and local in bound:
                    target = MODULES[path]
                if target is None:
                    out.append((alias, None))
                    continue
                parent, _, name = target.rpartition(".")
                out.append((alias, ("tensorflow" + (f".{parent}" if parent else ""), name,
                                    local if local != name else None)))
            return out
        if isinstance(node, cst.Import):
            out, any_contrib = [], False
            for alias in node.names:
                dotted = code_of(alias.name)
                rel = dotted[len("tensorflow."):] if dotted.startswith("tensorflow.") else ""
                any_contrib = any_contrib or rel == "contrib" or rel.startswith("contrib.")
                asname = alias.asname.name.value if alias.asname is not None else None
                if rel in MODULES and (asname is None or asname in self.contrib_bound()):
                    out.append((alias, (f"tensorflow.{MODULES[rel]}", None, asname)))
                else:
                    out.append((alias, None))
            return out if any_contrib else None
        return None

    def contrib_rewritten_root(self, node: cst.CSTNode) -> bool:
        """The chain's root name is bound by an import from tf.contrib that KM601 rewrites (to
        the same object or module under TF 2.21), so its uses need no change of their own."""
        root = node
        while isinstance(root, cst.Attribute):
            root = root.value
        if not isinstance(root, cst.Name):
            return False
        if root.value in self.contrib_bound():
            return True
        q = self.names.import_name(root.value)
        return q is not None and q.startswith("tensorflow.contrib.") and q[len("tensorflow."):] in CONTRIB

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


def contrib_home(path: str) -> Optional[str]:
    """The TF 2.21 path of a `contrib...` path with an exact home: a tabled name
    (rules/tables/tf1_contrib.py) or an attribute of one (`contrib.data.Optional.from_value`).
    None otherwise; a contrib module (MODULES) is never one by itself."""
    if not path.startswith("contrib."):
        return None
    parts = path.split(".")
    for i in range(len(parts), 2, -1):
        new = CONTRIB.get(".".join(parts[:i]))
        if new is not None:
            return ".".join([new, *parts[i:]])
    return None


def _attribute_uses(module: cst.Module, names: frozenset) -> dict[str, list[str]]:
    """name -> the attributes read from it (`name.attr`), outside import statements."""
    out: dict[str, list[str]] = {}
    stack: list[cst.CSTNode] = [module]
    while stack:
        n = stack.pop()
        kind = type(n)
        if kind is cst.Import or kind is cst.ImportFrom:
            continue
        if kind is cst.Attribute and type(n.value) is cst.Name and n.value.value in names:
            out.setdefault(n.value.value, []).append(n.attr.value)
        stack.extend(code_children(n))
    return out


def matches(path: str, prefixes) -> Optional[str]:
    """The entry of `prefixes` (a trailing '.' means the module and everything in it) `path` falls under."""
    for p in prefixes:
        if p.endswith("."):
            if path == p[:-1] or path.startswith(p):
                return p
        elif path == p:
            return p
    return None
