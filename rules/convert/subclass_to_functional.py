"""KM403: a straight-line `keras.Model` subclass -> a function building the same functional model."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from kmigrate.rule import KERAS_OR_TF, Example, FileContext, Rule, Safety, Severity

from kmigrate.rules.convert.common import (
    STATELESS_LAYERS,
    Code,
    Refusal,
    Speller,
    all_names,
    fresh,
    input_spec,
    name_uses,
    parent_map,
    parse_statements,
    single_name_target,
    walk,
)


def _is_docstring(stmt) -> bool:
    return (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
            and isinstance(stmt.body[0], cst.Expr) and isinstance(stmt.body[0].value, (cst.SimpleString,
                                                                                       cst.ConcatenatedString)))


def _self_attr(node, self_name: str) -> Optional[str]:
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == self_name:
        return node.attr.value
    return None


class SubclassToFunctional(Rule):
    """
    ## What it does
    With `--to functional`, rewrites a `keras.Model` subclass whose `__init__` only creates layers
    (`self.x = Layer(...)`) and whose `call` applies them in a straight line (the course's LeNet)
    as a function with the same name that builds the same model with the functional API, so
    `LeNet()` keeps working. A stateless layer used twice (pooling, `Flatten`, `Dropout`...)
    becomes two instances. The input shape comes from `input_shape=` on the first layer applied
    in `call` (which Keras ignores in a subclass).

    It refuses, with a finding that says why, when a layer with weights is used twice, the input
    shape is not written, `__init__` or `call` do anything else (branches, `training=`, tensor
    arithmetic), the class has other methods, or the class is used as a type (`isinstance`, a
    base class) or its layer attributes are read from outside.

    ## Why is this bad
    A subclassed model is opaque to Keras: no `summary()` before it is called, no
    `get_config`/`clone_model`, no plotting, and the `input_shape=` given to its first layer is
    silently ignored. A straight-line subclass gains nothing from being a subclass.

    ## Example
    ```python
    class MLP(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(20, activation="relu", input_shape=(10,))
            self.out = layers.Dense(10)

        def call(self, inputs):
            x = self.hidden(inputs)
            return self.out(x)
    ```
    becomes
    ```python
    def MLP():
        inputs = keras.Input(shape=(10,))
        x = layers.Dense(20, activation="relu")(inputs)
        outputs = layers.Dense(10)(x)
        return keras.Model(inputs=inputs, outputs=outputs)
    ```

    ## Fix safety
    Safe, and applied only with `--to functional`: the model has the same weighted layers,
    parameters and outputs (checked with TensorFlow for every fixture); the class disappears, so
    any use of it as a type is refused.
    """

    code = "KM403"
    name = "subclass-to-functional"
    summary = "Straight-line Model subclass -> function building a functional model (with --to functional)"
    severity = Severity.WARNING
    fix_safety = Safety.SAFE
    opt_in = True
    triggers = ("Model",)
    needs_import = KERAS_OR_TF

    VALID = [
        Example("from tensorflow import keras\nclass M(keras.Model):\n    def __init__(self):\n"
                "        super().__init__()\n        self.d = keras.layers.Dense(1, input_shape=(3,))\n"
                "    def call(self, x):\n        return self.d(x)\n"),
    ]
    INVALID = [
        Example(
            "from tensorflow import keras\n"
            "class M(keras.Model):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.d = keras.layers.Dense(1, input_shape=(3,))\n"
            "    def call(self, x):\n"
            "        return self.d(x)\n",
            "from tensorflow import keras\n"
            "def M():\n"
            "    x = keras.Input(shape=(3,))\n"
            "    outputs = keras.layers.Dense(1)(x)\n"
            "    return keras.Model(inputs=x, outputs=outputs)\n",
            {"to": "functional"},
        ),
    ]

    @classmethod
    def wants(cls, context: FileContext) -> bool:
        return context.to == "functional"

    def __init__(self, context: FileContext):
        super().__init__(context)
        self.classes: list[tuple[cst.ClassDef, cst.CSTNode]] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        bases = [a for a in node.bases]
        if len(bases) == 1 and bases[0].keyword is None and not bases[0].star:
            if self.resolver.keras_name(bases[0].value) in ("Model", "models.Model"):
                self.classes.append((node, bases[0].value))

    def leave_Module(self, original_node: cst.Module) -> None:
        if not self.classes:
            return
        self.parents = parent_map(self.module)
        self.src = Code(self.module)
        self.names = all_names(self.module)
        self.speller = Speller(self, self.module, self.names)
        for cls, base in self.classes:
            try:
                self._convert(cls, base)
            except Refusal as r:
                self.report(r.node or cls, f"model subclass `{cls.name.value}` not converted to functional: "
                            f"{r.message}", at=cls.name)

    def _convert(self, cls: cst.ClassDef, base: cst.CSTNode) -> None:
        body = list(cls.body.body) if isinstance(cls.body, cst.IndentedBlock) else []
        if not any(isinstance(s, cst.FunctionDef) and s.name.value == "call" for s in body):
            return  # no `call`: not a subclassed model (e.g. `super().__init__(inputs, outputs)`)
        if cls.decorators or cls.keywords:
            raise Refusal("the class has decorators or keywords")
        if not isinstance(self.parents.get(cls), (cst.Module, cst.IndentedBlock)):
            raise Refusal("the class is not a statement of its own")
        methods: dict[str, cst.FunctionDef] = {}
        docstring = None
        body = list(cls.body.body) if isinstance(cls.body, cst.IndentedBlock) else []
        for i, stmt in enumerate(body):
            if i == 0 and _is_docstring(stmt):
                docstring = stmt
            elif isinstance(stmt, cst.FunctionDef) and stmt.name.value in ("__init__", "call"):
                if stmt.decorators or stmt.asynchronous:
                    raise Refusal(f"`{stmt.name.value}` is decorated or async", stmt)
                methods[stmt.name.value] = stmt
            elif isinstance(stmt, cst.FunctionDef):
                raise Refusal(f"the class defines `{stmt.name.value}` besides `__init__` and `call`", stmt)
            else:
                raise Refusal("the class body holds more than `__init__` and `call`", stmt)
        if "__init__" not in methods:
            raise Refusal("the class has no `__init__` creating its layers")
        init, call = methods["__init__"], methods["call"]
        self_name, init_params = self._params(init)
        layers = self._layers(init, self_name)
        call_self, inputs, stmts, result = self._call_body(call)
        # which layers are applied, in order
        applied: list[str] = []
        for node in [*stmts, result]:
            for n in walk(node):
                if isinstance(n, cst.Call) and _self_attr(n.func, call_self):
                    applied.append(_self_attr(n.func, call_self))
        for attr in layers:
            if attr not in applied:
                raise Refusal(f"`self.{attr}` is created but never used in `call`", layers[attr])
        for attr in set(applied):
            if attr not in layers:
                raise Refusal(f"`self.{attr}` is not created in `__init__`")
            if applied.count(attr) > 1:
                kname = self.resolver.keras_name(layers[attr].func)
                if kname not in STATELESS_LAYERS:
                    raise Refusal(f"`self.{attr}` is used {applied.count(attr)} times and has weights (a shared "
                                  "layer); a functional model would need the same sharing", layers[attr])
        first = self._first_applied(stmts, result, call_self, inputs)
        spec = input_spec(layers[first], self.resolver, self.src, "the model")
        if spec is None or spec.layer is None:
            raise Refusal(f"no input shape: a subclassed model is built on its first call; give `self.{first}` "
                          "`input_shape=...` (or write the function by hand)", layers[first])
        for attr, ctor in layers.items():
            if attr != first and any(self.src(k.keyword) in ("input_shape", "batch_input_shape")
                                     for k in ctor.args if k.keyword):
                raise Refusal(f"`self.{attr}` is not the first layer applied but has an input shape", ctor)
        self._check_uses(cls, set(layers))

        input_name, imports = self.speller.spell(base, "Input")
        model_name, more = self.speller.spell(base, "Model")
        imports += more
        ctors = {attr: (spec.layer if attr == first else ctor) for attr, ctor in layers.items()}
        swap = _SwapSelf(call_self, ctors)
        new_stmts: list[cst.BaseStatement] = []
        if docstring is not None:
            new_stmts.append(docstring)
        new_stmts += parse_statements(f"{inputs} = {input_name}({spec.args})\n")
        notes = self._ctor_comments(init, self_name)
        for s in stmts:
            new = s.visit(swap)
            note = self._note_for(s, call_self, notes)
            if note and new.trailing_whitespace.comment is None:
                new = new.with_changes(trailing_whitespace=new.trailing_whitespace.with_changes(
                    whitespace=cst.SimpleWhitespace("  "), comment=cst.Comment(note)))
            new_stmts.append(new)
        result_stmt = self.parents.get(self.parents.get(result))
        outputs = fresh(["outputs", "model_outputs"], self.names)
        out_lines = parse_statements(f"{outputs} = {self.src(result.visit(swap))}\n"
                                     f"return {model_name}(inputs={inputs}, outputs={outputs})\n")
        out_lines[0] = out_lines[0].with_changes(leading_lines=result_stmt.leading_lines)
        out_lines[-1] = out_lines[-1].with_changes(trailing_whitespace=result_stmt.trailing_whitespace)
        note = self._note_for(result_stmt, call_self, notes)
        if note:
            out_lines[0] = out_lines[0].with_changes(trailing_whitespace=cst.TrailingWhitespace(
                whitespace=cst.SimpleWhitespace("  "), comment=cst.Comment(note)))
        new_stmts += out_lines
        func = cst.FunctionDef(
            name=cls.name,
            params=init_params,
            body=cst.IndentedBlock(body=new_stmts),
            leading_lines=cls.leading_lines,
        )
        self.report(cls, f"model subclass `{cls.name.value}` is a straight line of layers -> a function building "
                    "a functional model", func, imports=imports, at=cls.name)

    def _ctor_comments(self, init: cst.FunctionDef, self_name: str) -> dict[str, str]:
        """`self.x = Layer(...)  # comment` -> {'x': '# comment'}: the comment follows the layer."""
        out = {}
        for stmt in init.body.body:
            if isinstance(stmt, cst.SimpleStatementLine) and stmt.trailing_whitespace.comment is not None:
                small = stmt.body[0]
                if isinstance(small, cst.Assign) and _self_attr(small.targets[0].target, self_name):
                    out[_self_attr(small.targets[0].target, self_name)] = stmt.trailing_whitespace.comment.value
        return out

    @staticmethod
    def _note_for(stmt, self_name: str, notes: dict[str, str]) -> Optional[str]:
        found = [notes[a] for n in walk(stmt) if isinstance(n, cst.Call)
                 for a in [_self_attr(n.func, self_name)] if a in notes]
        return "  ".join(dict.fromkeys(found)) or None

    def _params(self, init: cst.FunctionDef) -> tuple[str, cst.Parameters]:
        params = init.params
        if not params.params or params.star_kwarg or not isinstance(params.star_arg, cst.MaybeSentinel):
            raise Refusal("`__init__` takes `*args`/`**kwargs` (passed on to Keras?)", init)
        self_name = params.params[0].name.value
        rest = list(params.params[1:])
        if rest:
            rest[-1] = rest[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return self_name, params.with_changes(params=rest)

    def _layers(self, init: cst.FunctionDef, self_name: str) -> dict[str, cst.Call]:
        layers: dict[str, cst.Call] = {}
        for i, stmt in enumerate(init.body.body):
            if i == 0 and _is_docstring(stmt):
                continue
            if self._is_super_init(stmt, self_name):
                continue
            small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 else None
            if (isinstance(small, cst.Assign) and len(small.targets) == 1
                    and _self_attr(small.targets[0].target, self_name) and isinstance(small.value, cst.Call)):
                attr = _self_attr(small.targets[0].target, self_name)
                if attr in layers:
                    raise Refusal(f"`self.{attr}` is assigned twice", stmt)
                if any(True for _ in name_uses(small.value, {self_name})):
                    raise Refusal(f"the layer `self.{attr}` is built from other attributes of the model", stmt)
                layers[attr] = small.value
                continue
            raise Refusal(f"`__init__` does more than create layers: `{self.src(stmt).strip().splitlines()[0]}`",
                          stmt)
        if not layers:
            raise Refusal("`__init__` creates no layers")
        return layers

    @staticmethod
    def _is_super_init(stmt, self_name) -> bool:
        if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
                and isinstance(stmt.body[0], cst.Expr) and isinstance(stmt.body[0].value, cst.Call)):
            return False
        call = stmt.body[0].value
        if call.args or not (isinstance(call.func, cst.Attribute) and call.func.attr.value == "__init__"):
            return False
        sup = call.func.value
        return isinstance(sup, cst.Call) and isinstance(sup.func, cst.Name) and sup.func.value == "super"

    def _call_body(self, call: cst.FunctionDef):
        params = call.params
        if len(params.params) < 2 or params.star_kwarg or not isinstance(params.star_arg, cst.MaybeSentinel):
            raise Refusal("`call` must take exactly one input tensor", call)
        self_name = params.params[0].name.value
        inputs = params.params[1].name.value
        extra = [p.name.value for p in params.params[2:]]
        for p in params.params[2:]:
            if p.default is None:
                raise Refusal(f"`call` has a required argument `{p.name.value}`", call)
        stmts: list[cst.SimpleStatementLine] = []
        body = list(call.body.body)
        if body and _is_docstring(body[0]):
            body = body[1:]
        current = inputs
        result = None
        for k, stmt in enumerate(body):
            used = [u.value for u in name_uses(stmt, extra)]
            if used:
                raise Refusal(f"`call` uses `{used[0]}`: the model behaves differently in training", stmt)
            target = single_name_target(stmt)
            if target is not None and k < len(body) - 1:
                self._check_chain(target[1].value, current, self_name, stmt)
                current = target[0]
                stmts.append(stmt)
                continue
            if (k == len(body) - 1 and isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
                    and isinstance(stmt.body[0], cst.Return) and stmt.body[0].value is not None):
                self._check_chain(stmt.body[0].value, current, self_name, stmt)
                result = stmt.body[0].value
                continue
            raise Refusal(f"`call` does more than apply layers in a line: `{self.src(stmt).strip().splitlines()[0]}`",
                          stmt)
        if result is None:
            raise Refusal("`call` does not end with `return ...`", call)
        return self_name, inputs, stmts, result

    def _check_chain(self, expr, current: str, self_name: str, stmt) -> None:
        while isinstance(expr, cst.Call):
            if _self_attr(expr.func, self_name) is None:
                raise Refusal(f"`call` applies something other than a layer of the model: `{self.src(expr)}`", stmt)
            if len(expr.args) != 1 or expr.args[0].keyword is not None or expr.args[0].star:
                raise Refusal(f"`{self.src(expr)}`: a layer called with more than one argument", stmt)
            expr = expr.args[0].value
        if not isinstance(expr, (cst.Name, cst.Call)):
            raise Refusal(f"`call` applies a non-layer operation: `{self.src(expr)}`", stmt)
        if not (isinstance(expr, cst.Name) and expr.value == current):
            raise Refusal(f"`call` is not a straight line: `{self.src(expr)}` is not the previous result "
                          f"`{current}`", stmt)

    def _first_applied(self, stmts, result, self_name, inputs) -> str:
        expr = single_name_target(stmts[0])[1].value if stmts else result
        attr = None
        while isinstance(expr, cst.Call):
            attr = _self_attr(expr.func, self_name)
            expr = expr.args[0].value
        return attr

    def _within(self, node, ancestor) -> bool:
        while node is not None:
            if node is ancestor:
                return True
            node = self.parents.get(node)
        return False

    def _check_uses(self, cls: cst.ClassDef, layer_attrs: set[str]) -> None:
        """The class may only be called; its instances' layer attributes may not be read."""
        name = cls.name.value
        instances: set[str] = set()
        for use in name_uses(self.module, {name}):
            p = self.parents.get(use)
            if isinstance(p, cst.Call) and p.func is use:
                assign = self.parents.get(p)
                if isinstance(assign, cst.Assign) and len(assign.targets) == 1 and isinstance(
                        assign.targets[0].target, cst.Name):
                    instances.add(assign.targets[0].target.value)
                continue
            if use is cls.name or self._within(use, cls):
                continue
            stmt = p
            while stmt is not None and not isinstance(stmt, cst.BaseStatement):
                stmt = self.parents.get(stmt)
            raise Refusal(f"`{name}` is used as a class (`{self.src(stmt).strip().splitlines()[0]}`); "
                          "after the conversion it is a function", use)
        for use in name_uses(self.module, instances):
            p = self.parents.get(use)
            if isinstance(p, cst.Attribute) and p.value is use and p.attr.value in layer_attrs:
                raise Refusal(f"`{use.value}.{p.attr.value}` reads a layer attribute the functional model does "
                              "not have", use)


class _SwapSelf(cst.CSTTransformer):
    """`self.conv(x)` -> `Conv2D(...)(x)`."""

    def __init__(self, self_name: str, ctors: dict[str, cst.Call]):
        super().__init__()
        self.self_name, self.ctors = self_name, ctors

    def leave_Call(self, original_node, updated_node):
        attr = _self_attr(original_node.func, self.self_name)
        if attr in self.ctors:
            return updated_node.with_changes(func=self.ctors[attr])
        return updated_node
