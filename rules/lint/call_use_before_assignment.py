"""KM501: a name read before it is assigned in a Keras `call()`, and the input `call()` ignores."""
from __future__ import annotations

import ast
from typing import Optional

import libcst as cst
from libcst.metadata import Assignment

from kmigrate.rule import KERAS_OR_TF, Rule, Safety, Severity
from kmigrate.walk import code_children, walk

from kmigrate.rules.analysis.keras_facts import Facts, FactsRule, call_reads, positional_params
from kmigrate.rules.lint import spelled, statements

_LOOPS = (cst.For, cst.While)


class CallUseBeforeAssignment(FactsRule, Rule):
    """
    ## What it does
    In the `call()` method of a `Model` or `Layer` subclass, reports a local name that is read
    before anything is assigned to it (Python raises `UnboundLocalError` the first time the
    model is called), and the input parameter of `call()` that is never used.

    Only what is certain is reported: a name counts as assigned as soon as any assignment to it
    comes earlier (in any branch), and a read inside a loop that assigns the name is left alone.
    The unused input is reported for models, and for layers when a name is also read before
    assignment (the typo case).

    ## Why is this bad
    The classic slip is renaming the parameter: `def call(self, inputs): x = self.dense1(x)`.
    The model cannot run at all, or, if `x` happens to exist elsewhere, computes on the wrong
    tensor while `inputs` is silently ignored.

    ## Example
    ```python
    class MyModel(keras.Model):
        def call(self, inputs):
            x = self.dense1(x)        # KM501: `x` is read before it is assigned
            return self.dense2(x)
    ```
    Use the parameter: `x = self.dense1(inputs)`.

    ## Fix safety
    No fix: which tensor was meant is for the author to say.
    """

    code = "KM501"
    name = "call-use-before-assignment"
    summary = "`call()` reads a name before assigning it, or never uses its input"
    severity = Severity.ERROR
    fix_safety = Safety.NONE
    triggers = ("def call",)
    needs_import = KERAS_OR_TF

    @classmethod
    def screen(cls, facts, context) -> bool:
        # a `call` method of a class with a base that reads a local name before its binding takes
        # effect, or (a model's: Model or Sequential spelled) never reads its second parameter
        if "call" not in facts.functions:
            return False
        models = spelled(facts, ("Model", "Sequential"))
        return any(type(m) in _AST_DEFS and m.name == "call" and _call_may_report(m, models)
                   for c in statements(facts.tree) if type(c) is ast.ClassDef and c.bases for m in c.body)

    VALID = [
        "from tensorflow import keras\n"
        "class M(keras.Model):\n"
        "    def call(self, inputs):\n"
        "        x = self.d1(inputs)\n"
        "        return self.d2(x)\n",
        # assigned in a loop before being read on the next round
        "from tensorflow import keras\n"
        "class M(keras.Model):\n"
        "    def call(self, inputs):\n"
        "        for layer in self.blocks:\n"
        "            if layer is not self.blocks[0]:\n"
        "                inputs = inputs + prev\n"
        "            prev = layer(inputs)\n"
        "        return prev\n",
        # a layer may ignore its input on purpose (a learned constant)
        "from tensorflow import keras\n"
        "class Bias(keras.layers.Layer):\n"
        "    def call(self, inputs):\n"
        "        return self.bias\n",
        # not a Keras class
        "class Helper:\n"
        "    def call(self, inputs):\n"
        "        x = f(x)\n"
        "        x = 1\n",
    ]
    INVALID = [
        "from tensorflow import keras\n"
        "class M(keras.Model):\n"
        "    def call(self, inputs):\n"
        "        x = self.d1(x)\n"
        "        return self.d2(x)\n",
        "import keras\n"
        "class M(keras.Model):\n"
        "    def call(self, inputs, training=None):\n"
        "        return self.head(self.body)\n",
    ]

    def check(self, facts: Facts) -> None:
        for kc in facts.keras_classes.values():
            fn = kc.methods.get("call")
            if fn is None or not isinstance(fn.body, cst.IndentedBlock) or not fn.body.body:
                continue
            reads = call_reads(fn)  # from the names alone, when they leave no doubt (None: a match, ...)
            if reads is None and any(isinstance(n, cst.Match) for n in walk(fn)):
                continue
            if reads is not None and not reads.maybe_unbound:
                params = positional_params(fn)
                if kc.kind != "model" or len(params) < 2 or params[1].name.value in reads.reads:
                    continue  # nothing for the scope analysis to find: no name read early, input used
            scopes = self.meta.function_scopes(fn)
            scope = scopes.get(fn.body.body[0])
            if scope is None:
                continue
            early = self._used_before_assignment(facts, fn, scope, scopes)
            params = positional_params(fn)
            if len(params) < 2 or fn.decorators:
                continue
            inp = params[1]
            if inp.name.value.startswith("_") or inp.star:
                continue
            if _trivial(fn) or _uses_locals(fn):
                continue
            assigned = [a for a in scope.assignments[inp.name.value] if isinstance(a, Assignment)]
            if any(a.references for a in assigned):
                continue
            if kc.kind != "model" and not early:
                continue
            hint = f" (`{early[0]}` is read before it is assigned: did you mean `{inp.name.value}`?)" if early else ""
            self.report(inp.name, f"`call()` never uses its input `{inp.name.value}`: the "
                        f"{'model' if kc.kind == 'model' else 'layer'} ignores what it is called on{hint}",
                        severity=Severity.WARNING)

    def _used_before_assignment(self, facts: Facts, fn: cst.FunctionDef, scope, scopes) -> list[str]:
        pos = _SourceOrder(fn)

        params = {p.name.value for p in (*fn.params.posonly_params, *fn.params.params, *fn.params.kwonly_params)}
        for p in (fn.params.star_arg, fn.params.star_kwarg):
            if isinstance(p, cst.Param):
                params.add(p.name.value)
        reported: list[str] = []
        # `x += 1` reads x too, but LibCST records the target only as an assignment
        reads = [a.node for a in scope.accesses if not (a.is_annotation or a.is_type_hint)]
        reads += [n.target for n in walk(fn) if isinstance(n, cst.AugAssign) and isinstance(n.target, cst.Name)
                  and scopes.get(n.target) is scope]
        reads.sort(key=lambda n: pos.start(n))
        for node in reads:
            if not isinstance(node, cst.Name):
                continue
            name = node.value
            if name in params or name in reported:
                continue
            local = [a for a in scope.assignments[name] if isinstance(a, Assignment) and a.scope is scope]
            if not local:
                continue
            start = pos.start(node)
            effective = [self._bound_at(facts, a.node, pos) for a in local]
            if any(e is None or e <= start for e in effective):
                continue
            if self._in_loop_assigning(facts, node, fn, {id(a.node) for a in local}):
                continue
            reported.append(name)
            self.report(node, f"`{name}` is read before it is assigned in `call()`: "
                        f"UnboundLocalError the first time the model runs")
        return reported

    @staticmethod
    def _bound_at(facts: Facts, target: cst.CSTNode, pos: "_SourceOrder") -> Optional[int]:
        """Where a binding takes effect: after the value of an assignment, the iterable of a for..."""
        node, child = facts.parent.get(target), target
        while node is not None:
            if isinstance(node, (cst.Assign, cst.AugAssign, cst.AnnAssign)):
                return pos.end(node)
            if isinstance(node, (cst.For, cst.CompFor)) and child is node.target:
                return pos.end(node.iter)
            if isinstance(node, (cst.WithItem, cst.NamedExpr)):
                return pos.end(node)
            if isinstance(node, (cst.BaseSmallStatement, cst.BaseCompoundStatement, cst.ExceptHandler,
                                 cst.FunctionDef, cst.ClassDef, cst.Param)):
                return pos.start(node)
            node, child = facts.parent.get(node), node
        return None

    @staticmethod
    def _in_loop_assigning(facts: Facts, node: cst.CSTNode, fn, assignment_ids: set[int]) -> bool:
        n = facts.parent.get(node)
        while n is not None and n is not fn:
            if isinstance(n, _LOOPS):
                if any(id(x) in assignment_ids for x in walk(n)):
                    return True
            n = facts.parent.get(n)
        return False


