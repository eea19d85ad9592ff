"""Shared machinery of the KM2xx rules (TF1 `tf.layers` and `tf.contrib.layers` -> Keras layers).

What a rule needs beyond the name resolver: the enclosing `with tf.variable_scope(...)` blocks and
function definitions (weight sharing by name, `tf.function`), how to spell `tf.keras.layers.X`
through the file's own `tensorflow` import, and argument-list surgery.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Optional, Sequence

import libcst as cst

from kmigrate.codegen import code_of  # noqa: F401  (re-exported to the rules)
from kmigrate.names import NameResolver
from kmigrate.rule import FileContext, ImportEdit, Rule

TF_MODULES = ("tensorflow", "tensorflow.compat.v1", "tensorflow.compat.v2")
TF_LAYERS_MODULES = ("tensorflow.layers", "tensorflow.compat.v1.layers", "tensorflow.python.layers")
_VARIABLE_SCOPE = {f"{m}.variable_scope" for m in TF_MODULES}
_TF_FUNCTION = {f"{m}.function" for m in TF_MODULES}
_LITERAL_NONE_FALSE = ("None", "False")


def literal(node: cst.BaseExpression) -> Optional[str]:
    """Source text of a plain literal (None/True/False, a number, a string), else None."""
    if isinstance(node, cst.Name) and node.value in ("None", "True", "False"):
        return node.value
    if isinstance(node, (cst.Integer, cst.Float, cst.SimpleString)):
        return code_of(node)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus) \
            and isinstance(node.expression, (cst.Integer, cst.Float)):
        return code_of(node)
    return None


def string_value(node: cst.BaseExpression) -> Optional[str]:
    if isinstance(node, cst.SimpleString):
        v = node.evaluated_value
        return v if isinstance(v, str) else None
    return None


def make_kw(name: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(value=value, keyword=cst.Name(name),
                   equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                         whitespace_after=cst.SimpleWhitespace("")))


def as_kw(arg: cst.Arg, name: str) -> cst.Arg:
    if arg.keyword is not None and arg.keyword.value == name:
        return arg
    return arg.with_changes(keyword=cst.Name(name), equal=cst.AssignEqual(
        whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")))


def as_positional(arg: cst.Arg) -> cst.Arg:
    return arg.with_changes(keyword=None, equal=cst.MaybeSentinel.DEFAULT)


def join_args(args: Sequence[cst.Arg], trailing) -> list[cst.Arg]:
    """Commas between arguments; the last one gets `trailing` (see `trailing_comma`)."""
    out = []
    for i, a in enumerate(args):
        if i < len(args) - 1:
            comma = a.comma if isinstance(a.comma, cst.Comma) else cst.Comma(
                whitespace_after=cst.SimpleWhitespace(" "))
        else:
            comma = trailing
        out.append(a.with_changes(comma=comma))
    return out


def _has_newline(comma: cst.Comma) -> bool:
    return "\n" in code_of(cst.Arg(value=cst.Name("x"), comma=comma))


def trailing_comma(call: cst.Call):
    """The last argument's comma, kept only when it ends a multi-line list (`x,\\n)`)."""
    if call.args and isinstance(call.args[-1].comma, cst.Comma) and _has_newline(call.args[-1].comma):
        return call.args[-1].comma
    return cst.MaybeSentinel.DEFAULT


@dataclass
class ScopeInfo:
    """An enclosing `with tf.variable_scope(...)`: its reuse= source text (None if not given)."""

    reuse: Optional[str]


@dataclass
class FunctionInfo:
    node: cst.FunctionDef
    has_reuse_param: bool
    tf_function: bool
    reuse_variables: Optional[bool] = None  # computed on first need


_SAVER = re.compile(r"\bSaver\s*\(")
# Cheap text pre-check: the names the file binds to tensorflow (or tensorflow.compat.v1), then
# `<name>.layers` / `<name>.compat.v1.layers`, or an import of tensorflow's layers module.
_TF_BINDING = re.compile(
    r"^[ \t]*(?:import\s+tensorflow(?:\.compat\.v1)?(?:\s+as\s+(\w+))?"
    r"|from\s+tensorflow(?:\.compat)?\s+import\s+(?:v1\s+as\s+)?(\w+))", re.M)
# Each starts with a literal, which `re` searches for fast (a leading \b or ^ is tried at every
# offset); matching more than the exact forms only costs a parse.
_TF_LAYERS_MODULE = re.compile(r"tensorflow(?:\.compat\.v1)?(?:\.python)?\.layers\b")
_TF_LAYERS_FROM = re.compile(r"from\s+tensorflow(?:\.compat\.v1)?\s+import\s[^\n]*\blayers\b")


