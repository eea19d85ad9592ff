"""KM510: models built in a loop without `keras.backend.clear_session()`."""
from __future__ import annotations

import ast
from typing import Optional

import libcst as cst

from kmigrate.rule import KERAS_OR_TF, Example, Rule, Safety

from kmigrate.rules.analysis.model_facts import ModuleFacts, ScopeFacts, is_clear_call, line_of, walk, walk_with_self
from kmigrate.rules.lint import bound_to, spelled, statements, statements_in

# Calls that keep an object alive after the iteration (the model is meant to survive).
_KEEPING_METHODS = frozenset({"append", "extend", "insert", "add", "update", "setdefault", "put",
                              "appendleft"})
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_MODELS = ("Sequential", "Model")


class ModelsInLoopWithoutClearSession(Rule):
    """
    ## What it does
    Finds a loop that builds a new Keras model on every pass (`Sequential(...)`, `Model(...)`,
    a `Model` subclass of the file, or a function of the file that builds one) and throws the
    previous one away, without calling `keras.backend.clear_session()` (or TF1's
    `reset_default_graph()`) anywhere in the loop or in what it calls. Loops that keep the
    models (append them to a list, store them, return them) are left alone: there, clearing
    the session would make their layer names collide.

    ## Why is this bad
    Keras keeps global state for every model it has built: layer-name counters and, with
    TensorFlow, graph and function caches. A hyper-parameter search or cross-validation loop
    therefore grows in memory and slows down pass after pass, and layer names keep counting
    (`dense_3`, `dense_4`, ...), so weights saved or looked up by name stop matching. The course
    notes say it too: build a new model after `K.clear_session()`, or the numbering goes on.

    ## Example
    ```python
    for units in (32, 64, 128):
        model = Sequential([Dense(units, activation="relu"), Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, y)
    ```
    should start the loop body with `keras.backend.clear_session()` (`K.clear_session()`).

    ## Fix safety
    None (report only): clearing the session also renames the layers of models built later and
    drops cached state, which the rest of the program may rely on.
    """

    code = "KM510"
    name = "model-in-loop-no-clear-session"
    summary = "A loop builds a new model on every pass without `keras.backend.clear_session()`"
    fix_safety = Safety.NONE
    triggers = ("Sequential", "Model")  # and `keras` (wants)
    needs_import = KERAS_OR_TF

    @classmethod
    def screen(cls, facts, context) -> bool:
        # `name = <call>` in a `for`/`while` loop whose callee may be a Sequential or Model, a model
        # class of the module, or a function of the module that calls one of those
        if not spelled(facts, _MODELS):
            return False
        callees = [x.value.func for s in statements(facts.tree) if type(s) in _LOOPS for x in statements_in(s.body)
                   if type(x) is ast.Assign and len(x.targets) == 1 and type(x.targets[0]) is ast.Name
                   and type(x.value) is ast.Call]
        if not callees:
            return False
        model = _ModelCallee(facts.tree)
        return any(model(f) or (type(f) is ast.Name and f.id in model.functions and any(
            type(n) is ast.Call and model(n.func) for n in ast.walk(model.functions[f.id]))) for f in callees)

    @classmethod
    def wants(cls, context) -> bool:
        return super().wants(context) and "keras" in context.text

    VALID = [
        "from tensorflow import keras\nfor u in (8, 16):\n    keras.backend.clear_session()\n"
        "    m = keras.Sequential([keras.layers.Dense(u)])\n    m.fit(x, y)\n",
        # an ensemble keeps every model
        "from tensorflow import keras\nmodels = []\nfor u in (8, 16):\n"
        "    m = keras.Sequential([keras.layers.Dense(u)])\n    models.append(m)\n",
        "from tensorflow import keras\nm = keras.Sequential([keras.layers.Dense(8)])\n"
        "for epoch in range(3):\n    m.fit(x, y)\n",
        # the builder clears the session itself
        "import keras\nfrom keras import backend as K\ndef build(u):\n    K.clear_session()\n"
        "    return keras.Sequential([keras.layers.Dense(u)])\nfor u in (8, 16):\n    m = build(u)\n",
    ]
    INVALID = [
        Example("from tensorflow import keras\nfor u in (8, 16):\n"
                "    m = keras.Sequential([keras.layers.Dense(u)])\n    m.fit(x, y)\n"),
        Example("import keras\ndef build(u):\n    return keras.Sequential([keras.layers.Dense(u)])\n"
                "while True:\n    m = build(8)\n    m.fit(x, y)\n"),
    ]

    def visit_Module(self, node: cst.Module) -> None:
        facts = self.facts = ModuleFacts.of(self)
        self._clearing: Optional[set] = None
        self._top_functions = {stmt.name.value: stmt for stmt in node.body if isinstance(stmt, cst.FunctionDef)}
        self._builders: dict[str, Optional[cst.FunctionDef]] = {}
        done: set[int] = set()
        for scope in facts.scopes:
            for st in scope.stmts:
                if not st.loops or not isinstance(st.node, cst.Assign):
                    continue
                targets = st.node.targets
                if len(targets) != 1 or not isinstance(targets[0].target, cst.Name):
                    continue
                what = self._builds_model(st.node.value, scope)
                if what is None:
                    continue
                loop = st.loops[-1]
                if id(loop) in done or any(self._clears(lp) for lp in st.loops):
                    continue
                name = targets[0].target.value
                if _kept(loop, name):
                    continue
                done.add(id(loop))
                self.report(
                    st.node.value,
                    f"{what} is built on every pass of the loop on line {line_of(self, loop)} and the "
                    f"previous one is dropped, without `keras.backend.clear_session()`: Keras' global "
                    f"state grows with each pass (memory, and layer names go on counting: `dense_3`, "
                    f"`dense_4`...). Call `keras.backend.clear_session()` (`K.clear_session()`) at "
                    f"the start of the loop body.",
                )

    @property
    def clearing(self) -> set:
        """The functions that clear the session (read only when a loop builds something)."""
        if self._clearing is None:
            text = self.context.text
            clears = "clear_session" in text or "reset_default_graph" in text  # else no function clears
            self._clearing = {fn for fns in self.facts.functions.values() for fn in fns
                              if clears and any(is_clear_call(n) for n in walk(fn.body, into_scopes=True))}
        return self._clearing

    @property
    def clearing_names(self) -> set[str]:
        return {fn.name.value for fn in self.clearing}

    def _builds_model(self, value: cst.BaseExpression, scope: ScopeFacts) -> Optional[str]:
        kind = self.facts.model_kind(value)
        if kind == "Sequential":
            return "a new `Sequential` model"
        if kind == "Model":
            return "a new `Model`"
        if kind == "class":
            return f"a new `{value.func.value}` model"
        builder = self._builder(value.func.value) if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) else None
        if builder is not None:
            binds = scope.bindings.get(value.func.value, [])
            if builder not in self.clearing and all(b.stmt is not None and b.stmt.node is builder for b in binds):
                return f"a new model (from `{value.func.value}()`)"
        return None

    def _builder(self, name: str) -> Optional[cst.FunctionDef]:
        """The module-level function `name` (defined once) if it builds a model, else None.

        A model made only to be applied as a layer (`ffn = Sequential([...])` then `ffn(x)`) is
        not built for its own sake, and a function that returns a tensor (`transformer_block(x)`
        stacking layers on its input) is a piece of one model, not a model per call."""
        if name not in self._builders:
            stmt = self._top_functions.get(name)
            if stmt is None or len(self.facts.functions.get(name, ())) != 1 \
                    or not any(self.facts.model_kind(n) and not _applied_as_layer(n, stmt)
                               for n in walk(stmt.body)) \
                    or _returns_tensor(stmt):
                stmt = None
            self._builders[name] = stmt
        return self._builders[name]

    def _clears(self, loop: cst.CSTNode) -> bool:
        clearing_names = self.clearing_names
        for n in walk(loop.body, into_scopes=True):
            if is_clear_call(n):
                return True
            if isinstance(n, cst.Call):
                f = n.func
                called = f.value if isinstance(f, cst.Name) else f.attr.value if isinstance(f, cst.Attribute) else None
                if called in clearing_names:
                    return True
        return False


