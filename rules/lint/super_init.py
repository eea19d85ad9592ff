"""KM505: `super().__init__()` missing or late in a Model/Layer subclass; `super(Cls, self)`."""
from __future__ import annotations

import ast
import re
from typing import Optional

import libcst as cst

from kmigrate.rule import KERAS_OR_TF, Example, Rule, Safety, Severity
from kmigrate.walk import code_children

from kmigrate.rules.analysis.keras_facts import MODEL_BASES, Facts, FactsRule, KerasClass, _attr_targets, _params, nodes_of
from kmigrate.rules.lint import calls_and_attributes, push_children, statements


def _is_init_call(node: cst.CSTNode) -> bool:
    """`super().__init__(...)`, `super(C, self).__init__(...)`, `Base.__init__(self, ...)`."""
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "__init__"


class SuperInit(FactsRule, Rule):
    """
    ## What it does
    In a `Model` or `Layer` subclass:

    - reports an `__init__` that never calls `super().__init__()` (error);
    - notes (info) a layer assigned to `self.x` before `super().__init__()` is called (tf.keras 2
      raised; Keras 3 accepts it, and its functional subclassing, `super().__init__(inputs,
      outputs)` after building the layers, is left alone);
    - rewrites the Python 2 spelling `super(Cls, self).method(...)` to `super().method(...)`
      (info), and reports `super(self.__class__, self)`, which recurses forever in a subclass.

    ## Why is this bad
    Keras sets up a layer's tracking, name and dtype in `Layer.__init__`. Without it Keras 3
    raises "you forgot to call `super().__init__()`" when the layer is first used; tf.keras 2
    already raised when a layer was assigned before it. `super(Cls, self)` is only noise in
    Python 3 and breaks when the class is renamed; `super(self.__class__, self)` calls the same
    method again from a subclass, without end.

    ## Example
    ```python
    class MyModel(keras.Model):
        def __init__(self):
            super(MyModel, self).__init__()
            self.dense1 = layers.Dense(20)
    ```
    becomes `super().__init__()`.

    ## Fix safety
    Safe for `super(Cls, self)` inside a method of `Cls` (the same class and instance as the
    zero-argument form; decorated classes, which may be replaced, are left alone). Unsafe for
    `super(self.__class__, self)` (it changes which method runs in subclasses: the point).
    A missing or late `super().__init__()` is reported only.
    """

    code = "KM505"
    name = "super-init"
    summary = "Model/Layer subclass: missing or late `super().__init__()`; Python 2 `super(Cls, self)`"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("__init__", "super")
    needs_import = KERAS_OR_TF

    @classmethod
    def screen(cls, facts, context) -> bool:
        # `super(...)` with arguments, or a class with a base whose `__init__` calls no `__init__`,
        # or assigns a call's result before its first (non-functional) one
        if _maybe_super_with_args(context.text) and _super_with_args(facts.tree):
            return True
        return "__init__" in facts.functions and any(
            type(s) is ast.ClassDef and s.bases and _init_may_report(s) for s in statements(facts.tree))

    VALID = [
        "from tensorflow import keras\n"
        "class M(keras.Model):\n"
        "    def __init__(self, units, **kwargs):\n"
        "        self.units = units\n"
        "        super().__init__(**kwargs)\n"
        "        self.d = keras.layers.Dense(units)\n",
        "from tensorflow import keras\n"
        "class M(keras.layers.Layer):\n"
        "    def __init__(self):\n"
        "        keras.layers.Layer.__init__(self)\n",
        "class Plain:\n"
        "    def __init__(self):\n"
        "        self.x = 1\n",
    ]
    INVALID = [
        Example("from tensorflow import keras\n"
                "class M(keras.Model):\n"
                "    def __init__(self):\n"
                "        super(M, self).__init__()\n",
                "from tensorflow import keras\n"
                "class M(keras.Model):\n"
                "    def __init__(self):\n"
                "        super().__init__()\n"),
        Example("from tensorflow import keras\n"
                "class M(keras.layers.Layer):\n"
                "    def __init__(self, n):\n"
                "        self.n = n\n"),
        Example("from tensorflow import keras\n"
                "class M(keras.Model):\n"
                "    def __init__(self):\n"
                "        self.d = keras.layers.Dense(3)\n"
                "        super().__init__()\n"),
    ]

    def check(self, facts: Facts) -> None:
        # The module's calls, not a walk of each class: `super(A, b)` and `*.__init__(...)` calls.
        two_args = any(type(c.func) is cst.Name and c.func.value == "super" and len(c.args) == 2 for c in facts.calls)
        inits = [c for c in facts.calls if _is_init_call(c)]
        for kc in facts.keras_classes.values():
            if two_args:
                self._py2_super(facts, kc)
            init = kc.methods.get("__init__")
            if init is None or not isinstance(init.body, cst.IndentedBlock):
                continue
            if not any(facts.inside(c, kc.node) for c in inits):
                if not _abstract(init):
                    self.report(init.name, f"`{kc.node.name.value}.__init__` never calls `super().__init__()`: "
                                f"Keras raises when the {kc.kind} is used; call it first")
                continue
            self._late_init(facts, kc, init)

    def _late_init(self, facts: Facts, kc: KerasClass, init: cst.FunctionDef) -> None:
        params = _params(init)
        if not params:
            return
        me = params[0].value
        for stmt in init.body.body:
            calls = [n for n in nodes_of(stmt) if _is_init_call(n)]
            if calls:
                if any(_functional_init(c) for c in calls):
                    return  # Keras 3 functional subclassing: layers first, then super().__init__(inputs, outputs)
                break
        else:
            return
        for stmt in init.body.body:
            if any(_is_init_call(n) for n in nodes_of(stmt)):
                return
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if not isinstance(small, cst.Assign) or not isinstance(small.value, cst.Call):
                    continue
                func = small.value.func
                trackable = facts.layer_kind(func) is not None or facts.keras_name(func) in MODEL_BASES
                if not trackable:
                    continue
                for t in small.targets:
                    for a in _attr_targets(t.target, me):
                        self.report(a, f"layer `{me}.{a.attr.value}` is assigned before `super().__init__()`: "
                                    f"tf.keras 2 raised here (Keras 3 accepts it); call `super().__init__()` first",
                                    severity=Severity.INFO)

    def _py2_super(self, facts: Facts, kc: KerasClass) -> None:
        cls = kc.node
        for fn in kc.methods.values():
            params = _params(fn)
            if not params or any(_decorator_name(d) in ("staticmethod", "classmethod")
                                                            for d in fn.decorators):
                continue
            me = params[0].value
            for n in _walk_no_nested(fn):
                if not (isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and n.func.value == "super"
                        and len(n.args) == 2 and all(a.keyword is None and not a.star for a in n.args)):
                    continue
                first, second = n.args[0].value, n.args[1].value
                if not (isinstance(second, cst.Name) and second.value == me):
                    continue
                if isinstance(first, cst.Name) and first.value == cls.name.value and not cls.decorators:
                    self.report(n, f"`super({first.value}, {me})` is the Python 2 spelling: use `super()`",
                                cst.Call(func=cst.Name("super")), severity=Severity.INFO)
                elif (isinstance(first, cst.Attribute) and first.attr.value == "__class__"
                      and isinstance(first.value, cst.Name) and first.value.value == me):
                    self.report(n, f"`super({me}.__class__, {me})` recurses forever when the class is "
                                f"subclassed: use `super()`", cst.Call(func=cst.Name("super")),
                                safety=Safety.UNSAFE, severity=Severity.WARNING)