_ALIAS = re.compile(r"^[ \t]*(\w+)\s*=\s*[\w. ]*\.\s*(?:layers|slim)\b", re.M)
_FROM_TF = re.compile(r"^[ \t]*from\s+(tensorflow[\w.]*)\s+import\s+(\([^)]*\)|[^\n]*)", re.M)
_IMPORT_AS = re.compile(r"\bimport\s+tensorflow[\w.]*\.(?:layers|slim)\s+as\s+(\w+)")


@functools.lru_cache(maxsize=4)  # asked by each rule of a pass, about the same text
def candidate_names(text: str) -> frozenset[str]:
    """Bare names that may stand for tf.layers or something in it (a superset, by text)."""
    out = {m.group(1) for m in _ALIAS.finditer(text)} | {m.group(1) for m in _IMPORT_AS.finditer(text)}
    for m in _FROM_TF.finditer(text):
        if "layers" in m.group(1) or "contrib" in m.group(1) or re.search(r"\blayers\b", m.group(2)):
            out.update(re.findall(r"\w+", m.group(2)))
    return frozenset(out)


@functools.lru_cache(maxsize=4)  # asked per rule and per pass, about the same text
def mentions_tf_layers(text: str) -> bool:
    """Whether `text` can name tf.layers at all (so the rules need LibCST); never a false no."""
    if "tensorflow" not in text:
        return False
    if _TF_LAYERS_MODULE.search(text) or _TF_LAYERS_FROM.search(text):
        return True
    names = {"tensorflow", "tf"}
    for m in _TF_BINDING.finditer(text):
        names.add(m.group(1) or m.group(2) or "tensorflow")
    alt = "|".join(re.escape(n) for n in names)
    pattern = re.compile(rf"(?:{alt})\s*\.\s*(?:compat\s*\.\s*v1\s*\.\s*)?layers\b")
    # `mtf.layers` (Mesh TensorFlow) is not `tf.layers`: a name must start where a word does
    return any(m.start() == 0 or not _WORD_CHAR.match(text, m.start() - 1) for m in pattern.finditer(text))


_WORD_CHAR = re.compile(r"\w")