def _kept(loop: cst.CSTNode, name: str) -> bool:
    """Whether the loop keeps the model alive beyond the pass (list, dict, alias, return...)."""
    for n in walk(loop.body, into_scopes=True):
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value in _KEEPING_METHODS:
            if any(_is(a.value, name) for a in n.args):
                return True
        elif isinstance(n, (cst.Element, cst.DictElement)):
            if _is(n.value, name):
                return True
        elif isinstance(n, (cst.Assign, cst.AnnAssign)) and n.value is not None and _is(n.value, name):
            return True
        elif isinstance(n, (cst.Return, cst.Yield)) and n.value is not None:
            if any(isinstance(x, cst.Name) and x.value == name for x in walk_with_self(n.value)):
                return True
        elif isinstance(n, (cst.Global, cst.Nonlocal)):
            if any(item.name.value == name for item in n.names):
                return True
    return False


def _is(expr: cst.BaseExpression, name: str) -> bool:
    return isinstance(expr, cst.Name) and expr.value == name


def _applied_as_layer(ctor: cst.CSTNode, fn: cst.FunctionDef) -> bool:
    """`Sequential([...])(x)`, or `name = Sequential([...])` whose every use in `fn` is `name(...)`."""
    calls = [n for n in walk(fn.body) if isinstance(n, cst.Call)]
    if any(c.func is ctor for c in calls):
        return True
    assigns = [n for n in walk(fn.body) if isinstance(n, cst.Assign) and n.value is ctor]
    if len(assigns) != 1 or len(assigns[0].targets) != 1 or not isinstance(assigns[0].targets[0].target, cst.Name):
        return False
    name = assigns[0].targets[0].target.value
    uses = [n for n in walk(fn.body) if isinstance(n, cst.Name) and n.value == name
            and n is not assigns[0].targets[0].target]
    called = [c.func for c in calls if isinstance(c.func, cst.Name) and c.func.value == name]
    return bool(uses) and len(uses) == len(called)