def _functional_init(call: cst.Call) -> bool:
    return any(a.keyword is None and not a.star for a in call.args) or any(
        a.keyword is not None and a.keyword.value in ("inputs", "outputs") for a in call.args)


def _decorator_name(d: cst.Decorator) -> Optional[str]:
    dec = d.decorator
    return dec.value if isinstance(dec, cst.Name) else None


def _abstract(fn: cst.FunctionDef) -> bool:
    body = fn.body.body
    return len(body) <= 2 and any(
        isinstance(s, cst.SimpleStatementLine) and any(isinstance(x, cst.Raise) for x in s.body) for s in body)


def _walk_no_nested(fn: cst.FunctionDef):
    """The nodes of a function body, not those of nested functions, classes or lambdas
    or comprehensions: zero-argument `super()` needs the method's own frame)."""
    stack = code_children(fn.body)
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, (cst.FunctionDef, cst.ClassDef, cst.Lambda, cst.ListComp, cst.SetComp,
                          cst.DictComp, cst.GeneratorExp)):
            continue
        stack.extend(code_children(n))


# ---------------------------------------------------------------------------- screen (`ast`)


# What follows `super` in `super(Cls, self)`: `(` not followed by `)`, with anything the tokenizer
# skips (or a `)`: `(super)(...)`) before it.
_ARGS_AFTER_SUPER = re.compile(r"(?:\s|\\|\)|#[^\n]*)*\((?!\))")


def _maybe_super_with_args(text: str) -> bool:
    """The word `super` followed by arguments in the text: every `super(Cls, self)` of the code
    (and maybe a comment or a docstring)."""
    i = text.find("super")
    while i != -1:
        if (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")) and _ARGS_AFTER_SUPER.match(text, i + 5):
            return True
        i = text.find("super", i + 5)
    return False


def _super_with_args(tree: ast.AST) -> bool:
    """A call `super(...)` with a positional argument (when the text may have one)."""
    return any(type(n.func) is ast.Name and n.func.id == "super" and n.args for n in calls_and_attributes(tree)[0])


def _init_may_report(cls: ast.ClassDef) -> bool:
    """Whether SuperInit.check could report on an `__init__` of this class: its body calls no
    `X.__init__(...)` (it may be missing), or the first statement that calls one does so without
    the functional form (`super().__init__(inputs, outputs)`) and comes after an assignment of a
    call's result."""
    for init in cls.body:
        if type(init) not in (ast.FunctionDef, ast.AsyncFunctionDef) or init.name != "__init__":
            continue
        for i, stmt in enumerate(init.body):
            calls = _init_calls(stmt)
            if calls:
                if not any(_functional_ast(c) for c in calls) and any(
                        type(s) is ast.Assign and type(s.value) is ast.Call for s in init.body[:i]):
                    return True
                break
        else:
            return True
    return False


def _init_calls(node: ast.AST) -> list:
    """The calls `<x>.__init__(...)` under a node (a walk like `ast.walk`'s, faster)."""
    out = []
    stack = [node]
    Call, Attribute = ast.Call, ast.Attribute
    while stack:
        n = stack.pop()
        kind = type(n)
        if kind is Call and type(n.func) is Attribute and n.func.attr == "__init__":
            out.append(n)
        push_children(stack, n, kind)
    return out


def _functional_ast(call: ast.Call) -> bool:
    """`_functional_init` on an `ast` call."""
    return any(type(a) is not ast.Starred for a in call.args) or any(
        k.arg in ("inputs", "outputs") for k in call.keywords)
