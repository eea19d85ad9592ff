"""A small abstract interpreter of Keras programs: the shapes of data and models (KM520..KM525).

It runs over a module's statements in order (and over each function, with its parameters
unknown, or with the argument values of a visible call), keeping for each name what the file
shows it holds: a constant, a numpy `Array` (rules/analysis/data_shapes.py), a layer, a
symbolic tensor with its shape, a model (Sequential, functional or a subclass of the file)
with its loss. Layer shapes come from rules/analysis/shapes.py. Branches and loops make what
they assign unknown; a model changed in a branch or a loop loses its layers; a value from a
parameter, another module or an unknown call is unknown. A rule fires only on a contradiction
between known facts; nothing here raises on any input (an internal error leaves the module
without findings).

`ShapeProgram.of(rule)` analyses a module once and shares the issues between the rules.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from math import prod
from typing import Any, Optional

import libcst as cst

from kmigrate.names import NameResolver, canonical_keras, keras_module
from kmigrate.rule import ImportEdit
from kmigrate.walk import code_children

from .data_shapes import DATASETS, Array, dims, expand, eye_index, one_hot, reshape, slice_length
from .shapes import MERGE as _ELEMENTWISE
from .shapes import NEUTRAL_KEYWORDS, SAME_SHAPE, SIGNATURES, UNK, canonical, fmt, infer
from kmigrate.rules.tables.keras2_api import SEQUENCE_INPUT_DIM

_SEQUENCE = frozenset(k.rpartition(".")[2] for k in SEQUENCE_INPUT_DIM)
_RECURRENT = ("LSTM", "GRU", "SimpleRNN", "CuDNNLSTM", "CuDNNGRU", "Bidirectional")

SHAPE_KEYWORDS = frozenset({"return_sequences", "return_state", "keepdims", "merge_mode"})
SCALING_LAYERS = frozenset({"Rescaling", "Normalization", "BatchNormalization", "LayerNormalization",
                            "Lambda", "CenterCrop", "Resizing"})
CE_LOSSES = {
    "categorical_crossentropy": "categorical_crossentropy",
    "sparse_categorical_crossentropy": "sparse_categorical_crossentropy",
    "binary_crossentropy": "binary_crossentropy",
    "CategoricalCrossentropy": "categorical_crossentropy",
    "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
    "BinaryCrossentropy": "binary_crossentropy",
}
MAX_CALL_DEPTH = 3
WIDTH_KEYS = ("units", "filters", "output_dim")  # the config that decides a layer's last axis


# ----------------------------------------------------------------------------- values

@dataclass(frozen=True)
class Const:
    value: Any  # int, float, str, bool, None, or a tuple of those (UNK inside: not known)


@dataclass
class Seq:
    """A tuple/list with some non-constant items (layers, arrays, tensors)."""

    items: list
    node: cst.CSTNode


@dataclass
class LayerV:
    kind: str
    cfg: Optional[dict]  # None: the layer's shape behaviour is not known
    node: cst.Call
    declared: Optional[tuple] = None  # input shape given on the layer (batch axis included)


@dataclass
class TensorV:
    shape: Optional[tuple]
    last: Optional[int]  # the last axis, when known even without the shape (Dense units)
    node: cst.CSTNode  # the call that made it
    kind: str = ""  # the layer that made it ("Input", "Dense", ...)
    last_node: Optional[cst.CSTNode] = None  # where the last axis was decided
    origin: Optional[str] = None  # "input": straight from Input/input_shape; "data": the fit data
    data: Optional[Array] = None
    scaled: Optional[bool] = False  # a rescaling layer on the path (None: unknown)
    rank_cause: Optional["LayerV"] = None  # the layer that took the rank down to this one (Flatten, LSTM...)
    wide_dense: Optional["LayerV"] = None  # the first Dense on this path applied to more than 2 axes
    path: tuple = ()  # (layer, input shape, output shape) of the single-input layers that led here
    last_layer: Optional["LayerV"] = None  # the layer that decided the last axis (`last_node`'s)
    merged: Optional[tuple] = None  # (merge layer, its input tensors) for the output of an `Add`/`Multiply`...


@dataclass
class ModelV:
    kind: str  # "seq" | "func" | "class"
    node: cst.Call
    frame: Any
    depth: int
    layers: list = field(default_factory=list)  # seq: [(value, node)]
    certain: bool = True
    inputs: Optional[TensorV] = None  # func
    outputs: Optional[TensorV] = None
    klass: Optional["ClassV"] = None
    attrs: Optional[dict] = None  # class: self.x bound in __init__
    loss: Optional[tuple] = None  # (name, node, literal)
    loss_node: Optional[cst.CSTNode] = None
    built: Optional[tuple] = None  # seq: the shape given to `model.build(...)`


@dataclass
class FuncV:
    fn: cst.FunctionDef


@dataclass
class ClassV:
    node: cst.ClassDef
    methods: dict


@dataclass
class SelfV:
    attrs: dict


@dataclass
class Flow:
    declared: Optional[tuple]  # the model's input shape (batch included) as the code declares it
    declared_node: Optional[cst.CSTNode]
    first_kind: str
    out: Optional[TensorV]


@dataclass
class Issue:
    code: str
    node: cst.CSTNode
    message: str
    replacement: Optional[cst.CSTNode] = None
    at: Optional[cst.CSTNode] = None  # where the finding points when the fix replaces another node
    imports: tuple = ()


class _Return(Exception):
    pass


# ----------------------------------------------------------------------------- frames

class Frame:
    def __init__(self, program: "ShapeProgram", parent: Optional["Frame"], standalone: bool = False):
        self.p = program
        self.parent = parent
        self.vars: dict[str, Any] = {}
        self.counts: dict[str, int] = {}
        self.depth = 0
        self.standalone = standalone
        self.returns: list = []
        self.local_names: set[str] = set()
        program.frames.append(self)

    def get(self, name: str):
        if name in self.vars:
            return self.vars[name]
        if self.parent is not None and name not in self.local_names:
            parent = self.parent
            if self.standalone and parent.counts.get(name, 0) != 1:
                return None
            return parent.get(name)
        return None

    def set(self, name: str, value) -> None:
        self.vars[name] = value
        self.counts[name] = self.counts.get(name, 0) + 1


_STATEMENT_PARTS = frozenset({
    cst.Module, cst.IndentedBlock, cst.SimpleStatementLine, cst.SimpleStatementSuite, cst.If, cst.Else,
    cst.For, cst.While, cst.With, cst.Try, cst.TryStar, cst.ExceptHandler, cst.ExceptStarHandler,
    cst.Finally, cst.Match, cst.MatchCase,
})
_DEFS = frozenset({cst.FunctionDef, cst.ClassDef})


def _target_names(target: cst.CSTNode, out: set) -> None:
    t = type(target)
    if t is cst.Name:
        out.add(target.value)
    elif t in (cst.Tuple, cst.List):
        for el in target.elements:
            _target_names(el.value, out)
    elif t is cst.StarredElement:
        _target_names(target.value, out)


def _assigned_names(node: cst.CSTNode, walrus: bool = True) -> set[str]:
    """Names the statements of a block may bind (nested functions and classes not entered, only
    their names; comprehension variables do not leak). Only statements are walked; expressions
    are searched for `:=` only when `walrus`."""
    out: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        t = type(n)
        if t is cst.Assign:
            for tg in n.targets:
                _target_names(tg.target, out)
        elif t is cst.AugAssign or t is cst.AnnAssign or t is cst.Del:
            _target_names(n.target, out)
        elif t is cst.For:
            _target_names(n.target, out)
        elif t is cst.With:
            for item in n.items:
                if item.asname is not None:
                    _target_names(item.asname.name, out)
        elif (t is cst.ExceptHandler or t is cst.ExceptStarHandler) and n.name is not None:
            _target_names(n.name.name, out)
        elif t is cst.AsName:
            _target_names(n.name, out)
        elif t in _DEFS:
            out.add(n.name.value)
            continue
        elif (t is cst.Import or t is cst.ImportFrom) and not isinstance(n.names, cst.ImportStar):
            for a in n.names:
                nm = a.asname.name if a.asname else a.name
                while type(nm) is cst.Attribute:
                    nm = nm.value
                if type(nm) is cst.Name:
                    out.add(nm.value)
            continue
        elif t is cst.Global or t is cst.Nonlocal:
            out.update(a.name.value for a in n.names)
            continue
        elif t is cst.MatchCase:
            for m in _walk(n.pattern):
                if type(m) is cst.Name:
                    out.add(m.value)
        if t in _STATEMENT_PARTS:
            stack.extend(code_children(n))
    if walrus:
        for m in _walk(node):
            if type(m) is cst.NamedExpr:
                _target_names(m.target, out)
    return out


def _walk(node: cst.CSTNode):
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(code_children(n))


def _positional(call: cst.Call) -> Optional[list]:
    out = []
    for a in call.args:
        if a.star:
            return None
        if a.keyword is None:
            out.append(a)
    return out


def _keyword(call: cst.Call, *names: str) -> Optional[cst.Arg]:
    for a in call.args:
        if a.keyword is not None and a.keyword.value in names:
            return a
    return None


def _arg(call: cst.Call, index: Optional[int], *names: str) -> Optional[cst.BaseExpression]:
    kw = _keyword(call, *names)
    if kw is not None:
        return kw.value
    pos = _positional(call)
    if index is not None and pos is not None and index < len(pos):
        return pos[index].value
    return None


def _shape_value(v) -> Optional[tuple]:
    """A Const holding a shape tuple (UNK dims become None)."""
    if isinstance(v, Const):
        value = v.value
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return (value,)
        if isinstance(value, tuple) and all((isinstance(d, int) and not isinstance(d, bool)) or d is None or d is UNK
                                            for d in value):
            return tuple(None if d is UNK else d for d in value)
    return None


def _declared_shape(v) -> Optional[tuple]:
    """A shape as a declaration writes it: a constant tuple, or a tuple written out whose items are
    not all known (`(latent_size,)` in a builder function: one axis of unknown size)."""
    found = _shape_value(v)
    if found is not None:
        return found
    if isinstance(v, Seq) and isinstance(v.node, (cst.Tuple, cst.List)) and v.items and all(
            i is None or (_int(i) is not None) for i in v.items):
        return tuple(_int(i) for i in v.items)
    return None


def _int(v) -> Optional[int]:
    if isinstance(v, Const) and isinstance(v.value, int) and not isinstance(v.value, bool):
        return v.value
    return None


# ----------------------------------------------------------------------------- the program

_CACHE: list = [None, None]


class ShapeProgram:
    @classmethod
    def of(cls, rule) -> "ShapeProgram":
        if _CACHE[0] is rule.module:
            return _CACHE[1]
        from libcst.metadata import PositionProvider

        def line(node):
            try:
                return rule.get_metadata(PositionProvider, node).start.line
            except Exception:
                return 0

        program = cls(rule.module, NameResolver(rule), line)
        program.walrus = ":=" in rule.context.text
        program.target = getattr(rule.context, "target", None) or "keras"
        program.channels_first = any(w in rule.context.text for w in _LAYOUT_WORDS)
        try:
            program.run()
        except RecursionError:
            program.issues.clear()
        except Exception:  # never crash a run: an odd module just gets no shape findings
            program.issues.clear()
        program.release()
        _CACHE[0], _CACHE[1] = rule.module, program
        return program

    def __init__(self, module: cst.Module, resolver: NameResolver, line):
        self.module = module
        self.r = resolver
        self.line = line
        self.issues: dict[tuple, Issue] = {}
        self.target = "keras"  # the Keras a fix writes for (the rule's context knows)
        self.models: list[ModelV] = []
        self.frames: list[Frame] = []  # every frame the run made (release() unties them)
        self.call_stack: list = []
        self._return_counts: dict = {}
        self._local_names: dict = {}
        self._names_cache: dict = {}
        self.walrus = True  # whether `:=` may occur (the rule knows from the text)
        self.channels_first = True  # whether the file may set a channels-first layout (the rule knows)
        self.literals: dict[int, tuple] = {}  # id of a string/int constant -> (it, where it is written)
        self.sources: dict[int, dict] = {}  # id of a layer call -> {config key: (name, literal)} (`written`)
        self._kname: dict = {}
        self._qname: dict = {}

    def release(self) -> None:
        """Keep only the issues (all the rules read after the run). The frames and values refer to
        each other and to the program: dropped here, the tree and the rule are not kept alive
        until a garbage collection finds the cycles."""
        self.module = self.r = self.line = self.top = None
        self.models, self.call_stack = [], []
        for frame in self.frames:
            frame.p = frame.parent = None
            frame.vars.clear()
            frame.returns.clear()
        self.frames = []
        for memo in (self._return_counts, self._local_names, self._names_cache, self.literals, self.sources,
                     self._kname, self._qname):
            memo.clear()

    # ------------------------------------------------------------------ names

    def keras(self, node) -> Optional[str]:
        if node not in self._kname:
            try:
                self._kname[node] = self.r.keras_name(node)
            except Exception:
                self._kname[node] = None
        return self._kname[node]

    def qnames(self, node) -> set:
        if node not in self._qname:
            try:
                self._qname[node] = self.r.qualified_names(node)
            except Exception:
                self._qname[node] = set()
        return self._qname[node]

    def numpy(self, node) -> Optional[str]:
        for q in self.qnames(node):
            if q.startswith("numpy."):
                return q[6:]
        return None

    # ------------------------------------------------------------------ issues

    def issue(self, code: str, node: cst.CSTNode, message: str, replacement=None, at=None, imports=()) -> None:
        key = (code, id(at if at is not None else node))
        if key not in self.issues:
            self.issues[key] = Issue(code, node, message, replacement, at, tuple(imports))

    def for_code(self, code: str) -> list[Issue]:
        return [i for i in self.issues.values() if i.code == code]

    def at(self, node) -> str:
        n = self.line(node)
        return f"line {n}" if n else "?"

    # ------------------------------------------------------------------ run

    def run(self) -> None:
        top = Frame(self, None)
        self.top = top
        self.block(self.module.body, top)
        for model in list(self.models):
            if model.kind == "seq":
                self.flow(model, None)
        # every function on its own, its parameters unknown (builders never called here)
        for fn in _functions(self.module):
            self.run_function(fn, [], {}, standalone=True)

    def _returns(self, fn: cst.FunctionDef) -> int:
        if fn not in self._return_counts:
            self._return_counts[fn] = sum(1 for n in _statements(fn.body) if type(n) is cst.Return)
        return self._return_counts[fn]

    def assigned(self, node) -> set:
        found = self._names_cache.get(node)
        if found is None:
            found = self._names_cache[node] = _assigned_names(node, self.walrus)
        return found

    def _locals(self, fn: cst.FunctionDef) -> set:
        return self.assigned(fn.body)

    def run_function(self, fn: cst.FunctionDef, args: list, kwargs: dict, standalone: bool = False,
                     self_value=None):
        if fn in self.call_stack or len(self.call_stack) >= MAX_CALL_DEPTH:
            return None
        frame = Frame(self, self.top, standalone=standalone)
        frame.local_names = set(self._locals(fn))
        params = [*fn.params.posonly_params, *fn.params.params]
        for p in (*params, *fn.params.kwonly_params):
            frame.local_names.add(p.name.value)
        for star in (fn.params.star_arg, fn.params.star_kwarg):
            if isinstance(star, cst.Param):
                frame.local_names.add(star.name.value)
        values = list(args)
        if self_value is not None:
            values = [self_value] + values
        for i, p in enumerate(params):
            if i < len(values):
                frame.vars[p.name.value] = values[i]
            elif p.name.value in kwargs:
                frame.vars[p.name.value] = kwargs[p.name.value]
            elif p.default is not None and not standalone:
                frame.vars[p.name.value] = self.expr(p.default, self.top)
            else:
                frame.vars[p.name.value] = None
        for p in fn.params.kwonly_params:
            frame.vars[p.name.value] = kwargs.get(p.name.value) if not standalone else None
        self.call_stack.append(fn)
        try:
            self.block(fn.body.body if isinstance(fn.body, cst.IndentedBlock) else [fn.body], frame)
        except _Return:
            pass
        finally:
            self.call_stack.pop()
        if self._returns(fn) == 1 and len(frame.returns) == 1:
            return frame.returns[0]
        return None

    # ------------------------------------------------------------------ statements

    def block(self, stmts, frame: Frame) -> None:
        for s in stmts:
            self.stmt(s, frame)

    def stmt(self, s, frame: Frame) -> None:
        if isinstance(s, cst.SimpleStatementLine):
            for small in s.body:
                self.small(small, frame)
        elif isinstance(s, cst.SimpleStatementSuite):
            for small in s.body:
                self.small(small, frame)
        elif isinstance(s, cst.If):
            self.branches(frame, [s.body] + ([s.orelse] if s.orelse is not None else []), s.orelse is None)
        elif isinstance(s, (cst.For, cst.While)):
            names = self.assigned(s)
            for n in names:
                frame.set(n, None)
            if isinstance(s, cst.For):
                self.expr(s.iter, frame)
            frame.depth += 1
            try:
                self.block(_body(s.body), frame)
                if s.orelse is not None:
                    self.block(_body(s.orelse.body), frame)
            finally:
                frame.depth -= 1
            for n in names:
                frame.set(n, None)
        elif isinstance(s, cst.With):
            for item in s.items:
                self.expr(item.item, frame)
                if item.asname is not None:
                    for n in _assigned_names(item.asname):
                        frame.set(n, None)
            self.block(_body(s.body), frame)
        elif isinstance(s, cst.Try):
            self.block(_body(s.body), frame)
            others = list(s.handlers)
            if s.orelse is not None:
                others.append(s.orelse)
            self.branches(frame, others, True)
            if s.finalbody is not None:
                self.block(_body(s.finalbody.body), frame)
        elif isinstance(s, cst.FunctionDef):
            frame.set(s.name.value, FuncV(s) if not s.decorators else None)
        elif isinstance(s, cst.ClassDef):
            methods = {m.name.value: m for m in _body(s.body) if isinstance(m, cst.FunctionDef)}
            frame.set(s.name.value, ClassV(s, methods) if self._is_model_class(s) else None)
        else:
            for n in _assigned_names(s):
                frame.set(n, None)

    def branches(self, frame: Frame, bodies: list, include_base: bool) -> None:
        """Run each body on a copy of the names; a name left with different values is unknown."""
        base = dict(frame.vars)
        results = []
        frame.depth += 1
        try:
            for body in bodies:
                frame.vars = dict(base)
                if isinstance(body, cst.If):
                    self.stmt(body, frame)
                elif isinstance(body, (cst.Else, cst.ExceptHandler)):
                    self.block(_body(body.body), frame)
                else:
                    self.block(_body(body), frame)
                results.append(frame.vars)
        finally:
            frame.depth -= 1
        if include_base or not results:
            results.append(base)
        merged = {}
        for name in set().union(*results):
            vals = [r.get(name, _MISSING_V) for r in results]
            first = vals[0]
            same = first is not _MISSING_V and all(v is first for v in vals)
            merged[name] = first if same else None
            if not same:
                frame.counts[name] = frame.counts.get(name, 0) + 2
        frame.vars = merged

    def small(self, s, frame: Frame) -> None:
        if isinstance(s, cst.Assign):
            value = self.expr(s.value, frame)
            for t in s.targets:
                self.assign(t.target, value, frame)
        elif isinstance(s, cst.AnnAssign):
            if s.value is not None:
                self.assign(s.target, self.expr(s.value, frame), frame)
        elif isinstance(s, cst.AugAssign):
            if isinstance(s.target, cst.Name):
                left = frame.get(s.target.value)
                right = self.expr(s.value, frame)
                frame.set(s.target.value, self.binop(left, s.operator, right, s))
            else:
                self.expr(s.value, frame)
        elif isinstance(s, cst.Expr):
            self.expr(s.value, frame)
        elif isinstance(s, cst.Return):
            value = self.expr(s.value, frame) if s.value is not None else Const(None)
            if frame.depth == 0:
                frame.returns.append(value)
                raise _Return()
            frame.returns.append(None)
        else:
            for n in _assigned_names(s):
                frame.set(n, None)

    def assign(self, target, value, frame: Frame) -> None:
        if isinstance(target, cst.Name):
            frame.set(target.value, value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            items = None
            if isinstance(value, Seq):
                items = value.items
            elif isinstance(value, Const) and isinstance(value.value, tuple):
                items = [Const(v) if v is not UNK else None for v in value.value]
            elements = target.elements
            if items is not None and len(items) == len(elements) and not any(
                    isinstance(e, cst.StarredElement) for e in elements):
                for e, v in zip(elements, items):
                    self.assign(e.value, v, frame)
            else:
                for e in elements:
                    self.assign(e.value, None, frame)
        elif isinstance(target, cst.StarredElement):
            self.assign(target.value, None, frame)
        elif isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
            owner = frame.get(target.value.value)
            if isinstance(owner, SelfV):
                owner.attrs[target.attr.value] = value if frame.depth == 0 and target.attr.value not in owner.attrs \
                    else None
        # subscripts, starred: nothing known

    # ------------------------------------------------------------------ expressions

    def expr(self, e, frame: Frame):
        if e is None:
            return None
        t = type(e)
        if t is cst.Integer:
            try:
                c = Const(int(e.value.replace("_", ""), 0))
            except ValueError:
                return None
            self.literals[id(c)] = (c, e)  # where the number is written (see `written`)
            return c
        if t is cst.Float:
            try:
                return Const(float(e.value.replace("_", "")))
            except ValueError:
                return None
        if t is cst.SimpleString:
            v = e.evaluated_value
            if not isinstance(v, str):
                return None
            c = Const(v)
            self.literals[id(c)] = (c, e)  # the constant kept alive: its id stays its own
            return c
        if t is cst.Name:
            if e.value in ("True", "False"):
                return Const(e.value == "True")
            if e.value == "None":
                return Const(None)
            return frame.get(e.value)
        if t in (cst.Tuple, cst.List):
            items = []
            for el in e.elements:
                if isinstance(el, cst.StarredElement):
                    self.expr(el.value, frame)
                    return None
                items.append(self.expr(el.value, frame))
            if all(isinstance(i, Const) and not isinstance(i.value, tuple) for i in items):
                return Const(tuple(i.value for i in items))
            return Seq(items, e)
        if t is cst.UnaryOperation:
            v = self.expr(e.expression, frame)
            if isinstance(e.operator, cst.Minus) and isinstance(v, Const) and isinstance(v.value, (int, float)) \
                    and not isinstance(v.value, bool):
                return Const(-v.value)
            return v if isinstance(v, Array) else None
        if t is cst.BinaryOperation:
            return self.binop(self.expr(e.left, frame), e.operator, self.expr(e.right, frame), e)
        if t is cst.Call:
            return self.call(e, frame)
        if t is cst.Attribute:
            return self.attribute(e, frame)
        if t is cst.Subscript:
            return self.subscript(e, frame)
        if t in (cst.Lambda, cst.ListComp, cst.GeneratorExp, cst.DictComp, cst.SetComp):
            return None
        for child in code_children(e):  # evaluate calls inside (fit inside print(...), ...)
            if isinstance(child, cst.BaseExpression):
                self.expr(child, frame)
        return None

    def binop(self, left, op, right, node):
        if isinstance(left, Const) and isinstance(right, Const):
            a, b = left.value, right.value
            if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) \
                    and not isinstance(b, bool):
                try:
                    if isinstance(op, cst.Add):
                        return Const(a + b)
                    if isinstance(op, cst.Subtract):
                        return Const(a - b)
                    if isinstance(op, cst.Multiply):
                        return Const(a * b)
                    if isinstance(op, cst.FloorDivide):
                        return Const(a // b)
                    if isinstance(op, cst.Divide):
                        return Const(a / b)
                except (ZeroDivisionError, OverflowError):
                    return None
            if isinstance(a, tuple) and isinstance(b, tuple) and isinstance(op, cst.Add):
                return Const(a + b)
            return None
        arr = left if isinstance(left, Array) else right if isinstance(right, Array) else None
        if arr is not None:
            other = right if arr is left else left
            if isinstance(other, Array) and other.shape != arr.shape:
                return None
            if other is not None and not isinstance(other, (Const, Array)):
                return None
            labels = arr.labels if isinstance(op, (cst.Add, cst.Subtract)) and arr.labels == "int" else None
            return Array(arr.shape, node, arr.what, labels, None, arr.labels_node if labels else None,
                         raw_pixels=False)
        if isinstance(left, TensorV) and isinstance(right, TensorV):
            if left.shape is not None and left.shape == right.shape:
                return TensorV(left.shape, left.last, node, "op", scaled=None)
            return TensorV(None, None, node, "op", scaled=None)
        return None

    def attribute(self, e: cst.Attribute, frame: Frame):
        if e.attr.value == "newaxis" and self.numpy(e) == "newaxis":
            return Const(None)
        if self.keras(e) is not None:
            return None
        base = self.expr(e.value, frame)
        if isinstance(base, Array):
            if e.attr.value == "shape" and base.shape is not None:
                return Const(tuple(UNK if d is None else d for d in base.shape))
            if e.attr.value == "ndim" and base.shape is not None:
                return Const(len(base.shape))
            return None
        if isinstance(base, SelfV):
            return base.attrs.get(e.attr.value)
        if isinstance(base, TensorV) and e.attr.value == "shape":
            return None
        return None

    def subscript(self, e: cst.Subscript, frame: Frame):
        base = self.expr(e.value, frame)
        idx = []
        for el in e.slice:
            sl = el.slice
            if isinstance(sl, cst.Index):
                idx.append(("i", sl.value, self.expr(sl.value, frame)))
            else:
                idx.append(("s", self.expr(sl.lower, frame) if sl.lower else Const(None),
                            self.expr(sl.upper, frame) if sl.upper else Const(None),
                            self.expr(sl.step, frame) if sl.step else Const(None)))
        if isinstance(base, Const) and isinstance(base.value, tuple) and len(idx) == 1:
            k = idx[0]
            try:
                if k[0] == "i" and _int(k[2]) is not None:
                    v = base.value[_int(k[2])]
                    return Const(v) if v is not UNK else None
                if k[0] == "s" and all(isinstance(x, Const) and (x.value is None or isinstance(x.value, int))
                                       for x in k[1:]):
                    return Const(base.value[slice(k[1].value, k[2].value, k[3].value)])
            except (IndexError, ValueError, TypeError):
                return None
            return None
        if isinstance(base, Seq) and len(idx) == 1 and idx[0][0] == "i" and _int(idx[0][2]) is not None:
            try:
                return base.items[_int(idx[0][2])]
            except IndexError:
                return None
        if not isinstance(base, Array):
            return None
        if base.eye is not None and len(idx) == 1 and idx[0][0] == "i" and isinstance(idx[0][2], Array):
            lab = idx[0][2]
            if lab.labels == "int":
                return eye_index(base.eye, lab, e)
            return None
        if base.shape is None:
            return None
        shape = list(base.shape)
        out: list = []
        pos = 0
        ell = [i for i, k in enumerate(idx) if k[0] == "i" and isinstance(k[1], cst.Ellipsis)]
        if len(ell) > 1:
            return None
        consumed = sum(1 for k in idx if not (k[0] == "i" and (isinstance(k[1], cst.Ellipsis)
                                                                or (isinstance(k[2], Const) and k[2].value is None))))
        if consumed > len(shape):
            return None
        for k in idx:
            if k[0] == "i" and isinstance(k[1], cst.Ellipsis):
                n = len(shape) - consumed
                out.extend(shape[pos:pos + n])
                pos += n
            elif k[0] == "i" and isinstance(k[2], Const) and k[2].value is None:
                out.append(1)
            elif k[0] == "i" and _int(k[2]) is not None:
                pos += 1
            elif k[0] == "s":
                lo, hi, st = (x.value if isinstance(x, Const) else UNK for x in k[1:])
                out.append(slice_length(shape[pos], lo if lo is not UNK else 0, hi if hi is not UNK else 0,
                                        st if st is not UNK else 1)
                           if UNK not in (lo, hi, st) else None)
                pos += 1
            elif k[0] == "i" and isinstance(k[2], Array) and len(idx) == 1 and k[2].rank == 1:
                out.append(None)  # x[mask] / x[indices]: fewer or other samples
                pos += 1
            else:
                return None
        out.extend(shape[pos:])
        rows = idx[0][0] == "s" or isinstance(idx[0][2], Array)  # rows selected, not columns
        labels = None
        if rows and base.labels == "int" and len(out) <= 2 and (len(out) == 1 or out[-1] == 1):
            labels = "int"
        elif rows and base.labels == "onehot" and len(out) == len(base.shape) and out[-1] == base.shape[-1]:
            labels = "onehot"
        return base.with_shape(tuple(out), e, labels=labels, classes=base.classes if labels else None,
                               labels_node=base.labels_node if labels else None)

    # ------------------------------------------------------------------ calls

    def call(self, e: cst.Call, frame: Frame):
        func = e.func
        k = self.keras(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if k is not None:
            return self.keras_call(k, e, frame)
        np_name = self.numpy(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if np_name is not None:
            return self.numpy_call(np_name, e, frame)
        if isinstance(func, (cst.Name, cst.Attribute)):
            for q in self.qnames(func):
                if q.endswith("model_selection.train_test_split") or q == "sklearn.cross_validation.train_test_split":
                    return self.train_test_split(e, frame)
        if isinstance(func, cst.Attribute):
            obj = self.expr(func.value, frame)
            meth = func.attr.value
            if isinstance(obj, Array):
                return self.array_method(obj, meth, e, frame)
            if isinstance(obj, ModelV):
                return self.model_method(obj, meth, e, frame)
            if isinstance(obj, (LayerV, SelfV)) or obj is None:
                callee = self.expr(func, frame) if isinstance(obj, SelfV) else None
                if isinstance(callee, (LayerV, ModelV)):
                    return self.apply(callee, e, frame)
            self._args(e, frame)
            return None
        if isinstance(func, cst.Name):
            if func.value == "len":
                v = self.expr(e.args[0].value, frame) if len(e.args) == 1 else None
                if isinstance(v, Array) and v.shape is not None and v.shape[0] is not None:
                    return Const(v.shape[0])
                return None
            if func.value in ("int", "float") and len(e.args) == 1:
                v = self.expr(e.args[0].value, frame)
                if isinstance(v, Const) and isinstance(v.value, (int, float)) and not isinstance(v.value, bool):
                    return Const(int(v.value) if func.value == "int" else float(v.value))
                return None
            if func.value in ("tuple", "list") and len(e.args) == 1:
                v = self.expr(e.args[0].value, frame)
                return v if isinstance(v, Const) and isinstance(v.value, tuple) else None
            callee = frame.get(func.value)
            if isinstance(callee, FuncV):
                args, kwargs = self._bind_args(e, frame)
                if args is None:
                    return None
                return self.run_function(callee.fn, args, kwargs)
            if isinstance(callee, ClassV):
                return self.new_class_model(callee, e, frame)
            if isinstance(callee, (LayerV, ModelV)):
                return self.apply(callee, e, frame)
        if isinstance(func, cst.Call):
            callee = self.expr(func, frame)
            if isinstance(callee, (LayerV, ModelV)):
                return self.apply(callee, e, frame)
            self._args(e, frame)
            return None
        self._args(e, frame)
        return None

    def _args(self, e: cst.Call, frame: Frame) -> list:
        values = [self.expr(a.value, frame) for a in e.args]
        for v in values:  # a Sequential model handed to a function may get layers added or popped
            if isinstance(v, ModelV) and v.kind == "seq":
                v.certain = False
        return values

    def _bind_args(self, e: cst.Call, frame: Frame):
        args, kwargs = [], {}
        for a in e.args:
            if a.star:
                self.expr(a.value, frame)
                return None, None
            v = self.expr(a.value, frame)
            if a.keyword is None:
                args.append(v)
            else:
                kwargs[a.keyword.value] = v
        return args, kwargs

    # -- numpy and friends

    def numpy_call(self, name: str, e: cst.Call, frame: Frame):
        values = {}
        pos = _positional(e)
        if pos is None:
            return None
        posv = [self.expr(a.value, frame) for a in pos]
        for a in e.args:
            if a.keyword is not None:
                values[a.keyword.value] = self.expr(a.value, frame)

        def arg(i, key):
            if key in values:
                return values[key]
            return posv[i] if i is not None and i < len(posv) else None

        if name in ("zeros", "ones", "empty", "full", "random.random", "random.random_sample", "random.rand",
                    "random.randn", "random.uniform", "random.normal", "random.randint", "random.choice"):
            if name in ("random.rand", "random.randn"):
                shape = dims(tuple(v.value for v in posv)) if all(_int(v) is not None for v in posv) else None
            elif name in ("random.uniform", "random.normal"):
                shape = _shape_value(arg(2, "size"))
            elif name == "random.randint":
                shape = _shape_value(arg(2, "size"))
                low, high = _int(arg(0, "low")), _int(arg(1, "high"))
                if high is None and low is not None and arg(1, "high") is None:
                    low, high = 0, low
                classes = high if low == 0 and high is not None and high >= 2 else None
                if shape is None:
                    return None
                return Array(shape, e, f"np.random.randint(...)", "int" if classes else None, classes,
                             e if classes else None)
            elif name == "random.choice":
                return None
            else:
                shape = _shape_value(arg(0, "size" if name.startswith("random.") else "shape"))
            return Array(shape, e, f"np.{name}(...)") if shape is not None else None
        if name == "eye":
            n = _int(arg(0, "N"))
            return Array((n, n), e, f"np.eye({n})", eye=n) if n is not None else None
        if name in ("array", "asarray", "copy", "ascontiguousarray", "float32"):
            v = posv[0] if posv else None
            if isinstance(v, Array):
                return v
            shape = _literal_shape(v)
            return Array(shape, e, "np.array([...])") if shape else None
        if name == "expand_dims":
            v = posv[0] if posv else None
            ax = arg(1, "axis")
            if isinstance(v, Array) and _int(ax) is not None:
                shape = expand(v.shape, _int(ax))
                if shape is None:
                    return None
                return v.with_shape(shape, e, labels=v.labels if v.labels == "int" else None)
            return None
        if name == "reshape":
            v = posv[0] if posv else None
            target = _shape_value(arg(1, "newshape")) or _shape_value(arg(1, "shape"))
            if isinstance(v, Array) and target is not None and None not in target:
                return self._reshaped(v, target, e)
            return None
        if name == "squeeze":
            return None
        return None

    def _reshaped(self, v: Array, target: tuple, node) -> Optional[Array]:
        shape = reshape(v.shape, target)
        if shape is None:
            return None
        keep = v.labels == "int" and len(shape) <= 2 and (len(shape) == 1 or shape[-1] == 1)
        return v.with_shape(shape, node, labels=v.labels if keep else None, classes=v.classes if keep else None,
                            labels_node=v.labels_node if keep else None)

    def array_method(self, v: Array, meth: str, e: cst.Call, frame: Frame):
        args = self._args(e, frame)
        if meth in ("astype", "copy"):
            return v.with_shape(v.shape, e)
        if meth == "reshape":
            if len(args) == 1:
                target = _shape_value(args[0])
            else:
                target = dims(tuple(a.value for a in args)) if all(_int(a) is not None for a in args) else None
            if target is None or None in target:
                return None
            return self._reshaped(v, target, e)
        if meth == "flatten" and v.shape is not None and None not in v.shape:
            return v.with_shape((prod(v.shape),), e, labels=v.labels if v.labels == "int" else None)
        return None

    def train_test_split(self, e: cst.Call, frame: Frame):
        pos = _positional(e)
        if pos is None:
            return None
        arrays = [self.expr(a.value, frame) for a in pos]
        for a in e.args:
            if a.keyword is not None:
                self.expr(a.value, frame)
        items = []
        for a in arrays:
            for _ in range(2):
                if isinstance(a, Array) and a.shape is not None:
                    items.append(a.with_shape((None,) + tuple(a.shape[1:]), e))
                else:
                    items.append(None)
        return Seq(items, e)

    # -- keras

    def keras_call(self, k: str, e: cst.Call, frame: Frame):
        if k.startswith("datasets.") and k.endswith(".load_data"):
            return self.load_data(k[len("datasets."):-len(".load_data")], e, frame)
        if k in ("utils.to_categorical", "utils.np_utils.to_categorical"):
            y = self.expr(_arg(e, 0, "y"), frame)
            n = self.expr(_arg(e, 1, "num_classes", "nb_classes"), frame)
            if not isinstance(y, Array):
                return None
            nn = _int(n)
            if n is not None and nn is None and not (isinstance(n, Const) and n.value is None):
                return Array(None, e, "to_categorical(...)", "onehot", None, e)
            return one_hot(y, nn, e, "to_categorical(...)")
        if k in ("preprocessing.sequence.pad_sequences", "utils.pad_sequences"):
            seqs = self.expr(_arg(e, 0, "sequences"), frame)
            n = _int(self.expr(_arg(e, 1, "maxlen"), frame))
            if n is None:
                return None
            samples = seqs.shape[0] if isinstance(seqs, Array) and seqs.shape else None
            return Array((samples, n), e, "pad_sequences(...)")
        if k in ("Input", "layers.Input"):
            return self.input_tensor(e, frame)
        if k in ("Sequential", "models.Sequential"):
            model = ModelV("seq", e, frame, frame.depth)
            first = _arg(e, 0, "layers")
            if first is not None:
                v = self.expr(first, frame)
                if isinstance(v, Seq) and isinstance(first, (cst.List, cst.Tuple)):
                    model.layers = [(item, el.value) for item, el in zip(v.items, first.elements)]
                elif isinstance(v, Const) and v.value == ():
                    model.layers = []
                else:
                    model.certain = False
            self.models.append(model)
            return model
        if k in ("Model", "models.Model"):
            inputs = self.expr(_arg(e, 0, "inputs", "input"), frame)
            outputs = self.expr(_arg(e, 1, "outputs", "output"), frame)
            model = ModelV("func", e, frame, frame.depth)
            model.inputs = inputs if isinstance(inputs, TensorV) else None
            model.outputs = outputs if isinstance(outputs, TensorV) else None
            model.certain = model.inputs is not None and model.outputs is not None
            return model
        if k.startswith("layers."):
            kind = k[len("layers."):]
            if kind in _MERGE_FUNCTIONS:
                return self.merge_function(_MERGE_FUNCTIONS[kind], e, frame)
            if kind == "InputLayer":
                shape = _declared_shape(self.expr(_arg(e, None, "input_shape", "shape"), frame))
                layer = LayerV("InputLayer", {}, e, (None,) + shape if shape is not None else None)
                self._args(e, frame)
                return layer
            return self.layer(canonical(kind), e, frame)
        self._args(e, frame)
        return None

    def merge_function(self, kind: str, e: cst.Call, frame: Frame):
        """`layers.multiply([a, b])` (and `add`, `concatenate`...): the layer applied at once."""
        pos = _positional(e)
        first = _arg(e, 0, "inputs")
        cfg: Optional[dict] = {}
        for a in e.args:
            if a.value is first:
                continue
            v = self.expr(a.value, frame)
            if a.keyword is not None and a.keyword.value == "axis" and kind == "Concatenate":
                cfg["axis"] = self._cfg_value(v)
            elif a.keyword is None or a.keyword.value not in NEUTRAL_KEYWORDS:
                cfg = None
        x = self.expr(first, frame) if first is not None else None
        if pos is None or cfg is None or not isinstance(x, Seq) or len(x.items) < 2 or not all(
                isinstance(i, TensorV) for i in x.items):
            return None
        return self.apply_layer(LayerV(kind, cfg, e), list(x.items), e)

    def load_data(self, name: str, e: cst.Call, frame: Frame):
        self._args(e, frame)
        facts = DATASETS.get(name)
        if facts is None or any(a.keyword is None or a.keyword.value not in _NEUTRAL_LOAD_ARGS for a in e.args):
            return None
        xtr, ytr, xte, yte, classes, image = facts
        what = f"{name}.load_data()"

        def x(shape):
            return Array(shape, e, what, raw_pixels=image) if shape is not None else None

        def y(shape):
            if shape is None:
                return None
            return Array(shape, e, what, "int" if classes else None, classes, e if classes else None)

        return Seq([Seq([x(xtr), y(ytr)], e), Seq([x(xte), y(yte)], e)], e)

    def input_tensor(self, e: cst.Call, frame: Frame):
        shape = _declared_shape(self.expr(_arg(e, 0, "shape"), frame))
        batch = _declared_shape(self.expr(_arg(e, None, "batch_shape", "batch_input_shape"), frame))
        self._args(e, frame)
        if any(a.star for a in e.args):
            return TensorV(None, None, e, "Input", origin="input")
        full = (None,) + shape if shape is not None else batch
        return TensorV(full, full[-1] if full else None, e, "Input", origin="input")

    def layer(self, kind: str, e: cst.Call, frame: Frame) -> LayerV:
        sig = SIGNATURES.get(kind)
        pos = _positional(e)
        cfg: Optional[dict] = {} if sig is not None and pos is not None and len(pos) <= len(sig) else None
        declared = None
        steps: Optional[dict] = None  # input_length, input_dim of a sequence layer (SEQUENCE_INPUT_DIM)
        for i, a in enumerate(pos or []):
            v = self.expr(a.value, frame)
            if cfg is not None:
                cfg[sig[i]] = self._cfg_value(v)
                self._note_source(e, sig[i], a.value, v)
        for a in e.args:
            if a.keyword is None:
                continue
            name = a.keyword.value
            v = self.expr(a.value, frame)
            self._note_source(e, name, a.value, v)
            if name == "input_shape":
                s = _declared_shape(v)
                declared = (None,) + s if s is not None else declared
            elif name == "batch_input_shape":
                declared = _declared_shape(v) or declared
            elif name in ("input_dim", "input_length") and kind in _SEQUENCE:
                steps = {**(steps or {}), name: _int(v)}
            elif name == "input_dim" and kind != "Embedding":
                n = _int(v)
                # a `Dense` reads `input_dim` as its input's last axis: rank 2 even when the size is a
                # parameter (a recurrent layer of Keras 2 read it with `input_length`: not guessed)
                declared = (None, n) if n is not None else (None, None) if kind == "Dense" else declared
            elif name == "input_length" and kind == "Embedding":
                n = _int(v)
                declared = (None, n) if n is not None else declared
            if cfg is None:
                continue
            if name in sig or name in SHAPE_KEYWORDS:
                cfg[name] = self._cfg_value(v)
            elif name not in NEUTRAL_KEYWORDS:
                cfg = None
        if steps is not None and "input_dim" in steps and declared is None:
            # one step's features: Keras 1/2 built (input_length, input_dim), any length if not given
            declared = (None, steps.get("input_length"), steps["input_dim"])
        if cfg is not None and kind.startswith(("Conv", "SeparableConv")) and pos is not None and len(pos) >= 3:
            cfg = None  # Keras 1's Convolution2D(32, 3, 3) meant a 3x3 kernel (KM305): not guessed
        return LayerV(kind, cfg, e, declared)

    def _note_source(self, call: cst.Call, key: str, arg, v) -> None:
        """A layer width given by a name (`Dense(n_out)`): remember the literal the value was written as."""
        if key in WIDTH_KEYS and isinstance(arg, cst.Name) and isinstance(v, Const) and id(v) in self.literals:
            self.sources.setdefault(id(call), {})[key] = (arg.value, self.literals[id(v)][1])

    def written(self, layer_node) -> tuple:
        """Where to report a wrong width of the layer made at `layer_node`, and a note for the message.

        When the width is a name (`Dense(n_out)`) bound once, to a number written out (`n_out = 1`),
        and read nowhere else, the number is the wrong fact and its line is where the fix goes: the
        issue is reported there. A name read again (a hidden layer's size too, `to_categorical`)
        keeps the issue at the layer."""
        found = self.sources.get(id(layer_node))
        if not found:
            return layer_node, ""
        name, literal = next(iter(found.values()))
        note = f", `{name}` = {literal.value} ({self.at(literal)}"
        try:
            b = self.r.bindings
            values = b.others.get(name, ())
            single = len(values) == 1 and values[0] is literal and name not in b.imports and b.reads(name) == 1
        except Exception:
            single = False
        return (literal, note + ", read only there)") if single else (layer_node, note + ")")

    @staticmethod
    def _cfg_value(v):
        if isinstance(v, Const):
            if isinstance(v.value, tuple) and any(d is UNK for d in v.value):
                return UNK
            return v.value
        if isinstance(v, LayerV):
            return (v.kind, v.cfg) if v.cfg is not None else UNK
        return UNK

    # -- applying layers

    def apply(self, callee, e: cst.Call, frame: Frame):
        pos = _positional(e)
        if not pos:
            self._args(e, frame)
            return None
        x = self.expr(pos[0].value, frame)
        for a in e.args[1:]:
            self.expr(a.value, frame)
        if isinstance(callee, ModelV):
            if isinstance(x, TensorV):
                self.check_model_call(callee, x, e)
            return TensorV(None, None, e, "model", scaled=None)
        if isinstance(x, TensorV):
            inputs = [x]
        elif isinstance(x, Seq) and x.items and all(isinstance(i, TensorV) for i in x.items):
            inputs = list(x.items)
        else:
            return TensorV(None, self._last_of(callee, None), e, callee.kind, last_node=e, scaled=None) \
                if callee.kind == "Dense" else None
        return self.apply_layer(callee, inputs, e)

    def apply_layer(self, layer: LayerV, inputs: list, node) -> TensorV:
        x = inputs[0]
        shape, problem = (None, None)
        if layer.cfg is not None:
            shape, problem = infer(layer.kind, layer.cfg, [i.shape for i in inputs])
        if problem is not None and not (len(inputs) > 1 and self.merge_culprit(layer, inputs, problem)):
            self.layer_problem(layer, x, problem, node)
        last = shape[-1] if shape is not None else self._last_of(layer, x)
        scaled = True if layer.kind in SCALING_LAYERS else (
            x.scaled if layer.kind in SIGNATURES and layer.cfg is not None else None)
        last_node = layer.node if layer.kind not in SAME_SHAPE else (x.last_node or layer.node)
        out = TensorV(shape, last, node, layer.kind, last_node, scaled=scaled,
                      last_layer=layer if layer.kind not in SAME_SHAPE else (x.last_layer or layer))
        if shape is not None and x.shape is not None and len(x.shape) == len(shape):
            out.rank_cause = x.rank_cause
        elif shape is not None and x.shape is not None and len(shape) < len(x.shape):
            out.rank_cause = layer
        if len(inputs) == 1 and len(x.path) < 64:
            out.path = x.path + ((layer, x.shape, shape),)
        elif len(inputs) > 1:
            out.merged = (layer, list(inputs))
        if layer.kind == "Dense" and x.shape is not None and len(x.shape) > 2:
            out.wide_dense = x.wide_dense or layer
        elif shape is not None and len(shape) > 2:
            out.wide_dense = x.wide_dense
        return out

    def model_input(self, model: ModelV) -> Optional[tuple]:
        """(shape, node): the input a model declares (single-input functional models, Sequential
        models whose first layer or `build` says it), or None."""
        if not model.certain:
            return None
        if model.kind == "func":
            return (model.inputs.shape, model.inputs.node) if model.inputs.shape is not None else None
        if model.kind != "seq" or not model.layers:
            return None
        first = model.layers[0][0]
        if isinstance(first, TensorV) and first.kind == "Input":
            found = first.shape, first.node
        elif isinstance(first, LayerV) and (first.kind == "InputLayer" or first.declared is not None):
            found = first.declared, first.node
        elif model.built is not None:
            found = model.built, model.node
        else:
            return None
        return found if found[0] is not None else None

    def check_model_call(self, model: ModelV, x: TensorV, call: cst.Call) -> None:
        """A model called on a tensor whose known shape contradicts the input it declares: another
        rank (beyond the trailing axis of 1 that Keras 3 adds or drops itself), or another size on
        a known axis. Keras 3 raises ("Exception encountered when calling Sequential.call()"); Keras
        2 let a `Dense` work on the last axis of the extra axes (mnist_acgan's generator)."""
        declared = self.model_input(model)
        if declared is None or x.shape is None or not isinstance(call.func, (cst.Name, cst.Attribute)):
            return
        shape, node = declared
        want, got = tuple(shape[1:]), tuple(x.shape[1:])
        if len(want) != len(got):
            if (len(want) == len(got) + 1 and want[-1] == 1 and _agree(want[:-1], got)) or (
                    len(got) == len(want) + 1 and got[-1] == 1 and _agree(got[:-1], want)):
                return  # Keras 3 adds or drops a trailing axis of 1 itself
            why = f"{len(want)} ax{'i' if len(want) == 1 else 'e'}s per sample expected, {len(got)} given"
        else:
            off = [i for i, (a, b) in enumerate(zip(want, got), 1) if a is not None and b is not None and a != b]
            if not off:
                return
            why = "the sizes differ on axis " + ", ".join(str(i) for i in off)
        name = _code(call.func)
        src = f"`{x.kind}`, " if x.kind and x.kind not in ("model", "op", "data") else ""
        message = (f"`{name}` expects inputs of shape {fmt(shape)} ({self.at(node)}) but is called on a tensor of "
                   f"shape {fmt(x.shape)} ({src}{self.at(x.node)}): {why}; Keras 3 raises (Keras 2 let a `Dense` "
                   f"work on the last axis); `Flatten`/`Reshape` the tensor first")
        fix = self.flatten_fix(want, x, call)
        if fix is not None:
            emb_node, replacement, imports = fix
            self.issue("KM523", emb_node, message + " (here: `Flatten()` the `Embedding` of the length-1 input, "
                       f"{self.at(emb_node)})", replacement, at=call, imports=imports)
        else:
            self.issue("KM523", call, message)

    def flatten_fix(self, want: tuple, x: TensorV, call: cst.Call) -> Optional[tuple]:
        """The mnist_acgan case, which later versions of the example fixed this way: an `Embedding`
        of a length-1 input, (None, 1, d), merged (`multiply`, `add`...) with rank-2 tensors and fed
        to a model that wants (None, d). `Flatten()` after the `Embedding` computes what Keras 2 did
        (the merge gave the others an axis of 1, a `Dense` worked on the last axis, a `Reshape`
        dropped the axis again): (embedding node, its replacement, imports), when the embedding and
        the merged tensor are each used once, right there."""
        if len(want) != 1 or x.merged is None:
            return None
        merge, inputs = x.merged
        if merge.kind not in _ELEMENTWISE or merge.cfg is None:
            return None
        embs = [t for t in inputs if t.kind == "Embedding" and t.shape is not None and len(t.shape) == 3
                and t.shape[1] == 1 and t.path and t.path[-1][1] is not None and len(t.path[-1][1]) == 2]
        if len(embs) != 1 or not all(t is embs[0] or (t.shape is not None and len(t.shape) == 2) for t in inputs):
            return None
        emb = embs[0]
        flat = [(emb.shape[0], emb.shape[2]) if t is emb else t.shape for t in inputs]
        out, problem = infer(merge.kind, merge.cfg, flat)
        if problem is not None or out is None or not _agree(want, tuple(out[1:])):
            return None
        node = emb.node
        if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Call):
            return None
        # `multiply([a, b])` or `Multiply()([a, b])`: the list is the first argument either way
        merged_list = _arg(x.node, 0, "inputs") if isinstance(x.node, cst.Call) else None
        if not isinstance(merged_list, (cst.List, cst.Tuple)):
            return None
        if not any(self._used_once_as(el.value, node) for el in merged_list.elements):
            return None
        pos = _positional(call)
        if not pos or not self._used_once_as(pos[0].value, x.node):
            return None
        flatten = self._flatten_func(node.func.func)
        if flatten is None:
            return None
        func, imports = flatten
        return node, cst.Call(func=cst.Call(func=func), args=[cst.Arg(node)]), imports

    def _used_once_as(self, expr, made) -> bool:
        """`expr` is the call `made` itself, or a name bound once, to it, and read only here."""
        if expr is made:
            return True
        if not isinstance(expr, cst.Name):
            return False
        try:
            b = self.r.bindings
            values = b.others.get(expr.value, ())
            return len(values) == 1 and values[0] is made and expr.value not in b.imports \
                and b.reads(expr.value) == 1
        except Exception:
            return False

    def _flatten_func(self, emb_func) -> Optional[tuple]:
        """How the file spells `Flatten`, next to its spelling of `Embedding`: (func, imports)."""
        if isinstance(emb_func, cst.Attribute):
            return (emb_func.with_changes(attr=cst.Name("Flatten")), ()) if self.keras(emb_func.value) == "layers" \
                else None
        if not isinstance(emb_func, cst.Name):
            return None
        b = self.r.bindings
        for name, qualified in b.imports.items():
            if name not in b.others and len(qualified) == 1 and canonical_keras(next(iter(qualified))) == "layers.Flatten":
                return cst.Name(name), ()
        if "Flatten" in b.imports or "Flatten" in b.others or b.name_counts["Flatten"]:
            return None
        return cst.Name("Flatten"), (ImportEdit(keras_module(self.target, "layers"), "Flatten"),)

    @staticmethod
    def _last_of(layer: LayerV, x: Optional[TensorV]) -> Optional[int]:
        if layer.cfg is None:
            return None
        if layer.kind == "Dense":
            u = layer.cfg.get("units", UNK)
            return u if isinstance(u, int) and not isinstance(u, bool) else None
        if layer.kind in SAME_SHAPE and x is not None:
            return x.last
        return None

    def merge_culprit(self, layer: LayerV, inputs: list, problem: str) -> bool:
        """Tensors of one rank whose spatial sizes differ (a U-Net skip connection): when exactly one
        branch has a layer that does not scale sizes exactly (valid padding...), report it there.
        Tensors that differ only in width: `width_culprit`."""
        shapes = [i.shape for i in inputs]
        if any(sh is None for sh in shapes) or len({len(sh) for sh in shapes}) != 1 or len(shapes[0]) < 2:
            return False
        axis = next((a for a in range(1, len(shapes[0]) - 1)
                     if len({sh[a] for sh in shapes if sh[a] is not None}) > 1), None)
        if axis is None:
            return self.width_culprit(layer, inputs, problem)
        found = []
        for i, t in enumerate(inputs):
            for j, other in enumerate(shapes):
                if j != i and other[axis] is not None and other[axis] != t.shape[axis]:
                    c = _size_culprit(t, other, axis)
                    if c is not None:
                        found.append(c)
                    break
        if len(found) != 1:
            return False
        culprit, got, need = found[0]
        self.issue("KM523", culprit.node, f"{problem} ({self.at(layer.node)}): `{culprit.kind}` at "
                   f"{self.at(culprit.node)} makes {got} where {need} is needed (`padding=\"same\"`?)")
        return True

    def width_culprit(self, layer: LayerV, inputs: list, problem: str) -> bool:
        """Tensors that differ only in their last axis (an `Add` of a 64- and a 32-unit branch): report
        the layer whose width breaks the agreement. With three or more inputs that is the one input
        against the others; with two, the one set by a layer's width when the other is not (an
        `Input`, a `Flatten`: a size no argument states), else the one written later in the file (the
        second branch is the one written to join the first: a residual shortcut's projection)."""
        shapes = [i.shape for i in inputs]
        r = len(shapes[0])
        if r < 2 or any(len({sh[a] for sh in shapes if sh[a] is not None}) > 1 for a in range(1, r - 1)):
            return False
        sizes = [sh[-1] for sh in shapes]
        if None in sizes or len(set(sizes)) < 2:
            return False

        def width_layer(t: TensorV) -> Optional[LayerV]:
            lay = t.last_layer
            if lay is None or lay.cfg is None or t.last_node is not lay.node:
                return None
            return lay if any(isinstance(lay.cfg.get(k), int) for k in WIDTH_KEYS) else None

        counts = {n: sizes.count(n) for n in set(sizes)}
        top = max(counts.values())
        if len(inputs) >= 3:
            common = [n for n, c in counts.items() if c == top]
            odd = [t for t in inputs if t.shape[-1] != common[0]] if len(common) == 1 else []
            if len(odd) != 1 or width_layer(odd[0]) is None:
                return False
            culprit, other = odd[0], next(t for t in inputs if t is not odd[0])
        elif len(inputs) == 2:
            a, b = inputs
            la, lb = width_layer(a), width_layer(b)
            if la is not None and lb is not None:
                na, nb = self.line(la.node), self.line(lb.node)
                if not na or not nb or na == nb:
                    return False
                culprit, other = (b, a) if nb > na else (a, b)
            elif la is not None or lb is not None:
                culprit, other = (a, b) if la is not None else (b, a)
            else:
                return False
        else:
            return False
        lay = width_layer(culprit)
        at, note = self.written(lay.node)
        src = other.last_layer.node if other.last_layer is not None else other.node
        kind = other.last_layer.kind if other.last_layer is not None else other.kind
        self.issue("KM523", at, f"{problem} ({self.at(layer.node)}): `{lay.kind}` at {self.at(lay.node)}{note} makes "
                   f"{culprit.shape[-1]} where the other input has {other.shape[-1]} (`{kind}` at {self.at(src)}); "
                   f"give both the same width (or project one with a `Dense`/1x1 `Conv` first)")
        return True

    def layer_problem(self, layer: LayerV, x: TensorV, problem: str, node) -> None:
        where = self.at(layer.node)
        if x.origin == "data" and x.data is not None:
            d = x.data  # no declared input: the data decides it, and is what to change
            self.issue("KM522", d.node, f"the data {d.what + ' ' if d.what else ''}{fmt(d.shape)} "
                       f"({self.at(d.node)}) is the input of a model whose first layer cannot take it: {problem} "
                       f"({where})" + _hint(layer.kind, x.shape))
        elif x.origin == "input":
            self.issue("KM522", layer.node, f"{problem} ({where}): the model's input is declared as {fmt(x.shape)} "
                       f"({self.at(x.node)})" + _hint(layer.kind, x.shape))
        else:
            cause = x.rank_cause
            want = _expected(layer.kind)
            if cause is not None and want is not None and x.shape is not None and len(x.shape) < want \
                    and not _vector_used(cause, x):
                self.issue("KM523", cause.node, f"{problem} ({where}): `{cause.kind}` ({self.at(cause.node)}) "
                           f"took the tensor down to {fmt(x.shape)}" + _between_hint(layer.kind, x))
                return
            src = f" from `{x.kind}` ({self.at(x.node)})" if x.kind else ""
            if cause is not None and want is not None and x.shape is not None and len(x.shape) < want:
                src += f" (`{cause.kind}` at {self.at(cause.node)} made the vector the layers after it use)"
            self.issue("KM523", layer.node, f"{problem} ({where}){src}" + _between_hint(layer.kind, x))

    # -- models

    def _is_model_class(self, c: cst.ClassDef) -> bool:
        for b in c.bases:
            if b.keyword is None and self.keras(b.value) in ("Model", "models.Model"):
                return True
        return False

    def new_class_model(self, cls: ClassV, e: cst.Call, frame: Frame) -> Optional[ModelV]:
        args, kwargs = self._bind_args(e, frame)
        model = ModelV("class", e, frame, frame.depth, klass=cls)
        attrs: dict = {}
        init = cls.methods.get("__init__")
        if init is not None and args is not None:
            self.run_function(init, args, kwargs, self_value=SelfV(attrs))
        model.attrs = attrs
        return model

    def model_method(self, model: ModelV, meth: str, e: cst.Call, frame: Frame):
        if meth == "add":
            v = self.expr(_arg(e, 0, "layer"), frame)
            if model.kind != "seq":
                return None
            if frame is not model.frame or frame.depth != model.depth:
                model.certain = False
            model.layers.append((v, e))
            return None
        if meth == "build" and model.kind == "seq":
            shape = _shape_value(self.expr(_arg(e, 0, "input_shape"), frame))
            if frame is not model.frame or frame.depth != model.depth or shape is None:
                model.certain = False
            else:
                model.built = shape
            return None
        if meth == "compile":
            self._args(e, frame)
            if frame is not model.frame or frame.depth != model.depth:
                model.loss = None
                model.loss_node = e
                return None
            model.loss = self.loss(_arg(e, 1, "loss"), frame)
            model.loss_node = e
            return None
        if meth in ("fit", "evaluate", "train_on_batch", "test_on_batch", "predict", "predict_on_batch"):
            x = self.expr(_arg(e, 0, "x"), frame)
            y = self.expr(_arg(e, 1, "y"), frame) if not meth.startswith("predict") else None
            rest = [a for a in e.args if a.keyword is not None and a.keyword.value not in ("x", "y")]
            for a in rest:
                self.expr(a.value, frame)
            if isinstance(x, Array) and isinstance(y, Array):
                self.check_samples(x, y, _arg(e, 1, "y"))
            self.check_training(model, meth, e, x if isinstance(x, Array) else None,
                                y if isinstance(y, Array) else None)
            if meth == "fit":
                vd = _keyword(e, "validation_data")
                if vd is not None:
                    v = self.expr(vd.value, frame)
                    if isinstance(v, Seq) and len(v.items) >= 2 and isinstance(v.items[0], Array) \
                            and isinstance(v.items[1], Array):
                        self.check_samples(v.items[0], v.items[1], vd.value)
                    if isinstance(v, Seq) and len(v.items) >= 2 and isinstance(v.items[0], Array):
                        self.check_training(model, "evaluate", e, v.items[0],
                                            v.items[1] if isinstance(v.items[1], Array) else None, vd.value)
            return None
        self._args(e, frame)
        if meth not in _READ_ONLY_METHODS:
            model.certain = False  # pop() and the like change the layers
        return None

    def loss(self, expr, frame: Frame):
        if expr is None:
            return None
        v = self.expr(expr, frame)
        if isinstance(v, Const) and isinstance(v.value, str):
            name = CE_LOSSES.get(v.value)
            at = self.literals.get(id(v), (v, expr))[1] if isinstance(expr, cst.Name) else expr
            return (name or v.value, at, isinstance(expr, cst.SimpleString))
        target = expr
        if isinstance(expr, cst.Call):
            target = expr.func
        if isinstance(target, (cst.Name, cst.Attribute)):
            k = self.keras(target)
            if k and k.startswith("losses."):
                last = k.rpartition(".")[2]
                return (CE_LOSSES.get(last, last), expr, False)
        return None

    def flow(self, model: ModelV, data: Optional[Array]) -> Optional[Flow]:
        """The model's declared input and its output tensor, fed `data` when the input is not declared."""
        if not model.certain:
            return None
        if model.kind == "func":
            return Flow(model.inputs.shape, model.inputs.node, "Input", model.outputs)
        if model.kind == "class":
            if data is None or data.shape is None or model.attrs is None:
                return None
            fn = model.klass.methods.get("call")
            if fn is None or any(type(n) in (cst.If, cst.For, cst.While, cst.Try, cst.With, cst.Match)
                                 for n in _statements(fn.body)):
                return None
            x = TensorV((None,) + tuple(data.shape[1:]), None, data.node, "data", origin="data", data=data)
            x.last = x.shape[-1]
            out = self.run_function(fn, [x], {}, self_value=SelfV(model.attrs))
            return Flow(None, None, "", out if isinstance(out, TensorV) else None)
        items = model.layers
        if not items:
            return None
        declared, declared_node = None, None
        first = items[0][0]
        start = 0
        if isinstance(first, TensorV) and first.kind == "Input":
            declared, declared_node, start = first.shape, first.node, 1
        elif isinstance(first, LayerV) and first.kind == "InputLayer":
            declared, declared_node, start = first.declared, first.node, 1
        elif isinstance(first, LayerV) and first.declared is not None:
            declared, declared_node = first.declared, first.node
        elif model.built is not None:
            declared, declared_node = model.built, model.node
        if declared is not None:
            x = TensorV(declared, declared[-1] if declared else None, declared_node, "Input", origin="input")
        elif data is not None and data.shape is not None:
            x = TensorV((None,) + tuple(data.shape[1:]), data.shape[-1], data.node, "data", origin="data", data=data)
        else:
            x = TensorV(None, None, model.node, "", scaled=False)
        first_kind = ""
        for value, node in items[start:]:
            if isinstance(value, LayerV):
                first_kind = first_kind or value.kind
                x = self.apply_layer(value, [x], value.node)
            else:
                x = TensorV(None, None, node, "", scaled=None)
        return Flow(declared, declared_node, first_kind, x)

    # ------------------------------------------------------------------ the checks at fit

    def check_training(self, model: ModelV, meth: str, call: cst.Call, x: Optional[Array], y: Optional[Array],
                       where: Optional[cst.CSTNode] = None) -> None:
        flow = self.flow(model, x)
        if flow is None:
            return
        before = len(self.issues)
        if x is not None:
            self.check_input(flow, x, meth)
        out = flow.out
        if y is not None and out is not None and len(self.issues) == before:  # no cascade
            self.check_labels(model, out, y)
        if meth == "fit" and x is not None and x.raw_pixels and out is not None and out.scaled is False:
            arg = _arg(call, 0, "x")
            self.issue("KM525", arg or call,
                       f"`fit` gets raw 0-255 pixels: the images {fmt(x.shape)} ({self.at(x.node)}, from {x.what}) are not "
                       f"scaled and the model has no `Rescaling` layer; divide by 255.0 (or add "
                       f"`layers.Rescaling(1 / 255)`) or training converges slowly, if at all")

    def check_samples(self, x: Array, y: Array, node) -> None:
        """x and y with different numbers of samples (`x_train` with `y_test`, a slice of one)."""
        if node is None or not x.shape or not y.shape or x.shape[0] is None or y.shape[0] is None:
            return
        if x.shape[0] != y.shape[0]:
            self.issue("KM522", node, f"the data has {x.shape[0]} samples, {fmt(x.shape)} ({self.at(x.node)}), but "
                       f"the labels have {y.shape[0]}, {fmt(y.shape)} ({self.at(y.node)}): Keras stops with "
                       f"\"Data cardinality is ambiguous\"; pass the labels that belong to the data")

    def check_input(self, flow: Flow, x: Array, meth: str) -> None:
        """The declared input against the data: a data-side mistake (an axis missing, flattened or
        not, one sample without its batch axis) is reported where the data was last made, a
        model-side one (the sample count in `input_shape`, another size) at the input shape."""
        d = flow.declared
        if d is None or x.shape is None or flow.declared_node is None:
            return
        want, got = tuple(d[1:]), tuple(x.shape[1:])
        node = flow.declared_node
        data = f"{x.what + ' ' if x.what else ''}{fmt(x.shape)} ({self.at(x.node)})"
        decl = f"{fmt(want)} ({self.at(node)})"
        if len(want) != len(got):
            if (len(want) == len(got) + 1 and want[-1] == 1 and _agree(want[:-1], got)) or (
                    len(got) == len(want) + 1 and got[-1] == 1 and _agree(got[:-1], want)):
                pass  # Keras 3 adds or drops a trailing axis of 1 itself (Functional._adjust_input_rank)
            elif _agree(want, tuple(x.shape)) and len(want) == len(x.shape) and meth.startswith("predict"):
                self.issue("KM522", x.node, f"the data {data} is one sample without the batch axis, but Keras "
                           f"reads the first axis as samples: the model's input shape is {decl}; use `x[None]` "
                           f"(or a slice such as `x[0:1]`)")
            elif flow.first_kind in _RECURRENT and len(got) == len(want) - 1:
                self.issue("KM522", x.node, f"the data {data} has one vector per sample but `{flow.first_kind}` "
                           f"reads sequences of {decl}; reshape it to (samples, timesteps, features)")
            elif len(want) == len(x.shape) and _agree(want[1:], got):
                self.issue("KM522", node, f"the input shape {decl} includes the number of samples: the data is "
                           f"{data}, so each sample is {fmt(got)}; `input_shape` describes one sample, use "
                           f"{fmt(got)}", _without_first_dim(node))
            elif len(got) == 1 and None not in want and got[0] == prod(want):
                self.issue("KM522", x.node, f"the data {data} is flattened but the model expects samples of "
                           f"{decl}; reshape it with `x.reshape(-1, {', '.join(map(str, want))})`")
            elif len(want) == 1 and None not in got and want[0] == prod(got):
                self.issue("KM522", x.node, f"the data {data} has samples of {fmt(got)} but the model expects "
                           f"flat samples of {decl}; flatten it with `x.reshape(len(x), -1)` (or start the "
                           f"model with `Flatten()`)")
            else:
                self.issue("KM522", node, f"the model's input shape is {decl} but the data is {data}: "
                           f"{len(want)} axes per sample expected, {len(got)} given")
            return
        for a, b in zip(want, got):
            if a is not None and b is not None and a != b:
                if (len(want) >= 3 and not self.channels_first and None not in want
                        and got == (want[-1],) + want[:-1]):
                    # the data has the declared channel axis first: Keras layers read it last (the
                    # file never says channels_first), so the data's layout is what breaks it
                    self.issue("KM522", x.node, f"the data {data} has its channel axis first, samples of "
                               f"{fmt(got)}, but the model's input shape is {decl} and Keras layers read "
                               f"channels last; add the axis at the end (`np.expand_dims(x, -1)`, "
                               f"`x[..., None]`) or move it (`np.moveaxis(x, 1, -1)`)")
                    return
                self.issue("KM522", node, f"the model's input shape is {decl} but the data is {data}: each "
                           f"sample is {fmt(got)}")
                return

    def check_labels(self, model: ModelV, out: TensorV, y: Array) -> None:
        loss = model.loss[0] if model.loss else None
        loss_node = model.loss[1] if model.loss else None
        units = out.last
        unit_node = out.last_node or out.node
        unit_at, unit_note = self.written(unit_node)  # `Dense(n_out)`: maybe where `n_out = 1` is written
        labels = (f"one-hot over {y.width} classes" if y.labels == "onehot" and y.width else
                  f"class ids of {y.classes} classes" if y.labels == "int" and y.classes else None)
        lab_where = f"({self.at(y.labels_node or y.node)})"
        # the output keeps axes the labels do not have
        if out.shape is not None and y.shape is not None and len(out.shape) > 2:
            r, yr = len(out.shape), len(y.shape)
            sparse_ok = loss == "sparse_categorical_crossentropy" and (yr == r - 1 or (yr == r and y.shape[-1] == 1))
            if yr < r and not sparse_ok:
                at = out.wide_dense.node if out.wide_dense is not None else unit_node
                self.issue("KM523", at,
                           f"the model outputs {fmt(out.shape)} (`{out.kind}`, {self.at(unit_node)}) but the labels "
                           f"are {fmt(y.shape)} {lab_where}: the output keeps axes the labels do not have ("
                           f"`Dense` works on the last axis only); add `Flatten()` or global pooling before "
                           + (f"the `Dense` at {self.at(at)}" if at is not unit_node else "the output layer"))
                return
        if (out.shape is not None and y.shape is not None and y.labels is None and len(out.shape) == len(y.shape)
                and len(out.shape) >= 2):  # targets that are not class labels: every known axis must agree
            off = [i for i, (a, b) in enumerate(zip(out.shape[1:], y.shape[1:]), 1)
                   if a is not None and b is not None and a != b]
            if off:
                only_last = off == [len(out.shape) - 1]
                culprit = None if only_last else _size_culprit(out, y.shape, off[0])
                at = culprit[0].node if culprit else unit_at if only_last else unit_node
                blame = (f" (`{culprit[0].kind}` at {self.at(culprit[0].node)} makes {culprit[1]} where "
                         f"{culprit[2]} is needed)" if culprit else "")
                self.issue("KM520" if only_last else "KM523", at,
                           f"the model outputs {fmt(out.shape)} (`{out.kind}`, {self.at(unit_node)})"
                           f"{unit_note if only_last else ''} but the targets "
                           f"are {fmt(y.shape)} ({self.at(y.node)}): "
                           + (f"{out.shape[-1]} unit{'s' if out.shape[-1] != 1 else ''} for {y.shape[-1]} values "
                              f"per sample" if only_last else "the sizes differ on the axes "
                              + ", ".join(str(i) for i in off) + blame)
                           + "; Keras stops with incompatible shapes, or `mse` broadcasts them silently")
                return
        if out.shape is not None and len(out.shape) > 2:  # per-step outputs: the labels must line up
            if y.shape is None or (y.labels == "onehot" and len(y.shape) != len(out.shape)) or (
                    y.labels == "int" and len(out.shape) not in (len(y.shape), len(y.shape) + 1)):
                return
        # units vs classes
        if units is not None and labels is not None:
            if y.labels == "onehot" and y.width and units != y.width and loss != "sparse_categorical_crossentropy":
                self.issue("KM520", unit_at,
                           f"the labels are {labels} {lab_where} but the model outputs {units} unit"
                           f"{'s' if units != 1 else ''} ({self.at(unit_node)}){unit_note}; use `Dense({y.width}, "
                           f"activation='softmax')` as the output layer")
                return
            if y.labels == "int" and y.classes == 2 and units > 1 and loss == "binary_crossentropy":
                self.issue("KM520", unit_at,
                           f"the labels are {labels} {lab_where} but the model outputs {units} units "
                           f"({self.at(unit_node)}){unit_note} for `binary_crossentropy`, which wants one probability per "
                           f"label; use `Dense(1, activation='sigmoid')` (or `sparse_categorical_crossentropy`)")
                return
            if y.labels == "int" and y.classes and y.classes > 2 and (
                    (units == 1 and loss in ("binary_crossentropy", "sparse_categorical_crossentropy"))
                    or (1 < units < y.classes and loss == "sparse_categorical_crossentropy")):
                self.issue("KM520", unit_at,
                           f"the labels are {labels} {lab_where} but the model outputs {units} unit"
                           f"{'s' if units != 1 else ''} ({self.at(unit_node)}){unit_note}; use `Dense({y.classes}, "
                           f"activation='softmax')` with `sparse_categorical_crossentropy`")
                return
        # loss vs encoding
        if loss is None or loss_node is None:
            return
        literal = model.loss[2]
        if loss == "categorical_crossentropy" and y.labels == "int" and y.shape is not None and (
                len(y.shape) == 1 or (len(y.shape) == 2 and y.shape[-1] == 1)):
            rep = _string_like(loss_node, "sparse_categorical_crossentropy") if literal else None
            self.issue("KM521", loss_node,
                       f"`categorical_crossentropy` needs one-hot labels but the labels are {labels or 'class ids'} "
                       f"of shape {fmt(y.shape)} {lab_where}; use `sparse_categorical_crossentropy` (or "
                       f"`to_categorical` the labels)", rep)
        elif loss == "sparse_categorical_crossentropy" and y.labels == "onehot" and y.width and y.width > 1:
            rep = _string_like(loss_node, "categorical_crossentropy") if literal else None
            self.issue("KM521", loss_node,
                       f"`sparse_categorical_crossentropy` needs class ids but the labels are {labels} of shape "
                       f"{fmt(y.shape)} {lab_where}; use `categorical_crossentropy`", rep)
        elif loss == "binary_crossentropy" and y.labels == "onehot" and y.width and y.width > 2 and units == y.width:
            self.issue("KM521", loss_node,
                       f"`binary_crossentropy` on labels {labels} {lab_where}: each class is scored as a separate "
                       f"yes/no question and `accuracy` reports binary accuracy (about 90% for 10 classes "
                       f"whatever the model does); use `categorical_crossentropy` with a softmax output")


_MISSING_V = object()
# Keras' functional spellings of the merge layers: `layers.multiply([a, b])`
_MERGE_FUNCTIONS = {"add": "Add", "subtract": "Subtract", "multiply": "Multiply", "average": "Average",
                    "maximum": "Maximum", "minimum": "Minimum", "concatenate": "Concatenate"}
# words of a file that may lay images out channels first (then the data's layout is not judged)
_LAYOUT_WORDS = ("channels_first", "image_data_format", "image_dim_ordering", "set_image_dim_ordering")
_READ_ONLY_METHODS = frozenset({"summary", "save", "save_weights", "load_weights", "get_weights", "set_weights",
                                "count_params", "to_json", "to_yaml", "get_config", "get_layer", "evaluate_generator",
                                "predict_generator", "fit_generator", "reset_states", "reset_metrics"})
_NEUTRAL_LOAD_ARGS = frozenset({"path", "num_words", "seed", "skip_top", "index_from", "start_char", "oov_char"})


def _expected(kind: str) -> Optional[int]:
    from .shapes import expected_rank

    want = expected_rank(kind)
    return want[1] if want is not None else None


def _literal_shape(v, depth: int = 0) -> Optional[tuple]:
    """The shape of a nested list of numbers written out (`[[0.2, 0.4, 0.9]]` -> (1, 3))."""
    if depth > 8:
        return None
    if isinstance(v, Const) and isinstance(v.value, tuple):
        items = [Const(i) for i in v.value]
    elif isinstance(v, Seq):
        items = v.items
    else:
        return None
    if not items:
        return None
    if all(isinstance(i, Const) and isinstance(i.value, (int, float)) and not isinstance(i.value, bool)
           for i in items):
        return (len(items),)
    inner = [_literal_shape(i, depth + 1) for i in items]
    if inner[0] is None or any(s != inner[0] for s in inner):
        return None
    return (len(items),) + inner[0]


def _vector_used(cause: LayerV, x: TensorV) -> bool:
    """Whether a layer that exists to take the rank down (`Flatten`, global pooling) fed layers that
    use what it made (a `Dense` bottleneck, an autoencoder's decoder) before the one that wants more
    axes: then the flattening is meant, and what is missing is a `Reshape` before that layer.
    A recurrent layer's rank is a switch (`return_sequences`), so it stays the one to change."""
    if cause.kind.startswith(("LSTM", "GRU", "SimpleRNN", "Bidirectional", "RNN", "ConvLSTM")):
        return False
    for layer, _before, _after in reversed(x.path):
        if layer is cause:
            return False
        if layer.kind not in SAME_SHAPE:
            return True
    return False


def _size_factor(layer: LayerV, axis: int) -> Optional[int]:
    """How a layer scales a spatial axis exactly (1 keeps it, 2 doubles it), or None when its output
    size is not a plain multiple of its input (valid padding, strides that round, cropping)."""
    cfg, kind = layer.cfg or {}, layer.kind
    if kind in SAME_SHAPE or kind in ("Dense", "Activation"):
        return 1
    if kind.startswith("UpSampling"):
        size = cfg.get("size", 2)
        if isinstance(size, int) and not isinstance(size, bool):
            return size
        if isinstance(size, tuple) and 0 < axis <= len(size) and isinstance(size[axis - 1], int):
            return size[axis - 1]
        return None
    padding = cfg.get("padding", "valid")
    strides = cfg.get("strides", 1)
    if isinstance(strides, tuple):
        strides = strides[axis - 1] if 0 < axis <= len(strides) else None
    if not isinstance(strides, int) or isinstance(strides, bool) or padding != "same":
        return None
    if kind.endswith("Transpose"):
        return strides
    if kind.startswith(("Conv", "SeparableConv")) and strides == 1:
        return 1
    return None


def _size_culprit(out: TensorV, target: tuple, axis: int) -> Optional[tuple]:
    """Walking back from the output, the first layer whose output size on `axis` is not an exact
    multiple of its input: the one that made the size differ from the target (an autoencoder's
    valid-padding Conv2DTranspose giving 15 where 14 was needed)."""
    need = target[axis]
    for layer, before, after in reversed(out.path):
        if after is None or before is None or len(after) <= axis or len(before) <= axis:
            return None
        if after[axis] == need:
            return None
        f = _size_factor(layer, axis)
        if f is None or need % f:
            return layer, after[axis], need
        need //= f
    return None


def _agree(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


def _without_first_dim(call) -> Optional[cst.Call]:
    """`Dense(8, input_shape=(500, 12))` -> `Dense(8, input_shape=(12,))`, for a literal tuple of ints."""
    if not isinstance(call, cst.Call):
        return None
    arg = _keyword(call, "input_shape")
    if arg is None or not isinstance(arg.value, cst.Tuple) or len(arg.value.elements) < 2 or not all(
            isinstance(el.value, cst.Integer) for el in arg.value.elements):
        return None
    rest = list(arg.value.elements[1:])
    last = rest[-1]
    if len(rest) == 1:
        rest[-1] = last.with_changes(comma=cst.Comma())
    tup = arg.value.with_changes(elements=rest)
    if len(rest) == 1:
        tup = tup.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    args = [a.with_changes(value=tup) if a is arg else a for a in call.args]
    return call.with_changes(args=args)


def _code(node) -> str:
    try:
        text = cst.Module([]).code_for_node(node)
    except Exception:
        return "model"
    return text if len(text) <= 40 else text[:37] + "..."


def _string_like(node, text: str):
    if isinstance(node, cst.SimpleString):
        q = node.prefix + node.quote
        return node.with_changes(value=f"{q}{text}{node.quote}")
    return None


def _hint(kind: str, shape) -> str:
    if shape is None:
        return ""
    if kind.endswith("2D") and len(shape) == 3:
        return "; images need a channel axis: `input_shape=(h, w, 1)` and `x[..., None]`"
    if kind in ("LSTM", "GRU", "SimpleRNN", "Bidirectional") and len(shape) == 2:
        return "; recurrent layers read (timesteps, features) per sample: reshape the data to 3 axes"
    if kind.endswith("1D") and len(shape) == 2:
        return "; `Conv1D` reads (steps, channels) per sample: add an axis with `x[..., None]`"
    return ""


def _between_hint(kind: str, x: TensorV) -> str:
    if x.shape is None:
        return ""
    r = len(x.shape)
    if kind in ("LSTM", "GRU", "SimpleRNN", "Bidirectional") and r == 2:
        if x.rank_cause is not None and x.rank_cause.kind == "Flatten":
            return "; drop the `Flatten` (or `Reshape` to (timesteps, features))"
        return ("; give it a sequence: `return_sequences=True` on the recurrent layer before it, "
                "`RepeatVector`, or `Reshape` to (timesteps, features)")
    if kind.startswith(("Conv", "MaxPooling", "AveragePooling")) and r == 2:
        return "; `Reshape` the vector to (height, width, channels) first"
    if kind == "Dense" and r < 2:
        return ""
    return ""


_HOLDERS = frozenset({cst.Module, cst.IndentedBlock, cst.If, cst.Else, cst.For, cst.While, cst.With, cst.Try,
                      cst.TryStar, cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally, cst.ClassDef,
                      cst.FunctionDef, cst.Match, cst.MatchCase})


def _functions(module: cst.Module) -> list:
    """Every function of the module in source order (only statements are entered: no
    expression holds a def)."""
    out = []
    stack = [module]
    while stack:
        n = stack.pop()
        if type(n) is cst.FunctionDef:
            out.append(n)
        kids = [c for c in code_children(n) if type(c) in _HOLDERS]
        kids.reverse()
        stack.extend(kids)
    return out


def _statements(node: cst.CSTNode):
    """The statements (and small statements) under `node`, nested functions and classes not entered."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if type(n) in _STATEMENT_PARTS:
            stack.extend(code_children(n))


def _body(block) -> list:
    if isinstance(block, cst.IndentedBlock):
        return list(block.body)
    return [block]


class ShapeRule:
    """Mixin for the KM52x rules: report the module's issues of the rule's code (one analysis
    per module, shared)."""

    requires = ("keras",)

    def visit_Module(self, node: cst.Module) -> None:
        for issue in ShapeProgram.of(self).for_code(self.code):
            if issue.replacement is not None:
                self.report(issue.node, issue.message, replacement=issue.replacement, at=issue.at,
                            imports=issue.imports)
            else:
                self.report(issue.at if issue.at is not None else issue.node, issue.message)
