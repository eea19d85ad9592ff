"""Static facts about Keras code, shared by the KM501..KM507 lint rules (not a rule itself).

Everything here follows only what is visible in the file: a name is resolved to the value of
its last assignment in the same scope when that assignment certainly runs before the use
(same block or an enclosing one, and not redone later in an enclosing loop); anything else
(parameters, imports, other modules, branches, loops) is *unknown* and the rules stay silent.

`Facts.of(rule)` builds one analysis per parsed module and shares it between the rules of a
pass (they see the same module object and the same metadata).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Optional, Union

import libcst as cst

from kmigrate.names import NameResolver
from kmigrate.walk import _CODE_CHILDREN, children, code_children, code_children_function, concrete_types

# ----------------------------------------------------------------------------- vocabulary

MODEL_BASES = {"Model", "models.Model", "Sequential", "models.Sequential"}
LAYER_BASES = {"Layer", "layers.Layer", "models.Layer", "layers.InputSpec"}
SEQUENTIAL = {"Sequential", "models.Sequential"}
FUNCTIONAL = {"Model", "models.Model"}

NOT_LAYERS = {"InputSpec"}  # under keras.layers but not layers
DENSE = {"Dense"}
CONV = {
    "Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D",
    "Conv2DTranspose", "Conv3DTranspose", "Conv1DTranspose", "Convolution2DTranspose",
    "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D",
    "DepthwiseConv1D", "DepthwiseConv2D", "AtrousConvolution2D", "AtrousConv2D",
}
POOL = {
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
    "AveragePooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
}
RNN = {"LSTM", "GRU", "SimpleRNN", "CuDNNLSTM", "CuDNNGRU", "ConvLSTM2D"}
# Layers that keep the rank and the meaning of their input (looked through in chains).
NEUTRAL = {
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
    "GaussianDropout", "AlphaDropout", "BatchNormalization", "LayerNormalization",
    "ActivityRegularization",
}
# Activation layers: the activation they apply.
ACTIVATION_LAYERS = {"Softmax": "softmax", "ReLU": "relu", "LeakyReLU": "leaky_relu", "ELU": "elu",
                     "PReLU": "prelu", "ThresholdedReLU": "relu"}
KNOWN_ACTIVATIONS = {"softmax", "sigmoid", "linear", "relu", "tanh", "elu", "selu", "softplus",
                     "softsign", "exponential", "hard_sigmoid", "swish", "silu", "gelu",
                     "leaky_relu", "relu6", "log_softmax", "mish"}
# Rank of a layer's output when it is known from the layer alone.
RANK4 = {n for n in CONV | POOL if n.endswith(("2D", "2DTranspose"))} - {"SeparableConv1D"}
RANK5 = {n for n in CONV | POOL if n.endswith(("3D", "3DTranspose"))}
RANK3 = {n for n in CONV | POOL if n.endswith(("1D", "1DTranspose"))}
KEEPS_RANK = {"ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D",
              "UpSampling1D", "UpSampling2D", "UpSampling3D"}

CROSS_ENTROPY_CLASSES = {
    "CategoricalCrossentropy": "categorical_crossentropy",
    "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
    "BinaryCrossentropy": "binary_crossentropy",
}
LOSS_ALIASES = {
    "categorical_crossentropy": "categorical_crossentropy",
    "sparse_categorical_crossentropy": "sparse_categorical_crossentropy",
    "binary_crossentropy": "binary_crossentropy",
}
# Model methods that read a model without changing its layers.
MODEL_READERS = {"add", "compile", "summary", "build", "fit", "fit_generator", "evaluate",
                 "evaluate_generator", "predict", "predict_generator", "predict_on_batch",
                 "train_on_batch", "test_on_batch", "count_params", "get_weights", "set_weights",
                 "load_weights", "save_weights", "save", "to_json", "to_yaml", "get_config"}

Expr = cst.BaseExpression


def literal_int(node: Optional[cst.CSTNode]) -> Optional[int]:
    if isinstance(node, cst.Integer):
        try:
            return int(node.value, 0)
        except ValueError:
            return None
    return None


def literal_str(node: Optional[cst.CSTNode]) -> Optional[str]:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def literal_bool(node: Optional[cst.CSTNode]) -> Optional[bool]:
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return node.value == "True"
    return None


def kwarg(call: cst.Call, *names: str) -> Optional[cst.Arg]:
    for a in call.args:
        if a.keyword is not None and a.keyword.value in names:
            return a
    return None


def positional(call: cst.Call, index: int) -> Optional[cst.Arg]:
    pos = [a for a in call.args if a.keyword is None and not a.star]
    stars = any(a.star for a in call.args if a.keyword is None)
    if stars:
        return None
    return pos[index] if index < len(pos) else None


def has_star_kwargs(call: cst.Call) -> bool:
    return any(a.star for a in call.args)


def arg_value(call: cst.Call, index: Optional[int], *names: str) -> Optional[Expr]:
    a = kwarg(call, *names)
    if a is None and index is not None:
        a = positional(call, index)
    return a.value if a is not None else None


# ----------------------------------------------------------------------------- data


@dataclass
class LayerFacts:
    """What a layer constructor call says about the layer (None: not visible)."""

    kind: str  # 'Dense', 'Conv2D', ... or 'local:ClassName'
    call: cst.Call
    units: Optional[int] = None
    activation: Optional[str] = None  # 'softmax', 'linear', ...; None unknown
    activation_node: Optional[cst.CSTNode] = None
    return_sequences: Optional[bool] = None

    @property
    def is_dense(self) -> bool:
        return self.kind in DENSE


@dataclass
class Output:
    """A model's output as far as visible: its activation and the units of the last Dense."""

    activation: Optional[str]
    units: Optional[int]
    activation_at: cst.CSTNode  # where the activation was decided
    layer: Optional[LayerFacts] = None  # the last Dense/Conv, if any