class _SourceOrder:
    """Where nodes of a function start and end, as indices in source order (a depth-first walk):
    enough to compare positions, and much cheaper than line and column numbers."""

    def __init__(self, fn: cst.FunctionDef):
        self._start: dict[cst.CSTNode, int] = {}
        self._end: dict[cst.CSTNode, int] = {}
        i = 0
        stack: list = [fn]
        while stack:
            item = stack.pop()
            if type(item) is tuple:
                self._end[item[0]] = i
                continue
            self._start[item] = i
            i += 1
            stack.append((item,))
            kids = code_children(item)
            kids.reverse()
            stack.extend(kids)

    def start(self, node: cst.CSTNode) -> int:
        return self._start[node]

    def end(self, node: cst.CSTNode) -> int:
        return self._end[node]


def _trivial(fn: cst.FunctionDef) -> bool:
    """A body that only has a docstring, `pass`, `...` or a raise: an abstract `call()`."""
    for stmt in fn.body.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for s in stmt.body:
                if isinstance(s, cst.Pass) or isinstance(s, cst.Raise):
                    continue
                if isinstance(s, cst.Expr) and isinstance(s.value, (cst.SimpleString, cst.ConcatenatedString, cst.Ellipsis)):
                    continue
                return False
        else:
            return False
    return True


def _uses_locals(fn: cst.FunctionDef) -> bool:
    return any(isinstance(n, cst.Name) and n.value in ("locals", "vars", "eval", "exec") for n in walk(fn))


# ---------------------------------------------------------------------------- screen (`ast`)

