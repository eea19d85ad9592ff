"""Shared analysis for the KM4xx model-style conversions (Sequential / functional / subclassed).

Everything here is static: it reads the LibCST tree, never runs user code. The conversion rules
build their output as text (one statement per line, at indentation 0) and parse it back with
`parse_statements`, so LibCST re-indents it for the block it lands in.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator, Optional

import libcst as cst

from kmigrate.names import NameResolver, canonical_keras
from kmigrate.rule import FileContext, ImportEdit
from kmigrate.walk import children, code_children
from kmigrate.walk import walk as fast_walk

# Keras layers without weights: two instances behave exactly like one instance used twice.
STATELESS_LAYERS = frozenset(
    "layers." + n
    for n in (
        "MaxPooling1D MaxPooling2D MaxPooling3D MaxPool1D MaxPool2D MaxPool3D "
        "AveragePooling1D AveragePooling2D AveragePooling3D AvgPool1D AvgPool2D AvgPool3D "
        "GlobalMaxPooling1D GlobalMaxPooling2D GlobalMaxPooling3D GlobalAveragePooling1D "
        "GlobalAveragePooling2D GlobalAveragePooling3D GlobalMaxPool1D GlobalMaxPool2D "
        "GlobalAvgPool1D GlobalAvgPool2D Flatten Activation ReLU Softmax ELU LeakyReLU "
        "Dropout SpatialDropout1D SpatialDropout2D SpatialDropout3D GaussianNoise GaussianDropout "
        "AlphaDropout Reshape Permute RepeatVector ZeroPadding1D ZeroPadding2D ZeroPadding3D "
        "Cropping1D Cropping2D Cropping3D UpSampling1D UpSampling2D UpSampling3D Identity "
        "ActivityRegularization"
    ).split()
)

SHAPE_KEYWORDS = ("input_shape", "input_dim", "batch_input_shape")


class Refusal(Exception):
    """A conversion that cannot be done with certainty; the message says why and what to do."""

    def __init__(self, message: str, node: Optional[cst.CSTNode] = None):
        super().__init__(message)
        self.message, self.node = message, node


# ------------------------------------------------------------------------------ tree helpers


def parent_map(root: cst.CSTNode) -> dict[cst.CSTNode, cst.CSTNode]:
    parents: dict[cst.CSTNode, cst.CSTNode] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        for child in children(node):
            parents[child] = node
            stack.append(child)
    return parents


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    return fast_walk(node, whitespace=True)


def name_uses(node: cst.CSTNode, names: Iterable[str] | None = None) -> Iterator[cst.Name]:
    """Names used as variables in `node` (not attribute names, not keyword-argument names)."""
    wanted = set(names) if names is not None else None
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Name):
            if wanted is None or n.value in wanted:
                yield n
            continue
        if isinstance(n, cst.Attribute):
            stack.append(n.value)
            continue
        if isinstance(n, cst.Arg):
            stack.append(n.value)
            continue
        stack.extend(reversed(code_children(n)))


def all_names(module: cst.Module) -> set[str]:
    return {n.value for n in walk(module) if isinstance(n, cst.Name)}


def variable_names(module: cst.Module) -> set[str]:
    """Names used as variables (bound or read); not attribute names (`tf.keras.Model`) nor
    keyword names (`f(Model=1)`), which do not bind or shadow a name of the module."""
    names, skip = set(), set()
    for n in walk(module):
        if isinstance(n, cst.Attribute):
            skip.add(id(n.attr))
        elif isinstance(n, cst.Arg) and n.keyword is not None:
            skip.add(id(n.keyword))
        elif isinstance(n, cst.Name) and id(n) not in skip:
            names.add(n.value)
    return names


def fresh(preferred: Iterable[str], taken: set[str]) -> str:
    """The first preferred name not taken (then name_1, name_2, ...); the result is reserved."""
    prefs = list(preferred)
    for p in prefs:
        if p not in taken:
            taken.add(p)
            return p
    i = 1
    while f"{prefs[0]}_{i}" in taken:
        i += 1
    taken.add(f"{prefs[0]}_{i}")
    return f"{prefs[0]}_{i}"


def single_name_target(stmt: cst.CSTNode) -> Optional[tuple[str, cst.Assign]]:
    """`name = value` as the only statement of a line -> (name, Assign)."""
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        a = stmt.body[0]
        if isinstance(a, cst.Assign) and len(a.targets) == 1 and isinstance(a.targets[0].target, cst.Name):
            return a.targets[0].target.value, a
    return None


def assigned_names(stmt: cst.CSTNode) -> set[str]:
    """Names a statement binds anywhere inside it (assignments, for targets, with-as, imports, defs)."""
    out: set[str] = set()
    for n in walk(stmt):
        targets: list[cst.CSTNode] = []
        if isinstance(n, cst.Assign):
            targets = [t.target for t in n.targets]
        elif isinstance(n, (cst.AugAssign, cst.AnnAssign)):
            targets = [n.target]
        elif isinstance(n, (cst.For, cst.CompFor)):
            targets = [n.target]
        elif isinstance(n, cst.AsName):
            targets = [n.name]
        elif isinstance(n, cst.NamedExpr):
            targets = [n.target]
        elif isinstance(n, (cst.FunctionDef, cst.ClassDef)):
            out.add(n.name.value)
        for t in targets:
            out.update(_bound(t))
    return out


def _bound(target: cst.CSTNode) -> set[str]:
    """Names a target binds: `a`, `a, (b, *c)`; not `a.b` or `a[0]` (those mutate `a`)."""
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        return set().union(*(_bound(e.value) for e in target.elements)) if target.elements else set()
    if isinstance(target, cst.StarredElement):
        return _bound(target.value)
    return set()


def is_loop(node: cst.CSTNode) -> bool:
    return isinstance(node, (cst.For, cst.While))


def is_scope(node: cst.CSTNode) -> bool:
    return isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda, cst.Module))


def blocks_of(node: cst.CSTNode) -> list[cst.CSTNode]:
    return [node] if isinstance(node, (cst.Module, cst.IndentedBlock)) else []


# ------------------------------------------------------------------------------ text helpers


class Code:
    """Source text of nodes of one module."""

    def __init__(self, module: cst.Module):
        self.module = module

    def __call__(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)


def parse_statements(text: str) -> list[cst.BaseStatement]:
    """Statements of `text` (comment lines before a statement stay its leading lines)."""
    body = cst.parse_module("pass\n" + text).body
    return list(body[1:])


def comment_lines(lines: Iterable[cst.EmptyLine]) -> list[str]:
    return [ln.comment.value for ln in lines if ln.comment is not None]


def trailing_comment(ws: cst.BaseParenthesizableWhitespace | cst.TrailingWhitespace | None) -> Optional[str]:
    if isinstance(ws, cst.TrailingWhitespace):
        return ws.comment.value if ws.comment else None
    if isinstance(ws, cst.ParenthesizedWhitespace):
        return ws.first_line.comment.value if ws.first_line.comment else None
    return None


def inner_lines(ws) -> list[str]:
    """Comment lines (and blank lines as '') inside a parenthesized whitespace."""
    if not isinstance(ws, cst.ParenthesizedWhitespace):
        return []
    return [ln.comment.value if ln.comment else "" for ln in ws.empty_lines]


def list_element_comments(lst: cst.List) -> tuple[list[tuple[list[str], Optional[str]]], list[str]]:
    """Per element (comment lines before it, its trailing comment); and comment lines before `]`."""
    out: list[tuple[list[str], Optional[str]]] = []
    before: list[str] = []
    first = trailing_comment(lst.lbracket.whitespace_after)
    if first:
        before.append(first)
    before.extend(inner_lines(lst.lbracket.whitespace_after))
    elements = list(lst.elements)
    for i, el in enumerate(elements):
        trail = None
        after: list[str] = []
        ws = el.comma.whitespace_after if isinstance(el.comma, cst.Comma) else None
        if ws is None and i == len(elements) - 1:
            ws = lst.rbracket.whitespace_before
        if ws is not None:
            trail = trailing_comment(ws)
            after = inner_lines(ws)
        out.append(([c for c in before if c], trail))
        before = after
    return out, [c for c in before if c]


def with_comment(line: str, comment: Optional[str]) -> str:
    return f"{line}  {comment}" if comment else line


# ------------------------------------------------------------------------------ Keras spelling


@dataclass
class Binding:
    local: str
    qualified: str  # 'tensorflow.keras.layers.Input', 'tensorflow' (import tensorflow as tf)
    module: Optional[str] = None  # for `from M import obj [as local]`
    obj: Optional[str] = None


@dataclass
class Imports:
    """Names bound by imports anywhere in the module (last binding wins)."""

    bindings: dict[str, Binding] = field(default_factory=dict)

    @classmethod
    def of(cls, module: cst.Module) -> "Imports":
        from libcst.helpers import get_full_name_for_node

        out = cls()
        for n in walk(module):
            if isinstance(n, cst.Import):
                for a in n.names:
                    full = get_full_name_for_node(a.name) or ""
                    if a.asname is not None and isinstance(a.asname.name, cst.Name):
                        out.bindings[a.asname.name.value] = Binding(a.asname.name.value, full)
                    else:
                        head = full.split(".")[0]
                        out.bindings[head] = Binding(head, head)
            elif isinstance(n, cst.ImportFrom) and not n.relative and not isinstance(n.names, cst.ImportStar):
                mod = get_full_name_for_node(n.module) if n.module else None
                if not mod:
                    continue
                for a in n.names:
                    obj = get_full_name_for_node(a.name) or ""
                    local = a.asname.name.value if a.asname and isinstance(a.asname.name, cst.Name) else obj
                    out.bindings[local] = Binding(local, f"{mod}.{obj}", mod, obj)
        return out

    def keras(self, local: str) -> Optional[str]:
        b = self.bindings.get(local)
        return canonical_keras(b.qualified) if b else None

    def first_with(self, canonical: str) -> Optional[str]:
        for b in self.bindings.values():
            if canonical_keras(b.qualified) == canonical:
                return b.local
        return None


class Speller:
    """Spells keras.Input / keras.Model / keras.Sequential the way the file spells a given name."""

    def __init__(self, rule, module: cst.Module, reserved_names: set[str]):
        self.resolver = NameResolver(rule)
        self.code = Code(module)
        self.imports = Imports.of(module)
        self.names = reserved_names  # every name in the module
        self.variables = variable_names(module)  # the ones that could clash with an added import

    def root_qualified(self, func: cst.CSTNode) -> Optional[str]:
        """'tensorflow.keras.' for a node naming tensorflow.keras.models.Sequential."""
        for q in self.resolver.qualified_names(func):
            c = canonical_keras(q)
            if c and q.endswith(c):
                return q[: len(q) - len(c)]
        return None

    def spell(self, like: cst.CSTNode, obj: str) -> tuple[str, list[ImportEdit]]:
        """How to write Keras `obj` ('Input', 'Model', 'Sequential') next to the reference `like`."""
        if isinstance(like, cst.Attribute):
            prefix = like.value
            canon = self.resolver.keras_name(prefix)
            if canon == "" or (canon == "models" and obj != "Input") or (canon == "layers" and obj == "Input"):
                return f"{self.code(prefix)}.{obj}", []
            if canon in ("models", "layers") and isinstance(prefix, cst.Attribute):
                if self.resolver.keras_name(prefix.value) == "":
                    return f"{self.code(prefix.value)}.{obj}", []
            # module alias (`from tensorflow.keras import models`): look for a sibling alias
            home = "layers" if obj == "Input" else "models"
            for canon_wanted in (home, ""):
                local = self.imports.first_with(canon_wanted)
                if local:
                    return f"{local}.{obj}", []
            for b in self.imports.bindings.values():
                if b.qualified == "tensorflow":
                    return f"{b.local}.keras.{obj}", []
        # a bare imported name (`from tensorflow.keras.models import Sequential`)
        b = self.imports.bindings.get(obj)
        if b is not None and canonical_keras(b.qualified) in (obj, f"layers.{obj}", f"models.{obj}"):
            return obj, []
        if obj in self.variables:
            raise Refusal(f"`{obj}` is already a name in this file for something else; "
                          f"kmigrate would need `{obj}` from Keras")
        root = self.root_qualified(like)
        if root is None:
            raise Refusal(f"cannot tell which Keras `{self.code(like)}` comes from")
        if isinstance(like, cst.Name):
            b = self.imports.bindings.get(like.value)
            if b is not None and b.module and (obj != "Input" or canonical_keras(b.module) == ""):
                return obj, [ImportEdit(b.module, obj)]
        module = root.rstrip(".") + (".layers" if obj == "Input" else ".models")
        return obj, [ImportEdit(module, obj)]

    def removal(self, like: cst.CSTNode) -> list[ImportEdit]:
        """Remove the import of a bare name once it is unused (the engine keeps used imports)."""
        if isinstance(like, cst.Name):
            b = self.imports.bindings.get(like.value)
            if b is not None and b.module and b.obj:
                asname = b.local if b.local != b.obj else None
                return [ImportEdit(b.module, b.obj, asname, remove=True)]
        return []


# ------------------------------------------------------------------------------ layer calls


def keyword(call: cst.Call, name: str) -> Optional[cst.Arg]:
    for a in call.args:
        if a.keyword is not None and a.keyword.value == name:
            return a
    return None


def without_keywords(call: cst.Call, names: Iterable[str]) -> cst.Call:
    names = set(names)
    args = [a for a in call.args if not (a.keyword is not None and a.keyword.value in names)]
    if len(args) != len(call.args) and args and call.args[-1] not in args:
        # the removed argument was last: drop the comma it leaves behind
        last = call.args[-1]
        had_trailing = isinstance(last.comma, cst.Comma)
        if not had_trailing:
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return call.with_changes(args=args)


@dataclass
class InputSpec:
    """The model input a first layer (or Input/InputLayer element) declares, as Input(...) arguments."""

    args: str  # 'shape=(10,)' / 'batch_shape=(32, 10)'
    layer: Optional[cst.BaseExpression]  # the first layer without its shape keywords; None for Input/InputLayer


def input_spec(expr: cst.BaseExpression, resolver: NameResolver, code: Code, what: str) -> Optional[InputSpec]:
    """What `expr` (the first element of a Sequential) says about the input shape.

    Returns None when it says nothing; raises Refusal when it says something kmigrate cannot map.
    """
    if not isinstance(expr, cst.Call):
        return None
    name = resolver.keras_name(expr.func)
    if name in ("Input", "layers.Input"):
        return InputSpec(_args_text(expr, code), None)
    if name == "layers.InputLayer":
        parts = []
        for i, a in enumerate(expr.args):
            if a.star:
                raise Refusal("`InputLayer(*...)`: arguments not visible", expr)
            kw = a.keyword.value if a.keyword is not None else ("shape" if i == 0 else None)
            kw = {"input_shape": "shape", "batch_input_shape": "batch_shape"}.get(kw, kw)
            if kw not in ("shape", "batch_shape", "batch_size", "dtype", "sparse", "name"):
                raise Refusal(f"`InputLayer` argument `{kw or code(a.value)}` has no `Input(...)` equivalent "
                              "kmigrate knows", expr)
            parts.append(f"{kw}={code(a.value)}")
        return InputSpec(", ".join(parts), None)
    present = [k for k in SHAPE_KEYWORDS if keyword(expr, k) is not None]
    if name == "layers.Embedding":
        present = [k for k in present if k != "input_dim"]  # Embedding's input_dim is the vocabulary size
        if not present and keyword(expr, "input_length") is not None:
            raise Refusal(f"no input shape for {what}: Keras 3 ignores `Embedding(input_length=...)`; "
                          "add `input_shape=(length,)` to the Embedding or an `Input(shape=(length,))` first")
    if not present:
        return None
    if name is None or not name.startswith("layers."):
        raise Refusal(f"the first layer `{code(expr.func)}` is not a Keras layer kmigrate knows, so "
                      f"`{present[0]}=` may not be the model's input shape", expr)
    if len(present) > 1:
        raise Refusal(f"the first layer gives both `{present[0]}=` and `{present[1]}=`", expr)
    kw = present[0]
    value = code(keyword(expr, kw).value)
    if kw == "input_shape":
        args = f"shape={value}"
    elif kw == "input_dim":
        args = f"shape=({value},)"
    else:
        args = f"batch_shape={value}"
    extra = [k for k in ("batch_size",) if keyword(expr, k) is not None]
    for k in extra:
        args += f", {k}={code(keyword(expr, k).value)}"
    return InputSpec(args, without_keywords(expr, (kw, *extra)))


def _args_text(call: cst.Call, code: Code) -> str:
    text = code(call)
    return text[text.index("(", len(code(call.func))) + 1: text.rindex(")")].strip().rstrip(",")


def context_wants(context: FileContext, style: str) -> bool:
    return context.to == style