@dataclass
class Loss:
    name: str  # 'categorical_crossentropy', ...
    from_logits: Optional[bool]
    node: cst.CSTNode


@dataclass
class Binding:
    order: int
    path: tuple
    value: Optional[Expr]  # None: bound some other way (parameter, import, for, tuple...)
    stmt: cst.CSTNode


@dataclass
class ScopeInfo:
    owner: cst.CSTNode
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    stmts: list[tuple[cst.CSTNode, int, tuple]] = field(default_factory=list)
    unresolvable: set[str] = field(default_factory=set)

    def bind(self, name: str, b: Binding) -> None:
        self.bindings.setdefault(name, []).append(b)


@dataclass
class KerasClass:
    node: cst.ClassDef
    kind: str  # 'model' | 'layer'
    methods: dict[str, cst.FunctionDef]
    bases_visible: bool  # every base is a Keras class or a class of this file whose bases are visible


# ----------------------------------------------------------------------------- analysis

# What the analyses computed for the module the rules of this pass visit: kept while the module
# is the same object (every rule of a pass, and the engine's run over the final text when it
# reuses the last pass's tree), computed again for another module (a tree the fixes changed).
_SHARED: dict = {}


def shared(rule, key, build):
    """`build()` for the rule's module, computed once per module and shared by every rule."""
    module = rule.module
    if _SHARED.get("module") is not module:
        _SHARED.clear()
        _SHARED["module"] = module
    value = _SHARED.get(key)
    if value is None:
        value = _SHARED[key] = build()
    return value


class ModuleIndex:
    """One walk over every code node of a module: the child -> parent map and the nodes the
    analyses look for. Shared by Facts (KM501-KM507), ModuleFacts (KM508-KM513) and the rules."""

    @classmethod
    def of(cls, rule) -> "ModuleIndex":
        index = shared(rule, cls, lambda: cls(rule.module))
        meta = rule.meta
        if meta is not None and meta.module is rule.module and meta.parents is None:
            meta.parents = index.parent  # positions and fixes go up it instead of walking
        return index

    def __init__(self, module: cst.Module):
        self.module = module
        self.parent: dict[cst.CSTNode, cst.CSTNode] = {}
        self.calls: list[cst.Call] = []
        self.classes: list[cst.ClassDef] = []
        self.functions: list[cst.FunctionDef] = []
        self.attr_loads: dict[str, int] = {}  # attribute name -> how often read (`.x` not assigned)
        self.attributes: dict[str, list[cst.Attribute]] = {}  # attribute name -> every `.name` node
        self.named_exprs = 0  # how many `:=` the module has
        self.star_import = False  # `from x import *` somewhere
        self.template_sets = False  # `{{...}}`: a set of one set (hyperas templates)
        self._method_calls: Optional[dict[str, list[cst.Call]]] = None
        self._walk()

    def method_calls(self, name: str) -> list[cst.Call]:
        """The calls `<expr>.<name>(...)` of the module, in source order (grouped on first use)."""
        by_name = self._method_calls
        if by_name is None:
            by_name = self._method_calls = {}
            for c in self.calls:
                if type(c.func) is cst.Attribute:
                    by_name.setdefault(c.func.attr.value, []).append(c)
        return by_name.get(name, [])

    def _walk(self) -> None:
        stack: list[cst.CSTNode] = [self.module]
        assigned_attrs: set[int] = set()
        parent = self.parent
        calls, classes, functions, attr_loads = self.calls, self.classes, self.functions, self.attr_loads
        attributes = self.attributes
        get, pop, push, interesting = _CODE_CHILDREN.get, stack.pop, stack.extend, _INDEXED
        while stack:
            n = pop()
            kind = type(n)  # exact types: isinstance on LibCST's classes goes through ABCMeta (slow)
            if kind in interesting:
                if kind is cst.Call:
                    calls.append(n)
                elif kind is cst.Attribute:
                    name = n.attr.value
                    found = attributes.get(name)
                    if found is None:
                        attributes[name] = [n]
                    else:
                        found.append(n)
                    if id(n) not in assigned_attrs:
                        attr_loads[name] = attr_loads.get(name, 0) + 1
                elif kind is cst.Assign:
                    for t in n.targets:
                        assigned_attrs.add(id(t.target))
                elif kind is cst.AnnAssign or kind is cst.AugAssign:
                    assigned_attrs.add(id(n.target))
                elif kind is cst.ClassDef:
                    classes.append(n)
                elif kind is cst.FunctionDef:
                    functions.append(n)
                elif kind is cst.NamedExpr:
                    self.named_exprs += 1
                elif kind is cst.ImportFrom:
                    if type(n.names) is cst.ImportStar:
                        self.star_import = True
                elif len(n.elements) == 1 and type(n.elements[0].value) is cst.Set:  # a Set
                    self.template_sets = True
            kids = (get(kind) or code_children_function(kind))(n)
            for child in kids:
                parent[child] = n
            push(kids)
        calls.reverse()
        classes.reverse()
        functions.reverse()


_INDEXED = frozenset({cst.Call, cst.Attribute, cst.Assign, cst.AnnAssign, cst.AugAssign, cst.ClassDef,
                      cst.FunctionDef, cst.NamedExpr, cst.ImportFrom, cst.Set})


