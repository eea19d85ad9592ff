"""KM501: a name read before it is assigned in a Keras `call()`, and the input `call()` ignores."""
from __future__ import annotations

from typing import Optional

import libcst as cst
from libcst.metadata import Assignment

from kmigrate.rule import KERAS_OR_TF, Rule, Safety, Severity
from kmigrate.walk import code_children, walk

from kmigrate.rules.analysis.keras_facts import Facts, FactsRule, call_reads, positional_params

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
