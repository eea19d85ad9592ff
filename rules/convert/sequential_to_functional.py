"""KM401: a Sequential model (list form or `model.add` form) -> the functional API (`--to functional`)."""
from __future__ import annotations

from typing import Optional

import libcst as cst
from libcst.metadata import PositionProvider

from kmigrate.rule import KERAS_OR_TF, Example, FileContext, Rule, Safety, Severity

from kmigrate.rules.convert.common import (
    Code,
    Refusal,
    Speller,
    all_names,
    assigned_names,
    fresh,
    input_spec,
    is_loop,
    list_element_comments,
    name_uses,
    parent_map,
    parse_statements,
    single_name_target,
    trailing_comment,
    walk,
    with_comment,
)

_COMPOUND_WORDS = {cst.If: "an `if`", cst.For: "a `for` loop", cst.While: "a `while` loop", cst.Try: "a `try`",
                   cst.With: "a `with`"}


class SequentialToFunctional(Rule):
    """
    ## What it does
    With `--to functional`, rewrites a Sequential model as a functional one: the list form
    `model = Sequential([...])` and the add form (`model = Sequential()` then `model.add(...)`,
    also inside `if`/`for`/`while`, which keep their control flow), whatever the spelling of
    `Sequential`. The input comes from `input_shape=` / `input_dim=` / `batch_input_shape=` (->
    `batch_shape=`) of the first layer, which loses that keyword, or from a first `Input` /
    `InputLayer`. `name=` goes to `Model(...)`; the model variable keeps its name, so `compile`,
    `fit` and `return model` keep working. `Input` and `Model` are spelled like the file spells
    `Sequential` (`keras.Model`, `tf.keras.Model`, or imported from the same module).

    It refuses, with a finding that says why and leaves the file as it is, when the input shape is
    not written anywhere (the model is built on its first `fit`), a layer instance is added twice,
    the model is used before its last `model.add` (passed to a function, `model.pop()`,
    `model.layers` changed), `model.layers[...]` is indexed later (functional models list their
    InputLayer there), or the first layer is added conditionally.

    ## Why is this bad
    Nothing is wrong with Sequential models; the conversion is a style choice (opt-in, only with
    `--to functional`). The functional API is needed as soon as a model gets a branch, a second
    input or a skip connection, and writing the conversion by hand is where bugs creep in.

    ## Example
    ```python
    model = keras.Sequential([
        layers.Dense(20, activation="relu", input_shape=(10,)),
        layers.Dense(10),
    ], name="mlp")
    ```
    becomes
    ```python
    inputs = keras.Input(shape=(10,))
    x = layers.Dense(20, activation="relu")(inputs)
    outputs = layers.Dense(10)(x)
    model = keras.Model(inputs=inputs, outputs=outputs, name="mlp")
    ```

    ## Fix safety
    Safe, and applied only with `--to functional`: the functional model has the same layers,
    configurations, weights and outputs (checked with TensorFlow for every fixture). Its
    `model.layers` starts with the InputLayer, so files that index `model.layers` are refused.
    """

    code = "KM401"
    name = "sequential-to-functional"
    summary = "Sequential model -> functional API (with --to functional)"
    severity = Severity.WARNING
    fix_safety = Safety.SAFE
    opt_in = True
    triggers = ("Sequential",)
    needs_import = KERAS_OR_TF

    VALID = [
        Example("from tensorflow import keras\nmodel = keras.Sequential([keras.layers.Dense(1, input_shape=(3,))])\n"),
        Example("from tensorflow import keras\ni = keras.Input((3,))\nmodel = keras.Model(i, keras.layers.Dense(1)(i))\n",
                options={"to": "functional"}),
    ]
    INVALID = [
        Example(
            "from tensorflow import keras\n"
            "model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,)), keras.layers.Dense(1)])\n",
            "from tensorflow import keras\n"
            "inputs = keras.Input(shape=(3,))\n"
            "x = keras.layers.Dense(2)(inputs)\n"
            "outputs = keras.layers.Dense(1)(x)\n"
            "model = keras.Model(inputs=inputs, outputs=outputs)\n",
            {"to": "functional"},
        ),
        Example(
            "from tensorflow import keras\nmodel = keras.Sequential()\nmodel.add(keras.layers.Dense(1))\n",
            None,
            {"to": "functional"},
        ),
    ]

    @classmethod
    def wants(cls, context: FileContext) -> bool:
        return context.to == "functional"

    def __init__(self, context: FileContext):
        super().__init__(context)
        self.calls: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        if self.resolver.keras_name(node.func) in ("Sequential", "models.Sequential"):
            self.calls.append(node)

    def _type_checks(self) -> Optional[cst.CSTNode]:
        """A use of `Sequential` as a type (`isinstance(m, Sequential)`, a base class) in this file."""
        calls = {id(c.func) for c in self.calls}
        for n in walk(self.module):
            if isinstance(n, (cst.Import, cst.ImportFrom)):
                continue
            if isinstance(n, (cst.Name, cst.Attribute)) and id(n) not in calls:
                if isinstance(n, cst.Name) and n.value != "Sequential" or \
                        isinstance(n, cst.Attribute) and n.attr.value != "Sequential":
                    continue
                if self._in_import(n):
                    continue
                if self.resolver.keras_name(n) in ("Sequential", "models.Sequential"):
                    return n
        return None

    def _in_import(self, node) -> bool:
        while node is not None:
            if isinstance(node, (cst.Import, cst.ImportFrom)):
                return True
            node = self.parents.get(node)
        return False

    def leave_Module(self, original_node: cst.Module) -> None:
        if not self.calls:
            return
        self.parents = parent_map(self.module)
        self.names = all_names(self.module)
        self.src = Code(self.module)
        self.speller = Speller(self, self.module, self.names)
        self._taken: dict[int, set[str]] = {}
        typed = self._type_checks()
        if typed is not None:
            line = self.src(typed)
            for call in self.calls:
                self.report(call, f"not converted to functional: this file uses `{line}` as a type (isinstance, "
                            "subclass); a functional model is not a Sequential")
            return
        for call in self.calls:
            try:
                self._convert(call)
            except Refusal as r:
                self.report(r.node or call, f"not converted to functional: {r.message}", at=call)

    # ------------------------------------------------------------------ analysis

    def _pos(self, node):
        p = self.get_metadata(PositionProvider, node)
        return (p.start.line, p.start.column), (p.end.line, p.end.column)

    def _convert(self, call: cst.Call) -> None:
        parent = self.parents.get(call)
        line = self.parents.get(parent)
        form = None
        if isinstance(parent, cst.Assign) and parent.value is call and isinstance(line, cst.SimpleStatementLine):
            target = single_name_target(line)
            if target is not None:
                form, var = "assign", target[0]
        elif isinstance(parent, cst.Return) and isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1:
            form, var = "return", None
        if form is None:
            raise Refusal("only `model = Sequential(...)` and `return Sequential(...)` statements are converted")
        block = self.parents.get(line)
        if not isinstance(block, (cst.Module, cst.IndentedBlock)):
            raise Refusal("the statement is not in a block of its own")

        layers_arg, name_arg = None, None
        for i, a in enumerate(call.args):
            kw = a.keyword.value if a.keyword is not None else None
            if a.star:
                raise Refusal("`Sequential(*...)`: arguments not visible")
            if kw == "layers" or (kw is None and i == 0):
                layers_arg = a.value
            elif kw == "name" or (kw is None and i == 1):
                name_arg = a.value
            else:
                raise Refusal(f"`Sequential` argument `{kw or self.src(a.value)}` has no functional equivalent")
        initial: list[cst.BaseExpression] = []
        comments: list[tuple[list[str], Optional[str]]] = []
        tail_comments: list[str] = []
        if layers_arg is not None:
            if not isinstance(layers_arg, (cst.List, cst.Tuple)):
                raise Refusal(f"the layers come from `{self.src(layers_arg)}`, not a list written here")
            for el in layers_arg.elements:
                if isinstance(el, cst.StarredElement):
                    raise Refusal("a starred element in the layer list: layers not visible")
                initial.append(el.value)
            if isinstance(layers_arg, cst.List):
                comments, tail_comments = list_element_comments(layers_arg)
            else:
                comments = [([], None)] * len(initial)

        adds: list[tuple[cst.Expr, cst.BaseExpression]] = []
        completion = None
        if form == "assign":
            adds, completion = self._adds(var, line, block)
        if not adds:
            self._list_form(call, line, form, var, initial, comments, tail_comments, name_arg)
        else:
            self._add_form(call, line, block, var, initial, comments, adds, completion, name_arg)

    def _describe_use(self, use: cst.Name, var: str) -> str:
        p = self.parents.get(use)
        if isinstance(p, cst.Attribute) and p.value is use:
            if p.attr.value == "pop":
                return f"`{var}.pop()` removes a layer before the model is complete"
            if p.attr.value == "layers":
                return f"`{var}.layers` is used before the model is complete"
            return f"`{var}.{p.attr.value}` is used before the last `{var}.add(...)`"
        if isinstance(p, cst.Arg):
            call = self.parents.get(p)
            if isinstance(call, cst.Call):
                return f"`{var}` is passed to `{self.src(call.func)}(...)` before its last `{var}.add(...)`"
        return f"`{var}` is used before its last `{var}.add(...)`"

    def _adds(self, var: str, line: cst.SimpleStatementLine, block) -> tuple[list, Optional[int]]:
        body = list(block.body)
        i0 = body.index(line)
        end = len(body)
        for j in range(i0 + 1, len(body)):
            if var in assigned_names(body[j]):
                end = j
                break
        region = body[i0 + 1:end]
        adds: list[tuple[cst.Expr, cst.BaseExpression]] = []
        others: list[tuple[int, cst.Name]] = []
        for j, stmt in enumerate(region, start=i0 + 1):
            for use in name_uses(stmt, {var}):
                add = self._as_add(use, stmt)
                if add is not None:
                    adds.append((j, add))
                else:
                    others.append((j, use))
        if not adds:
            completion = i0
        else:
            completion = max(j for j, _ in adds)
        for j, use in others:
            if j <= completion:
                raise Refusal(self._describe_use(use, var), use)
        # uses anywhere else in the scope after the model is created
        start = self._pos(line)[1]
        stop = self._pos(body[end])[0] if end < len(body) else None
        scope = self._scope_of(block)
        region_ids = {id(s) for s in region}
        for use in name_uses(scope, {var}):
            pos = self._pos(use)[0]
            if pos <= start or (stop is not None and pos >= stop):
                continue
            p = self.parents.get(use)
            attr = p.attr.value if isinstance(p, cst.Attribute) and p.value is use else None
            inside = self._inside(use, region_ids)
            if attr == "add" and not inside:
                raise Refusal(f"`{var}.add(...)` outside the block where `{var}` is created", use)
            if attr == "pop":
                raise Refusal(f"`{var}.pop()`: functional models have no `pop`", use)
            if attr == "layers" and isinstance(self.parents.get(p), cst.Subscript):
                raise Refusal(f"`{var}.layers[...]` is indexed: a functional model lists its InputLayer "
                              "first, so the indexes would shift", use)
        return [a for _, a in sorted(adds, key=lambda t: self._pos(t[1][0])[0])], completion

    def _inside(self, node, ids) -> bool:
        n = node
        while n is not None:
            if id(n) in ids:
                return True
            n = self.parents.get(n)
        return False

    def taken(self, node) -> set[str]:
        """Names a new variable must avoid: every name of the enclosing function (its locals and the
        globals it reads), or of the whole module at module level (functions read its globals)."""
        scope = self._scope_of(node)
        if id(scope) not in self._taken:
            self._taken[id(scope)] = self.names if isinstance(scope, cst.Module) else (
                {n.value for n in walk(scope) if isinstance(n, cst.Name)})
        return self._taken[id(scope)]

    def _scope_of(self, node):
        n = node
        while n is not None and not isinstance(n, (cst.FunctionDef, cst.Module)):
            n = self.parents.get(n)
        return n if n is not None else self.module

    def _as_add(self, use: cst.Name, stmt) -> Optional[tuple[cst.Expr, cst.BaseExpression]]:
        """`var.add(layer)` as a statement of its own -> (Expr, layer); None for any other use."""
        attr = self.parents.get(use)
        if not (isinstance(attr, cst.Attribute) and attr.value is use and attr.attr.value == "add"):
            return None
        call = self.parents.get(attr)
        expr = self.parents.get(call)
        if not (isinstance(call, cst.Call) and call.func is attr and isinstance(expr, cst.Expr)):
            return None
        if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
            raise Refusal(f"`{self.src(call)}`: only `model.add(layer)` with one layer is converted", call)
        n = self.parents.get(expr)
        while n is not None and n is not stmt:
            if isinstance(n, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                raise Refusal("`model.add(...)` inside a nested function or class", call)
            n = self.parents.get(n)
        return expr, call.args[0].value

    # ------------------------------------------------------------------ checks shared by both forms

    def _check_layers(self, exprs: list[cst.BaseExpression], block) -> None:
        seen: set[str] = set()
        for e in exprs:
            if isinstance(e, cst.Name):
                if e.value in seen:
                    raise Refusal(f"the layer instance `{e.value}` is added twice (a shared layer)", e)
                seen.add(e.value)
                n = self.parents.get(e)
                while n is not None and n is not block:
                    if is_loop(n) and e.value not in assigned_names(n.body):
                        raise Refusal(f"`{e.value}` is added on every pass of the loop: the same layer instance "
                                      "several times (a shared layer)", e)
                    n = self.parents.get(n)
            elif not isinstance(e, cst.Call):
                raise Refusal(f"`{self.src(e)}` is not a layer call or a layer variable kmigrate can follow", e)

    def _spec(self, first: cst.BaseExpression):
        spec = input_spec(first, self.resolver, self.src, "the model")
        if spec is None:
            raise Refusal("no input shape: the model is built on its first call or `fit`; give the first layer "
                          "`input_shape=...` or start with `keras.Input(shape=...)`, then convert")
        return spec

    def _names_and_imports(self, call):
        input_name, imports = self.speller.spell(call.func, "Input")
        model_name, more = self.speller.spell(call.func, "Model")
        return input_name, model_name, [*imports, *more, *self.speller.removal(call.func)]

    # ------------------------------------------------------------------ list form

    def _list_form(self, call, line, form, var, initial, comments, tail_comments, name_arg) -> None:
        if not initial:
            raise Refusal("no layers: nothing is added to this model")
        self._check_layers(initial, line)
        spec = self._spec(initial[0])
        layers = initial[1:] if spec.layer is None else [spec.layer, *initial[1:]]
        layer_comments = comments[1:] if spec.layer is None else comments
        if not layers:
            raise Refusal("no layers after the input")
        input_name, model_name, imports = self._names_and_imports(call)
        taken = self.taken(line)
        inputs = fresh(["inputs", "model_inputs"], taken)
        x = fresh(["x", "h", "t"], taken) if len(layers) > 1 else None
        outputs = fresh(["outputs", "model_outputs"], taken)
        lines: list[str] = []
        first_comments = comments[0] if spec.layer is None else ([], None)
        lines += first_comments[0]
        lines.append(with_comment(f"{inputs} = {input_name}({spec.args})", first_comments[1]))
        src = inputs
        for k, (layer, (before, trail)) in enumerate(zip(layers, layer_comments)):
            dst = outputs if k == len(layers) - 1 else x
            lines += before
            lines.append(with_comment(f"{dst} = {self.src(layer)}({src})", trail))
            src = dst
        lines += tail_comments
        name = f", name={self.src(name_arg)}" if name_arg is not None else ""
        model = f"{model_name}(inputs={inputs}, outputs={outputs}{name})"
        lines.append(f"{var} = {model}" if form == "assign" else f"return {model}")
        stmts = parse_statements("\n".join(lines) + "\n")
        stmts[0] = stmts[0].with_changes(leading_lines=[*line.leading_lines, *stmts[0].leading_lines])
        stmts[-1] = stmts[-1].with_changes(trailing_whitespace=line.trailing_whitespace)
        what = f"Sequential model `{var}`" if var else "the returned Sequential model"
        self.report(line, f"{what} -> functional API", cst.FlattenSentinel(stmts),
                    imports=imports, at=call)

    # ------------------------------------------------------------------ add form

    def _add_form(self, call, line, block, var, initial, comments, adds, completion, name_arg) -> None:
        body = list(block.body)
        i0 = body.index(line)
        add_exprs = [layer for _, layer in adds]
        self._check_layers([*initial, *add_exprs], block)
        first_add_expr, first_add_layer = adds[0]
        first_add_line = self.parents.get(first_add_expr)
        direct = lambda expr: (isinstance(self.parents.get(expr), cst.SimpleStatementLine)  # noqa: E731
                               and self.parents.get(self.parents.get(expr)) is block
                               and len(self.parents.get(expr).body) == 1)
        if initial:
            spec = self._spec(initial[0])
        else:
            if not direct(first_add_expr):
                kind = self._compound_kind(first_add_expr, block)
                raise Refusal(f"the first layer is added inside {kind}: the model input is not certain",
                              first_add_expr)
            spec = self._spec(first_add_layer)
        input_name, model_name, imports = self._names_and_imports(call)
        taken = self.taken(block)
        inputs = fresh(["inputs", "model_inputs"], taken)
        x = fresh(["x", "h", "t"], taken)

        # the sequence of layer applications: (layer code, comments before, trailing, add Expr or None)
        s0_lines: list[str] = []
        replaced_adds: dict[cst.Expr, cst.BaseSmallStatement] = {}
        first_line_stmts: Optional[list[cst.BaseStatement]] = None
        src = inputs
        if initial:
            layers = initial[1:] if spec.layer is None else [spec.layer, *initial[1:]]
            lcom = comments[1:] if spec.layer is None else comments
            s0_lines += (comments[0][0] if spec.layer is None else [])
            s0_lines.append(with_comment(f"{inputs} = {input_name}({spec.args})",
                                         comments[0][1] if spec.layer is None else None))
            for layer, (before, trail) in zip(layers, lcom):
                s0_lines += before
                s0_lines.append(with_comment(f"{x} = {self.src(layer)}({src})", trail))
                src = x
            rest = adds
            if src == inputs and not direct(rest[0][0]):
                s0_lines.append(f"{x} = {inputs}")
                src = x
        else:
            first_lines = [f"{inputs} = {input_name}({spec.args})"]
            if spec.layer is not None:
                first_lines.append(f"{x} = {self.src(spec.layer)}({inputs})")
                src = x
            rest = adds[1:]
            if src == inputs and rest and not direct(rest[0][0]):
                first_lines.append(f"{x} = {inputs}")
                src = x
            first_line_stmts = parse_statements("\n".join(first_lines) + "\n")
            first_line_stmts[0] = first_line_stmts[0].with_changes(leading_lines=first_add_line.leading_lines)
            first_line_stmts[-1] = first_line_stmts[-1].with_changes(
                trailing_whitespace=first_add_line.trailing_whitespace)
        for k, (expr, layer) in enumerate(rest):
            use_src = src if k == 0 else x
            stmt = cst.parse_statement(f"{x} = {self.src(layer)}({use_src})\n")
            replaced_adds[expr] = stmt.body[0]
        name = f", name={self.src(name_arg)}" if name_arg is not None else ""
        model_stmt = parse_statements(f"{var} = {model_name}(inputs={inputs}, outputs={x}{name})\n")

        new_body: list[cst.BaseStatement] = []
        carry: list[cst.EmptyLine] = []
        swap = _SwapAdds(replaced_adds)
        for j, stmt in enumerate(body):
            start = len(new_body)
            if stmt is line:
                if s0_lines:
                    stmts = parse_statements("\n".join(s0_lines) + "\n")
                    stmts[0] = stmts[0].with_changes(leading_lines=[*line.leading_lines, *stmts[0].leading_lines])
                    stmts[-1] = stmts[-1].with_changes(trailing_whitespace=line.trailing_whitespace)
                    new_body += stmts
                else:  # `model = Sequential()` disappears; its comments move down
                    carry = list(line.leading_lines)
                    c = trailing_comment(line.trailing_whitespace)
                    if c:
                        carry.append(cst.EmptyLine(comment=cst.Comment(c)))
                    continue
            elif stmt is first_add_line and first_line_stmts is not None:
                new_body += first_line_stmts
            else:
                new_body.append(stmt.visit(swap) if i0 < j <= completion else stmt)
            if carry:
                new_body[start] = _prepend(new_body[start], carry)
                carry = []
            if j == completion:
                new_body += model_stmt
        new_block = block.with_changes(body=new_body)
        self.report(block, f"Sequential model `{var}` (built with `{var}.add`) -> functional API", new_block,
                    imports=imports, at=call)

    def _compound_kind(self, node, block) -> str:
        n = self.parents.get(node)
        kind = "a nested block"
        while n is not None and n is not block:
            for t, word in _COMPOUND_WORDS.items():
                if isinstance(n, t):
                    kind = word
            n = self.parents.get(n)
        return kind


def _prepend(stmt, lines):
    return stmt.with_changes(leading_lines=[*lines, *stmt.leading_lines])


class _SwapAdds(cst.CSTTransformer):
    def __init__(self, mapping):
        super().__init__()
        self.mapping = mapping

    def leave_Expr(self, original_node, updated_node):
        return self.mapping.get(original_node, updated_node)
