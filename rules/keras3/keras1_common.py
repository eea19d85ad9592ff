"""Helpers of the Keras 1 layer rules (KM301..KM310): which Keras class a call makes, renaming a
reference to a Keras name with the import edits it needs, and argument-list surgery."""
from __future__ import annotations

import re
from typing import Iterator, Optional, Sequence

import libcst as cst

from kmigrate.names import KERAS_ROOTS, NameResolver, canonical_keras, keras_module
from kmigrate.rules.analysis.call_args import code_of, has_star, kwarg, make_kw, positional, walk, with_args  # noqa: F401
from kmigrate.rule import FileContext, ImportEdit, Rule

_STANDALONE = re.compile(r"^[ \t]*(?:from[ \t]+keras(?:\.[\w.]+)?[ \t]+import|import[ \t]+keras\b(?!_))", re.M)
_KERAS1_NAMES = re.compile(r"\b(?:Convolution[123]D|AtrousConvolution[12]D|Deconvolution2D|"
                           r"SeparableConvolution2D|border_mode|dim_ordering|nb_filter|subsample)\b")


def class_key(canonical: Optional[str]) -> Optional[str]:
    """'layers.Conv2D' / 'legacy.layers.Highway' -> the class name; 'Input'/'models.Input' -> 'Input'."""
    if canonical is None:
        return None
    for prefix in ("layers.", "legacy.layers."):
        if canonical.startswith(prefix) and "." not in canonical[len(prefix):]:
            return canonical[len(prefix):]
    if canonical in ("Input", "models.Input"):
        return "Input"
    return None


def keywords(call: cst.Call) -> dict[str, cst.Arg]:
    """The call's keyword arguments by name."""
    return {a.keyword.value: a for a in call.args if a.keyword is not None}


def string_value(node: cst.BaseExpression) -> Optional[str]:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def requote(old: cst.BaseExpression, text: str) -> cst.SimpleString:
    """A string literal with `text`, in the quote style of `old` if it is one."""
    quote = "'"
    if isinstance(old, cst.SimpleString):
        quote = old.quote if old.quote in ("'", '"') else "'"
    return cst.SimpleString(f"{quote}{text}{quote}")


def is_int_literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        node = node.expression
    return isinstance(node, cst.Integer)


def is_simple(node: cst.BaseExpression) -> bool:
    """A literal, a name or a dotted name: evaluating it twice is the same as once."""
    return isinstance(node, (cst.SimpleString, cst.Integer, cst.Float, cst.Name, cst.Attribute)) and (
        not isinstance(node, cst.Attribute) or is_simple(node.value))


def layers_module_for(qname: str, target: str) -> str:
    """Where a renamed layer name is imported from: the same Keras root's `layers` module."""
    for root, home in (("keras.", "keras.layers"), ("tensorflow.keras.", "tensorflow.keras.layers"),
                       ("tf_keras.", "tf_keras.layers")):
        if qname.startswith(root):
            return home
    return keras_module(target, "layers")


def keras_root(qname: str) -> Optional[str]:
    for root in KERAS_ROOTS:
        if qname.startswith(root):
            return root
    return None


class Keras1Rule(Rule):
    """Base of KM301..KM310: name resolution, file facts kept across the engine's passes."""

    # Fires only on names resolved to Keras: a file that never spells "keras" is not parsed.
    requires = ("keras",)
    remembers_original = True  # `facts` below

    def __init__(self, context: FileContext):
        super().__init__(context)
        self._names: Optional[NameResolver] = None
        self._bindings: Optional[dict[str, set[Optional[str]]]] = None
        # The first pass sees the original text; later passes may see KM101's tensorflow.keras
        # imports, so what the original file was is remembered on the (per-file) context.
        facts = context.__dict__.get("_keras1_facts")
        if facts is None:
            facts = {
                "standalone": bool(_STANDALONE.search(context.text)),
                "keras1": bool(_KERAS1_NAMES.search(context.text)),
            }
            context.__dict__["_keras1_facts"] = facts
        self.facts = facts

    @property
    def names(self) -> NameResolver:
        if self._names is None:
            self._names = NameResolver(self)
        return self._names

    def kname(self, node: cst.CSTNode) -> Optional[str]:
        return self.names.keras_name(node)

    def call_class(self, call: cst.Call) -> Optional[str]:
        return class_key(self.kname(call.func))

    def import_qname(self, node: cst.Name) -> Optional[str]:
        """The qualified name of a bare name bound only by an import, else None."""
        return self.names.import_name(node.value)

    def bindings(self) -> dict[str, set[Optional[str]]]:
        """Every name the module binds -> the canonical Keras names it is bound to (None: not Keras)."""
        if self._bindings is None:
            out: dict[str, set[Optional[str]]] = {}
            for n in walk(self.module):
                if isinstance(n, cst.ImportFrom) and not isinstance(n.names, cst.ImportStar):
                    mod = code_of(n.module) if n.module is not None and not n.relative else None
                    for a in n.names:
                        local = code_of(a.asname.name) if a.asname else code_of(a.name)
                        canon = canonical_keras(f"{mod}.{code_of(a.name)}") if mod else None
                        out.setdefault(local, set()).add(canon)
                elif isinstance(n, cst.Import):
                    for a in n.names:
                        local = code_of(a.asname.name) if a.asname else code_of(a.name).split(".")[0]
                        out.setdefault(local, set()).add(None)
                elif isinstance(n, (cst.FunctionDef, cst.ClassDef)):
                    out.setdefault(n.name.value, set()).add(None)
                elif isinstance(n, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For, cst.AsName)):
                    target = n.target if not isinstance(n, cst.AsName) else n.name
                    for t in walk(target):
                        if isinstance(t, cst.Name):
                            out.setdefault(t.value, set()).add(None)
                elif isinstance(n, cst.Param):
                    out.setdefault(n.name.value, set()).add(None)
            self._bindings = out
        return self._bindings

    def free_for(self, local: str, canonical: str) -> bool:
        """True if binding `local` by importing Keras' `canonical` clashes with nothing in the file."""
        bound = self.bindings().get(local)
        return not bound or bound == {canonical}

    def rename_reference(self, node: cst.BaseExpression, old: str, new: str):
        """How to make `node` (a bare name or an attribute naming Keras' `old`) name `new` instead.

        Returns (replacement, import edits) or None when it cannot be done with certainty.
        """
        if isinstance(node, cst.Attribute):
            base = self.kname(node.value)
            if base is not None and base.startswith("layers") and node.attr.value == old:
                return node.with_changes(attr=cst.Name(new)), ()
            return None
        if isinstance(node, cst.Name) and node.value == old:
            qname = self.import_qname(node)
            if qname is None or not qname.endswith("." + old):
                return None
            if not self.free_for(new, "layers." + new):
                return None
            module = qname[: -len(old) - 1]
            home = layers_module_for(qname, self.context.target)
            return cst.Name(new), (ImportEdit(home, new), ImportEdit(module, old, remove=True))
        return None