class TFLayersRule(Rule):
    """Base of the KM2xx rules: context stacks, spelling of the Keras target, import clean-up."""

    triggers = ("layers",)
    needs_import = ("tensorflow",)  # names under tensorflow.layers / tensorflow.contrib.{layers,slim}

    @classmethod
    def wants(cls, context: FileContext) -> bool:
        # `tf1-layers = "compat"`: KM606 moves them to tf.compat.v1.layers (tf-keras) instead
        return getattr(context, "tf1_layers", "keras") != "compat" and mentions_tf_layers(context.text)

    def __init__(self, context: FileContext):
        super().__init__(context)
        self._names: Optional[NameResolver] = None
        self.functions: list[FunctionInfo] = []
        self.scopes: list[ScopeInfo] = []  # every enclosing variable_scope, outermost first
        self.in_import = 0
        self.saver = "Saver" in context.text and bool(_SAVER.search(context.text))
        self.update_ops = "UPDATE_OPS" in context.text

    @property
    def names(self) -> NameResolver:
        if self._names is None:
            self._names = NameResolver(self)
        return self._names

    # ---------------------------------------------------------------- context stacks

    def visit_Import(self, node) -> None:
        self.in_import += 1

    def leave_Import(self, node) -> None:
        self.in_import -= 1

    def visit_ImportFrom(self, node) -> None:
        self.in_import += 1

    def leave_ImportFrom(self, node) -> None:
        self.in_import -= 1

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        params = [p.name.value for p in (*node.params.posonly_params, *node.params.params,
                                         *node.params.kwonly_params)]
        tf_function = False
        for d in node.decorators:
            dec = d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
            if self.names.qualified_names(dec) & _TF_FUNCTION:
                tf_function = True
        self.functions.append(FunctionInfo(node, "reuse" in params, tf_function))

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.pop()

    def visit_With(self, node: cst.With) -> None:
        found = []
        for item in node.items:
            call = item.item
            if isinstance(call, cst.Call) and self.names.qualified_names(call.func) & _VARIABLE_SCOPE:
                reuse = None
                for i, a in enumerate(call.args):
                    if (a.keyword is not None and a.keyword.value == "reuse") or (a.keyword is None and i == 2 and not a.star):
                        reuse = code_of(a.value)
                found.append(ScopeInfo(reuse))
        self.scopes.extend(found)
        self._with_counts.append(len(found))

    def leave_With(self, node: cst.With) -> None:
        n = self._with_counts.pop()
        if n:
            del self.scopes[-n:]

    @property
    def _with_counts(self) -> list[int]:
        if not hasattr(self, "_wc"):
            self._wc: list[int] = []
        return self._wc

    def sharing_problem(self, weights: bool = True, variables: bool = True) -> Optional[str]:
        """Why weights may be shared by name here, or a layer may not be created here (the call
        is then reported, not converted). `weights`: the layer has weights; `variables`: it
        creates any variable (Keras 3 Dropout has a seed-generator state)."""
        if weights:
            for s in self.scopes:
                if s.reuse is not None and s.reuse not in _LITERAL_NONE_FALSE:
                    return (f"inside `variable_scope(..., reuse={s.reuse})`: TF1 shared the weights by "
                            "name; a Keras layer shares weights by being created once and called again "
                            "on each input: restructure by hand")
        if not self.functions:
            return None
        f = self.functions[-1]
        if weights and f.has_reuse_param:
            return (f"`{f.node.name.value}` takes a `reuse` argument (TF1 weight sharing by name); "
                    "a Keras layer shares weights by being created once and called again: "
                    "restructure by hand")
        if weights:
            if f.reuse_variables is None:
                f.reuse_variables = "reuse_variables" in self.context.text and \
                    "reuse_variables" in code_of(f.node, self.module)
            if f.reuse_variables:
                return ("`reuse_variables()` in this function shares weights by name; create the "
                        "Keras layer once and call it again instead")
        if variables and any(fn.tf_function for fn in self.functions):
            return ("inside a `tf.function`: a Keras layer created on every call fails (\"tf.function "
                    "only supports singleton tf.Variables\"); create the layer once outside and call it here")
        return None

    def naming_note(self) -> Optional[str]:
        """Why variable names matter here (the fix is then unsafe)."""
        if self.scopes:
            return ("variable names change: Keras ignores `variable_scope` (`fc/kernel`, not "
                    "`scope/fc/kernel`), so TF1 checkpoints no longer restore by name")
        if self.saver:
            return ("variable names change (Keras layers name their weights `<layer>/kernel`), so "
                    "checkpoints written by the TF1 `Saver` no longer restore by name")
        return None

    # ---------------------------------------------------------------- spelling

    def keras_layers(self, at: cst.CSTNode, cls: str = "") -> tuple[cst.BaseExpression, list[ImportEdit]]:
        """`tf.keras.layers.<cls>` through the file's tensorflow import (or keras.layers.<cls>);
        the module itself when `cls` is empty."""
        tail = f".{cls}" if cls else ""
        if self.context.target == "keras":
            return cst.parse_expression(f"keras.layers{tail}"), [ImportEdit("keras")]
        local = self._tensorflow_binding(at)
        if local is not None:
            return cst.parse_expression(f"{local}.keras.layers{tail}"), []
        if not self._bound_anywhere("tf"):
            return cst.parse_expression(f"tf.keras.layers{tail}"), [ImportEdit("tensorflow", asname="tf")]
        return cst.parse_expression(f"tensorflow.keras.layers{tail}"), [ImportEdit("tensorflow")]

    def _tensorflow_binding(self, at: cst.CSTNode) -> Optional[str]:
        """A module-level name bound to tensorflow (or tf.compat.v1/v2) by imports only."""
        bindings = self.names.bindings
        for local in self._tf_imports():
            if local in bindings.others:
                continue  # also bound by something else somewhere: not certain at `at`
            if all(q == "tensorflow" or q in TF_MODULES for q in bindings.imports.get(local, ())):
                return local
        return None

    def _tf_imports(self) -> list[str]:
        cached = getattr(self, "_tf_locals", None)
        if cached is None:
            cached = []
            for stmt in _top_level_statements(self.module):
                for local in _tf_locals_of(stmt):
                    if local not in cached:
                        cached.append(local)
            self._tf_locals = cached
        return cached

    @staticmethod
    def _binds_tensorflow(node, local: str) -> bool:
        return local in _tf_locals_of_small(node)

    def _bound_anywhere(self, name: str) -> bool:
        return re.search(rf"\b{re.escape(name)}\b", self.context.text) is not None

    def import_removal(self, func: cst.BaseExpression) -> list[ImportEdit]:
        """`from tensorflow.layers import dense [as d]` (or `from tensorflow.compat.v1 import layers`):
        the import to drop once its last use is converted (the engine keeps it while still used)."""
        base = func
        while isinstance(base, cst.Attribute):
            base = base.value
        if not isinstance(base, cst.Name):
            return []
        edits = []
        for stmt in self.names.bindings.import_nodes.get(base.value, ()):
            if isinstance(stmt, cst.ImportFrom) and not stmt.relative and not isinstance(stmt.names, cst.ImportStar):
                module = code_of(stmt.module) if stmt.module is not None else ""
                for alias in stmt.names:
                    asname = alias.asname.name.value if alias.asname else None
                    obj = code_of(alias.name)
                    if (asname or obj) != base.value:
                        continue
                    full = f"{module}.{obj}"
                    if module in TF_LAYERS_MODULES or full in TF_LAYERS_MODULES:
                        edits.append(ImportEdit(module, obj, asname, remove=True))
            elif isinstance(stmt, cst.Import):
                for alias in stmt.names:
                    name = code_of(alias.name)
                    if alias.asname and alias.asname.name.value == base.value and name in TF_LAYERS_MODULES:
                        edits.append(ImportEdit(name, None, base.value, remove=True))
        return edits


