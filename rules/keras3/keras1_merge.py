"""KM303: Keras 1 `merge(inputs, mode=...)` and `Merge(...)` layers, rewritten to the Keras 2/3
merge functions and layers; a Sequential model merging Sequential branches becomes a functional
model (the branches' inputs in Keras 1's order).
"""
from __future__ import annotations

from typing import Optional

import libcst as cst

from kmigrate.names import canonical_keras
from kmigrate.rule import KERAS_OR_TF, Example, ImportEdit, Safety, Severity
from kmigrate.rules.keras3.keras1_common import (
    Keras1Rule,
    class_key,
    code_of,
    has_star,
    keywords,
    layers_module_for,
    make_kw,
    positional,
    string_value,
    walk,
    with_args,
)
from kmigrate.rules.keras3.screens import spelled
from kmigrate.rules.tables.keras1_layers import MERGE_MODES

_MERGE_FUNCS = {"layers.merge", "models.merge", "legacy.layers.merge"}
_MERGE_CLASSES = {"layers.Merge", "models.Merge", "legacy.layers.Merge"}
_MERGE_ORDER = ("inputs", "mode", "concat_axis", "dot_axes", "output_shape", "output_mask", "arguments")
_MERGE_CLASS_ORDER = ("layers", "mode", "concat_axis", "dot_axes", "output_shape", "output_mask", "arguments")
_MERGE_NO_EFFECT = ("output_shape", "output_mask", "arguments", "node_indices", "tensor_indices")


