"""KM352: backend functions applied to the symbolic tensors of a functional model (-> `keras.ops`),
and `model.add_loss(<expression of symbolic tensors>)` (-> a small loss layer)."""
from __future__ import annotations

import ast
from typing import Optional

import libcst as cst

from kmigrate.names import keras_module
from kmigrate.rule import KERAS_OR_TF, Example, ImportEdit, Safety, Severity
from kmigrate.rules.keras3.keras2_common import KerasRule, code_of, name_bindings, walk
from kmigrate.rules.tables.keras2_api import BACKEND_TO_OPS, BACKEND_TO_OPS_POSITIONAL, KERAS_TENSOR_OK
from kmigrate.rules.keras3.screens import nodes, scan, spelled
from kmigrate.walk import code_children

_INPUTS = ("layers.Input", "Input", "models.Input")
_MODELS = ("models.Model", "Model")


def _names(node: cst.CSTNode) -> list[str]:
    """Names read in `node`, not counting attribute names, keywords, or lambda/def bodies."""
    out: list[str] = []
    stack = [node]
    skip: set[int] = set()
    while stack:
        n = stack.pop()
        kind = type(n)  # exact types: isinstance on LibCST's classes goes through ABCMeta (slow)
        if kind in _OPAQUE:
            continue
        if kind is cst.Attribute:
            skip.add(id(n.attr))
        elif kind is cst.Arg and n.keyword is not None:
            skip.add(id(n.keyword))
        elif kind is cst.Name and id(n) not in skip:
            out.append(n.value)
        stack.extend(reversed(code_children(n)))
    return out


_OPAQUE = frozenset({cst.Lambda, cst.FunctionDef, cst.ClassDef})


def _module_compile(tree: ast.Module) -> bool:
    """A `x.compile(...)` statement at module level (where `_loss_closures` looks)."""
    return any(type(s) is ast.Expr and type(s.value) is ast.Call and type(s.value.func) is ast.Attribute
               and s.value.func.attr == "compile" for s in tree.body)


def _tensor_names(facts) -> Optional[set]:
    """The names a block may bind symbolic tensors to (`_Scope.tensors`: names assigned), or None when
    no block can bind one: no statement assigns a layer's output (`Dense(3)(x)`, or `d(x)` for a
    name `d` bound to a call, `d = Dense(3)`) or an `Input(...)`."""
    ns = nodes(facts)
    assigned, bound = set(), set()
    for n in ns.assigns:
        if type(n) is ast.Assign:
            names = [t.id for t in n.targets if type(t) is ast.Name]
            assigned.update(names)
            if type(n.value) is ast.Call:
                bound.update(names)
    if any(type(c.func) is ast.Call or (type(c.func) is ast.Name and c.func.id in bound)
           for found in ns.calls.values() for c in found) or (
            spelled(facts, ("Input",)) and scan(facts, ("Input",), call=bool)):
        return assigned
    return None


def _reads(call: ast.Call, names: set) -> bool:
    """One of `names` is read in the call's arguments."""
    return any(type(x) is ast.Name and x.id in names
               for a in (*call.args, *(k.value for k in call.keywords)) for x in ast.walk(a))


class _Scope:
    """What one block (the module or a function body) shows about the tensors it builds."""

    def __init__(self, rule: "SymbolicBackend", body):
        self.rule = rule
        self.body = list(body)
        self.tensors: dict[str, str] = {}  # name -> 'base' (Input or layer output) / 'derived' (computed)
        self.layers: set[str] = set()
        self.models: dict[str, cst.Call] = {}
        self.defs: dict[str, int] = {}  # derived tensor name -> index of its defining statement
        for i, stmt in enumerate(self.body):
            if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
                continue
            a = stmt.body[0]
            if not (isinstance(a, cst.Assign) and len(a.targets) == 1 and isinstance(a.targets[0].target, cst.Name)):
                continue
            name, value = a.targets[0].target.value, a.value
            self.tensors.pop(name, None)
            kind = self._kind(value)
            if kind == "layer":
                self.layers.add(name)
            elif kind == "model":
                self.models[name] = value
            elif kind in ("base", "derived"):
                self.tensors[name] = kind
                if kind == "derived":
                    self.defs[name] = i

    def _kind(self, value: cst.BaseExpression) -> Optional[str]:
        rule = self.rule
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Call):
            kf = rule.kname(value.func.func)
            if kf and kf.startswith("layers."):
                return "base"
        if isinstance(value, cst.Call) and not isinstance(value.func, cst.Call):
            k = rule.kname(value.func)
            if k in _INPUTS:
                return "base"
            if k in _MODELS:
                return "model"
            if k and k.startswith("layers.") and k[7:8].isupper():
                return "layer"
            if isinstance(value.func, cst.Name) and (value.func.value in self.layers or value.func.value in self.models):
                return "base"
        if self.tensors and any(n in self.tensors for n in _names(value)):
            return "derived"
        return None

    def symbolic(self, node: cst.CSTNode) -> bool:
        return any(n in self.tensors for n in _names(node))