class Facts:
    """One module's analysis; build it with `Facts.of(rule)` inside visit_Module."""

    @classmethod
    def of(cls, rule) -> "Facts":
        index = ModuleIndex.of(rule)
        return shared(rule, cls, lambda: cls(rule.module, NameResolver(rule), index))

    def __init__(self, module: cst.Module, resolver: NameResolver, index: Optional[ModuleIndex] = None):
        self.module = module
        self.r = resolver
        index = index if index is not None and index.module is module else ModuleIndex(module)
        self.index = index
        self.parent: dict[cst.CSTNode, cst.CSTNode] = index.parent
        self.calls: list[cst.Call] = index.calls
        self.classes: list[cst.ClassDef] = index.classes
        self.functions: list[cst.FunctionDef] = index.functions
        self.attr_loads: dict[str, int] = index.attr_loads  # attribute name -> how often read (`.x` not assigned)
        self.pos: dict[cst.CSTNode, tuple[ScopeInfo, int, tuple]] = {}
        self._kname: dict[cst.CSTNode, Optional[str]] = {}
        self.scopes: dict[cst.CSTNode, ScopeInfo] = {}
        self._index_scope(module, module.body, [])
        for fn in self.functions:
            self._index_scope(fn, fn.body.body if isinstance(fn.body, cst.IndentedBlock) else [fn.body], _params(fn))
        for c in self.classes:
            self._index_scope(c, c.body.body if isinstance(c.body, cst.IndentedBlock) else [c.body], [])
        self.keras_classes: dict[cst.ClassDef, KerasClass] = {}
        self._find_keras_classes()

    # ------------------------------------------------------------------ tree

    def inside(self, node: cst.CSTNode, ancestor: cst.CSTNode) -> bool:
        """Whether `node` is below `ancestor` (found by going up, not by walking `ancestor`)."""
        n = self.parent.get(node)
        while n is not None and n is not ancestor:
            n = self.parent.get(n)
        return n is not None

    def enclosing(self, node: cst.CSTNode, kinds) -> Optional[cst.CSTNode]:
        n = self.parent.get(node)
        while n is not None and not isinstance(n, kinds):
            n = self.parent.get(n)
        return n

    def keras_name(self, node: cst.CSTNode) -> Optional[str]:
        if node not in self._kname:
            self._kname[node] = self.r.keras_name(node)
        return self._kname[node]

    def qualified(self, node: cst.CSTNode) -> set[str]:
        return self.r.qualified_names(node)

    # ------------------------------------------------------------------ scopes and bindings

    def _index_scope(self, owner, body, params: list[cst.Name]) -> None:
        scope = ScopeInfo(owner)
        self.scopes[owner] = scope
        for p in params:
            scope.bind(p.value, Binding(-1, (), None, p))
        counter = [0]

        def bind_target(target: cst.CSTNode, value: Optional[Expr], order: int, path: tuple, stmt) -> None:
            if isinstance(target, cst.Name):
                scope.bind(target.value, Binding(order, path, value, stmt))
            elif isinstance(target, (cst.Tuple, cst.List)):
                for el in target.elements:
                    bind_target(el.value, None, order, path, stmt)
            elif isinstance(target, cst.StarredElement):
                bind_target(target.value, None, order, path, stmt)

        def small(s: cst.CSTNode, order: int, path: tuple) -> None:
            self.pos[s] = (scope, order, path)
            if isinstance(s, cst.Assign):
                for t in s.targets:
                    bind_target(t.target, s.value, order, path, s)
            elif isinstance(s, cst.AnnAssign):
                bind_target(s.target, s.value, order, path, s)
            elif isinstance(s, cst.AugAssign):
                bind_target(s.target, None, order, path, s)
            elif isinstance(s, (cst.Import, cst.ImportFrom)):
                if not isinstance(s.names, cst.ImportStar):
                    for a in s.names:
                        nm = a.asname.name if a.asname else a.name
                        while isinstance(nm, cst.Attribute):
                            nm = nm.value
                        bind_target(nm, None, order, path, s)
            elif isinstance(s, cst.Del):
                bind_target(s.target, None, order, path, s)
            elif isinstance(s, (cst.Global, cst.Nonlocal)):
                for a in s.names:
                    scope.unresolvable.add(a.name.value)

        def block(stmts, path: tuple) -> None:
            for s in stmts:
                order = counter[0]
                counter[0] += 1
                scope.stmts.append((s, order, path))
                self.pos[s] = (scope, order, path)
                if isinstance(s, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                    for sm in s.body:
                        small(sm, order, path)
                elif isinstance(s, cst.If):
                    block(_body(s.body), path + ((id(s.body), False),))
                    if s.orelse is not None:
                        inner = s.orelse.body
                        if isinstance(s.orelse, cst.If):
                            block([s.orelse], path + ((id(s.orelse), False),))
                        else:
                            block(_body(inner), path + ((id(s.orelse), False),))
                elif isinstance(s, (cst.For, cst.While)):
                    loop = path + ((id(s), True),)
                    if isinstance(s, cst.For):
                        bind_target(s.target, None, order, loop, s)
                    block(_body(s.body), loop)
                    if s.orelse is not None:
                        block(_body(s.orelse.body), path + ((id(s.orelse), False),))
                elif isinstance(s, cst.With):
                    for item in s.items:
                        if item.asname is not None:
                            bind_target(item.asname.name, None, order, path, s)
                    block(_body(s.body), path)
                elif isinstance(s, cst.Try):
                    block(_body(s.body), path + ((id(s.body), False),))
                    for h in s.handlers:
                        if h.name is not None:
                            bind_target(h.name.name, None, order, path + ((id(h), False),), s)
                        block(_body(h.body), path + ((id(h), False),))
                    if s.orelse is not None:
                        block(_body(s.orelse.body), path + ((id(s.orelse), False),))
                    if s.finalbody is not None:
                        block(_body(s.finalbody.body), path + ((id(s.finalbody), False),))
                elif isinstance(s, (cst.FunctionDef, cst.ClassDef)):
                    scope.bind(s.name.value, Binding(order, path, None, s))
                else:  # match, async constructs, ...: names bound inside are unknown
                    for n in _names_bound_anywhere(s):
                        scope.bind(n, Binding(order, path + ((id(s), True),), None, s))

        block(body, ())
        del bind_target, small, block  # recursive closures: a cycle would keep `self` (and the tree) alive

    def position(self, node: cst.CSTNode) -> Optional[tuple[ScopeInfo, int, tuple]]:
        n: Optional[cst.CSTNode] = node
        while n is not None:
            p = self.pos.get(n)
            if p is not None:
                return p
            if isinstance(n, (cst.Lambda, cst.FunctionDef, cst.ClassDef)) and n is not node:
                return None  # inside a nested lambda: the scope is not the statement's
            if isinstance(n, (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)):
                return None
            n = self.parent.get(n)
        return None

    def binding(self, name: str, at: cst.CSTNode) -> Optional[Binding]:
        """The assignment of `name` that certainly gives its value at `at`, or None."""
        where = self.position(at)
        if where is None:
            return None
        scope, order, path = where
        if name in scope.unresolvable:
            return None
        found = scope.bindings.get(name, [])
        before = [b for b in found if b.order < order]
        if not before:
            return None
        b = before[-1]
        if b.value is None or path[: len(b.path)] != b.path:
            return None
        loops = {bid for bid, is_loop in path if is_loop}
        for a in found:
            if a.order >= order and any(bid in loops for bid, _ in a.path):
                return None
        return b

    def value_of(self, expr: Optional[Expr], depth: int = 0) -> Optional[Expr]:
        """Follow local names to the expression they were certainly assigned (or None)."""
        while isinstance(expr, cst.Name) and depth < 20:
            if expr.value in ("True", "False", "None"):
                return expr
            b = self.binding(expr.value, expr)
            if b is None:
                return None
            expr = b.value
            depth += 1
        return expr

    # ------------------------------------------------------------------ Keras classes

    def _find_keras_classes(self) -> None:
        local: dict[str, cst.ClassDef] = {c.name.value: c for c in self.classes}
        kinds: dict[cst.ClassDef, Optional[str]] = {}

        def kind_of(c: cst.ClassDef, seen: frozenset = frozenset()) -> tuple[Optional[str], bool]:
            kind, visible = None, True
            for base in c.bases:
                if base.keyword is not None:
                    continue
                k = self._base_kind(base.value)
                if k is None and isinstance(base.value, cst.Name) and base.value.value in local \
                        and base.value.value not in seen and local[base.value.value] is not c:
                    k, vis = kind_of(local[base.value.value], seen | {c.name.value})
                    visible = visible and vis
                elif k is None:
                    visible = False
                elif kind != "model":
                    kind = k
            return kind, visible

        for c in self.classes:
            kind, only = kind_of(c)
            if kind is not None:
                methods = {}
                for s in _body(c.body):
                    if isinstance(s, cst.FunctionDef):
                        methods[s.name.value] = s
                self.keras_classes[c] = KerasClass(c, kind, methods, only)
                kinds[c] = kind
        del kind_of  # a recursive closure: a cycle would keep `self` (and the tree) alive

    def _base_kind(self, base: Expr) -> Optional[str]:
        k = self.keras_name(base)
        if k is None:
            return None
        if k in MODEL_BASES:
            return "model"
        if k in LAYER_BASES or (k.startswith("layers.") and k[7:8].isupper()):
            return "layer"
        return None

    def keras_class_of(self, node: cst.CSTNode) -> Optional[tuple[KerasClass, cst.FunctionDef]]:
        """The Keras class and method a node sits in directly (not in a nested function)."""
        fn = self.enclosing(node, (cst.FunctionDef,))
        if fn is None:
            return None
        cls = self.parent.get(self.parent.get(fn))  # FunctionDef -> IndentedBlock -> ClassDef
        if isinstance(cls, cst.ClassDef) and cls in self.keras_classes:
            return self.keras_classes[cls], fn
        return None

    def local_class(self, expr: Expr) -> Optional[KerasClass]:
        """`MyModel` naming a Keras class defined once at module level (and not shadowed here)."""
        if not isinstance(expr, cst.Name):
            return None
        where = self.position(expr)
        if where is None:
            return None
        scope = where[0]
        if scope.owner is not self.module and expr.value in scope.bindings:
            return None
        for c, kc in self.keras_classes.items():
            if c.name.value == expr.value and self.parent.get(c) is self.module:
                return kc if self._defined_once(expr.value) else None
        return None

    def _defined_once(self, name: str) -> bool:
        scope = self.scopes[self.module]
        return len(scope.bindings.get(name, [])) == 1

    def self_attr_value(self, attr: cst.Attribute) -> Optional[Expr]:
        """`self.out` inside a Keras class method -> the value of its single `self.out = ...`."""
        if not (isinstance(attr.value, cst.Name)):
            return None
        where = self.keras_class_of(attr)
        if where is None:
            return None
        kc, fn = where
        params = _params(fn)
        if not params or params[0].value != attr.value.value:
            return None
        values = self.self_assignments(kc).get(attr.attr.value, [])
        if len(values) != 1 or values[0] is None:
            return None
        return values[0]

    def self_assignments(self, kc: KerasClass) -> dict[str, list[Optional[Expr]]]:
        cache = getattr(kc, "_assigns", None)
        if cache is not None:
            return cache
        out: dict[str, list[Optional[Expr]]] = {}
        for fn in kc.methods.values():
            params = _params(fn)
            if not params:
                continue
            me = params[0].value
            for n in _iter(fn):
                targets: list[tuple[cst.CSTNode, Optional[Expr]]] = []
                if isinstance(n, cst.Assign):
                    targets = [(t.target, n.value if len(n.targets) == 1 else None) for t in n.targets]
                elif isinstance(n, (cst.AugAssign, cst.AnnAssign)):
                    targets = [(n.target, getattr(n, "value", None) if isinstance(n, cst.AnnAssign) else None)]
                for t, v in targets:
                    for a in _attr_targets(t, me):
                        out.setdefault(a.attr.value, []).append(v if a is t else None)
        kc._assigns = out  # type: ignore[attr-defined]
        return out

    # ------------------------------------------------------------------ layers

    def layer_kind(self, func: Expr) -> Optional[str]:
        k = self.keras_name(func)
        if k is not None and k.startswith("layers.") and "." not in k[7:] and k[7:8].isupper() \
                and k[7:] not in NOT_LAYERS:
            return k[7:]
        if k in ("Input", "layers.Input", "InputLayer"):
            return "Input"
        if isinstance(func, cst.Name):
            kc = self.local_class(func)
            if kc is not None and kc.kind == "layer":
                return "local:" + func.value
        return None

    def layer_facts(self, call: cst.Call) -> Optional[LayerFacts]:
        kind = self.layer_kind(call.func)
        if kind is None:
            return None
        facts = LayerFacts(kind, call)
        if kind in DENSE:
            facts.units = literal_int(arg_value(call, 0, "units", "output_dim"))
        elif kind in CONV and not kind.startswith("Depthwise"):
            facts.units = literal_int(arg_value(call, 0, "filters", "nb_filter"))
        elif kind in RNN:
            facts.units = literal_int(arg_value(call, 0, "units", "output_dim"))
            rs = kwarg(call, "return_sequences")
            facts.return_sequences = False if rs is None and not has_star_kwargs(call) else (
                literal_bool(self.value_of(rs.value)) if rs is not None else None)
        if kind == "Activation":
            act = arg_value(call, 0, "activation")
            facts.activation = self.activation(act) if act is not None else None
            facts.activation_node = act
        elif kind in ACTIVATION_LAYERS:
            facts.activation = ACTIVATION_LAYERS[kind]
            facts.activation_node = call
        elif kind in DENSE or kind in CONV:
            act_arg = kwarg(call, "activation")
            act = act_arg.value if act_arg is not None else (positional(call, 1) or None)
            if kind in CONV and act_arg is None:
                act = None  # positional activation is not a thing for convolutions
            if isinstance(act, cst.Arg):
                act = act.value
            if act is None:
                facts.activation = None if has_star_kwargs(call) else "linear"
                facts.activation_node = call
            else:
                facts.activation = self.activation(act)
                facts.activation_node = act
        return facts

    def activation(self, node: Optional[Expr], depth: int = 0) -> Optional[str]:
        """'softmax' for 'softmax', keras.activations.softmax, tf.nn.softmax, a local name..."""
        if node is None:
            return None
        s = literal_str(node)
        if s is not None:
            s = s.lower()
            return s if s in KNOWN_ACTIVATIONS else None
        if isinstance(node, cst.Name) and node.value == "None":
            return "linear"
        if isinstance(node, (cst.Name, cst.Attribute)):
            k = self.keras_name(node)
            if k is not None:
                head, _, last = k.rpartition(".")
                if head in ("activations", "ops", "backend", "ops.nn") and last in KNOWN_ACTIVATIONS:
                    return last
                return None
            for q in self.qualified(node):
                head, _, last = q.rpartition(".")
                if head in ("tensorflow.nn", "tensorflow.math", "tensorflow") and last in KNOWN_ACTIVATIONS:
                    return last
            if isinstance(node, cst.Name) and depth < 5:
                v = self.value_of(node)
                if v is not None and v is not node:
                    return self.activation(v, depth + 1)
        return None

    def activation_function(self, func: Expr) -> Optional[str]:
        """`tf.nn.softmax(x)` / `keras.activations.sigmoid(x)` as a call: the activation."""
        if isinstance(func, (cst.Name, cst.Attribute)) and literal_str(func) is None:
            if isinstance(func, cst.Name) and func.value == "None":
                return None
            act = self.activation(func)
            return act if act not in (None, "linear") else None
        return None

    def applied_layer(self, call: cst.Call) -> Optional[LayerFacts]:
        """The layer a call applies: `Dense(3)(x)`, `self.fc(x)`, `fc(x)` with `fc = Dense(3)`."""
        func = call.func
        ctor: Optional[Expr] = None
        if isinstance(func, cst.Call):
            ctor = func
        elif isinstance(func, cst.Attribute):
            ctor = self.self_attr_value(func)
        elif isinstance(func, cst.Name):
            ctor = self.value_of(func)
            if ctor is func:
                ctor = None
        if isinstance(ctor, cst.Call):
            return self.layer_facts(ctor)
        return None

    def producer(self, expr: Optional[Expr], depth: int = 0) -> Optional[tuple[Union[LayerFacts, str], Optional[Expr], cst.Call]]:
        """What made a tensor: (layer facts or activation-function name, its input, the call)."""
        expr = self.value_of(expr) if isinstance(expr, cst.Name) else expr
        if not isinstance(expr, cst.Call):
            return None
        arg = positional(expr, 0)
        inp = arg.value if arg is not None else None
        lf = self.applied_layer(expr)
        if lf is not None:
            return lf, inp, expr
        act = self.activation_function(expr.func)
        if act is not None:
            return act, inp, expr
        return None

    def output_of_tensor(self, expr: Optional[Expr]) -> Optional[Output]:
        activation: Optional[str] = None
        at: Optional[cst.CSTNode] = None
        for _ in range(30):
            p = self.producer(expr)
            if p is None:
                return Output(activation, None, at) if activation is not None and at is not None else None
            what, inp, call = p
            if isinstance(what, str):
                if activation is None:
                    activation, at = what, call
                expr = inp
                continue
            out = self._step(what, activation, at)
            if out is None:
                return None
            if isinstance(out, Output):
                return out
            activation, at = out
            expr = inp
        return None

    def _step(self, lf: LayerFacts, activation, at):
        """One layer walking back from the output: an Output, (activation, at) to go on, or None."""
        if lf.kind == "Activation" or lf.kind in ACTIVATION_LAYERS:
            if lf.activation is None:
                return None
            if activation is None:
                return lf.activation, lf.activation_node or lf.call
            return activation, at
        if lf.kind in NEUTRAL:
            return activation, at
        if lf.kind in DENSE or lf.kind in CONV:
            if activation is None:
                if lf.activation is None:
                    return None
                return Output(lf.activation, lf.units, lf.activation_node or lf.call, lf)
            if lf.activation not in ("linear",):
                return None  # two activations in a row: leave it
            return Output(activation, lf.units, at, lf)
        return None

    def output_of_layers(self, layers: list) -> Optional[Output]:
        activation: Optional[str] = None
        at: Optional[cst.CSTNode] = None
        for item in reversed(layers):
            if item is None:
                return None
            expr = item[0]
            ctor = self.value_of(expr) if isinstance(expr, cst.Name) else expr
            if not isinstance(ctor, cst.Call):
                return None
            lf = self.layer_facts(ctor)
            if lf is None:
                return None
            out = self._step(lf, activation, at)
            if out is None:
                return None
            if isinstance(out, Output):
                return out
            activation, at = out
        return None

    # ------------------------------------------------------------------ models

    def sequential_layers(self, model: cst.Name, at: cst.CSTNode, inclusive: bool = False
                          ) -> Optional[list[Optional[tuple[Expr, cst.CSTNode]]]]:
        """The layers of a Sequential model at `at`, in order, as (layer, where); a None entry
        stands for layers that may or may not be there (a conditional or looped `add`)."""
        b = self.binding(model.value, at)
        if b is None or not isinstance(b.value, cst.Call) or self.keras_name(b.value.func) not in SEQUENTIAL:
            return None
        ctor = b.value
        layers: list[Optional[tuple[Expr, cst.CSTNode]]] = []
        first = arg_value(ctor, 0, "layers")
        if first is not None:
            first = self.value_of(first) if isinstance(first, cst.Name) else first
            if not isinstance(first, (cst.List, cst.Tuple)):
                return None
            for el in first.elements:
                if isinstance(el, cst.StarredElement):
                    return None
                layers.append((el.value, el.value))
        where = self.position(at)
        if where is None:
            return None
        scope, order, path = where
        for s, o, p in scope.stmts:
            if o <= b.order or o > order or (o == order and not inclusive):
                continue
            for use in _name_uses(s, model.value):
                if use is None:
                    return None  # the model escapes (passed on, re-bound, popped...)
                meth, call = use
                if meth == "add":
                    arg = positional(call, 0)
                    if path[: len(p)] != p or arg is None:
                        if layers and layers[-1] is None:
                            continue
                        layers.append(None)
                        continue
                    layers.append((arg.value, call))
        return layers

    def model_output(self, model: Expr, at: cst.CSTNode) -> Optional[Output]:
        if not isinstance(model, cst.Name):
            return None
        b = self.binding(model.value, at)
        if b is None or not isinstance(b.value, cst.Call):
            return None
        ctor = b.value
        k = self.keras_name(ctor.func)
        if k in SEQUENTIAL:
            seq = self.sequential_layers(model, at)
            if not seq or seq[-1] is None:
                return None
            return self.output_of_layers(seq)
        if k in FUNCTIONAL:
            outputs = arg_value(ctor, 1, "outputs", "output")
            if outputs is None:
                return None
            return self.output_of_tensor(outputs)
        kc = self.local_class(ctor.func)
        if kc is not None and kc.kind == "model" and kc.bases_visible:
            call = kc.methods.get("call")
            if call is None:
                return None
            returns = [n for n in _iter(call) if isinstance(n, cst.Return)]
            if len(returns) != 1 or returns[0].value is None:
                return None
            return self.output_of_tensor(returns[0].value)
        return None

    def loss(self, compile_call: cst.Call) -> Optional[Loss]:
        expr = arg_value(compile_call, 1, "loss")
        value = self.value_of(expr) if isinstance(expr, cst.Name) else expr
        if value is None:
            return None
        s = literal_str(value)
        if s is not None:
            name = LOSS_ALIASES.get(s.lower())
            return Loss(name, False, value) if name else None
        if isinstance(value, cst.Call):
            k = self.keras_name(value.func)
            if k is None or not k.startswith("losses."):
                return None
            name = CROSS_ENTROPY_CLASSES.get(k[7:])
            if name is None:
                return None
            fl = arg_value(value, 0, "from_logits")
            if fl is None:
                from_logits = None if has_star_kwargs(value) else False
            else:
                from_logits = literal_bool(self.value_of(fl) if isinstance(fl, cst.Name) else fl)
            return Loss(name, from_logits, value)
        if isinstance(value, (cst.Name, cst.Attribute)):
            k = self.keras_name(value)
            if k is not None and k.startswith(("losses.", "metrics.")):
                name = LOSS_ALIASES.get(k.rpartition(".")[2])
                return Loss(name, False, value) if name else None
        return None

    def compile_calls(self) -> Iterator[cst.Call]:
        for c in self.calls:
            if isinstance(c.func, cst.Attribute) and c.func.attr.value == "compile" and isinstance(c.func.value, cst.Name):
                yield c


# ----------------------------------------------------------------------------- helpers


def _body(block) -> list:
    if isinstance(block, cst.IndentedBlock):
        return list(block.body)
    if isinstance(block, cst.SimpleStatementSuite):
        return [block]
    return [block]


def _params(fn: cst.FunctionDef) -> list[cst.Name]:
    p = fn.params
    out = [x.name for x in (*p.posonly_params, *p.params, *p.kwonly_params)]
    if isinstance(p.star_arg, cst.Param):
        out.append(p.star_arg.name)
    if p.star_kwarg is not None:
        out.append(p.star_kwarg.name)
    return out


def positional_params(fn: cst.FunctionDef) -> list[cst.Param]:
    return [*fn.params.posonly_params, *fn.params.params]


def _iter(node: cst.CSTNode, into_functions: bool = True) -> Iterator[cst.CSTNode]:
    stack = children(node)
    while stack:
        n = stack.pop()
        yield n
        if not into_functions and isinstance(n, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        stack.extend(children(n))


def _attr_targets(t: cst.CSTNode, me: str) -> Iterator[cst.Attribute]:
    if isinstance(t, cst.Attribute) and isinstance(t.value, cst.Name) and t.value.value == me:
        yield t
    elif isinstance(t, (cst.Tuple, cst.List)):
        for el in t.elements:
            yield from _attr_targets(el.value, me)
    elif isinstance(t, cst.StarredElement):
        yield from _attr_targets(t.value, me)


def _names_bound_anywhere(node: cst.CSTNode) -> set[str]:
    out = set()
    for n in _iter(node):
        if isinstance(n, cst.AssignTarget) and isinstance(n.target, cst.Name):
            out.add(n.target.value)
        elif isinstance(n, cst.MatchAs) and n.name is not None:
            out.add(n.name.value)
    return out


def _own_nodes(stmt: cst.CSTNode) -> list[cst.CSTNode]:
    """The nodes of a statement itself: a compound statement's header, not its blocks."""
    if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite, cst.BaseSmallStatement)):
        return [stmt, *_iter(stmt)]
    heads: list[cst.CSTNode] = []
    if isinstance(stmt, (cst.If, cst.While)):
        heads = [stmt.test]
    elif isinstance(stmt, cst.For):
        heads = [stmt.target, stmt.iter]
    elif isinstance(stmt, cst.With):
        heads = list(stmt.items)
    elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
        heads = [stmt]  # a nested def may capture the name: counted as a use
    elif not isinstance(stmt, cst.Try):
        heads = [stmt]  # match and others: everything in it counts
    out: list[cst.CSTNode] = []
    for h in heads:
        out.extend([h, *_iter(h)])
    return out