def _top_level_statements(module: cst.Module):
    """Module-level statements, including those inside top-level `try:` / `if` blocks."""
    stack = list(module.body)
    while stack:
        s = stack.pop(0)
        if isinstance(s, cst.SimpleStatementLine):
            yield from s.body
        elif isinstance(s, (cst.Try, cst.If)):
            stack.extend(s.body.body)


def _tf_locals_of(stmt) -> list[str]:
    return _tf_locals_of_small(stmt) if isinstance(stmt, (cst.Import, cst.ImportFrom)) else []


def _tf_locals_of_small(stmt) -> list[str]:
    """Names an import binds to `tensorflow` or `tensorflow.compat.v1/v2` (which has `.keras` too)."""
    out = []
    if isinstance(stmt, cst.Import):
        for a in stmt.names:
            name = code_of(a.name)
            if a.asname is not None and name in TF_MODULES:
                out.append(a.asname.name.value)
            elif a.asname is None and name == "tensorflow":
                out.append("tensorflow")
    elif isinstance(stmt, cst.ImportFrom) and not stmt.relative and stmt.module is not None \
            and not isinstance(stmt.names, cst.ImportStar):
        module = code_of(stmt.module)
        for a in stmt.names:
            full = f"{module}.{code_of(a.name)}"
            if full in TF_MODULES:
                out.append(a.asname.name.value if a.asname else code_of(a.name))
    return out


class Walker(TFLayersRule):
    """Finds every node that names something under tf.layers, outermost only, once."""

    roots: tuple[str, ...] = TF_LAYERS_MODULES
    chain_attrs: tuple[str, ...] = ("layers",)

    def __init__(self, context):
        super().__init__(context)
        self._skip: set[int] = set()
        self._call_funcs: set[int] = set()
        self._candidates = candidate_names(context.text)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._skip.add(id(node.target))

    def visit_Call(self, node: cst.Call) -> None:
        self._call_funcs.add(id(node.func))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value in self._candidates:
            self._skip.add(id(node.attr))  # `x.layers`: the attribute name is not a reference of its own
        if self._may_name_tf_layers(node):
            self._visit_ref(node)

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self._candidates:  # most names are not: checked first, once per name
            self._visit_ref(node)

    def _visit_ref(self, node) -> None:
        if self.in_import or id(node) in self._skip:
            return
        qnames = self.names.qualified_names(node, "tensorflow")  # every root is under tensorflow
        if not qnames:
            return
        name = None
        for q in qnames:
            for root in self.roots:
                if q.startswith(root + "."):
                    name = q[len(root) + 1:]
                elif q == root:
                    name = ""
        if name is None:
            return
        if isinstance(node, cst.Attribute):
            self._skip.add(id(node.value))
        self.on_ref(node, name, id(node) in self._call_funcs)

    def on_ref(self, node, name: str, is_call_func: bool) -> None:  # pragma: no cover
        raise NotImplementedError

    def _may_name_tf_layers(self, node) -> bool:
        """Cheap syntactic filter before the qualified-name lookup: an attribute chain through
        `.layers`, or a name the file binds from tensorflow's layers or to `<x>.layers`."""
        while type(node) is cst.Attribute:  # exact types: isinstance through ABCMeta is slow here
            if node.attr.value in self.chain_attrs:
                return True
            node = node.value
        return type(node) is cst.Name and node.value in self._candidates