class Keras1Merge(Keras1Rule):
    """
    ## What it does
    Rewrites Keras 1 `merge(inputs, mode=...)` and `Merge(mode=...)` to the Keras 2/3 merge
    functions and layers: `sum` -> `add`/`Add`, `mul` -> `multiply`, `ave` -> `average`,
    `max` -> `maximum`, `concat` -> `concatenate(axis=concat_axis)`, `dot` ->
    `dot(axes=dot_axes)`, `cos` -> `dot(axes=dot_axes, normalize=True)`. The new function is
    imported from the Keras the old one came from, and the `merge` import goes when unused.

    ## Why is this bad
    `merge` and `Merge` were removed in Keras 2.2; on TensorFlow 2.21 the import fails.

    ## Example
    ```python
    from keras.layers import merge
    y = merge([a, b], mode='concat', concat_axis=1)
    ```
    becomes
    ```python
    from keras.layers import concatenate
    y = concatenate([a, b], axis=1)
    ```

    A callable `mode` (a lambda or a function name) becomes a `Lambda` layer over the list:
    `merge([a, b], mode=f, output_shape=s)` -> `Lambda(f, output_shape=s)([a, b])`.

    `Merge([left, right], mode=...)` as the first layer of a Sequential model (Sequential
    branches merged) turns that model into a functional `Model`: the merge function is applied to
    `left.outputs[0]`, `right.outputs[0]`, the later `add`ed layers are called in order, and
    `Model(inputs=[left.inputs[0], right.inputs[0]], outputs=...)` keeps the variable name and the
    input order of the `Merge` list, so `fit([xa, xb], y)` is unchanged. A branch that is itself
    such a merged model (Keras 1's memory-network example: `match` merges two encoders, `response`
    merges `match` with a third, `answer` merges `response` with the question encoder again) is
    converted first and merged through its output; the model's inputs are its branches' inputs
    flattened in order of first appearance, each once, as Keras 1's `Sequential.inputs` listed
    them, so `fit([stories, queries, stories], y)` still feeds the same inputs. A branch already
    written `Model(inputs=[a.inputs[0], ...], ...)` over built Sequential branches counts too.

    ## Fix safety
    Safe for every mode but `cos`, which is unsafe: Keras 1 gave its result an extra axis, so
    check the shape downstream. A computed `mode`, or a Merge of branches that is not the first
    layer of a `model = Sequential()` followed by plain `model.add(...)` lines, whose branch models
    do not declare their input shape (an `Embedding` declares it by `input_length`: its `input_dim`
    is the vocabulary; or are merged models that could not be converted), or whose
    `model.layers` the file reads (a functional model lists its layers differently), is reported
    with what to do, not rewritten.
    """

    code = "KM303"
    needs_import = KERAS_OR_TF
    name = "keras1-merge"
    summary = "Keras 1 `merge(mode=...)`/`Merge` is gone; use `add`/`concatenate`/`dot`/..."
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("merge", "Merge")

    @classmethod
    def screen(cls, facts, context) -> bool:
        # Keras' `merge`/`Merge` (a call, a reference or an import)
        return spelled(facts, ("merge", "Merge"))

    VALID = [
        "def merge(a, mode=None):\n    return a\ny = merge([1, 2], mode='concat')\n",
        "from tensorflow.keras.layers import concatenate\ny = concatenate([a, b], axis=1)\n",
        "import pandas as pd\ndf = pd.merge(a, b)\n",
    ]
    INVALID = [
        Example("from keras.layers import merge\ny = merge([a, b], mode='concat', concat_axis=1)\n",
                "from keras.layers import concatenate\ny = concatenate([a, b], axis=1)\n"),
        Example("from keras.layers import merge, Dense\ny = merge([a, b])\n",
                "from keras.layers import add, Dense\ny = add([a, b])\n"),
        Example("import keras.layers as KL\ny = KL.merge([a, b], mode='mul', name='m')\n",
                "import keras.layers as KL\ny = KL.multiply([a, b], name='m')\n"),
        Example("from keras.layers import Merge\ny = Merge(mode='dot', dot_axes=1)([a, b])\n",
                "from keras.layers import Dot\ny = Dot(axes=1)([a, b])\n"),
        Example("from keras.layers import merge\ny = merge([a, b], mode='cos')\n",
                "from keras.layers import merge\ny = merge([a, b], mode='cos')\n"),
        Example("from keras.layers import merge\ny = merge([a, b], mode='cos', dot_axes=1)\n",
                "from keras.layers import dot\ny = dot([a, b], axes=1, normalize=True)\n", {"unsafe_fixes": True}),
        Example("from keras.layers import Merge\nm.add(Merge([left, right], mode='concat'))\n"),
        Example("from keras.layers import merge\ny = merge([a, b], mode=lambda t: t[0] - t[1], output_shape=(3,))\n",
                "from keras.layers import Lambda\ny = Lambda(lambda t: t[0] - t[1], output_shape=(3,))([a, b])\n"),
        Example("from keras.models import Sequential\nfrom keras.layers import Dense, Merge\n"
                "l = Sequential()\nl.add(Dense(2, input_dim=3))\nr = Sequential()\nr.add(Dense(2, input_dim=4))\n"
                "m = Sequential()\nm.add(Merge([l, r], mode='concat'))\nm.add(Dense(1))\n",
                "from keras.models import Model, Sequential\nfrom keras.layers import concatenate, Dense\n"
                "l = Sequential()\nl.add(Dense(2, input_dim=3))\nr = Sequential()\nr.add(Dense(2, input_dim=4))\n"
                "m_merged = concatenate([l.outputs[0], r.outputs[0]])\nm_output = Dense(1)(m_merged)\n"
                "m = Model(inputs=[l.inputs[0], r.inputs[0]], outputs=m_output)\n"),
        Example("from keras.layers import merge\n", "\n"),
    ]

    def __init__(self, context):
        super().__init__(context)
        self.in_import = 0
        self.skip: set[int] = set()
        self.referenced: set[str] = set()
        self.imports: list[tuple[str, cst.ImportAlias]] = []

    def visit_Import(self, node: cst.Import) -> None:
        self.in_import += 1

    def leave_Import(self, node: cst.Import) -> None:
        self.in_import -= 1

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.in_import += 1
        if node.module is None or node.relative or isinstance(node.names, cst.ImportStar):
            return
        module = code_of(node.module)
        for a in node.names:
            canon = canonical_keras(f"{module}.{code_of(a.name)}")
            if canon in _MERGE_FUNCS or canon in _MERGE_CLASSES:
                self.imports.append((module, a))

    def leave_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.in_import -= 1

    def visit_Name(self, node: cst.Name) -> None:
        if not self.in_import:
            self.referenced.add(node.value)
        if self.in_import or id(node) in self.skip:
            return
        canon = self.kname(node)
        if canon in _MERGE_FUNCS or canon in _MERGE_CLASSES:
            self.report(node, f"`{node.value}` (Keras 1 merge) is gone; call `add`/`concatenate`/`dot`/... "
                              "on the tensors instead", safety=Safety.NONE)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.skip.add(id(node.attr))
        if self.in_import or id(node) in self.skip:
            return
        canon = self.kname(node)
        if canon in _MERGE_FUNCS or canon in _MERGE_CLASSES:
            self.report(node, f"`{code_of(node)}` (Keras 1 merge) is gone; call `add`/`concatenate`/`dot`/... "
                              "on the tensors instead", safety=Safety.NONE)

    def visit_Call(self, node: cst.Call) -> None:
        canon = self.kname(node.func)
        if canon not in _MERGE_FUNCS and canon not in _MERGE_CLASSES:
            return
        self.skip.add(id(node.func))
        is_class = canon in _MERGE_CLASSES
        old = "Merge" if is_class else "merge"
        self._merge(node, old, is_class)

    def _merge(self, node: cst.Call, old: str, is_class: bool) -> None:
        what = f"`{old}` (Keras 1)"
        if has_star(node):
            self.report(node, f"{what} is gone; rewrite with `add`/`concatenate`/`dot`/...", safety=Safety.NONE)
            return
        order = _MERGE_CLASS_ORDER if is_class else _MERGE_ORDER
        pos = positional(node)
        if len(pos) > len(order):
            self.report(node, f"{what} is gone; rewrite with `add`/`concatenate`/`dot`/...", safety=Safety.NONE)
            return
        bound: dict[str, cst.Arg] = {order[i]: a for i, a in enumerate(pos)}
        bound.update(keywords(node))
        if is_class and "layers" in bound and code_of(bound["layers"].value) != "None":
            if id(node) in getattr(self, "_refused", ()) or self._in_converted(node):
                return
            self.report(node, f"{what} of layers or models (Sequential branches) is gone: build a functional "
                              "model and merge the branch outputs with `concatenate([...])`/`add([...])`/...",
                        safety=Safety.NONE)
            return
        mode_arg = bound.get("mode")
        mode = "sum" if mode_arg is None else string_value(mode_arg.value)
        if mode is None and mode_arg is not None and self._callable(mode_arg.value):
            self._lambda(node, old, is_class, bound)
            return
        if mode not in MERGE_MODES:
            shown = code_of(mode_arg.value) if mode_arg is not None else "?"
            self.report(node, f"{what} with mode={shown} is gone; a callable mode becomes a `Lambda` layer on "
                              "the list of tensors, a string one `add`/`multiply`/`average`/`maximum`/"
                              "`concatenate`/`dot`", safety=Safety.NONE)
            return
        func_name, class_name = MERGE_MODES[mode]
        new = class_name if is_class else func_name
        odd = [k for k in bound if k not in ("inputs", "layers", "mode", "concat_axis", "dot_axes", "name")
               and k not in _MERGE_NO_EFFECT]
        extras = [k for k in _MERGE_NO_EFFECT if k in bound and code_of(bound[k].value) != "None"]
        message = f"{what} is gone; mode={mode!r} is `{new}`"
        if odd or extras:
            self.report(node, f"{message}; `{'`, `'.join(odd + extras)}` has no place there: rewrite by hand",
                        safety=Safety.NONE)
            return
        fix = self.rename_reference(node.func, old, new)
        if fix is None:
            self.report(node, f"{message}; rewrite it by hand (the name is not imported plainly from Keras)",
                        safety=Safety.NONE)
            return
        new_func, imports = fix
        args: list[cst.Arg] = []
        if not is_class:
            first = bound.get("inputs")
            if first is None:
                self.report(node, f"{message}; rewrite it by hand", safety=Safety.NONE)
                return
            args.append(first.with_changes(keyword=None, equal=cst.MaybeSentinel.DEFAULT))
        if mode == "concat" and "concat_axis" in bound:
            axis = bound["concat_axis"]
            if code_of(axis.value) != "-1" or is_class:
                args.append(make_kw("axis", axis.value, like=axis))
        if mode in ("dot", "cos"):
            axes = bound.get("dot_axes")
            if axes is not None or is_class:
                args.append(make_kw("axes", axes.value if axes is not None else cst.parse_expression("-1"),
                                    like=axes))
            if mode == "cos":
                args.append(make_kw("normalize", cst.Name("True"), like=axes or bound.get("name")))
        if "name" in bound:
            args.append(bound["name"])
        safety = Safety.UNSAFE if mode == "cos" else Safety.SAFE
        if mode == "cos":
            message += " with normalize=True (Keras 1 added an axis to the result: check the shape that follows)"
        self.report(node, message, with_args(node.with_changes(func=new_func), args), imports=imports,
                    safety=safety)

    def _in_converted(self, node: cst.Call) -> bool:
        """The Merge sits in a Sequential model the block conversion rewrites (reported there)."""
        return id(node) in self.__dict__.get("_converted", ()) or any(r.anchor is node for r in self.reports)

    def _callable(self, value: cst.BaseExpression) -> bool:
        """A lambda, or a name the file binds only by a `def` (a name could hold a mode string)."""
        if isinstance(value, cst.Lambda):
            return True
        if isinstance(value, cst.Name):
            from kmigrate.rules.keras3.keras2_common import name_bindings

            bindings = self.__dict__.get("_name_bindings")
            if bindings is None:
                bindings = self._name_bindings = name_bindings(self.module)
            found = bindings.get(value.value, ())
            return len(found) == 1 and isinstance(found[0], cst.FunctionDef)
        return False

    def _lambda(self, node: cst.Call, old: str, is_class: bool, bound: dict) -> None:
        """`merge([a, b], mode=f, output_shape=s)` -> `Lambda(f, output_shape=s)([a, b])`."""
        what = f"`{old}` (Keras 1) with a callable mode"
        odd = [k for k in bound if k not in ("inputs", "layers", "mode", "output_shape", "arguments", "name",
                                              "output_mask")]
        if odd or ("output_mask" in bound and code_of(bound["output_mask"].value) != "None") or (
                is_class and "layers" in bound and code_of(bound["layers"].value) != "None"):
            self.report(node, f"{what} is gone; write a `Lambda` layer over the list of tensors by hand "
                        f"(`{'`, `'.join(odd) or 'output_mask'}` has no place there)", safety=Safety.NONE)
            return
        fix = self.rename_reference(node.func, old, "Lambda")
        if fix is None:
            self.report(node, f"{what} is gone; use `Lambda(function, output_shape=...)` on the list of tensors "
                        "(the name is not imported plainly from Keras)", safety=Safety.NONE)
            return
        func, imports = fix
        args = [bound["mode"].with_changes(keyword=None, equal=cst.MaybeSentinel.DEFAULT)]
        for k in ("output_shape", "arguments", "name"):
            if k in bound and code_of(bound[k].value) != "None":
                args.append(make_kw(k, bound[k].value, like=bound[k]))
        layer = with_args(node.with_changes(func=func), args)
        if is_class:
            new = layer
        else:
            inputs = bound.get("inputs")
            if inputs is None:
                self.report(node, f"{what} is gone; use `Lambda(function)` on the list of tensors", safety=Safety.NONE)
                return
            new = cst.Call(func=layer, args=[cst.Arg(inputs.value)])
        self.report(node, f"{what} is a `Lambda` layer over the list of tensors", new, imports=imports)

    # ------------------------------------------------------------------ Merge of Sequential branches

    def visit_Module(self, node: cst.Module) -> None:
        self._branch_models(node)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._branch_models(node)

    def _branch_models(self, block) -> None:
        """`model = Sequential()` + `model.add(Merge([left, right], mode=...))` + more adds -> the
        functional API over the branch models' tensors (inputs in the order of the Merge list)."""
        body = list(block.body)
        out, changed, i, anchor = [], False, 0, None
        while i < len(body):
            conv = self._convert_merge_model(body, i)
            if conv is None:
                out.append(body[i])
                i += 1
                continue
            if isinstance(conv, str):
                out.append(body[i])
                i += 1
                continue
            stmts, end, imports, merge_call = conv
            self.__dict__.setdefault("_converted", set()).add(id(merge_call))
            anchor = anchor or merge_call
            out.extend(stmts)
            changed = True
            self._pending_imports = getattr(self, "_pending_imports", []) + imports
            i = end
        if changed:
            self.report(block, "`Merge` of Sequential branches (Keras 1) is gone: the model becomes a functional "
                        "`Model` over the branch models' inputs and outputs (inputs in the order of the `Merge` "
                        "list, a merged branch's own inputs flattened in order of first appearance as Keras 1 "
                        "did, so `fit([xa, xb], y)` is unchanged)", block.with_changes(body=out),
                        imports=self._pending_imports, at=anchor)
            self._pending_imports = []

    def _sequential_var(self, stmt) -> Optional[str]:
        if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
            a = stmt.body[0]
            if (isinstance(a, cst.Assign) and len(a.targets) == 1 and isinstance(a.targets[0].target, cst.Name)
                    and isinstance(a.value, cst.Call) and not a.value.args
                    and self.kname(a.value.func) == "models.Sequential"):
                return a.targets[0].target.value
        return None

    @staticmethod
    def _add_of(stmt, var: str) -> Optional[cst.Call]:
        if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr):
            c = stmt.body[0].value
            if (isinstance(c, cst.Call) and isinstance(c.func, cst.Attribute) and c.func.attr.value == "add"
                    and isinstance(c.func.value, cst.Name) and c.func.value.value == var and len(c.args) == 1
                    and c.args[0].keyword is None and not c.args[0].star):
                return c
        return None

    def _branch_built(self, name: str) -> bool:
        """`name = Sequential()` once in the file, its first `add` declaring the input shape."""
        from kmigrate.rules.keras3.keras2_common import name_bindings

        bindings = self.__dict__.get("_name_bindings")
        if bindings is None:
            bindings = self._name_bindings = name_bindings(self.module)
        if len(bindings.get(name, ())) != 1:
            return False
        for stmt in walk(self.module):
            if isinstance(stmt, cst.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0].target, cst.Name) \
                    and stmt.targets[0].target.value == name:
                if not (isinstance(stmt.value, cst.Call) and self.kname(stmt.value.func) == "models.Sequential"):
                    return False
                pos = positional(stmt.value)
                first = None
                if pos and isinstance(pos[0].value, cst.List) and pos[0].value.elements:
                    first = pos[0].value.elements[0].value
                break
        else:
            return False
        if first is None:
            for n in walk(self.module):
                if isinstance(n, cst.Call) and self._is_add(n, name):
                    first = n.args[0].value
                    break
        if not isinstance(first, cst.Call):
            return False
        kind = class_key(self.kname(first.func))
        if kind in ("Input", "InputLayer"):
            return True
        # An Embedding's `input_dim` is its vocabulary: only `input_length` gives it an input
        # (KM330 writes `Input(shape=(n,))` for it; without one, `.inputs` fails on Keras 3).
        shape = ("input_shape", "input_length", "batch_input_shape") if kind == "Embedding" \
            else ("input_shape", "input_dim", "batch_input_shape")
        return any(a.keyword is not None and a.keyword.value in shape for a in first.args)

    def _branch_inputs(self, name: str) -> Optional[list[str]]:
        """The input tensors a branch model brings to a merge, as code: `[name.inputs[0]]` for a built
        Sequential branch; for a branch that is itself a merged model (converted earlier in this pass,
        or already `name = Model(inputs=[a.inputs[0], ...], ...)`), its inputs, as Keras 1 flattened
        them; None when neither is visible."""
        done = self.__dict__.get("_merged_inputs", {})
        if name in done:
            return done[name]
        if self._branch_built(name):
            return [f"{name}.inputs[0]"]
        from kmigrate.rules.keras3.keras2_common import name_bindings

        found = name_bindings(self.module).get(name, ())
        if len(found) != 1 or type(found[0]) is not cst.AssignTarget:
            return None
        for n in walk(self.module):
            if type(n) is cst.Assign and len(n.targets) == 1 and n.targets[0] is found[0]:
                value = n.value
                break
        else:
            return None
        if not (isinstance(value, cst.Call) and self.kname(value.func) == "models.Model" and not has_star(value)):
            return None
        given = keywords(value).get("inputs")
        pos = positional(value)
        if given is None and pos:
            given = pos[0]
        if given is None or not isinstance(given.value, cst.List):
            return None
        out = []
        for e in given.value.elements:
            v = e.value
            if not (isinstance(v, cst.Subscript) and isinstance(v.value, cst.Attribute)
                    and v.value.attr.value == "inputs" and isinstance(v.value.value, cst.Name)
                    and len(v.slice) == 1 and code_of(v.slice[0].slice) == "0"):
                return None
            if self._branch_inputs(v.value.value.value) != [code_of(v)]:
                return None  # an input of a branch that is not a built Sequential model
            out.append(code_of(v))
        return out

    def _merged_branch(self, name: str) -> bool:
        """`name = Sequential()` whose first `add` is a Keras 1 `Merge` (a merged model)."""
        for n in walk(self.module):
            if isinstance(n, cst.Call) and self._is_add(n, name):
                value = n.args[0].value
                return isinstance(value, cst.Call) and self.kname(value.func) in _MERGE_CLASSES
        return False

    @staticmethod
    def _is_add(n: cst.Call, name: str) -> bool:
        return (isinstance(n.func, cst.Attribute) and n.func.attr.value == "add" and isinstance(n.func.value, cst.Name)
                and n.func.value.value == name and len(n.args) == 1)

    def _convert_merge_model(self, body, i):
        var = self._sequential_var(body[i])
        if var is None or i + 1 >= len(body):
            return None
        first = self._add_of(body[i + 1], var)
        if first is None or not isinstance(first.args[0].value, cst.Call):
            return None
        merge = first.args[0].value
        if self.kname(merge.func) not in _MERGE_CLASSES or has_star(merge):
            return None
        pos = positional(merge)
        bound = {_MERGE_CLASS_ORDER[j]: a for j, a in enumerate(pos) if j < len(_MERGE_CLASS_ORDER)}
        bound.update(keywords(merge))
        branches = bound.get("layers")
        if branches is None or not isinstance(branches.value, (cst.List, cst.Tuple)) or len(pos) > len(_MERGE_CLASS_ORDER):
            return None
        names = [e.value.value for e in branches.value.elements if isinstance(e.value, cst.Name)]
        if len(names) != len(branches.value.elements) or len(names) < 2:
            return "refused"
        leaves: list[str] = []  # the inputs, flattened in order of first appearance (Keras 1's get_source_inputs)
        for n in names:
            found = self._branch_inputs(n)
            if found is None:
                if self._merged_branch(n):
                    self._refuse(merge, f"the branch `{n}` is itself a `Merge` of models, which kmigrate could not "
                                 "convert (see its report)")
                else:
                    self._refuse(merge, f"the branch `{n}` is not a Sequential model declaring its input shape on its "
                                 "first layer, nor a merged model kmigrate converted")
                return "refused"
            leaves.extend(x for x in found if x not in leaves)
        mode_arg = bound.get("mode")
        mode = "sum" if mode_arg is None else string_value(mode_arg.value)
        adds = []
        j = i + 2
        while j < len(body):
            add = self._add_of(body[j], var)
            if add is None:
                break
            adds.append(add.args[0].value)
            j += 1
        if any(self._add_of(s, var) is not None or (isinstance(s, cst.SimpleStatementLine) and
               f"{var}.layers" in code_of(s)) for s in body[j:]) or f"{var}.layers" in code_of(self.module):
            self._refuse(merge, f"`{var}` gets layers later or its `.layers` are read")
            return "refused"
        from kmigrate.rules.convert.common import all_names, fresh

        taken = self.__dict__.get("_taken")
        if taken is None:
            taken = self._taken = all_names(self.module)
        merged = fresh([f"{var}_merged", "merged"], taken)
        outs = fresh([f"{var}_output", "x"], taken)
        qname = self.names.qualified_names(merge.func)
        root = next((q for q in qname), "keras.layers.Merge")
        layers_home = layers_module_for(root, self.context.target)
        models_home = layers_home.rsplit(".", 1)[0] + ".models"
        imports = []
        tensors = "[" + ", ".join(f"{n}.outputs[0]" for n in names) + "]"
        if mode in MERGE_MODES and mode != "cos":
            func_name = MERGE_MODES[mode][0]
            extra = ""
            if mode == "concat" and "concat_axis" in bound:
                extra = f", axis={code_of(bound['concat_axis'].value)}"
            if mode == "dot":
                extra = f", axes={code_of(bound['dot_axes'].value) if 'dot_axes' in bound else '-1'}"
            odd = [k for k in bound if k not in ("layers", "mode", "concat_axis", "dot_axes", "name")
                   and k not in _MERGE_NO_EFFECT]
            if odd:
                self._refuse(merge, f"`{odd[0]}=` has no place in today's merge layers")
                return "refused"
            if "name" in bound:
                extra += f", name={code_of(bound['name'].value)}"
            merge_text = f"{func_name}({tensors}{extra})"
        elif mode is None and mode_arg is not None and self._callable(mode_arg.value):
            func_name = "Lambda"
            extra = "".join(f", {k}={code_of(bound[k].value)}" for k in ("output_shape", "arguments", "name")
                            if k in bound and code_of(bound[k].value) != "None")
            merge_text = f"Lambda({code_of(mode_arg.value)}{extra})({tensors})"
        else:
            self._refuse(merge, f"mode={code_of(mode_arg.value) if mode_arg else '?'} needs a human")
            return "refused"
        for local, canon, home in ((func_name, f"layers.{func_name}", layers_home), ("Model", "models.Model", models_home)):
            if not self.free_for(local, canon):
                self._refuse(merge, f"the name `{local}` is taken in this file")
                return "refused"
            imports.append(ImportEdit(home, local))
        lines = [f"{merged} = {merge_text}\n"]
        prev = merged
        for layer in adds:
            lines.append(f"{outs} = {code_of(layer)}({prev})\n")
            prev = outs
        inputs = "[" + ", ".join(leaves) + "]"
        lines.append(f"{var} = Model(inputs={inputs}, outputs={prev})\n")
        self.__dict__.setdefault("_merged_inputs", {})[var] = leaves
        stmts = list(cst.parse_module("".join(lines)).body)
        stmts[0] = stmts[0].with_changes(leading_lines=body[i].leading_lines)
        return stmts, j, imports, merge

    def _refuse(self, merge: cst.Call, why: str) -> None:
        self.report(merge, "`Merge` of Sequential branches (Keras 1) is gone: build a functional model and merge "
                    f"the branch outputs with `concatenate([...])`/`add([...])`/...; not rewritten: {why}",
                    safety=Safety.NONE)
        self.skip.add(id(merge.func))
        self._refused = getattr(self, "_refused", set()) | {id(merge)}

    def leave_Module(self, original_node: cst.Module) -> None:
        for module, alias in self.imports:
            local = code_of(alias.asname.name) if alias.asname else code_of(alias.name)
            if local in self.referenced:
                continue
            asname = code_of(alias.asname.name) if alias.asname else None
            self.report(alias, f"importing `{code_of(alias.name)}` fails on TensorFlow 2.21 (Keras 1 merge); "
                               "the unused import is removed",
                        imports=[ImportEdit(module, code_of(alias.name), asname, remove=True)])