def _name_uses(stmt: cst.CSTNode, name: str) -> Iterator[Optional[tuple[str, cst.Call]]]:
    """Each use of `name` in a statement: (method, call) for `name.add(...)` & co, None for any other."""
    readers = total = 0
    for n in _own_nodes(stmt):
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and isinstance(n.func.value, cst.Name) \
                and n.func.value.value == name and n.func.attr.value in MODEL_READERS:
            readers += 1
            yield n.func.attr.value, n
        elif isinstance(n, cst.Name) and n.value == name:
            total += 1
    if total > readers:
        yield None


# ----------------------------------------------------------------------------- call() reads

# What makes LibCST's scope analysis of a function the only way to tell (rare in `call()`).
_UNSURE_NODES = frozenset({cst.Import, cst.ImportFrom, cst.Global, cst.Nonlocal, cst.Match, cst.NamedExpr,
                           cst.Del, cst.TypeAlias, cst.TypeParameters})
# Scopes of their own inside a function: what they bind is not the function's.
_SCOPE_KINDS = frozenset({cst.FunctionDef, cst.ClassDef, cst.Lambda, cst.ListComp, cst.SetComp,
                          cst.DictComp, cst.GeneratorExp})
_TARGET_PARTS = frozenset({cst.Element, cst.StarredElement, cst.Tuple, cst.List})
# (parent type, field): a Name there is read (ExpressionContext LOAD), wherever the parent is.
_READ_FIELDS = {
    cst.Call: ("func",), cst.Arg: ("value",), cst.Attribute: ("value",), cst.Subscript: ("value",),
    cst.Index: ("value",), cst.BinaryOperation: ("left", "right"), cst.UnaryOperation: ("expression",),
    cst.BooleanOperation: ("left", "right"), cst.Comparison: ("left",), cst.ComparisonTarget: ("comparator",),
    cst.Return: ("value",), cst.Expr: ("value",), cst.Assign: ("value",), cst.AugAssign: ("value",),
    cst.AnnAssign: ("value",), cst.IfExp: ("test", "body", "orelse"), cst.Await: ("expression",),
    cst.If: ("test",), cst.While: ("test",), cst.For: ("iter",), cst.WithItem: ("item",),
    cst.DictElement: ("key", "value"), cst.Assert: ("test", "msg"), cst.Raise: ("exc", "cause"),
    cst.Slice: ("lower", "upper", "step"), cst.FormattedStringExpression: ("expression",),
}