def _returns_tensor(fn: cst.FunctionDef) -> bool:
    """Every `return` gives a layer's output: `Layer(...)(x)`, `x + y` of such, or a name last bound to one."""
    returns = [n for n in walk(fn.body) if isinstance(n, cst.Return)]
    if not returns:
        return False
    assigned: dict[str, list] = {}
    for n in walk(fn.body):
        if isinstance(n, cst.Assign):
            for t in n.targets:
                if isinstance(t.target, cst.Name):
                    assigned.setdefault(t.target.value, []).append(n.value)

    def tensor(e, depth=0) -> bool:
        if depth > 5 or e is None:
            return False
        if isinstance(e, cst.Call):
            return isinstance(e.func, cst.Call)  # Layer(...)(x)
        if isinstance(e, cst.BinaryOperation):
            return tensor(e.left, depth + 1) or tensor(e.right, depth + 1)
        if isinstance(e, cst.Name):
            values = assigned.get(e.value, [])
            return bool(values) and all(tensor(v, depth + 1) for v in values)
        return False

    return all(tensor(r.value) for r in returns)


class _ModelCallee:
    """Whether a callee may be what `_builds_model` takes for a model: `<x>.Sequential`/`<x>.Model`,
    a name imported as one of them or bound to an alias, a class of the module."""

    def __init__(self, tree: ast.Module):
        self.bound = bound_to(tree)
        self.classes = {s.name for s in tree.body if type(s) is ast.ClassDef}
        self.functions = {s.name: s for s in tree.body if type(s) in (ast.FunctionDef, ast.AsyncFunctionDef)}

    def __call__(self, f: ast.AST) -> bool:
        while type(f) is ast.Call or type(f) is ast.Subscript:  # `Sequential(...)(x)`: named as kmigrate.names does
            f = f.func if type(f) is ast.Call else f.value
        if type(f) is ast.Attribute:
            return f.attr in _MODELS
        if type(f) is ast.Name:
            return f.id in _MODELS or f.id in self.classes or any(
                p is None or p.rpartition(".")[2] in _MODELS for p in self.bound.get(f.id, ()))
        return False  # no dotted name