_AST_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
_AST_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_AST_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, *_AST_COMPREHENSIONS)
_AST_TARGETS = (ast.Assign, ast.AugAssign, ast.For, ast.AsyncFor, ast.With, ast.AsyncWith)
# What of a nested def, class or lambda the enclosing scope evaluates (its reads are there).
_OUTER_FIELDS = {ast.FunctionDef: ("decorator_list", "args", "returns"),
                 ast.AsyncFunctionDef: ("decorator_list", "args", "returns"),
                 ast.ClassDef: ("decorator_list", "bases", "keywords"), ast.Lambda: ("args",)}


def _call_may_report(fn, models: bool) -> bool:
    """Whether CallUseBeforeAssignment could report on this `call()`: a name other than a
    parameter is read in the method's own scope (where LibCST records it: not in the bodies of
    nested defs, classes and lambdas, nor in a comprehension past its first iterable) before each
    of its bindings in that scope takes effect, at `_bound_at`'s place or later (the end of an
    assignment, of a `for` iterable, of a `with` item, of a `:=`; the start of an import, a def,
    a class, an `except` clause), or it is bound there another way (a match capture, an
    annotation without a value); or, `models` (the class may be a model), the second positional
    parameter is not read in the method's own scope."""
    a = fn.args
    positional = [p.arg for p in (*a.posonlyargs, *a.args)]
    skip = {*positional, *(p.arg for p in a.kwonlyargs), *(p.arg for p in (a.vararg, a.kwarg) if p is not None)}
    first_read: dict = {}  # name -> where it is first read
    bound_at: dict = {}  # name -> where its first binding takes effect
    other: set = set()  # names bound in other ways
    own_loads: set = set()

    def bind(name: str, at: tuple) -> None:
        if at < bound_at.get(name, _NEVER):
            bound_at[name] = at

    # (node, its statement, where a target there binds, in a nested scope, its names read elsewhere)
    stack: list = [(s, None, None, False, False) for s in fn.body]
    while stack:
        n, stmt, effect, nested, elsewhere = stack.pop()
        kind = type(n)
        if isinstance(n, ast.stmt):
            stmt, effect = n, (n.end_lineno, n.end_col_offset)
            if not nested:
                start = (n.lineno, n.col_offset)
                if kind in _AST_DEFS or kind is ast.ClassDef:
                    bind(n.name, start)
                elif kind is ast.Import or kind is ast.ImportFrom:
                    for x in n.names:
                        bind((x.asname or x.name).split(".")[0], start)
                elif kind is ast.Global or kind is ast.Nonlocal:
                    skip.update(n.names)  # bound in another scope: never reported
        elif kind is ast.Name:
            if elsewhere:
                continue
            at, ctx = (n.lineno, n.col_offset), type(n.ctx)
            if ctx is not ast.Store or type(stmt) is ast.AugAssign:  # `x += 1` reads x
                if at < first_read.get(n.id, _NEVER):
                    first_read[n.id] = at
                if ctx is ast.Load and not nested:
                    own_loads.add(n.id)
            if ctx is ast.Store and not nested:
                if type(stmt) in _AST_TARGETS or (type(stmt) is ast.AnnAssign and stmt.value is not None):
                    bind(n.id, effect)
                else:
                    other.add(n.id)  # an annotation without a value...
            continue
        elif kind is ast.withitem and n.optional_vars is not None:
            effect = (n.optional_vars.end_lineno, n.optional_vars.end_col_offset)
        elif kind is ast.ExceptHandler and n.name and not nested:
            bind(n.name, (n.lineno, n.col_offset))
        elif kind is ast.NamedExpr:  # binds in the function, also from a comprehension
            bind(n.target.id, (n.end_lineno, n.end_col_offset))
            stack.append((n.value, stmt, effect, nested, elsewhere))
            continue
        elif kind in _AST_COMPREHENSIONS:
            # the first iterable is read where the comprehension is; the rest in its own scope
            first = n.generators[0]
            stack.append((first.iter, stmt, effect, nested, elsewhere))
            rest = [first.target, *first.ifs, *n.generators[1:]]
            rest += [n.key, n.value] if kind is ast.DictComp else [n.elt]
            stack.extend((x, stmt, effect, True, True) for x in rest)
            continue
        elif kind.__name__ in ("MatchAs", "MatchStar", "MatchMapping") and not nested:
            other.add(getattr(n, "name", None) or getattr(n, "rest", None) or "")
        inner = nested or kind in _AST_NESTED
        for field in _OUTER_FIELDS.get(kind, kind._fields):  # not the bodies of nested scopes
            v = getattr(n, field, None)
            here = (n.iter.end_lineno, n.iter.end_col_offset) if field == "target" and (
                kind is ast.For or kind is ast.AsyncFor) else effect
            if type(v) is list:
                stack.extend((x, stmt, here, inner, elsewhere) for x in v if isinstance(x, ast.AST))
            elif isinstance(v, ast.AST):
                stack.append((v, stmt, here, inner, elsewhere))
    if models and len(positional) >= 2 and not positional[1].startswith("_") and positional[1] not in own_loads:
        return True
    return any(name not in skip and (name in other or at < bound_at.get(name, _BEFORE_ALL))
               for name, at in first_read.items())


_NEVER = (1 << 62, 0)  # after any position
_BEFORE_ALL = (0, 0)
