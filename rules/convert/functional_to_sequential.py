"""KM402: a functional model that is a straight chain of layers -> Sequential (`--to sequential`)."""
from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from kmigrate.rule import KERAS_OR_TF, Example, FileContext, Rule, Safety, Severity

from kmigrate.rules.convert.common import (
    Code,
    Refusal,
    Speller,
    all_names,
    assigned_names,
    name_uses,
    parent_map,
    parse_statements,
    single_name_target,
    trailing_comment,
    walk,
    with_comment,
)

_INPUTS = ("Input", "layers.Input")


class FunctionalToSequential(Rule):
    """
    ## What it does
    With `--to sequential`, rewrites a functional model whose single `Input` feeds a straight
    chain of layer calls into a single output (`x = Dense(20)(inputs)`, nested calls like
    `Dense(10)(Dense(20)(inputs))`, `Model(inputs=..., outputs=...)` or positional) as
    `Sequential([Input(...), layer, ...])`, spelled like the file spells `Model`. Comments of the
    removed statements move into the layer list.

    It refuses, with a finding that says why and leaves the file as it is, for branches, merges,
    several inputs or outputs, a tensor used twice or after the model, non-layer operations on
    tensors (`x + 1`, `tf.nn.relu(x)`), layers called with extra arguments, and shared layers.

    ## Why is this bad
    Nothing is wrong with functional models; the conversion is a style choice (opt-in, only with
    `--to sequential`). For a plain stack of layers the Sequential form is shorter and has no
    tensor variables to get wrong.

    ## Example
    ```python
    inputs = keras.Input(shape=(10,))
    x = layers.Dense(20, activation="relu")(inputs)
    outputs = layers.Dense(10)(x)
    model = keras.Model(inputs=inputs, outputs=outputs, name="mlp")
    ```
    becomes
    ```python
    model = keras.Sequential([
        keras.Input(shape=(10,)),
        layers.Dense(20, activation="relu"),
        layers.Dense(10),
    ], name="mlp")
    ```

    ## Fix safety
    Safe, and applied only with `--to sequential`: the Sequential model has the same layers,
    configurations, weights and outputs (checked with TensorFlow for every fixture). Its
    `model.layers` has no InputLayer, so files that index `model.layers` are refused.
    """

    code = "KM402"
    name = "functional-to-sequential"
    summary = "Straight-chain functional model -> Sequential (with --to sequential)"
    severity = Severity.WARNING
    fix_safety = Safety.SAFE
    opt_in = True
    triggers = ("Model",)
    needs_import = KERAS_OR_TF

    VALID = [
        Example("from tensorflow import keras\ni = keras.Input((3,))\nmodel = keras.Model(i, keras.layers.Dense(1)(i))\n"),
    ]
    INVALID = [
        Example(
            "from tensorflow import keras\n"
            "i = keras.Input((3,))\n"
            "model = keras.Model(i, keras.layers.Dense(1)(i))\n",
            "from tensorflow import keras\n"
            "model = keras.Sequential([\n"
            "    keras.Input((3,)),\n"
            "    keras.layers.Dense(1),\n"
            "])\n",
            {"to": "sequential"},
        ),
        Example(
            "from tensorflow import keras\n"
            "i = keras.Input((3,))\n"
            "model = keras.Model(i, keras.layers.Dense(1)(i) + 1)\n",
            None,
            {"to": "sequential"},
        ),
    ]

    @classmethod
    def wants(cls, context: FileContext) -> bool:
        return context.to == "sequential"

    def __init__(self, context: FileContext):
        super().__init__(context)
        self.calls: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        if self.resolver.keras_name(node.func) in ("Model", "models.Model"):
            self.calls.append(node)

    def leave_Module(self, original_node: cst.Module) -> None:
        if not self.calls:
            return
        self.parents = parent_map(self.module)
        self.src = Code(self.module)
        self.names = all_names(self.module)
        self.speller = Speller(self, self.module, self.names)
        for call in self.calls:
            try:
                self._convert(call)
            except Refusal as r:
                self.report(r.node or call, f"not converted to Sequential: {r.message}", at=call)

    # ------------------------------------------------------------------ analysis

    def _convert(self, call: cst.Call) -> None:
        parent = self.parents.get(call)
        line = self.parents.get(parent)
        var = None
        if isinstance(parent, cst.Assign) and parent.value is call and single_name_target(line) is not None:
            var = single_name_target(line)[0]
        elif not (isinstance(parent, cst.Return) and isinstance(line, cst.SimpleStatementLine)
                  and len(line.body) == 1):
            raise Refusal("only `model = Model(...)` and `return Model(...)` statements are converted")
        block = self.parents.get(line)
        if not isinstance(block, (cst.Module, cst.IndentedBlock)):
            raise Refusal("the statement is not in a block of its own")

        inputs = outputs = name = None
        for i, a in enumerate(call.args):
            if a.star:
                raise Refusal("`Model(*...)`: arguments not visible")
            kw = a.keyword.value if a.keyword is not None else ("inputs", "outputs", "name")[min(i, 2)]
            if kw == "inputs":
                inputs = a.value
            elif kw == "outputs":
                outputs = a.value
            elif kw == "name":
                name = a.value
            else:
                raise Refusal(f"`Model` argument `{kw}` is not understood (Keras 1 `input=`/`output=`? "
                              "migrate them first)")
        if inputs is None or outputs is None:
            raise Refusal("`Model(...)` without both inputs and outputs")
        for what, value in (("inputs", inputs), ("outputs", outputs)):
            if isinstance(value, (cst.List, cst.Tuple, cst.Dict)):
                n = len(getattr(value, "elements", ())) if not isinstance(value, cst.Dict) else 0
                raise Refusal(f"several {what} (a {type(value).__name__.lower()} of {n}): a Sequential model "
                              "has one input and one output" if n != 1 else
                              f"{what} given as a one-element {type(value).__name__.lower()}: the model "
                              "returns a list, a Sequential model a tensor")
        if not isinstance(inputs, cst.Name):
            raise Refusal(f"the inputs `{self.src(inputs)}` are not a variable bound to `Input(...)`")

        body = list(block.body)
        b = body.index(line)
        layers, chain, a = self._trace(outputs, b, body, inputs.value)
        self._check_between(body, a, b, chain)
        chain_names = {inputs.value} | {single_name_target(body[j])[0] for j in chain}
        self._check_after(line, block, chain_names, var)

        # elements, with the comments of the statements they come from
        elements: list[tuple[list[str], str, Optional[str]]] = []
        input_stmt = body[a]
        # a model written in one piece: the comments above its first line stay above the Sequential
        in_one_piece = all(j in chain for j in range(a + 1, b)) and not self._comments(line)
        elements.append(([] if in_one_piece else self._comments(input_stmt),
                         self.src(single_name_target(input_stmt)[1].value),
                         trailing_comment(input_stmt.trailing_whitespace)))
        for j, layer_nodes in layers:
            stmt = body[j] if j is not None else None
            for k, node in enumerate(layer_nodes):
                before = self._comments(stmt) if stmt is not None and k == 0 else []
                trail = (trailing_comment(stmt.trailing_whitespace)
                         if stmt is not None and k == len(layer_nodes) - 1 else None)
                elements.append((before, self.src(node), trail))
        seq_name, imports = self.speller.spell(call.func, "Sequential")
        imports = [*imports, *self.speller.removal(call.func)]
        text = [f"{var} = {seq_name}([" if var else f"return {seq_name}(["]
        for before, code, trail in elements:
            text += [f"    {c}" for c in before]
            text.append(with_comment(f"    {code},", trail))
        text.append(f"], name={self.src(name)})" if name is not None else "])")
        stmt = parse_statements("\n".join(text) + "\n")[0]
        stmt = stmt.with_changes(leading_lines=input_stmt.leading_lines if in_one_piece else line.leading_lines,
                                 trailing_whitespace=line.trailing_whitespace)
        removed = {a, *chain}
        new_body = []
        blank = [] if in_one_piece else [ln for ln in body[a].leading_lines if ln.comment is None][:1]
        for j, s in enumerate(body):
            if j in removed:
                continue
            s = stmt if s is line else s
            if blank and j > a:
                if not s.leading_lines:
                    s = s.with_changes(leading_lines=blank)
                blank = []
            new_body.append(s)
        what = f"`{var}`" if var else "the returned model"
        self.report(block, f"{what} is a straight-chain functional model -> Sequential",
                    block.with_changes(body=new_body), imports=imports, at=call)

    @staticmethod
    def _comments(stmt) -> list[str]:
        return [ln.comment.value for ln in stmt.leading_lines if ln.comment is not None]

    def _trace(self, expr, k, body, input_name):
        """Follow `expr` (evaluated at statement k) back to the Input -> ([(stmt index, [layers])], chain, a)."""
        groups: list[tuple[Optional[int], list[cst.CSTNode]]] = []
        current: list[cst.CSTNode] = []
        where: Optional[int] = None
        chain: list[int] = []
        while True:
            if isinstance(expr, cst.Name):
                groups.append((where, current[::-1]))
                j = next((j for j in range(k - 1, -1, -1) if expr.value in assigned_names(body[j])), None)
                if j is None:
                    raise Refusal(f"the tensor `{expr.value}` is not built in this block", expr)
                target = single_name_target(body[j])
                if target is None or target[0] != expr.value:
                    raise Refusal(f"the tensor `{expr.value}` is assigned in a way kmigrate cannot follow "
                                  "(control flow or several targets)", body[j])
                value = target[1].value
                if isinstance(value, cst.Call) and self.resolver.keras_name(value.func) in _INPUTS:
                    if expr.value != input_name:
                        raise Refusal(f"the chain starts at `{expr.value}`, not at the model input "
                                      f"`{input_name}`", expr)
                    groups = [g for g in groups[::-1] if g[1]]
                    return groups, sorted(chain), j
                chain.append(j)
                where, current, k, expr = j, [], j, value
                continue
            if isinstance(expr, cst.Call):
                current.append(self._layer_of(expr))
                expr = expr.args[0].value
                continue
            raise Refusal(f"non-layer operation on tensors: `{self.src(expr)}`", expr)

    def _layer_of(self, call: cst.Call) -> cst.CSTNode:
        func = call.func
        layer = None
        if isinstance(func, cst.Call):
            kname = self.resolver.keras_name(func.func)
            if kname and kname.startswith("layers.") and kname not in ("layers.Input", "layers.InputLayer"):
                layer = func
        elif isinstance(func, cst.Name):
            layer = self._layer_variable(func)
        if layer is None:
            raise Refusal(f"non-layer operation on tensors: `{self.src(call)}`", call)
        if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
            if call.args and isinstance(call.args[0].value, (cst.List, cst.Tuple)):
                raise Refusal(f"`{self.src(call)}` merges several tensors", call)
            raise Refusal(f"`{self.src(call)}`: a layer called with more than one tensor argument", call)
        if isinstance(call.args[0].value, (cst.List, cst.Tuple)):
            raise Refusal(f"`{self.src(call)}` merges several tensors", call)
        return layer

    def _layer_variable(self, name: cst.Name) -> Optional[cst.CSTNode]:
        """A layer instance bound once to a Keras layer call and called once; else None or a refusal."""
        defs = [s for s in walk(self.module)
                if isinstance(s, cst.SimpleStatementLine) and name.value in assigned_names(s)]
        if len(defs) != 1 or single_name_target(defs[0]) is None:
            return None
        value = single_name_target(defs[0])[1].value
        if not (isinstance(value, cst.Call) and (self.resolver.keras_name(value.func) or "").startswith("layers.")):
            return None
        calls = [u for u in name_uses(self.module, {name.value})
                 if isinstance(self.parents.get(u), cst.Call) and self.parents[u].func is u]
        if len(calls) > 1:
            raise Refusal(f"the layer `{name.value}` is called {len(calls)} times (a shared layer)", name)
        return name

    def _check_between(self, body, a, b, chain) -> None:
        names: set[str] = {single_name_target(body[a])[0]} | {single_name_target(body[j])[0] for j in chain}
        for j in range(a + 1, b):
            if j in chain:
                value = single_name_target(body[j])[1].value
                uses = [u.value for u in name_uses(value, names)]
                if len(uses) > 1:
                    raise Refusal(f"`{self.src(value)}` uses a tensor more than once", body[j])
                continue
            for use in name_uses(body[j], names):
                raise Refusal(self._why_used(use, body[j]), body[j])

    def _why_used(self, use: cst.Name, stmt) -> str:
        n, p = use, self.parents.get(use)
        while p is not None and p is not stmt:
            if isinstance(p, (cst.List, cst.Tuple)) and isinstance(self.parents.get(self.parents.get(p)), cst.Call):
                return f"the tensor `{use.value}` goes into a merge (`{self.src(self.parents[self.parents[p]])}`)"
            if isinstance(p, (cst.BinaryOperation, cst.UnaryOperation, cst.Subscript)):
                return f"non-layer operation on tensors: `{self.src(p)}`"
            if isinstance(p, cst.Call) and n is not p.func:
                if self.resolver.keras_name(p.func) in ("Model", "models.Model"):
                    return f"the tensor `{use.value}` is also used by another model (`{self.src(p)}`)"
                try:
                    self._layer_of(p)
                except Refusal:
                    return f"non-layer operation on tensors: `{self.src(p)}`"
                return f"the tensor `{use.value}` is used twice (a branch: `{self.src(p)}`)"
            n, p = p, self.parents.get(p)
        return f"the tensor `{use.value}` is also used in `{self.src(stmt).strip()}`"

    def _following(self, line) -> Iterator[cst.CSTNode]:
        """Statements that run after `line`: the rest of its block, then of the enclosing blocks."""
        node = line
        while True:
            block = self.parents.get(node)
            if block is None or isinstance(block, cst.Module) and node not in block.body:
                return
            if isinstance(block, (cst.Module, cst.IndentedBlock)):
                body = list(block.body)
                yield from body[body.index(node) + 1:]
                if isinstance(block, cst.Module):
                    return
            owner = self.parents.get(block)
            while owner is not None and not isinstance(owner, cst.BaseStatement):
                owner = self.parents.get(owner)
            if owner is None or isinstance(owner, (cst.FunctionDef, cst.ClassDef)):
                return
            node = owner

    def _check_after(self, line, block, names: set[str], var: Optional[str]) -> None:
        live = set(names)
        for stmt in self._following(line):
            for use in name_uses(stmt, live | ({var} if var else set())):
                if use.value == var:
                    p = self.parents.get(use)
                    if isinstance(p, cst.Attribute) and p.attr.value == "layers" and isinstance(
                            self.parents.get(p), cst.Subscript):
                        raise Refusal(f"`{var}.layers[...]` is indexed: a Sequential model does not list its "
                                      "InputLayer, so the indexes would shift", use)
                    continue
                if use.value in live and not self._rebinds_first(stmt, use.value):
                    raise Refusal(f"the tensor `{use.value}` is used after the model is built "
                                  f"(`{self.src(stmt).strip().splitlines()[0]}`)", stmt)
            target = single_name_target(stmt)
            if target is not None:
                live.discard(target[0])

    def _rebinds_first(self, stmt, name: str) -> bool:
        target = single_name_target(stmt)
        return target is not None and target[0] == name and not any(True for _ in name_uses(target[1].value, {name}))