@dataclass(frozen=True)
class CallReads:
    """What a function's names say without LibCST's scope analysis (`Facts.call_reads`)."""

    maybe_unbound: bool  # some name may be read before the function assigns it
    reads: frozenset  # names certainly read in the function's own scope (not nested ones)


def call_reads(fn: cst.FunctionDef) -> Optional[CallReads]:
    """Names of `fn` read before any assignment to them, told from the names alone; None when
    that takes LibCST's scope analysis (imports, global, walrus, del, match in the function).

    `maybe_unbound` is False only when every read, in `fn`'s own scope, of a name `fn` assigns
    comes after where one of its assignments takes effect (source order, as KM501 counts it):
    then the scope analysis finds nothing read before assignment. The bodies of nested defs,
    lambdas, classes and comprehensions are their own scopes: what they read and bind is not
    `fn`'s (their decorators, defaults, bases and first iterable are).
    """
    parent: dict = {}
    start: dict = {}
    end: dict = {}
    names: list = []  # (Name, nested)
    i = 0
    stack: list = [(fn.body, False)]
    while stack:
        item = stack.pop()
        if len(item) == 1:
            end[item[0]] = i
            continue
        n, nested = item
        kind = type(n)
        if kind in _UNSURE_NODES:
            return None
        start[n] = i
        i += 1
        stack.append((n,))
        if kind is cst.Name:
            names.append((n, nested))
            continue
        kids = code_children(n)
        if nested or kind not in _SCOPE_KINDS and kind is not cst.CompFor:
            for k in reversed(kids):
                parent[k] = n
                stack.append((k, nested))
            continue
        # A scope of its own (or a comprehension's `for`): which children are evaluated in it.
        if kind is cst.CompFor:
            own = {id(n.iter)} if type(parent.get(n)) in _COMPREHENSIONS else set()
        elif kind in _COMPREHENSIONS:
            own = {id(n.for_in)}
        else:  # def, lambda, class: everything but the body (decorators, defaults, bases...)
            own = {id(k) for k in kids if k is not n.body}
        for k in reversed(kids):
            parent[k] = n
            stack.append((k, id(k) not in own))
    params = set(_param_names(fn))
    bound: dict[str, int] = {}  # name -> where its first assignment in fn's own scope takes effect
    unsure: set[str] = set()
    reads: list = []  # (name, start)
    certain: set[str] = set()
    for n, nested in names:
        p = parent[n]
        pk = type(p)
        if (pk is cst.Attribute and p.attr is n) or (pk is cst.Arg and p.keyword is n):
            continue  # not a name of the scope
        if pk is cst.Param and p.name is n:
            continue  # a parameter of a nested def or lambda: its own scope
        if nested:
            continue  # read or bound in a nested scope: not an access of fn's scope
        if pk in (cst.FunctionDef, cst.ClassDef) and p.name is n:
            # bound where the statement holding the def starts (KM501's _bound_at)
            up = parent.get(p)
            while up is not None and type(up) not in _STATEMENT_LIKE:
                up = parent.get(up)
            effect = start[up] if up is not None else -1
            if effect < bound.get(n.value, effect + 1):
                bound[n.value] = effect
            continue
        child, q = n, p
        while type(q) in _TARGET_PARTS:
            child, q = q, parent[q]
        qk = type(q)
        effect = None
        if qk is cst.AssignTarget:
            effect = end[parent[q]]
        elif (qk is cst.AugAssign or qk is cst.AnnAssign) and q.target is child:
            effect = end[q]
            if qk is cst.AugAssign:
                reads.append((n.value, start[n]))  # `x += 1` reads x too
        elif qk is cst.For and q.target is child:
            effect = end[q.iter]
        elif qk is cst.AsName:
            holder = parent[q]
            if type(holder) is cst.WithItem:
                effect = end[holder]
            elif type(holder) is cst.ExceptHandler:
                effect = start[holder]
            else:
                unsure.add(n.value)
                continue
        if effect is not None:
            if effect < bound.get(n.value, effect + 1):
                bound[n.value] = effect
            continue
        reads.append((n.value, start[n]))
        if any(getattr(p, f) is n for f in _READ_FIELDS.get(pk, ())):
            certain.add(n.value)
    maybe = False
    for name, at in reads:
        if name in params:
            continue
        if name in unsure or at < bound.get(name, -2):
            maybe = True
            break
    return CallReads(maybe, frozenset(certain))