class SymbolicBackend(KerasRule):
    """
    ## What it does
    Where a functional model is built (module level or a function body, statement by statement),
    rewrites `keras.backend` functions applied to its symbolic tensors (`K.square(z_mean)`,
    `K.exp`, `K.sum`, `K.mean`, ... on tensors that come from `Input(...)` and layer calls) to
    their `keras.ops` twins, imported as `from tensorflow.keras import ops`. And it turns the
    Keras 2 VAE pattern, `vae.add_loss(<expression of symbolic tensors>)` on a functional model,
    into a small loss layer: a `Layer` subclass whose `call` computes the expression (the helper
    lines that only feed it move into `call`) and calls `self.add_loss`, applied to the model's
    output and the tensors the expression reads; the model is rebuilt from its inputs to the
    layer's output, which passes the model output through unchanged. Keras 1's VAE, a loss
    function that reads the model's symbolic tensors besides `y_true`/`y_pred`
    (`def vae_loss(x, x_decoded): ... K.square(z_mean) ...` passed to `compile(loss=)`), gets the
    same loss layer when every training call passes the same x and y (the autoencoder case:
    `y_true` is then the model's input); else each line of it that reads them is reported.

    ## Why is this bad
    Keras 3 raises "A KerasTensor cannot be used as input to a TensorFlow function" for
    `tf.keras.backend.square(z_mean)` on a symbolic tensor, and `add_loss` of a symbolic tensor
    is gone ("symbolic add_loss" was removed); the model trains only with the loss in a layer.

    ## Example
    ```python
    kl = -0.5 * K.sum(1 + z_log_var - K.square(z_mean) - K.exp(z_log_var), axis=-1)
    vae.add_loss(K.mean(xent + kl))
    ```
    becomes
    ```python
    class VaeLoss(Layer):
        def call(self, inputs):
            _, x, x_decoded, z_mean, z_log_var = inputs
            xent = ...
            kl = -0.5 * K.sum(1 + z_log_var - K.square(z_mean) - K.exp(z_log_var), axis=-1)
            self.add_loss(K.mean(xent + kl))
            return inputs[0]
    vae = Model(vae.inputs, VaeLoss()([vae.outputs[0], x, x_decoded, z_mean, z_log_var]))
    ```

    ## Fix safety
    Safe: `keras.ops` computes the same functions (only those whose signatures agree are
    rewritten), and the loss layer adds the same loss to the same model (its weights and outputs
    unchanged; `model.layers` gets one layer without weights). Backend functions without a twin,
    an `add_loss` whose helper values are used elsewhere too, and a loss closure over symbolic
    tensors whose model is trained on targets that are not its inputs, are reported.
    """

    code = "KM352"
    needs_import = KERAS_OR_TF
    name = "backend-on-symbolic-tensor"
    summary = "`K.*` on a functional model's symbolic tensors / symbolic `add_loss`: use `keras.ops` / a loss layer"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("backend", "add_loss")
    requires = ("keras",)

    @classmethod
    def screen(cls, facts, context) -> bool:
        # symbolic tensors, and `add_loss`, a loss given to a module-level `compile`, or a backend
        # function called on a name that may hold one
        backend = spelled(facts, ("backend",))
        if not (backend or "add_loss" in facts.calls or "compile" in facts.calls):
            return False
        tensors = _tensor_names(facts)
        return tensors is not None and ("add_loss" in facts.calls or _module_compile(facts.tree) or (
            backend and scan(facts, ("backend",), attrs=facts.attrs - KERAS_TENSOR_OK,
                             method=lambda c: _reads(c, tensors))))

    VALID = [
        "from keras import backend as K\ndef f(x):\n    return K.sum(x)\n",
        "from keras.layers import Input, Lambda\nfrom keras import backend as K\nx = Input(shape=(3,))\n"
        "y = Lambda(lambda t: K.square(t))(x)\n",
    ]
    INVALID = [
        Example("from keras.layers import Input, Dense\nfrom keras import backend as K\nx = Input(shape=(3,))\n"
                "h = Dense(2)(x)\nz = K.square(h)\n",
                "from keras.layers import Input, Dense\nfrom keras import backend as K\n"
                "from tensorflow.keras import ops\n\nx = Input(shape=(3,))\nh = Dense(2)(x)\nz = ops.square(h)\n"),
        Example("from keras.layers import Input, Dense\nfrom keras import backend as K\nx = Input(shape=(3,))\n"
                "h = Dense(2)(x)\nz = K.batch_flatten(h)\n"),
    ]

    def visit_Module(self, node: cst.Module) -> None:
        self._scope(node, node.body)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if isinstance(node.body, cst.IndentedBlock):
            self._scope(node.body, node.body.body)

    def _ops_name(self) -> tuple[Optional[str], list[ImportEdit]]:
        bindings = self.__dict__.get("_bindings")
        if bindings is None:
            bindings = self._bindings = name_bindings(self.module)
        if "ops" in bindings:
            q = self.names.import_name("ops")
            if q in ("keras.ops", "tensorflow.keras.ops"):
                return "ops", []
            return None, []
        return "ops", [ImportEdit(keras_module(self.context.target), "ops")]

    def _scope(self, block, body) -> None:
        scope = _Scope(self, body)
        if not scope.tensors:
            return
        moved: set[int] = set()
        plan = self._add_loss(block, scope, moved)
        if plan is None and isinstance(block, cst.Module):
            plan = self._loss_closures(block, scope, moved)
        for i, stmt in enumerate(scope.body):
            if i in moved or not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for n in walk(stmt):
                if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute):
                    self._backend_call(n, scope)
        if plan is not None:
            message, replacement, imports, anchor = plan
            self.report(block, message, replacement, imports=imports, at=anchor)

    def _backend_call(self, call: cst.Call, scope: _Scope) -> None:
        k = self.kname(call.func)
        if not k or not k.startswith("backend.") or k.count(".") != 1:
            return
        if not any(scope.symbolic(a.value) for a in call.args):
            return
        fn = k.split(".")[1]
        if fn in KERAS_TENSOR_OK:
            return  # works on a KerasTensor (checked on TensorFlow 2.21)
        positional_only = all(a.keyword is None and not a.star for a in call.args)
        new = BACKEND_TO_OPS.get(fn) or (BACKEND_TO_OPS_POSITIONAL.get(fn) if positional_only else None)
        message = (f"`K.{fn}` on a symbolic tensor of a functional model: Keras 3 raises \"A KerasTensor cannot "
                   "be used as input to a TensorFlow function\"")
        if new is None:
            self.report(call, message + f"; use the `keras.ops` function (or wrap it in a `Lambda` layer) by hand")
            return
        ops, imports = self._ops_name()
        if ops is None:
            self.report(call, message + f"; use `keras.ops.{new}` (the name `ops` is taken in this file)")
            return
        self.report(call.func, message + f"; use `ops.{new}`", cst.parse_expression(f"{ops}.{new}"), imports=imports)

    # ------------------------------------------------------------------ add_loss

    def _add_loss(self, block, scope: _Scope, moved: set[int]):
        plan = None
        for i, stmt in enumerate(scope.body):
            if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
                    and isinstance(stmt.body[0], cst.Expr) and isinstance(stmt.body[0].value, cst.Call)):
                continue
            call = stmt.body[0].value
            if not (isinstance(call.func, cst.Attribute) and call.func.attr.value == "add_loss"
                    and isinstance(call.func.value, cst.Name) and len(call.args) == 1 and call.args[0].keyword is None):
                continue
            model = call.func.value.value
            expr = call.args[0].value
            if not scope.symbolic(expr):
                continue
            why = self._convert(block, scope, i, model, expr, moved)
            if isinstance(why, str):
                self.report(call, "`add_loss` of a symbolic tensor is gone in Keras 3: compute the loss in a "
                            f"layer's `call` and `self.add_loss` it there; not rewritten: {why}")
                continue
            plan = why
        return plan

    def _convert(self, block, scope: _Scope, at: int, model: str, expr, moved: set[int]):
        if model not in scope.models:
            return f"`{model}` is not a functional `Model(...)` built here"
        mcall = scope.models[model]
        outs = [a for a in mcall.args if a.keyword is None]
        out_arg = next((a for a in mcall.args if a.keyword is not None and a.keyword.value in ("outputs", "output")),
                       outs[1] if len(outs) > 1 else None)
        if out_arg is None or isinstance(out_arg.value, (cst.List, cst.Tuple)):
            return "the model has more than one output"
        # the helper statements that only feed the loss move into the layer
        chain: list[int] = []
        bases: list[str] = []
        todo = list(_names(expr))
        seen: set[str] = set()
        while todo:
            n = todo.pop(0)
            if n in seen:
                continue
            seen.add(n)
            kind = scope.tensors.get(n)
            if kind == "base":
                bases.append(n)
            elif kind == "derived":
                idx = scope.defs.get(n)
                if idx is None or idx > at:
                    return f"`{n}` is computed after the `add_loss`"
                chain.append(idx)
                todo.extend(_names(scope.body[idx].body[0].value))
        chain = sorted(set(chain))
        chain_names = {scope.body[i].body[0].targets[0].target.value for i in chain}
        for j, stmt in enumerate(scope.body):
            if j in chain or j == at:
                continue
            if chain_names & set(_names(stmt)):
                return f"`{sorted(chain_names & set(_names(stmt)))[0]}` is used elsewhere too"
        if not bases:
            return "the loss reads no model tensor"
        imports = self._layer_name()
        if isinstance(imports, str):
            return imports
        cls = self._class_name(model)
        module = self.module
        indent = module.default_indent
        lines = [f"class {cls}(Layer):\n",
                 f"{indent}def call(self, inputs):\n",
                 f"{indent * 2}_, {', '.join(bases)} = inputs\n"]
        for idx in chain:
            stmt = scope.body[idx]
            lines.append(f"{indent * 2}{code_of(stmt.with_changes(leading_lines=[]), module).lstrip()}")
        lines.append(f"{indent * 2}self.add_loss({code_of(expr)})\n")
        lines.append(f"{indent * 2}return inputs[0]\n")
        lines.append(f"{model} = Model({model}.inputs, {cls}()([{model}.outputs[0], {', '.join(bases)}]))\n")
        mk = self.kname(mcall.func)
        model_func = code_of(mcall.func)
        text = "".join(lines).replace(f"{model} = Model(", f"{model} = {model_func}(")
        try:
            new = list(cst.parse_module(text).body)
        except cst.ParserSyntaxError:
            return "the helper lines do not fit in a method"
        new[0] = new[0].with_changes(leading_lines=scope.body[at].leading_lines)
        body = []
        for j, stmt in enumerate(scope.body):
            if j in chain:
                continue
            if j == at:
                body.extend(new)
            else:
                body.append(stmt)
        moved.update(chain)
        moved.add(at)
        message = ("`add_loss` of a symbolic tensor is gone in Keras 3: the loss is computed in a small `Layer` "
                   f"(`{cls}`) that calls `self.add_loss`, and `{model}` is rebuilt through it")
        return message, block.with_changes(body=body), imports, scope.body[at].body[0].value

    # ------------------------------------------------------------------ loss closures

    def _loss_closures(self, block, scope: _Scope, moved: set[int]):
        """Keras 1's VAE: `def vae_loss(x, x_decoded): ... z_mean ...` passed as `compile(loss=)`,
        reading symbolic tensors of the model besides y_true/y_pred. Keras 3 calls a loss on real
        tensors only: the body moves into a loss layer when y_true is the model's input (every
        training call passes the same x and y, the autoencoder case); else it is reported."""
        plan = None
        for i, stmt in enumerate(scope.body):
            if not isinstance(stmt, cst.FunctionDef) or not isinstance(stmt.body, cst.IndentedBlock):
                continue
            params = [p.name.value for p in stmt.params.params]
            local = set(params) | {t.target.value for s in stmt.body.body if isinstance(s, cst.SimpleStatementLine)
                                   for a in s.body if isinstance(a, cst.Assign) for t in a.targets
                                   if isinstance(t.target, cst.Name)}
            reads = [(s, [n for n in _names(s) if n in scope.tensors and n not in local]) for s in stmt.body.body]
            free = sorted({n for _, ns in reads for n in ns})
            if not free:
                continue
            compiles = [j for j, c in enumerate(scope.body) if self._compile_with_loss(c, stmt.name.value)]
            if not compiles:
                continue  # a helper that builds the graph, not a loss
            converted = None
            if plan is None and len(compiles) == 1:
                converted = self._closure_layer(block, scope, i, compiles[0], params, free, moved)
            if isinstance(converted, tuple):
                plan = converted
                continue
            why = f"; not rewritten: {converted}" if converted else ""
            for s, ns in reads:
                if ns:
                    self.report(s, f"the loss `{stmt.name.value}` reads `{'`, `'.join(sorted(set(ns)))}`, symbolic "
                                "tensors of the functional model: a Keras 3 loss sees only y_true and y_pred; compute "
                                "that part in a layer that calls `self.add_loss`" + why)
        return plan

    def _compile_with_loss(self, stmt, fname: str) -> Optional[str]:
        """The model name of `model.compile(..., loss=fname)` on a functional model built here."""
        if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr)):
            return None
        call = stmt.body[0].value
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value == "compile"
                and isinstance(call.func.value, cst.Name)):
            return None
        loss = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "loss"),
                    call.args[1].value if len(call.args) > 1 and call.args[1].keyword is None else None)
        return call.func.value.value if isinstance(loss, cst.Name) and loss.value == fname else None

    def _closure_layer(self, block, scope: _Scope, at: int, comp: int, params, free, moved):
        fn: cst.FunctionDef = scope.body[at]
        model = self._compile_with_loss(scope.body[comp], fn.name.value)
        call = scope.body[comp].body[0].value
        if not any(a.keyword is not None and a.keyword.value == "loss" for a in call.args):
            return "the loss is passed by position"
        if model not in scope.models:
            return f"`{model}` is not a functional `Model(...)` built here"
        mcall = scope.models[model]
        given = [a for a in mcall.args if a.keyword is None] + [a for a in mcall.args if a.keyword is not None]
        if len(given) < 2 or any(isinstance(a.value, (cst.List, cst.Tuple)) for a in given[:2]):
            return "the model has more than one input or output"
        *head, last = fn.body.body
        if (len(params) != 2 or not all(isinstance(s, cst.SimpleStatementLine) for s in fn.body.body)
                or not (len(last.body) == 1 and isinstance(last.body[0], cst.Return) and last.body[0].value)
                or any(isinstance(n, (cst.Return, cst.Global, cst.Nonlocal)) for s in head for n in walk(s))):
            return "the loss is not straight-line code ending in one `return`"
        uses = [n for n in walk(self.module) if isinstance(n, cst.Name) and n.value == fn.name.value]
        if len(uses) != 2:
            return f"`{fn.name.value}` is used elsewhere too"
        why = self._same_x_and_y(model)
        if why:
            return why
        ops, imports = self._ops_name()
        if ops is None:
            return "the name `ops` is taken in this file"
        layer = self._layer_name()
        if isinstance(layer, str):
            return layer
        imports = imports + layer
        cls = self._class_name(fn.name.value)
        indent = self.module.default_indent
        lines = [f"class {cls}(Layer):\n", f"{indent}def call(self, inputs):\n",
                 f"{indent * 2}_, {params[0]}, {params[1]}, {', '.join(free)} = inputs\n"]
        for s in head:
            lines.append(f"{indent * 2}{code_of(s.with_changes(leading_lines=[]), self.module).lstrip()}")
        lines.append(f"{indent * 2}self.add_loss({ops}.mean({code_of(last.body[0].value)}))\n")
        lines.append(f"{indent * 2}return inputs[0]\n")
        lines.append(f"{model} = {code_of(mcall.func)}({model}.inputs, {cls}()([{model}.outputs[0], {model}.inputs[0], "
                     f"{model}.outputs[0], {', '.join(free)}]))\n")
        try:
            new = list(cst.parse_module("".join(lines)).body)
        except cst.ParserSyntaxError:
            return "the loss body does not fit in a method"
        comp_stmt = scope.body[comp]
        new[0] = new[0].with_changes(leading_lines=comp_stmt.leading_lines)
        args = [a for a in call.args if not (a.keyword is not None and a.keyword.value == "loss")]
        if args:
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        new.append(comp_stmt.with_changes(leading_lines=[], body=[cst.Expr(call.with_changes(args=args))]))
        body = [x for j, s in enumerate(scope.body) for x in (new if j == comp else [s])]
        moved.update({at, comp})
        message = (f"the loss `{fn.name.value}` reads symbolic tensors of the model ({', '.join(free)}), which a Keras 3 "
                   f"loss cannot: it is computed in a small `Layer` (`{cls}`) that calls `self.add_loss` (y_true is the "
                   f"model's input: `{model}` is trained on the same x and y), and `{model}` is rebuilt through it")
        return message, block.with_changes(body=body), imports, call

    def _same_x_and_y(self, model: str) -> Optional[str]:
        """Why the model's training calls may pass a y that is not its x (None: they all pass x as y)."""
        for n in walk(self.module):
            if not (isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and isinstance(n.func.value, cst.Name)
                    and n.func.value.value == model):
                continue
            method = n.func.attr.value
            if method in ("compile", "summary", "predict", "predict_on_batch", "save", "save_weights", "load_weights",
                          "get_weights", "set_weights", "to_json", "count_params"):
                continue
            if method not in ("fit", "evaluate", "train_on_batch", "test_on_batch"):
                return f"`{model}.{method}(...)` may pass targets that are not the inputs"
            pos = [a.value for a in n.args if a.keyword is None]
            kw = {a.keyword.value: a.value for a in n.args if a.keyword is not None}
            x = kw.get("x", pos[0] if pos else None)
            y = kw.get("y", pos[1] if len(pos) > 1 else None)
            if x is None or y is None or code_of(x) != code_of(y):
                return f"`{model}.{method}(...)` is not given the same x and y"
            val = kw.get("validation_data")
            if val is not None and not (isinstance(val, cst.Tuple) and len(val.elements) == 2
                                        and code_of(val.elements[0].value) == code_of(val.elements[1].value)):
                return "the validation data's targets are not its inputs"
        return None

    def _layer_name(self):
        """The import edits that make `Layer` the Keras base layer here, or why it cannot be."""
        bindings = self.__dict__.get("_bindings")
        if bindings is None:
            bindings = self._bindings = name_bindings(self.module)
        if "Layer" in bindings:
            q = self.names.import_name("Layer") or ""
            return [] if q.endswith("layers.Layer") else "the name `Layer` is taken in this file"
        return [ImportEdit(keras_module(self.context.target, "layers"), "Layer")]

    def _class_name(self, base: str) -> str:
        """`vae` / `vae_loss` -> `VaeLoss`, made unique in the file."""
        bindings = self.__dict__.get("_bindings") or name_bindings(self.module)
        cls = "".join(p.capitalize() for p in base.split("_"))
        cls = cls if cls.endswith("Loss") else cls + "Loss"
        while cls in bindings or any(isinstance(n, cst.Name) and n.value == cls for n in walk(self.module)):
            cls = "_" + cls
        return cls
