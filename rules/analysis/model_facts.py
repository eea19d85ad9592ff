"""Static facts about Keras models in one file, shared by the KM508..KM513 lint rules.

Nothing here guesses: a fact is known only when the file shows it. A name counts as bound to a
value only when the scope assigns it exactly once (`d = Dense(8)`; function parameters, loop
targets, imports, `global` and unpacking make it unknown). `self.x` in a method of a class counts
when the class assigns `self.x` exactly once (usually in `__init__`).

`ModuleFacts.of(rule)` builds the facts once per parsed module (all rules of one pass share it).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Optional

import libcst as cst
from libcst.metadata import ScopeProvider

from kmigrate.names import NameResolver
from kmigrate.walk import children, code_children, concrete_types

from kmigrate.rules.analysis.keras_facts import ModuleIndex, shared, small_statements

# ----------------------------------------------------------------------------- layer tables

RECURRENT = frozenset({
    "LSTM", "GRU", "SimpleRNN", "RNN", "CuDNNLSTM", "CuDNNGRU", "ConvLSTM1D", "ConvLSTM2D",
    "ConvLSTM3D",
})
# Layers whose output has the rank of their input (they keep a 2-D tensor 2-D).
RANK_PRESERVING = frozenset({
    "Dropout", "GaussianNoise", "GaussianDropout", "AlphaDropout", "BatchNormalization",
    "LayerNormalization", "UnitNormalization", "Activation", "ActivityRegularization", "LeakyReLU",
    "PReLU", "ELU", "ReLU", "Softmax", "ThresholdedReLU",
})
# Layers that own trainable weights: adding one instance twice shares them.
WEIGHTED = frozenset({
    "Dense", "EinsumDense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose",
    "Conv3DTranspose", "Convolution1D", "Convolution2D", "Convolution3D", "Deconvolution2D",
    "Convolution2DTranspose", "SeparableConv1D", "SeparableConv2D", "SeparableConvolution2D",
    "DepthwiseConv1D", "DepthwiseConv2D", "LocallyConnected1D", "LocallyConnected2D", "Embedding",
    "LSTM", "GRU", "SimpleRNN", "CuDNNLSTM", "CuDNNGRU", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D",
    "Bidirectional", "BatchNormalization", "LayerNormalization", "GroupNormalization", "PReLU",
    "MultiHeadAttention",
})
MODEL_CLASSES = {"Sequential": "Sequential", "models.Sequential": "Sequential",
                 "Model": "Model", "models.Model": "Model"}
# Functions that return a new, uncompiled model.
UNCOMPILED_MODEL_FUNCTIONS = frozenset({
    "models.clone_model", "models.model_from_json", "models.model_from_yaml",
    "models.model_from_config",
})
FIT_METHODS = frozenset({"fit", "evaluate", "fit_generator", "evaluate_generator", "train_on_batch",
                         "test_on_batch"})

SCOPE_NODES = (cst.FunctionDef, cst.ClassDef, cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp,
               cst.GeneratorExp)
LOOP_NODES = (cst.For, cst.While)


def walk(node: cst.CSTNode, *, into_scopes: bool = False) -> Iterator[cst.CSTNode]:
    """Every node below `node` in source order (whitespace and comments skipped); nested scopes
    are yielded but not entered."""
    stack = code_children(node)
    stack.reverse()
    while stack:
        n = stack.pop()
        yield n
        if into_scopes or type(n) not in _SCOPE_TYPES:
            kids = code_children(n)
            kids.reverse()
            stack.extend(kids)


_SCOPE_TYPES = frozenset(SCOPE_NODES)
# What a def or a class can be inside: statements and their blocks (not simple statement lines).
_DEF_HOLDERS = concrete_types(cst.BaseCompoundStatement, cst.IndentedBlock, cst.Else, cst.ExceptHandler,
                              cst.ExceptStarHandler, cst.Finally, cst.MatchCase)


# ----------------------------------------------------------------------------- call arguments

def positional(call: cst.Call) -> list[cst.Arg]:
    out = []
    for a in call.args:
        if a.keyword is not None or a.star:
            break
        out.append(a)
    return out


def has_star(call: cst.Call) -> bool:
    return any(a.star for a in call.args)


def keyword(call: cst.Call, name: str) -> Optional[cst.Arg]:
    for a in call.args:
        if a.keyword is not None and a.keyword.value == name:
            return a
    return None


def argument(call: cst.Call, index: int, name: str) -> Optional[cst.BaseExpression]:
    """The expression passed as keyword `name` or as positional `index` (None if absent)."""
    kw = keyword(call, name)
    if kw is not None:
        return kw.value
    pos = positional(call)
    if index < len(pos):
        return pos[index].value
    return None


def literal_bool(expr: Optional[cst.BaseExpression]) -> Optional[bool]:
    if isinstance(expr, cst.Name) and expr.value in ("True", "False"):
        return expr.value == "True"
    return None


def literal_string(expr: Optional[cst.BaseExpression]) -> Optional[str]:
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    return None


def with_keyword(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    """`call` with keyword `name=value` set (replaced if present, appended otherwise)."""
    args = list(call.args)
    for i, a in enumerate(args):
        if a.keyword is not None and a.keyword.value == name:
            args[i] = a.with_changes(value=value)
            return call.with_changes(args=args)
    new = cst.Arg(value=value, keyword=cst.Name(name),
                  equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                        whitespace_after=cst.SimpleWhitespace("")))
    if args:
        last = args[-1]
        if isinstance(last.comma, cst.Comma):  # trailing comma: keep it after the new argument
            new = new.with_changes(comma=last.comma)
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    args.append(new)
    return call.with_changes(args=args)


# ----------------------------------------------------------------------------- layers

@dataclass(frozen=True)
class LayerCtor:
    """A visible Keras layer constructor call, e.g. `layers.LSTM(64)` -> kind "LSTM"."""

    call: cst.Call
    kind: str
    inner: Optional["LayerCtor"] = None  # the wrapped layer of Bidirectional / TimeDistributed

    @property
    def core(self) -> "LayerCtor":
        """The layer that decides the output (the wrapped one for Bidirectional)."""
        return self.inner if self.kind == "Bidirectional" and self.inner else self

    @property
    def recurrent(self) -> bool:
        return self.kind in RECURRENT or (self.kind == "Bidirectional" and self.inner is not None
                                          and self.inner.kind in RECURRENT)

    def returns_sequences(self) -> Optional[bool]:
        """True/False when the file shows it; None when unknown (non-literal, **kwargs, states)."""
        core = self.core
        if core.kind not in RECURRENT:
            return None
        call = core.call
        if has_star(call):
            return None
        state = keyword(call, "return_state")
        if state is not None and literal_bool(state.value) is not False:
            return None  # the output is a list [output, *states]
        rs = keyword(call, "return_sequences")
        if rs is not None:
            return literal_bool(rs.value)
        pos = positional(call)
        if core.kind == "RNN":  # RNN(cell, return_sequences=False, ...)
            return literal_bool(pos[1].value) if len(pos) > 1 else False
        # LSTM(units, activation, recurrent_activation, ...): past two positionals, be strict
        return None if len(pos) > 2 else False


class ClassFacts:
    """A class of the file: is it a Keras Model/Layer subclass, what `self.x` it binds.

    `index`: the module's ModuleIndex; then only the statements of the methods are read (an
    assignment is a statement) and `self.compile(...)` is looked for among the module's calls.
    """

    def __init__(self, node: cst.ClassDef, index: Optional[ModuleIndex] = None):
        self.node = node
        self.name = node.name.value
        self.kind: Optional[str] = None  # "model" | "layer" | None
        self.methods: dict[str, cst.FunctionDef] = {}
        self.attrs: dict[str, Optional[cst.BaseExpression]] = {}
        self.calls_self_compile = False
        self.base_names: list[str] = []
        for stmt in _block_statements(node.body):
            if isinstance(stmt, cst.FunctionDef):
                self.methods[stmt.name.value] = stmt
        for method in self.methods.values():
            me = _first_param(method)
            if me is None:
                continue
            if index is not None:
                self._method_statements(method, me, index)
                continue
            for n in walk(method.body, into_scopes=True):
                if isinstance(n, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
                    targets = ([t.target for t in n.targets] if isinstance(n, cst.Assign) else [n.target])
                    for t in targets:
                        for a in _self_attr_targets(t, me):
                            value = n.value if (isinstance(n, (cst.Assign, cst.AnnAssign))
                                                and t is a) else None
                            self.attrs[a.attr.value] = value if a.attr.value not in self.attrs else None
                elif (isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute)
                      and n.func.attr.value == "compile" and isinstance(n.func.value, cst.Name)
                      and n.func.value.value == me):
                    self.calls_self_compile = True

    def _method_statements(self, method: cst.FunctionDef, me: str, index: ModuleIndex) -> None:
        """What the walk above finds, from the method's statements and the module's calls."""
        for n in small_statements(method.body):
            kind = type(n)
            if kind is cst.Assign or kind is cst.AnnAssign or kind is cst.AugAssign:
                targets = [t.target for t in n.targets] if kind is cst.Assign else [n.target]
                for t in targets:
                    for a in _self_attr_targets(t, me):
                        value = n.value if kind is not cst.AugAssign and t is a else None
                        self.attrs[a.attr.value] = value if a.attr.value not in self.attrs else None
        if not self.calls_self_compile:
            body, parent = method.body, index.parent
            for c in index.calls:
                f = c.func
                if type(f) is cst.Attribute and f.attr.value == "compile" and type(f.value) is cst.Name \
                        and f.value.value == me:
                    up = parent.get(c)
                    while up is not None and up is not body:
                        up = parent.get(up)
                    if up is body:
                        self.calls_self_compile = True
                        break


def _self_attr_targets(target: cst.BaseExpression, me: str) -> list[cst.Attribute]:
    if isinstance(target, cst.Attribute):
        return [target] if isinstance(target.value, cst.Name) and target.value.value == me else []
    if isinstance(target, (cst.Tuple, cst.List)):
        out = []
        for el in target.elements:
            out.extend(_self_attr_targets(el.value, me))
        return out
    if isinstance(target, cst.StarredElement):
        return _self_attr_targets(target.value, me)
    return []


def _first_param(fn: cst.FunctionDef) -> Optional[str]:
    params = [*fn.params.posonly_params, *fn.params.params]
    return params[0].name.value if params else None


def _block_statements(body: cst.BaseSuite):
    return list(body.body)


# ----------------------------------------------------------------------------- scopes

@dataclass
class Stmt:
    """One small statement (or compound header) of a scope, in source order."""

    node: cst.CSTNode
    index: int
    block: int  # which statement list it sits in (`with` bodies count as their parent's)
    loops: tuple  # enclosing For/While nodes inside this scope, outermost first


@dataclass
class Binding:
    name: str
    value: Optional[cst.BaseExpression]  # None: bound some other way (parameter, loop, import...)
    stmt: Optional[Stmt]


class ScopeFacts:
    """A module or function body: its statements and what each name is bound to."""

    def __init__(self, owner: cst.CSTNode, klass: Optional[ClassFacts] = None, walrus: bool = True):
        self.owner = owner
        self.klass = klass
        self._walrus = walrus  # False: the module has no `:=` (no statement is searched for one)
        self.me = _first_param(owner) if isinstance(owner, cst.FunctionDef) and klass else None
        self.stmts: list[Stmt] = []
        self.bindings: dict[str, list[Binding]] = {}
        self._blocks = 0
        self.stmt_of: dict[cst.CSTNode, Stmt] = {}
        if isinstance(owner, cst.FunctionDef):
            p = owner.params
            for param in [*p.posonly_params, *p.params, *p.kwonly_params]:
                self._bind(param.name.value, None, None)
            for star in (p.star_arg, p.star_kwarg):
                if isinstance(star, cst.Param):
                    self._bind(star.name.value, None, None)
            self._collect(owner.body, self._new_block(), ())
        else:
            self._collect(owner, self._new_block(), ())

    # -- building
    def _new_block(self) -> int:
        self._blocks += 1
        return self._blocks

    def _bind(self, name: str, value, stmt) -> None:
        self.bindings.setdefault(name, []).append(Binding(name, value, stmt))

    def _add(self, node, block, loops) -> Stmt:
        st = Stmt(node, len(self.stmts), block, loops)
        self.stmts.append(st)
        self.stmt_of[node] = st
        return st

    def _collect(self, body, block: int, loops: tuple) -> None:
        for stmt in getattr(body, "body", ()):
            if isinstance(stmt, cst.SimpleStatementLine) or isinstance(stmt, cst.BaseSmallStatement):
                smalls = stmt.body if isinstance(stmt, cst.SimpleStatementLine) else [stmt]
                for small in smalls:
                    self._small(small, block, loops)
            elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                st = self._add(stmt, block, loops)
                self._bind(stmt.name.value, None, st)
            elif isinstance(stmt, cst.If):
                self._add(stmt, block, loops)
                self._if(stmt, loops)
            elif isinstance(stmt, LOOP_NODES):
                st = self._add(stmt, block, loops)
                if isinstance(stmt, cst.For):
                    for name in _target_names(stmt.target):
                        self._bind(name, None, st)
                self._collect(stmt.body, self._new_block(), loops + (stmt,))
                if stmt.orelse is not None:
                    self._collect(stmt.orelse.body, self._new_block(), loops)
            elif isinstance(stmt, cst.With):
                st = self._add(stmt, block, loops)
                for item in stmt.items:
                    if item.asname is not None:
                        for name in _target_names(item.asname.name):
                            self._bind(name, None, st)
                self._collect(stmt.body, block, loops)  # straight-line code
            elif isinstance(stmt, (cst.Try, cst.TryStar)):
                self._add(stmt, block, loops)
                self._collect(stmt.body, self._new_block(), loops)
                for h in stmt.handlers:
                    if h.name is not None:
                        for name in _target_names(h.name.name):
                            self._bind(name, None, None)
                    self._collect(h.body, self._new_block(), loops)
                for extra in (stmt.orelse, stmt.finalbody):
                    if extra is not None:
                        self._collect(extra.body, self._new_block(), loops)
            elif isinstance(stmt, cst.Match):
                self._add(stmt, block, loops)
                for case in stmt.cases:
                    for n in walk(case.pattern, into_scopes=True):
                        if isinstance(n, cst.Name):
                            self._bind(n.value, None, None)
                    self._collect(case.body, self._new_block(), loops)
            else:  # unknown compound statement: bind every name it may assign
                st = self._add(stmt, block, loops)
                for n in walk(stmt, into_scopes=True):
                    if isinstance(n, cst.Name):
                        self._bind(n.value, None, st)

    def _if(self, stmt: cst.If, loops: tuple) -> None:
        self._collect(stmt.body, self._new_block(), loops)
        orelse = stmt.orelse
        if isinstance(orelse, cst.If):
            self._add(orelse, self._new_block(), loops)
            self._if(orelse, loops)
        elif orelse is not None:
            self._collect(orelse.body, self._new_block(), loops)

    def _small(self, small, block, loops) -> None:
        st = self._add(small, block, loops)
        if isinstance(small, cst.Assign):
            for t in small.targets:
                if isinstance(t.target, cst.Name):
                    self._bind(t.target.value, small.value, st)
                else:
                    for name in _target_names(t.target):
                        self._bind(name, None, st)
        elif isinstance(small, cst.AnnAssign):
            if isinstance(small.target, cst.Name):
                self._bind(small.target.value, small.value, st)
        elif isinstance(small, cst.AugAssign):
            for name in _target_names(small.target):
                self._bind(name, None, st)
        elif isinstance(small, (cst.Import, cst.ImportFrom)):
            names = small.names
            if isinstance(names, cst.ImportStar):
                return
            for alias in names:
                if alias.asname is not None:
                    for name in _target_names(alias.asname.name):
                        self._bind(name, None, st)
                else:
                    base = alias.name
                    while isinstance(base, cst.Attribute):
                        base = base.value
                    if isinstance(base, cst.Name):
                        self._bind(base.value, None, st)
        elif isinstance(small, (cst.Global, cst.Nonlocal)):
            for item in small.names:
                self._bind(item.name.value, None, st)
                self._bind(item.name.value, None, st)  # never "assigned once"
        elif isinstance(small, cst.Del):
            for name in _target_names(small.target):
                self._bind(name, None, st)
        if self._walrus:
            for n in walk(small):
                if isinstance(n, cst.NamedExpr) and isinstance(n.target, cst.Name):
                    self._bind(n.target.value, None, st)

    # -- queries
    def single(self, name: str) -> Optional[Binding]:
        """The one binding of `name` in this scope with a visible value, or None."""
        found = self.bindings.get(name)
        if found and len(found) == 1 and found[0].value is not None:
            return found[0]
        return None

    def value_of(self, expr: cst.BaseExpression) -> Optional[cst.BaseExpression]:
        """What a Name (bound once here) or `self.x` (bound once in the class) stands for."""
        if isinstance(expr, cst.Name):
            b = self.single(expr.value)
            return b.value if b else None
        if (isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and self.klass
                and self.me and expr.value.value == self.me):
            return self.klass.attrs.get(expr.attr.value)
        return None

    def own_nodes(self) -> Iterator[cst.CSTNode]:
        """Every node of this scope (nested functions/classes not entered)."""
        body = self.owner.body if isinstance(self.owner, cst.FunctionDef) else self.owner
        return walk(body)


def _target_names(target: cst.CSTNode) -> list[str]:
    return [n.value for n in walk_with_self(target) if isinstance(n, cst.Name)]


def walk_with_self(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    yield node
    yield from walk(node, into_scopes=True)


# ----------------------------------------------------------------------------- module

class ModuleFacts:
    """Facts for one parsed module, shared by every KM508..KM513 rule of the same pass."""

    @classmethod
    def of(cls, rule) -> "ModuleFacts":
        index = ModuleIndex.of(rule)
        return shared(rule, cls, lambda: cls(rule.module, NameResolver(rule), index))

    def __init__(self, module: cst.Module, resolver: NameResolver, index: Optional[ModuleIndex] = None):
        self.module = module
        self.resolver = resolver
        self.index = index if index is not None and index.module is module else None
        self.classes: dict[cst.ClassDef, ClassFacts] = {}
        self.class_by_name: dict[str, ClassFacts] = {}
        self.scopes: list[ScopeFacts] = []
        self.functions: dict[str, list[cst.FunctionDef]] = {}
        self._attribute_of: Optional[dict[int, cst.Attribute]] = None
        self._walk(module)
        self._classify()

    def _walk(self, module: cst.Module) -> None:
        # Module scope, then every function (with its class when it is a method). Only statements
        # and their blocks are entered: no expression holds a def or a class.
        walrus = self.index is None or self.index.named_exprs > 0
        self.scopes.append(ScopeFacts(module, walrus=walrus))
        stack: list[tuple[cst.CSTNode, Optional[ClassFacts]]] = [(module, None)]
        blocks = _DEF_HOLDERS
        while stack:
            node, klass = stack.pop()
            for child in children(node):
                if type(child) not in blocks:
                    continue
                if isinstance(child, cst.ClassDef):
                    facts = ClassFacts(child, self.index)
                    self.classes[child] = facts
                    # a class name defined twice is unknown (None)
                    self.class_by_name[facts.name] = None if facts.name in self.class_by_name else facts
                    stack.append((child, facts))
                elif isinstance(child, cst.FunctionDef):
                    is_method = klass is not None and child in klass.methods.values()
                    self.scopes.append(ScopeFacts(child, klass if is_method else None, walrus))
                    self.functions.setdefault(child.name.value, []).append(child)
                    stack.append((child, None))
                else:
                    stack.append((child, klass))

    def _classify(self) -> None:
        for facts in self.classes.values():
            for base in facts.node.bases:
                if base.keyword is not None:
                    continue
                name = self.resolver.keras_name(base.value)
                if name in MODEL_CLASSES:
                    facts.kind = "model"
                elif name is not None and (name.startswith("layers.") or name.endswith("Layer")):
                    facts.kind = facts.kind or "layer"
                elif isinstance(base.value, cst.Name):
                    facts.base_names.append(base.value.value)
        changed = True
        while changed:
            changed = False
            for facts in self.classes.values():
                if facts.kind is None:
                    for b in facts.base_names:
                        parent = self.class_by_name.get(b)
                        if parent is not None and parent.kind:
                            facts.kind = parent.kind
                            changed = True
                            break

    def lineage(self, facts: ClassFacts) -> list[ClassFacts]:
        """The class and its same-file ancestors."""
        out, todo = [], [facts]
        while todo:
            f = todo.pop()
            if f is None or f in out:
                continue
            out.append(f)
            todo.extend(self.class_by_name.get(b) for b in f.base_names)
        return out

    # -- what an expression is
    def layer(self, expr: Optional[cst.BaseExpression], scope: Optional[ScopeFacts] = None) -> Optional[LayerCtor]:
        """The Keras layer constructor `expr` is, or names (through a once-bound name)."""
        if expr is None:
            return None
        if not isinstance(expr, cst.Call) and scope is not None:
            expr = scope.value_of(expr)
        if not isinstance(expr, cst.Call):
            return None
        name = self.resolver.keras_name(expr.func)
        if not name or not name.startswith("layers."):
            return None
        kind = name[len("layers."):]
        if not kind.isidentifier():
            return None
        inner = None
        if kind in ("Bidirectional", "TimeDistributed"):
            arg = argument(expr, 0, "layer")
            inner = self.layer(arg, scope) if arg is not None else None
        return LayerCtor(expr, kind, inner)

    def model_kind(self, call: cst.CSTNode) -> Optional[str]:
        """'Sequential' / 'Model' for a Keras model constructor, 'class' for a same-file subclass."""
        if not isinstance(call, cst.Call):
            return None
        name = self.resolver.keras_name(call.func)
        if name in MODEL_CLASSES:
            return MODEL_CLASSES[name]
        if isinstance(call.func, cst.Name):
            facts = self.class_by_name.get(call.func.value)
            if facts is not None and facts.kind == "model" and self._is_module_level(facts):
                return "class"
        return None

    def _is_module_level(self, facts: ClassFacts) -> bool:
        return any(s is facts.node for s in self.module.body)

    def keras_name(self, node: cst.CSTNode) -> Optional[str]:
        return self.resolver.keras_name(node)

    def references(self, rule, target: cst.Name, owner: cst.CSTNode) -> Optional[list[cst.Name]]:
        """Every read of the variable that `target` assigns in `owner` (a module or function;
        nested functions included), from LibCST's scope analysis; None when it cannot tell.
        In a function only that function is analysed (kmigrate.meta.function_scopes)."""
        try:
            if isinstance(owner, cst.FunctionDef):
                scope = rule.meta.function_scopes(owner).get(target)
            else:
                scope = rule.get_metadata(ScopeProvider, target, None)
        except KeyError:
            return None
        if scope is None:
            return None
        out = []
        for assignment in scope.assignments[target.value]:
            for access in getattr(assignment, "references", ()):
                if isinstance(access.node, cst.Name):
                    out.append(access.node)
                else:
                    return None
        return out

    def attribute_of(self, name: cst.Name) -> Optional[cst.Attribute]:
        """The `name.attr` node whose object is `name`, if any."""
        if self._attribute_of is None:
            self._attribute_of = {id(n.value): n for n in walk(self.module, into_scopes=True)
                                  if isinstance(n, cst.Attribute) and isinstance(n.value, cst.Name)}
        return self._attribute_of.get(id(name))


# ----------------------------------------------------------------------------- Sequential

@dataclass
class Element:
    """One layer placed in a Sequential model: a list element or the argument of `.add()`."""

    expr: cst.BaseExpression
    stmt: Stmt
    via_add: bool
    call: Optional[cst.Call] = None  # the `.add(...)` call


@dataclass
class Chain:
    ctor: cst.Call
    stmt: Stmt
    name: Optional[str]
    elements: list[Element] = field(default_factory=list)
    # statement indexes where the model name is used other than by `.add()`
    other_uses: list[int] = field(default_factory=list)


def sequential_chains(facts: ModuleFacts, scope: ScopeFacts) -> list[Chain]:
    """Every Sequential model of the scope with the layers the file visibly puts in it (computed
    once per scope: three rules read them; not to be changed by a reader)."""
    memo = facts.__dict__.setdefault("_chains", {})
    chains = memo.get(scope)
    if chains is None:
        chains = memo[scope] = _sequential_chains(facts, scope) if _has_sequential(facts) else []
    return chains


def _has_sequential(facts: ModuleFacts) -> bool:
    """Whether any call of the module builds a Sequential model (the module index's calls, once)."""
    found = facts.__dict__.get("_has_sequential")
    if found is None:
        index = facts.index
        found = facts._has_sequential = index is None or any(
            facts.model_kind(call) == "Sequential" for call in index.calls)
    return found


def _sequential_chains(facts: ModuleFacts, scope: ScopeFacts) -> list[Chain]:
    chains: list[Chain] = []
    by_name: dict[str, list[Chain]] = {}
    for st in scope.stmts:
        if isinstance(st.node, (cst.FunctionDef, cst.ClassDef)):
            continue
        nodes = [st.node] if isinstance(st.node, cst.BaseSmallStatement) else _header_nodes(st.node)
        for root in nodes:
            for n in (walk_with_self(root)):
                if isinstance(n, cst.Call) and facts.model_kind(n) == "Sequential":
                    name = None
                    if (isinstance(st.node, cst.Assign) and st.node.value is n and len(st.node.targets) == 1
                            and isinstance(st.node.targets[0].target, cst.Name)):
                        name = st.node.targets[0].target.value
                    chain = Chain(n, st, name)
                    first = argument(n, 0, "layers")
                    if isinstance(first, (cst.List, cst.Tuple)):
                        for el in first.elements:
                            if isinstance(el, cst.StarredElement):
                                chain.elements.append(Element(el, st, False))  # unknown layers
                            else:
                                chain.elements.append(Element(el.value, st, False))
                    chains.append(chain)
                    if name is not None:
                        by_name.setdefault(name, []).append(chain)
    # `.add()` calls go to the latest preceding Sequential bound to the name, when every
    # binding of the name in this scope is a Sequential constructor.
    for name, named in by_name.items():
        bindings = scope.bindings.get(name, [])
        if len(bindings) != len(named):
            continue
        for st in scope.stmts:
            node = st.node
            add = _add_call(node, name)
            owner = max((c for c in named if c.stmt.index < st.index), key=lambda c: c.stmt.index,
                        default=None)
            if owner is None:
                continue
            if add is not None:
                arg = argument(add, 0, "layer")
                if arg is not None:
                    owner.elements.append(Element(arg, st, True, add))
                continue
            if owner.stmt is st:
                continue
            if _mentions(node, name):
                owner.other_uses.append(st.index)
    return chains


def _header_nodes(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The expressions of a compound statement's header (its test, iterable, items)."""
    if isinstance(node, (cst.If, cst.While)):
        return [node.test]
    if isinstance(node, cst.For):
        return [node.iter]
    if isinstance(node, cst.With):
        return [item.item for item in node.items]
    return []


def _add_call(node: cst.CSTNode, name: str) -> Optional[cst.Call]:
    if isinstance(node, cst.Expr) and isinstance(node.value, cst.Call):
        call = node.value
        f = call.func
        if (isinstance(f, cst.Attribute) and f.attr.value == "add" and isinstance(f.value, cst.Name)
                and f.value.value == name):
            return call
    return None


def _mentions(node: cst.CSTNode, name: str) -> bool:
    roots = [node] if isinstance(node, cst.BaseSmallStatement) else _header_nodes(node)
    for root in roots:
        for n in walk_with_self(root):
            if isinstance(n, cst.Name) and n.value == name:
                return True
    return False


def is_clear_call(node: cst.CSTNode) -> bool:
    """`clear_session()` in any spelling, or TF1's `reset_default_graph()`."""
    if not isinstance(node, cst.Call):
        return False
    f = node.func
    name = f.attr.value if isinstance(f, cst.Attribute) else f.value if isinstance(f, cst.Name) else None
    return name in ("clear_session", "reset_default_graph")


def line_of(rule, node: cst.CSTNode) -> int:
    from libcst.metadata import PositionProvider

    try:
        return rule.get_metadata(PositionProvider, node).start.line
    except KeyError:
        return 0