_COMPREHENSIONS = frozenset({cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp})
# Where KM501's _bound_at stops going up from a def: the statement (or handler, def) holding it.
_STATEMENT_LIKE = concrete_types(cst.BaseSmallStatement, cst.BaseCompoundStatement, cst.ExceptHandler,
                                 cst.FunctionDef, cst.ClassDef, cst.Param)


def _param_names(fn: cst.FunctionDef) -> list[str]:
    p = fn.params
    out = [x.name.value for x in (*p.posonly_params, *p.params, *p.kwonly_params)]
    for star in (p.star_arg, p.star_kwarg):
        if isinstance(star, cst.Param):
            out.append(star.name.value)
    return out


def small_statements(block: cst.CSTNode) -> Iterator[cst.BaseSmallStatement]:
    """Every small statement (assignment, expression, return...) in a block and in the blocks
    inside it, nested defs and classes included, without reading any expression: the
    statements `nodes_of(block)` meets, in the order it meets them."""
    stack = [block]
    while stack:
        n = stack.pop()
        kind = type(n)
        if kind is cst.SimpleStatementLine or kind is cst.SimpleStatementSuite:
            yield from reversed(n.body)
        elif kind in _STATEMENT_HOLDERS:
            stack.extend(code_children(n))


# What a statement can be inside: compound statements and their blocks.
_STATEMENT_HOLDERS = concrete_types(cst.BaseCompoundStatement, cst.IndentedBlock, cst.Else, cst.ExceptHandler,
                                    cst.ExceptStarHandler, cst.Finally, cst.MatchCase)


def nodes_of(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """`node` and every code node under it, in no particular order (for any()/all() scans)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(code_children(n))


class FactsRule:
    """Mixin for the lint rules: run `check(facts)` once per module (in visit_Module)."""

    @classmethod
    def wants(cls, context) -> bool:
        # Keras code only (the triggers then say which of it): saves LibCST metadata elsewhere
        return not getattr(cls, "opt_in", False) and "keras" in context.text

    def visit_Module(self, node: cst.Module) -> None:
        self.check(Facts.of(self))

    def check(self, facts: Facts) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


def without_arg(call: cst.Call, arg: cst.Arg) -> cst.Call:
    """`call` with one argument removed, commas kept tidy."""
    args = [a for a in call.args if a is not arg]
    if args and arg is call.args[-1]:
        args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return call.with_changes(args=args)
