"""KM301, KM302, KM304..KM310: Keras 1 layer names, removed layers and Keras 1 layer constructor keywords,
rewritten to their Keras 2/3 form (tf.keras on TensorFlow 2.21 is Keras 3).

The tables are data in rules/tables/keras1_layers.py, checked against the installed TensorFlow by
tests/rules/keras3/test_keras1_table_matches_keras.py. Layers are matched through NameResolver, so `Convolution2D`,
`keras.layers.convolutional.Convolution2D`, `KL.Convolution2D` and `tf.keras.layers.Convolution2D`
are the same class to every rule here; a user function called `merge` is nobody's business.
"""
from __future__ import annotations

from typing import Optional

import libcst as cst

from kmigrate.names import canonical_keras, keras_module
from kmigrate.rule import KERAS_OR_TF, Example, ImportEdit, Safety, Severity
from kmigrate.rules.keras3.keras2_common import removal_edits
from kmigrate.rules.keras3.keras1_common import (
    Keras1Rule,
    class_key,
    code_of,
    has_star,
    is_int_literal,
    is_simple,
    keywords,
    kwarg,
    layers_module_for,
    make_kw,
    positional,
    requote,
    string_value,
    walk,
    with_args,
)
from kmigrate.rules.keras3.screens import called_with, scan, spelled
from kmigrate.rules.tables.keras1_layers import (
    BACKEND_KEYWORDS,
    BORDER_MODE_GONE,
    CONSUME_LESS_VALUES,
    DIM_ORDERING_FUNCTIONS,
    DIM_ORDERING_VALUES,
    FORGET_BIAS_VALUES,
    KERAS1_POSITIONAL,
    KERNEL_KEYWORDS,
    KEYWORDS,
    LAYER_ALIASES_KEPT,
    LAYER_RENAMES,
    MODEL_KEYWORDS,
    MODEL_NAMES,
    POSITIONAL_KERNEL,
    REMOVED_LAYERS,
    SPECIAL_KEYWORDS,
)

_COMMA = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _remove_arg(rule: Keras1Rule, call: cst.Call, arg: cst.Arg, message: str, safety: Optional[Safety] = None,
                severity: Optional[Severity] = None) -> None:
    """Report `arg` with a fix that deletes it (the call is rebuilt when it is the last argument)."""
    if arg is not call.args[-1]:
        rule.report(arg, message, cst.RemovalSentinel.REMOVE, safety=safety, severity=severity)
    else:
        rest = [a for a in call.args if a is not arg]
        rule.report(call, message, with_args(call, rest), safety=safety, severity=severity, at=arg)


# KM304: each Keras 1 keyword it renames -> the classes (and backend functions) it renames it on.
_KEYWORD_CLASSES: dict[str, set[str]] = {}
for _cls, _table in [*KEYWORDS.items(), *((k.rpartition(".")[2], t) for k, t in BACKEND_KEYWORDS.items())]:
    for _kw in _table:
        if _kw not in SPECIAL_KEYWORDS:
            _KEYWORD_CLASSES.setdefault(_kw, set()).add(_cls)
_KERNEL_KEYWORDS = frozenset(k for kws in KERNEL_KEYWORDS.values() for k in kws)
_DECONV_CLASSES = tuple(c for c, table in KEYWORDS.items() if "output_shape" in table)
_KERAS2_NAME = {"Conv2D": "Convolution2D", "Conv3D": "Convolution3D", "Conv2DTranspose": "Deconvolution2D",
                "SeparableConv2D": "SeparableConvolution2D"}
_EXTRAS_CLASSES = (*KERAS1_POSITIONAL, *_KERAS2_NAME)


def positional_keywords(facts) -> bool:
    """KM305 may turn Keras 1 positional arguments after the kernel into keywords (`init=`,
    `weights=`, `output_shape=`, ...): a conv class of KERAS1_POSITIONAL called with 4+ of them."""
    return spelled(facts, _EXTRAS_CLASSES) and scan(facts, _EXTRAS_CLASSES, call=lambda c: len(c.args) >= 4)


def _keras1_extras(call: cst.Call, cls: Optional[str]) -> dict[str, cst.Arg]:
    """Keras 1 positional arguments after the kernel of a Keras-1-named conv layer, by name
    (`Deconvolution2D(3, 3, 3, shape)` -> {'output_shape': <arg>}); KM305 makes them keywords."""
    order = KERAS1_POSITIONAL.get(cls or "")
    dims = POSITIONAL_KERNEL.get(cls or "")
    if not order or not dims or has_star(call):
        return {}
    pos = positional(call)
    return {order[i]: a for i, a in enumerate(pos[1 + dims:]) if i < len(order)}


# ---------------------------------------------------------------------------------- KM301


class Keras1LayerName(Keras1Rule):
    """
    ## What it does
    Renames the Keras 1 layer classes to their Keras 2/3 names: `Convolution1D/2D/3D` ->
    `Conv1D/2D/3D`, `SeparableConvolution2D` -> `SeparableConv2D`, `Deconvolution2D` ->
    `Conv2DTranspose`, `AtrousConvolution1D/2D` -> `Conv1D/2D` (KM304 turns `atrous_rate=` into
    `dilation_rate=`). Uses (`Convolution2D(...)`, `isinstance(l, Convolution2D)`,
    `KL.Convolution2D`) and imports are rewritten; the new name is imported from the same Keras.

    ## Why is this bad
    `Deconvolution2D` and `AtrousConvolution*` are gone: the import fails on TensorFlow 2.21.
    `Convolution2D` and its kin survive as aliases, but with the Keras 2 signature, so the Keras 1
    keywords around them fail; the Keras 2 name makes that plain.

    ## Example
    ```python
    from keras.layers import Convolution2D
    x = Convolution2D(32, 3, 3)(x)
    ```
    becomes (with KM305)
    ```python
    from keras.layers import Conv2D
    x = Conv2D(32, kernel_size=(3, 3))(x)
    ```

    ## Fix safety
    Safe: the new name is the class the old one meant. A rename that would clash with another
    binding of the new name in the file is reported, not made.
    """

    code = "KM301"
    needs_import = KERAS_OR_TF
    name = "keras1-layer-name"
    summary = "Keras 1 layer name (`Convolution2D`, `Deconvolution2D`, `AtrousConvolution2D`, ...)"
    severity = Severity.WARNING
    fix_safety = Safety.SAFE
    triggers = ("Convolution", "Deconvolution")

    VALID = [
        "from tensorflow.keras.layers import Conv2D\nx = Conv2D(32, (3, 3))\n",
        "def Convolution2D(n):\n    return n\nx = Convolution2D(3)\n",
        "from mylib import Deconvolution2D\nx = Deconvolution2D(3)\n",
    ]
    INVALID = [
        Example("from keras.layers import Convolution2D\nx = Convolution2D(32, (3, 3))\n",
                "from keras.layers import Conv2D\nx = Conv2D(32, (3, 3))\n"),
        Example("import keras\nx = keras.layers.Deconvolution2D(8, (3, 3))\n",
                "import keras\nx = keras.layers.Conv2DTranspose(8, (3, 3))\n"),
        Example("from keras.layers.convolutional import AtrousConvolution2D as A\nx = A(8, (3, 3))\n",
                "from keras.layers.convolutional import Conv2D as A\nx = A(8, (3, 3))\n"),
        Example("from tensorflow.keras.layers import Convolution1D, Dense\n",
                "from tensorflow.keras.layers import Conv1D, Dense\n"),
    ]

    def __init__(self, context):
        super().__init__(context)
        self.in_import = 0
        self.attr_names: set[int] = set()
        self.used: set[str] = set()
        self.imports: list[cst.ImportFrom] = []

    def visit_Import(self, node: cst.Import) -> None:
        self.in_import += 1

    def leave_Import(self, node: cst.Import) -> None:
        self.in_import -= 1

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.in_import += 1
        if node.module is not None and not node.relative and not isinstance(node.names, cst.ImportStar):
            self.imports.append(node)

    def leave_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.in_import -= 1

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self.in_import:
            return
        self.attr_names.add(id(node.attr))
        old = class_key(self.kname(node))
        if old in LAYER_RENAMES and node.attr.value == old:
            self._rename(node, old)

    def visit_Name(self, node: cst.Name) -> None:
        if self.in_import or id(node) in self.attr_names or node.value not in LAYER_RENAMES:
            return
        old = class_key(self.kname(node))
        if old == node.value:
            self.used.add(old)
            self._rename(node, old)

    def _message(self, old: str) -> tuple[str, Severity]:
        new = LAYER_RENAMES[old]
        extra = " (`atrous_rate=` becomes `dilation_rate=`)" if old.startswith("Atrous") else ""
        if old in LAYER_ALIASES_KEPT:
            return f"`{old}` is the Keras 1 name of `{new}`{extra}", Severity.WARNING
        return f"`{old}` is gone from Keras 3; use `{new}`{extra}", Severity.ERROR

    def _rename(self, node: cst.BaseExpression, old: str) -> None:
        new = LAYER_RENAMES[old]
        message, severity = self._message(old)
        fix = self.rename_reference(node, old, new)
        if fix is None:
            self.report(node, message + "; rename it by hand", severity=severity)
        else:
            self.report(node, message, fix[0], imports=fix[1], severity=severity)

    def leave_Module(self, original_node: cst.Module) -> None:
        for imp in self.imports:
            self._fix_import(imp)

    def _fix_import(self, imp: cst.ImportFrom) -> None:
        module = code_of(imp.module)
        names = list(imp.names)
        bound = {code_of(a.asname.name) if a.asname else code_of(a.name) for a in names}
        new_names: list[cst.ImportAlias] = []
        changed: list[str] = []
        legacy = canonical_keras(module + ".") is not None and canonical_keras(module + ".").startswith("legacy.")
        for a in names:
            old = class_key(canonical_keras(f"{module}.{code_of(a.name)}"))
            if old not in LAYER_RENAMES or (a.asname is None and old in self.used):
                new_names.append(a)
                continue
            new = LAYER_RENAMES[old]
            changed.append(old)
            if a.asname is None and new in bound:
                continue  # `from keras.layers import Convolution2D, Conv2D`: the duplicate goes
            bound.add(new)
            new_names.append(a.with_changes(name=cst.Name(new)))
        if not changed:
            return
        message, severity = self._message(changed[0])
        if legacy:
            if len(changed) != len(names):
                self.report(imp, message + "; import it from `keras.layers`", severity=severity)
                return
            imp = imp.with_changes(module=cst.parse_expression(layers_module_for(module + ".", self.context.target)))
        last = names[-1].comma
        fixed = [a.with_changes(comma=_COMMA if i < len(new_names) - 1 else last) for i, a in enumerate(new_names)]
        self.report(imp, message, imp.with_changes(names=fixed), severity=severity)


# ---------------------------------------------------------------------------------- KM302


# Keras 1 layers KM302 defines in the file that uses them: a small Keras 3 layer computing what
# Keras 1's did (keras/layers/core.py of Keras 1.2), with the weights in Keras 1's shapes and order.
# class -> (its positional parameters, the keywords a call may pass, the Keras names the helper
# uses, the helper's source). tests/rules/keras3/test_keras1_maxout_highway.py checks them in TensorFlow.
_BASE_KEYWORDS = ("input_dim", "input_shape", "name", "trainable")
_HELPER_LAYERS = {
    "MaxoutDense": (("output_dim", "nb_feature"), ("output_dim", "nb_feature", *_BASE_KEYWORDS),
                    ("Layer", "ops", "initializers"), '''
class MaxoutDense(Layer):
    """MaxoutDense of Keras 1 (gone since Keras 2): the maximum of `nb_feature` linear layers."""

    def __init__(self, output_dim, nb_feature=4, **kwargs):
        super().__init__(**kwargs)
        self.output_dim = output_dim
        self.nb_feature = nb_feature

    def build(self, input_shape):
        shape = (self.nb_feature, input_shape[-1], self.output_dim)
        # glorot_uniform as Keras 1 drew it: fan_in = fan_out = sqrt(size) for a 3D weight
        limit = (3 / (shape[0] * shape[1] * shape[2]) ** 0.5) ** 0.5
        self.W = self.add_weight(shape=shape, initializer=initializers.RandomUniform(-limit, limit), name='W')
        self.b = self.add_weight(shape=(self.nb_feature, self.output_dim), initializer='zeros', name='b')

    def call(self, x):
        return ops.max(ops.einsum('ni,fio->nfo', x, self.W) + self.b, axis=1)

    def get_config(self):
        return {**super().get_config(), 'output_dim': self.output_dim, 'nb_feature': self.nb_feature}
'''),
    "Highway": ((), ("activation", *_BASE_KEYWORDS), ("Layer", "ops", "activations"), '''
class Highway(Layer):
    """Highway of Keras 1 (gone since Keras 2): t * activation(x W + b) + (1 - t) * x
    with the gate t = sigmoid(x W_carry + b_carry)."""

    def __init__(self, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def build(self, input_shape):
        n = input_shape[-1]
        self.W = self.add_weight(shape=(n, n), initializer='glorot_uniform', name='W')
        self.W_carry = self.add_weight(shape=(n, n), initializer='glorot_uniform', name='W_carry')
        self.b = self.add_weight(shape=(n,), initializer='zeros', name='b')
        self.b_carry = self.add_weight(shape=(n,), initializer='ones', name='b_carry')  # as Keras 1.2 started it

    def call(self, x):
        t = ops.sigmoid(ops.matmul(x, self.W_carry) + self.b_carry)
        return t * self.activation(ops.matmul(x, self.W) + self.b) + (1 - t) * x

    def get_config(self):
        return {**super().get_config(), 'activation': activations.serialize(self.activation)}
'''),
}
# What the helpers' names must be when the file binds them already (canonical Keras names).
_HELPER_NAMES = {"Layer": ("layers.Layer", "models.Layer"), "ops": ("ops",), "initializers": ("initializers",),
                 "activations": ("activations",)}


class _DefineLayers(cst.CSTTransformer):
    """Drops the imports of the layers being defined and points `keras.layers.X(...)` at `X`."""

    def __init__(self, aliases: set, calls: dict):
        super().__init__()
        self.aliases, self.calls = aliases, calls

    def leave_ImportFrom(self, original_node, updated_node):
        if isinstance(original_node.names, cst.ImportStar):
            return updated_node
        kept = [new for old, new in zip(original_node.names, updated_node.names) if old not in self.aliases]
        if len(kept) == len(updated_node.names):
            return updated_node
        if not kept:
            return cst.RemovalSentinel.REMOVE
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated_node.with_changes(names=kept)

    def leave_SimpleStatementLine(self, original_node, updated_node):
        return cst.RemovalSentinel.REMOVE if not updated_node.body else updated_node

    def leave_Call(self, original_node, updated_node):
        cls = self.calls.get(original_node)
        return updated_node if cls is None else updated_node.with_changes(func=cst.Name(cls))


class RemovedKeras1Layer(Keras1Rule):
    """
    ## What it does
    Rewrites the Keras 1 layers that have no class today: `TimeDistributedDense(n, ...)` becomes
    `TimeDistributed(Dense(n, ...))`; `MaxoutDense` and `Highway` are defined in the file, once,
    after the imports, as small Keras 3 layers computing what Keras 1's did, and their import
    goes. Other uses are reported, at every construction and import, with how to replace them.

    ## Why is this bad
    They were deprecated in Keras 2 and removed; on TensorFlow 2.21 the import fails.

    ## Example
    ```python
    from keras.layers import Dense, MaxoutDense
    model.add(MaxoutDense(32, nb_feature=4))
    ```
    becomes
    ```python
    from keras.layers import Dense
    from tensorflow.keras import initializers, ops
    from tensorflow.keras.layers import Layer


    class MaxoutDense(Layer):
        ...  # weights W (nb_feature, input_dim, output_dim) and b (nb_feature, output_dim)

        def call(self, x):
            return ops.max(ops.einsum('ni,fio->nfo', x, self.W) + self.b, axis=1)


    model.add(MaxoutDense(32, nb_feature=4))
    ```

    For `TimeDistributedDense` the input keywords (`input_dim`, `input_length`, `input_shape`,
    `batch_input_shape`) go to the wrapper (KM330 then makes them an `Input`). `MaxoutDense` and
    `Highway` are defined when every use is a call passing `output_dim`/`nb_feature` (MaxoutDense),
    `activation` (Highway), `input_dim`, `input_shape`, `name` or `trainable`, and the file
    imports them plainly at the top level; other initializers, regularizers, constraints,
    `weights=` or `transform_bias=` are reported.

    ## Fix safety
    Safe for `TimeDistributedDense`: Keras 1's layer was exactly a Dense applied at each time
    step. Safe for `MaxoutDense`: the same computation, parameters (`nb_feature * (input_dim *
    output_dim + output_dim)`, in Keras 1's shapes) and initial distribution (Keras 1's
    `glorot_uniform` of a 3D weight); unsafe for Keras 2's `keras.legacy.layers.MaxoutDense`, which
    drew its weights otherwise. Unsafe for `Highway`: the same computation and parameters, its
    gate bias starting at 1 as in Keras 1.2 and Keras 2 (Keras 1.0 and 1.1 started it at
    `transform_bias`, -2).
    """

    code = "KM302"
    needs_import = KERAS_OR_TF
    name = "removed-keras1-layer"
    summary = "Keras 1 layer with no Keras 2/3 class (`MaxoutDense`, `Highway`, `TimeDistributedDense`)"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = tuple(REMOVED_LAYERS)

    VALID = ["class Highway:\n    pass\nh = Highway()\n", "from roads import Highway\n"]
    defined: frozenset = frozenset()  # the layers this pass defines in the file (visit_Module)
    INVALID = [
        Example("from keras.layers import TimeDistributedDense\nm.add(TimeDistributedDense(8, input_dim=4, input_length=5))\n",
                "from keras.layers import Dense, TimeDistributed\n"
                "m.add(TimeDistributed(Dense(8), input_dim=4, input_length=5))\n"),
        Example("from keras.layers import Highway\nm.add(Highway(transform_bias=-1))\n"),
        Example("import keras\nx = keras.layers.core.MaxoutDense(10, init='he_normal')(x)\n"),
        Example("from keras.layers import Dense, MaxoutDense\nm.add(MaxoutDense(32, nb_feature=4))\n",
                "from keras.layers import Dense\nfrom tensorflow.keras import initializers, ops\n"
                "from tensorflow.keras.layers import Layer\n\n" + _HELPER_LAYERS["MaxoutDense"][3]
                + "\n\nm.add(MaxoutDense(32, nb_feature=4))\n"),
    ]

    def visit_Module(self, node: cst.Module) -> None:
        self.defined: set[str] = set()
        wanted = [cls for cls in _HELPER_LAYERS if cls in self.context.text]
        if not wanted:
            return
        plans = {}
        for cls in wanted:
            plan = self._helper_plan(node, cls)
            if plan is not None:
                plans[cls] = plan
        self.defined = set(plans)
        applied = [cls for cls, plan in plans.items() if plan[0] is Safety.SAFE or self.context.unsafe_fixes]
        for group in ([applied] if applied else []) + [[cls] for cls in plans if cls not in applied]:
            new, imports = self._define(node, group, plans)
            safety = Safety.SAFE if all(plans[cls][0] is Safety.SAFE for cls in group) else Safety.UNSAFE
            for cls in group:
                message = (f"`{cls}` was removed in Keras 2: defined in this file as a small layer computing what "
                           f"Keras 1's did")
                if cls == "Highway":
                    message += (" (its gate bias starts at 1, as in Keras 1.2; Keras 1.0 and 1.1 started it at "
                                "`transform_bias`, -2)")
                elif plans[cls][0] is Safety.UNSAFE:
                    message += " (its weights start as Keras 1's did, not as Keras 2's legacy layer drew them)"
                self.report(node, message, new, imports=imports, safety=safety, at=plans[cls][1])

    def _helper_plan(self, module: cst.Module, cls: str):
        """(safety, the first call, the import aliases to drop, the attribute calls to point at `cls`,
        the import edits) when every use of `cls` is a call the helper takes; None otherwise."""
        positional_names, keywords, uses, _ = _HELPER_LAYERS[cls]
        bound = self._helper_bindings()
        aliases, attribute_calls, calls, funcs = set(), {}, [], set()
        legacy = False
        for stmt in module.body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if not isinstance(small, cst.ImportFrom) or isinstance(small.names, cst.ImportStar) \
                        or small.module is None or small.relative:
                    continue
                for a in small.names:
                    canonical = canonical_keras(f"{code_of(small.module)}.{code_of(a.name)}") or ""
                    if class_key(canonical) == cls and a.asname is None:
                        aliases.add(a)
                        legacy = legacy or canonical.startswith("legacy.")
        for n in walk(module):
            if isinstance(n, cst.Call) and self.call_class(n) == cls:
                if has_star(n) or len(positional(n)) > len(positional_names):
                    return None
                given = positional_names[:len(positional(n))]
                named = [a.keyword.value for a in n.args if a.keyword is not None]
                if any(k not in keywords for k in named) or set(given) & set(named):
                    return None
                calls.append(n)
                funcs.add(n.func)
                legacy = legacy or (self.kname(n.func) or "").startswith("legacy.")
                if isinstance(n.func, cst.Attribute):
                    attribute_calls[n] = cls
        if not calls or not aliases and any(isinstance(f, cst.Name) for f in funcs):
            return None  # no call, or the name comes from elsewhere (another notebook cell)
        # Every mention of the name is one of those imports or a call's func.
        import_names = {a.name for a in aliases}
        func_names = {f if isinstance(f, cst.Name) else f.attr for f in funcs}
        if any(isinstance(n, cst.Name) and n.value == cls and n not in import_names and n not in func_names
               for n in walk(module)):
            return None
        if len(self._helper_bindings().get(cls, ())) != len(aliases):
            return None
        imports = []
        for name in uses:
            if name in bound:
                if canonical_keras(self.names.import_name(name) or "") not in _HELPER_NAMES[name]:
                    return None
            elif name == "Layer":
                imports.append(ImportEdit(keras_module(self.context.target, "layers"), "Layer"))
            else:
                imports.append(ImportEdit(keras_module(self.context.target), name))
        safety = Safety.UNSAFE if cls == "Highway" or legacy else Safety.SAFE
        return safety, calls[0], aliases, attribute_calls, imports

    def _helper_bindings(self) -> dict:
        found = self.__dict__.get("_km302_bindings")
        if found is None:
            from kmigrate.rules.keras3.keras2_common import name_bindings

            found = self._km302_bindings = name_bindings(self.module)
        return found

    def _define(self, module: cst.Module, group: list[str], plans: dict):
        """The module with the layers of `group` defined after the leading imports, and the imports they need."""
        from kmigrate.imports import _leading
        from kmigrate.rules.analysis.literals import module_quote

        aliases = set().union(*(plans[cls][2] for cls in group))
        calls = {k: v for cls in group for k, v in plans[cls][3].items()}
        new = module.visit(_DefineLayers(aliases, calls))
        quote = module_quote(module)
        classes = []
        for cls in group:
            source = _HELPER_LAYERS[cls][3].lstrip("\n").replace("    ", new.default_indent)
            if quote == '"':
                source = source.replace("'", '"')
            stmt = cst.parse_module(source, config=new.config_for_parsing).body[0]
            classes.append(stmt.with_changes(leading_lines=(cst.EmptyLine(), cst.EmptyLine())))
        # After the imports above the first statement that uses them (the new imports go higher up).
        body = list(new.body)
        first = next((i for i, stmt in enumerate(body) if any(
            isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and n.func.value in group for n in walk(stmt))),
            len(body))
        imports_above = [i for i, stmt in enumerate(body[:first]) if isinstance(stmt, cst.SimpleStatementLine)
                         and all(isinstance(small, (cst.Import, cst.ImportFrom)) for small in stmt.body)]
        at = max(_leading(new).stop, imports_above[-1] + 1 if imports_above else 0)
        if at < len(body):
            lines = list(body[at].leading_lines)
            while lines and lines[0].comment is None:
                lines.pop(0)
            body[at] = body[at].with_changes(leading_lines=(cst.EmptyLine(), cst.EmptyLine(), *lines))
        imports = list(dict.fromkeys(edit for cls in group for edit in plans[cls][4]))
        return new.with_changes(body=[*body[:at], *classes, *body[at:]]), imports

    def visit_Call(self, node: cst.Call) -> None:
        cls = self.call_class(node)
        if cls in self.defined:
            return
        if cls == "TimeDistributedDense":
            fix = self._time_distributed(node)
            if fix is not None:
                self.report(node, f"`{cls}` is {REMOVED_LAYERS[cls]}", fix[0], imports=fix[1])
                return
        if cls in REMOVED_LAYERS:
            self.report(node, f"`{cls}` is {REMOVED_LAYERS[cls]}", safety=Safety.NONE)

    def _time_distributed(self, node: cst.Call):
        if has_star(node) or not isinstance(node.func, cst.Name):
            return None
        qname = self.import_qname(node.func)
        if qname is None:
            return None
        home = layers_module_for(qname, self.context.target)
        imports = [ImportEdit(home, "TimeDistributed"), ImportEdit(home, "Dense"),
                   *removal_edits(qname.rsplit(".", 1)[0], "TimeDistributedDense")]
        for local in ("TimeDistributed", "Dense"):
            if not self.free_for(local, "layers." + local):
                return None
        outer = [a for a in node.args if a.keyword is not None and a.keyword.value in (
            "input_dim", "input_length", "input_shape", "batch_input_shape")]
        inner = [a for a in node.args if a not in outer]
        dense = with_args(cst.Call(func=cst.Name("Dense")), inner)
        args = [cst.Arg(dense)] + outer
        wrapped = with_args(cst.Call(func=cst.Name("TimeDistributed")), args)
        return wrapped, imports

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.module is None or node.relative or isinstance(node.names, cst.ImportStar):
            return
        module = code_of(node.module)
        for a in node.names:
            cls = class_key(canonical_keras(f"{module}.{code_of(a.name)}"))
            if cls in REMOVED_LAYERS and cls not in self.defined:
                self.report(a, f"importing `{cls}` fails on TensorFlow 2.21: it is {REMOVED_LAYERS[cls]}")


# ---------------------------------------------------------------------------------- KM304


class Keras1LayerKeyword(Keras1Rule):
    """
    ## What it does
    Renames the Keras 1 keywords of layer constructors, per layer, from the table in
    `rules/tables/keras1_layers.py`: `output_dim` -> `units`, `init` -> `kernel_initializer`
    (`embeddings_initializer` for Embedding, `alpha_initializer` for PReLU, both
    `depthwise_initializer` and `pointwise_initializer` for SeparableConv2D), `W_regularizer`,
    `b_regularizer`, `W_constraint`, `b_constraint`, `bias` -> `use_bias`, `p` -> `rate`,
    `sigma` -> `stddev`, RNN `inner_init`, `inner_activation`, `U_regularizer`, `dropout_W`,
    `dropout_U`, conv `nb_filter`, `filter_length`, `subsample(_length)`, `border_mode`,
    `atrous_rate`, pooling `pool_length`/`stride`, UpSampling1D `length`, BatchNormalization
    `beta_init`/`gamma_init`, `Input(input_dtype=)`; and the keywords of Keras 1 backend
    functions: `K.random_normal(std=)`/`K.truncated_normal(std=)` -> `stddev=`,
    `K.random_uniform(low=, high=)` -> `minval=`, `maxval=`, `K.conv2d`/`K.pool2d(border_mode=)`
    -> `padding=` (their `dim_ordering=` is KM306's).

    ## Why is this bad
    Keras 2 translated these at run time; Keras 3 rejects them ("Unrecognized keyword arguments").

    ## Example
    ```python
    Dense(output_dim=10, init='he_normal', W_regularizer=l2(0.01))
    ```
    becomes
    ```python
    Dense(units=10, kernel_initializer='he_normal', kernel_regularizer=l2(0.01))
    ```

    ## Fix safety
    Safe: each keyword is renamed to the one Keras 2 itself translated it to. Splitting
    SeparableConv2D's `init=` into two keywords evaluates the value twice, so it is unsafe when
    that value is a call. A call that already has the new keyword, and `border_mode='full'`
    (no equivalent), are reported.
    """

    code = "KM304"
    needs_import = KERAS_OR_TF
    name = "keras1-layer-keyword"
    summary = "Keras 1 layer keyword (`output_dim`, `init`, `W_regularizer`, `border_mode`, `p`, ...)"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("keras",)

    @classmethod
    def screen(cls, facts, context) -> bool:
        # a keyword of its table on a call of that class, or one KM305 makes of a positional argument
        classes = {c for k in facts.keywords if k in _KEYWORD_CLASSES for c in _KEYWORD_CLASSES[k]}
        return (bool(classes) and called_with(facts, classes, _KEYWORD_CLASSES)) or positional_keywords(facts)

    VALID = [
        "from keras.layers import Dense\nDense(units=10, kernel_initializer='he_normal')\n",
        "def Dense(output_dim, init=None):\n    pass\nDense(output_dim=3, init=1)\n",
        "from keras.layers import Embedding\nEmbedding(100, output_dim=8)\n",
        "from keras.layers import Conv2D\nConv2D(32, (3, 3), padding='same')\n",
    ]
    INVALID = [
        Example("from keras.layers import Dense\nDense(output_dim=10, init='he_normal', bias=False)\n",
                "from keras.layers import Dense\nDense(units=10, kernel_initializer='he_normal', use_bias=False)\n"),
        Example("import keras\nkeras.layers.Dropout(p=0.5)\n", "import keras\nkeras.layers.Dropout(rate=0.5)\n"),
        Example("from keras.layers import Embedding\nEmbedding(100, 8, init='uniform', W_regularizer=r)\n",
                "from keras.layers import Embedding\nEmbedding(100, 8, embeddings_initializer='uniform', "
                "embeddings_regularizer=r)\n"),
        Example("from keras.layers import LSTM\nLSTM(32, inner_activation='hard_sigmoid', dropout_U=0.2)\n",
                "from keras.layers import LSTM\nLSTM(32, recurrent_activation='hard_sigmoid', recurrent_dropout=0.2)\n"),
        Example("from keras.layers import SeparableConv2D\nSeparableConv2D(8, (3, 3), init='he_normal')\n",
                "from keras.layers import SeparableConv2D\nSeparableConv2D(8, (3, 3), depthwise_initializer="
                "'he_normal', pointwise_initializer='he_normal')\n"),
        Example("from keras.layers import MaxPooling1D\nMaxPooling1D(pool_length=2, stride=1, border_mode='same')\n",
                "from keras.layers import MaxPooling1D\nMaxPooling1D(pool_size=2, strides=1, padding='same')\n"),
        Example("from keras.layers import Conv2D\nConv2D(32, (3, 3), border_mode='full')\n"),
        Example("from keras.layers import Dense\nDense(10, init='one', kernel_initializer='zeros')\n"),
        Example("from keras import backend as K\ne = K.random_normal(shape=(2, 3), mean=0., std=0.5)\n",
                "from keras import backend as K\ne = K.random_normal(shape=(2, 3), mean=0., stddev=0.5)\n"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        k = self.kname(node.func)  # one resolution: a layer class, or a backend function
        cls = class_key(k)
        table = KEYWORDS.get(cls)
        if not table and any(a.keyword is not None for a in node.args):
            cls, table = k, BACKEND_KEYWORDS.get(k or "")
        if not table:
            return
        present = keywords(node)
        for kw, arg in present.items():
            if kw not in table or kw in SPECIAL_KEYWORDS:
                continue
            new = table[kw]
            targets = new if isinstance(new, tuple) else (new,)
            shown = "`, `".join(f"{t}=" for t in targets)
            clash = [t for t in targets if t in present]
            if clash:
                self.report(arg, f"`{kw}=` is the Keras 1 name of `{shown}` ({cls}), which the call also "
                                 "passes: keep one of them")
                continue
            if kw == "border_mode" and string_value(arg.value) in BORDER_MODE_GONE:
                self.report(arg, BORDER_MODE_GONE[string_value(arg.value)])
                continue
            message = f"`{kw}=` is the Keras 1 name of `{shown}` ({cls}); Keras 3 rejects it"
            if len(targets) == 1:
                self.report(arg.keyword, message, cst.Name(targets[0]))
            else:
                first = make_kw(targets[0], arg.value, like=arg).with_changes(comma=_COMMA)
                second = make_kw(targets[1], arg.value, like=arg)
                self.report(arg, message, cst.FlattenSentinel([first, second]),
                            safety=Safety.SAFE if is_simple(arg.value) else Safety.UNSAFE)


# ---------------------------------------------------------------------------------- KM305

_KERAS1_EVIDENCE = frozenset(
    k for cls in ("Convolution2D", "Convolution3D", "AtrousConvolution2D", "SeparableConvolution2D")
    for k in KEYWORDS[cls]
)


class ConvKernelPositional(Keras1Rule):
    """
    ## What it does
    Turns the Keras 1 kernel arguments of 2D/3D convolutions into `kernel_size`:
    `Conv2D(32, 3, 3)` and `Convolution2D(32, nb_row=3, nb_col=3)` become
    `Conv2D(32, kernel_size=(3, 3))`; `Convolution3D(8, 3, 3, 3)` becomes
    `Conv3D(8, kernel_size=(3, 3, 3))`. Keras 1 positional arguments after the kernel
    (`init`, `activation`, `weights`, `border_mode`, `subsample`, `dim_ordering`; `output_shape`
    for Deconvolution2D) become keywords, which KM304/KM306/KM310 then rename.

    ## Why is this bad
    This is a silent trap: in Keras 1 (and in standalone Keras 2, which converted it)
    `Conv2D(32, 3, 3)` is a 3x3 kernel; Keras 3 reads the third argument as `strides`, so the
    model builds, trains, and is a different model (kernel 3x3, strides 3), with no warning.

    ## Example
    ```python
    from keras.layers import Convolution2D
    Convolution2D(64, 3, 3, border_mode='same')
    ```
    becomes
    ```python
    Convolution2D(64, kernel_size=(3, 3), border_mode='same')
    ```

    ## Fix safety
    Safe when the layer has its Keras 1 name, the call has a Keras 1 keyword, or the kernel
    sizes are integer literals in a file that uses standalone Keras or Keras 1 names. Unsafe when
    the kernel arguments are computed and only the file tells it is Keras 1/2 code (a tuple there
    would have meant strides). In other tf.keras code `Conv2D(32, 3, 3)` is only reported (info),
    since there it has always meant strides 3.
    """

    code = "KM305"
    needs_import = KERAS_OR_TF
    name = "conv-kernel-positional"
    summary = "Keras 1 kernel arguments `Conv2D(32, 3, 3)` (Keras 3 reads the 3rd as strides)"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("Conv", "Deconv")

    @classmethod
    def screen(cls, facts, context) -> bool:
        # a 2D/3D conv class (or an alias) called with nb_row=/kernel_dim1=... or 3+ positional arguments
        return spelled(facts, POSITIONAL_KERNEL) and (not facts.keywords.isdisjoint(_KERNEL_KEYWORDS) or scan(
            facts, POSITIONAL_KERNEL, call=lambda c: len(c.args) >= 3))

    VALID = [
        "from keras.layers import Conv2D\nConv2D(32, (3, 3))\n",
        "from keras.layers import Conv2D\nConv2D(32, 3, strides=3)\n",
        "from keras.layers import Conv2D\nConv2D(32, kernel_size=(3, 3), strides=2)\n",
        "from keras.layers import Conv1D\nConv1D(32, 3)\n",
        "from tensorflow.keras.layers import Conv2D\nConv2D(32, 3, (2, 2))\n",
    ]
    INVALID = [
        Example("from keras.layers import Conv2D\nConv2D(32, 3, 3)\n",
                "from keras.layers import Conv2D\nConv2D(32, kernel_size=(3, 3))\n"),
        Example("from keras.layers import Convolution2D\nConvolution2D(64, nb_row=5, nb_col=5, border_mode='same')\n",
                "from keras.layers import Convolution2D\nConvolution2D(64, kernel_size=(5, 5), border_mode='same')\n"),
        Example("from keras.layers import Convolution2D\nConvolution2D(n, k[0], k[1], 'he_normal', 'relu')\n",
                "from keras.layers import Convolution2D\nConvolution2D(n, kernel_size=(k[0], k[1]), "
                "init='he_normal', activation='relu')\n"),
        Example("from keras.layers import Convolution3D\nConvolution3D(8, 3, 3, 3)\n",
                "from keras.layers import Convolution3D\nConvolution3D(8, kernel_size=(3, 3, 3))\n"),
        Example("from keras.layers import Conv2D\nConv2D(32, a, b)\n"),
        Example("from tensorflow.keras.layers import Conv2D\nConv2D(32, 3, 3)\n"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        cls = self.call_class(node)
        dims = POSITIONAL_KERNEL.get(cls or "")
        if not dims or has_star(node):
            return
        kws = KERNEL_KEYWORDS[dims]
        present = keywords(node)
        pos = positional(node)
        n_pos_parts = max(0, min(len(pos) - 1, dims))
        kw_parts = [present.get(k) for k in kws[n_pos_parts:]]
        has_kw_parts = any(present.get(k) is not None for k in kws)
        if n_pos_parts < dims and not has_kw_parts:
            return  # Conv2D(32, (3, 3)) / Conv2D(32, 3) / Conv3D(8, 3, 1): today's form
        if not all(kw_parts):
            missing = [k for k, a in zip(kws[n_pos_parts:], kw_parts) if a is None]
            self.report(node, f"Keras 1 kernel arguments without `{'`, `'.join(missing)}`: write "
                              f"`kernel_size=({', '.join(kws)})` by hand")
            return
        if "kernel_size" in present:
            self.report(node, "both Keras 1 kernel arguments and `kernel_size=`: keep `kernel_size=`")
            return
        parts = [a.value for a in pos[1:1 + n_pos_parts]] + [a.value for a in kw_parts]
        extras = pos[1 + dims:] if n_pos_parts == dims else []
        keras1_name = cls in LAYER_RENAMES
        # Calls judged Keras 1 in an earlier pass stay so when other fixes (KM301's rename, KM304's
        # keywords, KM101's imports) have removed the evidence before this call's fix could apply.
        filters = pos[0] if pos else present.get("nb_filter") or present.get("filters")
        key = (dims, code_of(filters.value) if filters is not None else "", tuple(code_of(p) for p in parts))
        seen = self.facts.setdefault("keras1_kernels", set())
        evidence = (keras1_name or has_kw_parts or key in seen
                    or any(k in _KERAS1_EVIDENCE and k not in kws for k in present))
        ints = all(is_int_literal(p) for p in parts)
        tuples = any(isinstance(p, (cst.Tuple, cst.List)) for p in parts)
        keras1_file = self.facts["keras1"] or self.facts["standalone"]
        shown = f"kernel_size=({', '.join(code_of(p) for p in parts)})"
        trap = (f"Keras 1 kernel arguments: write `{shown}` (Keras 3 reads the third positional argument of "
                f"`{cls}` as `strides`)")
        safety = Safety.SAFE
        if tuples:
            if evidence:
                self.report(node, "positional tuple where Keras 1 had a kernel size: check and write "
                                  "`kernel_size=`/`strides=` by keyword")
            return
        if not evidence:
            if ints and keras1_file:
                pass
            elif ints:
                self.report(node, f"`{cls}({code_of(pos[0].value)}, {code_of(parts[0])}, {code_of(parts[1])}...)`: "
                                  f"the third argument is `strides`; if this is Keras 1 code meaning a "
                                  f"{'x'.join(code_of(p) for p in parts)} kernel write `{shown}`, else write "
                                  f"`strides=` by keyword", severity=Severity.INFO)
                return
            elif keras1_file:
                safety = Safety.UNSAFE
                trap += "; if these are tuples, they were kernel size and strides: then pass `strides=` instead"
            else:
                return
        # Keras 1 positional arguments after the kernel become keywords.
        order = KERAS1_POSITIONAL.get(cls if keras1_name else _KERAS2_NAME.get(cls, ""), ())
        if len(extras) > len(order):
            self.report(node, trap + "; the positional arguments after it must be passed by keyword (Keras 1 "
                                     "order: init, activation, weights, border_mode, subsample, dim_ordering)")
            return
        extra_names = {id(a): order[i] for i, a in enumerate(extras)}
        clash = [name for name in extra_names.values() if name in present]
        if clash:
            self.report(node, trap + f"; `{clash[0]}` is passed twice")
            return
        part_args = {id(a) for a in pos[1:1 + n_pos_parts]} | {id(a) for a in kw_parts}
        first_part = pos[1] if n_pos_parts else kw_parts[0]
        kernel = cst.Tuple([cst.Element(p, comma=_COMMA if i < len(parts) - 1 else cst.MaybeSentinel.DEFAULT)
                            for i, p in enumerate(parts)])
        args: list[cst.Arg] = []
        for a in node.args:
            if a is first_part:
                args.append(make_kw("kernel_size", kernel, like=a if a.keyword is not None else None)
                            .with_changes(comma=a.comma))
            elif id(a) in part_args:
                continue
            elif id(a) in extra_names:
                args.append(make_kw(extra_names[id(a)], a.value).with_changes(comma=a.comma))
            else:
                args.append(a)
        if safety is Safety.SAFE:
            seen.add(key)
        self.report(node, trap, with_args(node, args), safety=safety)


# ---------------------------------------------------------------------------------- KM306


class DimOrdering(Keras1Rule):
    """
    ## What it does
    Rewrites the Keras 1 `dim_ordering=` keyword of convolution, pooling, up-sampling,
    padding, cropping and spatial-dropout layers to `data_format=`, mapping the value:
    `'tf'` -> `'channels_last'`, `'th'` -> `'channels_first'`, `'default'` -> `None` (the
    configured default), and `K.image_dim_ordering()` -> `K.image_data_format()`.

    ## Why is this bad
    Keras 3 rejects `dim_ordering`, and `data_format` does not take `'tf'`/`'th'`.

    ## Example
    ```python
    MaxPooling2D((2, 2), dim_ordering='th')
    ```
    becomes
    ```python
    MaxPooling2D((2, 2), data_format='channels_first')
    ```

    ## Fix safety
    Safe for the literal values, `image_dim_ordering()` and a name bound once to it (KM347
    rewrites that binding to `image_data_format()`). Any other value (a parameter, a name bound
    elsewhere) is reported: its value must be mapped where it is set. The same keyword of
    `ImageDataGenerator`, `img_to_array` and `array_to_img` is rewritten too.
    """

    code = "KM306"
    needs_import = KERAS_OR_TF
    name = "keras1-dim-ordering"
    summary = "Keras 1 `dim_ordering='tf'/'th'`; use `data_format='channels_last'/'channels_first'`"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    # Also the Keras 1 conv names: KM305 turns a positional dim_ordering into a keyword.
    triggers = ("dim_ordering", "Convolution", "Deconvolution")

    VALID = [
        "from keras.layers import MaxPooling2D\nMaxPooling2D(data_format='channels_first')\n",
        "def resize(x, dim_ordering='th'):\n    pass\nresize(1, dim_ordering='tf')\n",
    ]
    INVALID = [
        Example("from keras.layers import MaxPooling2D\nMaxPooling2D((2, 2), dim_ordering='th')\n",
                "from keras.layers import MaxPooling2D\nMaxPooling2D((2, 2), data_format='channels_first')\n"),
        Example("from keras.layers import Conv2D\nConv2D(8, (3, 3), dim_ordering=\"tf\")\n",
                "from keras.layers import Conv2D\nConv2D(8, (3, 3), data_format=\"channels_last\")\n"),
        Example("from keras.layers import ZeroPadding2D\nZeroPadding2D(dim_ordering='default')\n",
                "from keras.layers import ZeroPadding2D\nZeroPadding2D(data_format=None)\n"),
        Example("from keras import backend as K\nfrom keras.layers import UpSampling2D\n"
                "UpSampling2D(dim_ordering=K.image_dim_ordering())\n",
                "from keras import backend as K\nfrom keras.layers import UpSampling2D\n"
                "UpSampling2D(data_format=K.image_data_format())\n"),
        Example("from keras.layers import Conv2D\nConv2D(8, (3, 3), dim_ordering=order)\n"),
        Example("from keras import backend as K\nfrom keras.layers import Conv2D\no = K.image_data_format()\n"
                "Conv2D(8, (3, 3), dim_ordering=o)\n",
                "from keras import backend as K\nfrom keras.layers import Conv2D\no = K.image_data_format()\n"
                "Conv2D(8, (3, 3), data_format=o)\n"),
        Example("from keras.preprocessing.image import img_to_array\na = img_to_array(img, dim_ordering='th')\n",
                "from keras.preprocessing.image import img_to_array\na = img_to_array(img, data_format='channels_first')\n"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        cls = self.call_class(node)
        if "dim_ordering" not in KEYWORDS.get(cls or "", {}) and self.kname(node.func) not in DIM_ORDERING_FUNCTIONS:
            return
        arg = kwarg(node, "dim_ordering")
        if arg is None:
            arg = _keras1_extras(node, cls).get("dim_ordering")
            if arg is not None and self._mapped(arg) is None:
                self.report(arg, self._by_hand(arg))  # KM305 makes it a keyword first
            return
        if kwarg(node, "data_format") is not None:
            self.report(arg, "`dim_ordering=` (Keras 1) and `data_format=` both given: keep `data_format=`")
            return
        new_value = self._mapped(arg)
        if new_value is None:
            self.report(arg, self._by_hand(arg))
            return
        self.report(arg, f"`dim_ordering=` (Keras 1) is `data_format={code_of(new_value)}`",
                    make_kw("data_format", new_value, like=arg))

    @staticmethod
    def _by_hand(arg: cst.Arg) -> str:
        return (f"`dim_ordering={code_of(arg.value)}` (Keras 1): pass `data_format=` with the value mapped "
                "('tf' -> 'channels_last', 'th' -> 'channels_first')")

    def _mapped(self, arg: cst.Arg) -> Optional[cst.BaseExpression]:
        value = string_value(arg.value)
        if value in DIM_ORDERING_VALUES:
            mapped = DIM_ORDERING_VALUES[value]
            return cst.Name("None") if mapped is None else requote(arg.value, mapped)
        if (isinstance(arg.value, cst.Call) and not arg.value.args and isinstance(arg.value.func, cst.Attribute)
                and self.kname(arg.value.func) == "backend.image_dim_ordering"):
            return arg.value.with_changes(func=arg.value.func.with_changes(attr=cst.Name("image_data_format")))
        if isinstance(arg.value, cst.Name):
            # A name bound once to K.image_dim_ordering() (KM347 makes it K.image_data_format()).
            from kmigrate.rules.keras3.image_data_format import ordering_names

            names = self.__dict__.get("_ordering_names")
            if names is None:
                names = self._ordering_names = ordering_names(self, self.module)
            if arg.value.value in names:
                return arg.value
        return None


# ---------------------------------------------------------------------------------- KM307


class ConsumeLess(Keras1Rule):
    """
    ## What it does
    Rewrites the Keras 1 RNN keyword `consume_less=` to `implementation=` for LSTM and GRU
    (`'cpu'` -> 0, `'mem'` -> 1, `'gpu'` -> 2), removes a computed value, and removes it from
    SimpleRNN, which has no `implementation` in Keras 3.

    ## Why is this bad
    Keras 3 rejects `consume_less`. It only chose how the cell is computed, never the result.

    ## Example
    ```python
    LSTM(64, consume_less='gpu')
    ```
    becomes
    ```python
    LSTM(64, implementation=2)
    ```

    ## Fix safety
    Safe: the computation strategy does not change the model. A computed value for LSTM/GRU
    (`consume_less=mode`) is removed (unsafe when it is a call, which would no longer run); a call
    that also passes `implementation=` is reported.
    """

    code = "KM307"
    needs_import = KERAS_OR_TF
    name = "keras1-consume-less"
    summary = "Keras 1 RNN `consume_less=`; use `implementation=` (or nothing)"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("consume_less",)

    VALID = ["from keras.layers import LSTM\nLSTM(8, implementation=2)\n"]
    INVALID = [
        Example("from keras.layers import LSTM\nLSTM(64, consume_less='gpu')\n",
                "from keras.layers import LSTM\nLSTM(64, implementation=2)\n"),
        Example("from keras.layers import SimpleRNN\nSimpleRNN(8, consume_less='mem', return_sequences=True)\n",
                "from keras.layers import SimpleRNN\nSimpleRNN(8, return_sequences=True)\n"),
        Example("from keras.layers import GRU\nGRU(8, consume_less=mode)\n", "from keras.layers import GRU\nGRU(8)\n"),
        Example("from keras.layers import GRU\nGRU(8, consume_less='gpu', implementation=1)\n"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        cls = self.call_class(node)
        table = KEYWORDS.get(cls or "", {})
        arg = kwarg(node, "consume_less")
        if "consume_less" not in table or arg is None:
            return
        target = table["consume_less"]
        if target is None:
            _remove_arg(self, node, arg, f"`consume_less=` (Keras 1) is gone and {cls} has no `implementation`: "
                                         "removed (it never changed the result)")
            return
        value = string_value(arg.value)
        if kwarg(node, target) is not None:
            self.report(arg, f"`consume_less=` (Keras 1) and `{target}=` both given: keep `{target}=`")
        elif value in CONSUME_LESS_VALUES:
            self.report(arg, f"`consume_less={value!r}` (Keras 1) is `{target}={CONSUME_LESS_VALUES[value]}`",
                        make_kw(target, cst.Integer(str(CONSUME_LESS_VALUES[value])), like=arg))
        else:
            # a computed value (`consume_less=mode`): the strategy never changed the result, so it goes
            _remove_arg(self, node, arg, f"`consume_less={code_of(arg.value)}` (Keras 1) is gone: removed (it only "
                        f"chose how {cls} computes, never the result; pass `{target}=` if the speed matters)",
                        safety=Safety.SAFE if is_simple(arg.value) else Safety.UNSAFE)


# ---------------------------------------------------------------------------------- KM308


class ForgetBiasInit(Keras1Rule):
    """
    ## What it does
    Rewrites LSTM's Keras 1 `forget_bias_init='one'` to `unit_forget_bias=True` and
    `forget_bias_init='zero'` to `unit_forget_bias=False`.

    ## Why is this bad
    Keras 3 rejects `forget_bias_init`; `unit_forget_bias` is the switch that replaced it.

    ## Example
    ```python
    LSTM(32, forget_bias_init='one')
    ```
    becomes
    ```python
    LSTM(32, unit_forget_bias=True)
    ```

    ## Fix safety
    Safe for `'one'` and `'zero'`, which are exactly what the flag does (the rest of the bias is
    zeros in both). Any other initializer is reported: set the bias with a custom
    `bias_initializer`.
    """

    code = "KM308"
    needs_import = KERAS_OR_TF
    name = "keras1-forget-bias-init"
    summary = "Keras 1 LSTM `forget_bias_init=`; use `unit_forget_bias=`"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("forget_bias_init",)

    VALID = ["from keras.layers import LSTM\nLSTM(8, unit_forget_bias=False)\n"]
    INVALID = [
        Example("from keras.layers import LSTM\nLSTM(32, forget_bias_init='one')\n",
                "from keras.layers import LSTM\nLSTM(32, unit_forget_bias=True)\n"),
        Example("from keras.layers import LSTM\nLSTM(32, forget_bias_init='zero', return_sequences=True)\n",
                "from keras.layers import LSTM\nLSTM(32, unit_forget_bias=False, return_sequences=True)\n"),
        Example("from keras.layers import LSTM\nLSTM(32, forget_bias_init='normal')\n"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        cls = self.call_class(node)
        table = KEYWORDS.get(cls or "", {})
        arg = kwarg(node, "forget_bias_init")
        if "forget_bias_init" not in table or arg is None:
            return
        value = string_value(arg.value)
        if kwarg(node, "unit_forget_bias") is not None:
            self.report(arg, "`forget_bias_init=` (Keras 1) and `unit_forget_bias=` both given: keep "
                             "`unit_forget_bias=`")
        elif value in FORGET_BIAS_VALUES:
            flag = FORGET_BIAS_VALUES[value]
            self.report(arg, f"`forget_bias_init={value!r}` (Keras 1) is `unit_forget_bias={flag}`",
                        make_kw("unit_forget_bias", cst.Name(str(flag)), like=arg))
        else:
            self.report(arg, "`forget_bias_init=` (Keras 1) is gone: `unit_forget_bias=True` gives ones, "
                             "`False` zeros; anything else needs a custom `bias_initializer`")


# ---------------------------------------------------------------------------------- KM309


class ModelInputOutput(Keras1Rule):
    """
    ## What it does
    Renames the Keras 1 keywords of the functional `Model`: `Model(input=..., output=...)` ->
    `Model(inputs=..., outputs=...)`, also in `super().__init__(input=..., output=...)` of a
    `Model` subclass.

    ## Why is this bad
    Keras 3 raises a ValueError for `input=`/`output=`.

    ## Example
    ```python
    model = Model(input=x, output=y)
    ```
    becomes
    ```python
    model = Model(inputs=x, outputs=y)
    ```

    ## Fix safety
    Safe: the same arguments under their Keras 2 names.
    """

    code = "KM309"
    needs_import = KERAS_OR_TF
    name = "keras1-model-input-output"
    summary = "`Model(input=, output=)` (Keras 1); use `inputs=`/`outputs=`"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("input", "output")

    @classmethod
    def screen(cls, facts, context) -> bool:
        # `input=`/`output=` passed to Keras' Model (or a Model subclass's `__init__`)
        return not facts.keywords.isdisjoint(MODEL_KEYWORDS) and spelled(facts, ("Model",))

    VALID = [
        "from keras.models import Model\nm = Model(inputs=x, outputs=y)\n",
        "from mylib import Model\nm = Model(input=x, output=y)\n",
    ]
    INVALID = [
        Example("from keras.models import Model\nm = Model(input=x, output=y)\n",
                "from keras.models import Model\nm = Model(inputs=x, outputs=y)\n"),
        Example("import keras\nm = keras.models.Model(input=[a, b], output=y, name='m')\n",
                "import keras\nm = keras.models.Model(inputs=[a, b], outputs=y, name='m')\n"),
        Example("from keras.models import Model\nclass M(Model):\n    def __init__(self, x, y):\n"
                "        super(M, self).__init__(input=x, output=y)\n",
                "from keras.models import Model\nclass M(Model):\n    def __init__(self, x, y):\n"
                "        super(M, self).__init__(inputs=x, outputs=y)\n"),
    ]

    def __init__(self, context):
        super().__init__(context)
        self.classes: list[bool] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.append(any(self.kname(b.value) in MODEL_NAMES for b in node.bases))

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.pop()

    def visit_Call(self, node: cst.Call) -> None:
        if self.kname(node.func) in MODEL_NAMES:
            self._rename(node)
        elif (self.classes and self.classes[-1] and isinstance(node.func, cst.Attribute)
              and node.func.attr.value == "__init__" and isinstance(node.func.value, cst.Call)
              and isinstance(node.func.value.func, cst.Name) and node.func.value.func.value == "super"):
            self._rename(node)

    def _rename(self, node: cst.Call) -> None:
        present = keywords(node)
        for old, new in MODEL_KEYWORDS.items():
            arg = present.get(old)
            if arg is None:
                continue
            if new in present:
                self.report(arg, f"`{old}=` (Keras 1) and `{new}=` both given: keep `{new}=`")
            else:
                self.report(arg.keyword, f"`Model({old}=)` is the Keras 1 name of `{new}=`; Keras 3 rejects it",
                            cst.Name(new))


# ---------------------------------------------------------------------------------- KM310


def keras1_deconv_padding(out: int, kernel: int, stride: int, padding: str) -> Optional[tuple[int, int, bool]]:
    """One spatial dimension of a Keras 1 `Deconvolution2D` whose `output_shape` gives `out`:
    (the input size, the Keras 3 `output_padding` giving `out` on it, whether Keras 3 gives `out`
    without `output_padding`); None if no input has that output.

    Keras 1 called `tf.nn.conv2d_transpose` with `output_shape`, which takes the input a convolution
    of `out` gives: 'valid' ceil((out - k + 1) / s), 'same' ceil(out / s). Keras 3 (keras/src/
    backend/common/backend_utils.py, `_get_output_shape_given_tf_padding`) makes, from input `n`,
    'valid' (n-1)*s + max(k, s), or (n-1)*s + k + p with `output_padding=p`; 'same' n*s, or
    (n-1)*s + k%2 + p; and calls the same TensorFlow op with that shape.
    """
    if min(out, kernel, stride) < 1:
        return None
    if padding == "valid":
        if out < kernel:
            return None
        size = (out - kernel) // stride + 1
        return size, out - ((size - 1) * stride + kernel), out == (size - 1) * stride + max(kernel, stride)
    if padding == "same":
        size = -(-out // stride)
        return size, out - ((size - 1) * stride + kernel % 2), out == size * stride
    return None


_INT_OPS = {cst.Add: lambda a, b: a + b, cst.Subtract: lambda a, b: a - b, cst.Multiply: lambda a, b: a * b,
            cst.FloorDivide: lambda a, b: a // b if b else None}
_LAYOUTS = {"channels_last": "channels_last", "tf": "channels_last",
            "channels_first": "channels_first", "th": "channels_first"}


class DeconvOutputShape(Keras1Rule):
    """
    ## What it does
    Replaces the Keras 1 `output_shape=` argument of `Deconvolution2D`/`Conv2DTranspose`
    (KM305 first turns the Keras 1 positional form into this keyword): it goes when Keras 3
    computes the same shape from the input, `strides` and `padding`, and becomes the
    `output_padding=` that gives that shape when it does not (odd sizes with strides).

    ## Why is this bad
    Keras 2 dropped it: the output shape is computed from the input, `strides` and `padding`.
    Keras 3 rejects the keyword. Dropped where the computed shape differs, the layer's output is
    not the old model's, and the layers after it fail or change.

    ## Example
    ```python
    Deconvolution2D(64, 2, 2, output_shape=(None, 29, 29, 64), border_mode='valid', subsample=(2, 2))
    ```
    becomes (with KM301, KM304 and KM305)
    ```python
    Conv2DTranspose(64, kernel_size=(2, 2), output_padding=(1, 1), padding='valid', strides=(2, 2))
    ```
    Keras 1 took the 14x14 input that a 'valid' 2x2 convolution with strides 2 makes of 29x29;
    Keras 3 makes 28x28 of it, 29x29 with `output_padding=(1, 1)`.

    The shape is computed when the kernel size, strides and padding are literals (or names
    bound once to them), the shape's rows and columns are too, and its layout is known: from
    `data_format=`/`dim_ordering=`, or from where the filters count stands in it. The shape may
    be a tuple, a name bound once to one, or a name set by an `if`/`else` before the call (as
    Keras 1's examples set it for 'th' and 'tf'), when every branch gives the same answer.

    ## Fix safety
    Safe when the shape is computed: the layer gives the shape `output_shape` set, by the same
    TensorFlow op. Otherwise the keyword is dropped with `--unsafe-fixes` only, since where the
    given shape is not the computed one the layer's output changes: set `output_padding=` by hand.
    """

    code = "KM310"
    needs_import = KERAS_OR_TF
    name = "keras1-deconv-output-shape"
    summary = "`Deconvolution2D(output_shape=)` (Keras 1) is gone"
    severity = Severity.ERROR
    fix_safety = Safety.UNSAFE
    triggers = ("output_shape", "Deconvolution2D", "Conv2DTranspose")

    @classmethod
    def screen(cls, facts, context) -> bool:
        # `output_shape=` of a transposed conv, or a Keras 1 positional one (KM305 makes it a keyword)
        return called_with(facts, _DECONV_CLASSES, ("output_shape",)) or positional_keywords(facts)

    VALID = ["from keras.layers import Conv2DTranspose\nConv2DTranspose(3, (3, 3), output_padding=1)\n",
             "from keras.layers import Lambda\nLambda(f, output_shape=(3,))\n"]
    INVALID = [
        Example("from keras.layers import Conv2DTranspose\n"
                "Conv2DTranspose(3, (3, 3), output_shape=(None, 28, 28, 3), strides=2, padding='same')\n",
                "from keras.layers import Conv2DTranspose\nConv2DTranspose(3, (3, 3), strides=2, padding='same')\n"),
        Example("from keras.layers import Conv2DTranspose\n"
                "Conv2DTranspose(8, (2, 2), output_shape=(None, 29, 29, 8), strides=(2, 2))\n",
                "from keras.layers import Conv2DTranspose\n"
                "Conv2DTranspose(8, (2, 2), output_padding=(1, 1), strides=(2, 2))\n"),
        Example("from keras.layers import Conv2DTranspose\nConv2DTranspose(3, (3, 3), output_shape=s, strides=2)\n",
                "from keras.layers import Conv2DTranspose\nConv2DTranspose(3, (3, 3), strides=2)\n",
                {"unsafe_fixes": True}),
        Example("from keras.layers import Conv2DTranspose\nConv2DTranspose(3, (3, 3), output_shape=s)\n"),
        Example("from keras.layers import Deconvolution2D\nDeconvolution2D(3, 3, 3, s)\n"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        cls = self.call_class(node)
        if "output_shape" not in KEYWORDS.get(cls or "", {}):
            return
        arg = kwarg(node, "output_shape")
        positional_shape = arg is None
        if positional_shape:
            arg = _keras1_extras(node, cls).get("output_shape")
            if arg is None:
                return
        computed = self._output_padding(node, cls, arg.value)
        head = "`output_shape` (Keras 1 Deconvolution2D) is gone: "
        if computed is None:
            message = head + ("the shape is computed from strides and padding; remove it (if yours differed, set "
                              "`output_padding=`)")
        elif computed == ():
            message = head + "Keras 3 computes the same shape from strides and padding"
        else:
            padding = cst.Tuple([cst.Element(cst.Integer(str(p)), comma=_COMMA if i < len(computed) - 1
                                             else cst.MaybeSentinel.DEFAULT) for i, p in enumerate(computed)])
            message = head + (f"Keras 3 computes another shape from strides and padding; "
                              f"`output_padding={code_of(padding)}` gives the one it set")
        if positional_shape:  # KM305 makes it a keyword first; the same finding stays open
            self.report(arg, message, safety=Safety.NONE)
        elif computed is None:
            _remove_arg(self, node, arg, message)
        elif computed == ():
            _remove_arg(self, node, arg, message, safety=Safety.SAFE)
        else:
            self.report(arg, message, make_kw("output_padding", padding, like=arg), safety=Safety.SAFE)

    # -- what the call says

    def _output_padding(self, node: cst.Call, cls: str, shape: cst.BaseExpression) -> Optional[tuple[int, ...]]:
        """The `output_padding` that gives the Keras 1 shape (() when Keras 3 computes it); None if unknown."""
        if has_star(node):
            return None
        present = keywords(node)
        pos = positional(node)
        extras = _keras1_extras(node, cls)  # Deconvolution2D(filters, nb_row, nb_col, output_shape, ...)
        if extras:
            if any(k in present for k in extras):
                return None
            present, pos = {**present, **extras}, pos[:3]
        if "output_padding" in present or not pos and "filters" not in present and "nb_filter" not in present:
            return None
        dilation = present.get("dilation_rate")
        if dilation is not None and self._pair(dilation.value) != (1, 1):
            return None
        filters = pos[0].value if pos else (present.get("filters") or present.get("nb_filter")).value
        if "kernel_size" in present or "nb_row" in present or "nb_col" in present:
            if len(pos) > 1 or ("kernel_size" in present) == ("nb_row" in present or "nb_col" in present):
                return None
            if "kernel_size" in present:
                kernel = self._pair(present["kernel_size"].value)
            elif "nb_row" in present and "nb_col" in present:
                kernel = (self._int(present["nb_row"].value), self._int(present["nb_col"].value))
            else:
                return None
        elif len(pos) == 2:  # Conv2DTranspose(filters, kernel_size)
            kernel = self._pair(pos[1].value)
        elif len(pos) == 3 and cls in LAYER_RENAMES:  # Deconvolution2D(filters, nb_row, nb_col)
            kernel = (self._int(pos[1].value), self._int(pos[2].value))
        else:
            return None
        strides = self._one_of(present, "strides", "subsample", default=cst.Integer("1"))
        padding = self._one_of(present, "padding", "border_mode", default=cst.SimpleString("'valid'"))
        layout = self._one_of(present, "data_format", "dim_ordering", default=cst.Name("None"))
        if strides is _CLASH or padding is _CLASH or layout is _CLASH:
            return None
        strides = self._pair(strides)
        padding = (string_value(padding) or "").lower()
        if kernel is None or None in kernel or strides is None or padding not in ("valid", "same"):
            return None
        explicit = _LAYOUTS.get(string_value(layout) or "")
        shapes = self._shapes(shape, node)
        if not shapes:
            return None
        answers = set()
        for elements in shapes:
            if len(elements) != 4:
                return None
            channels = {"channels_last": elements[3], "channels_first": elements[1]}
            matches = {name: self._same_value(value, filters) for name, value in channels.items()}
            if explicit is not None:
                if matches[explicit] is False:
                    return None  # the shape's channels are not where data_format puts them
                layouts = [explicit]
            else:
                layouts = [name for name, m in matches.items() if m is True] or [
                    name for name, m in matches.items() if m is None]
            if not layouts:
                return None
            for name in layouts:
                spatial = elements[1:3] if name == "channels_last" else elements[2:4]
                answer = self._padding_for([self._int(e) for e in spatial], kernel, strides, padding)
                if answer is None:
                    return None
                answers.add(answer)
        return answers.pop() if len(answers) == 1 else None

    @staticmethod
    def _padding_for(outs: list, kernel: tuple, strides: tuple, padding: str) -> Optional[tuple[int, ...]]:
        if None in outs:
            return None
        dims = [keras1_deconv_padding(o, k, s, padding) for o, k, s in zip(outs, kernel, strides)]
        if None in dims:
            return None
        if all(default for _, _, default in dims):
            return ()
        pads = tuple(p for _, p, _ in dims)
        return pads if all(0 <= p < s for p, s in zip(pads, strides)) else None

    @staticmethod
    def _one_of(present: dict, new: str, old: str, default: cst.BaseExpression):
        if new in present and old in present:
            return _CLASH
        arg = present.get(new) or present.get(old)
        return default if arg is None else arg.value

    # -- values: literals, names bound once, a name an if/else before the call sets

    def _pair(self, node: cst.BaseExpression) -> Optional[tuple[Optional[int], Optional[int]]]:
        if isinstance(node, (cst.Tuple, cst.List)):
            if len(node.elements) != 2 or any(isinstance(e, cst.StarredElement) for e in node.elements):
                return None
            return self._int(node.elements[0].value), self._int(node.elements[1].value)
        value = self._int(node)
        if value is None and isinstance(node, cst.Name):
            found = self._values(node.value, node)
            if found is not None and len(found) == 1 and isinstance(found[0], cst.Tuple):
                return self._pair(found[0])
        return None if value is None else (value, value)

    def _int(self, node: cst.BaseExpression, depth: int = 0) -> Optional[int]:
        if depth > 8:
            return None
        if isinstance(node, cst.Integer):
            try:
                return int(node.value, 0)
            except ValueError:
                return None
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
            value = self._int(node.expression, depth + 1)
            return None if value is None else -value
        if isinstance(node, cst.BinaryOperation) and type(node.operator) in _INT_OPS:
            left, right = self._int(node.left, depth + 1), self._int(node.right, depth + 1)
            return None if left is None or right is None else _INT_OPS[type(node.operator)](left, right)
        if isinstance(node, cst.Name):
            bound = self._name_bindings().get(node.value, ())
            value = self._bound_value(bound[0]) if len(bound) == 1 else None
            return None if value is None else self._int(value, depth + 1)
        return None

    def _same_value(self, a: cst.BaseExpression, b: cst.BaseExpression) -> Optional[bool]:
        """Whether two expressions are the same number: True, False, or None (not known)."""
        if code_of(a) == code_of(b) and isinstance(a, (cst.Name, cst.Integer)):
            return True
        x, y = self._int(a), self._int(b)
        return None if x is None or y is None else x == y

    def _name_bindings(self) -> dict:
        found = self.__dict__.get("_km310_bindings")
        if found is None:
            from kmigrate.rules.keras3.keras2_common import name_bindings

            found = self._km310_bindings = name_bindings(self.module)
        return found

    def _parents(self) -> dict:
        from kmigrate.rules.analysis.keras_facts import ModuleIndex

        return ModuleIndex.of(self).parent  # the module's shared walk

    def _bound_value(self, binding: cst.CSTNode) -> Optional[cst.BaseExpression]:
        """The value a plain assignment gives the name (`n = 3`, or `a, n = 2, 3`); None otherwise."""
        if isinstance(binding, cst.AssignTarget):
            assign = self._parents().get(binding)
            return assign.value if isinstance(assign, cst.Assign) and isinstance(binding.target, cst.Name) else None
        if not isinstance(binding, cst.Name):
            return None
        parents = self._parents()
        element, target = parents.get(binding), parents.get(parents.get(binding))
        target_of, assign = parents.get(target), parents.get(parents.get(target))
        if not (isinstance(element, cst.Element) and isinstance(target, (cst.Tuple, cst.List))
                and isinstance(target_of, cst.AssignTarget) and target_of.target is target
                and isinstance(assign, cst.Assign) and isinstance(assign.value, (cst.Tuple, cst.List))):
            return None
        names, values = target.elements, assign.value.elements
        if len(names) != len(values) or any(isinstance(e, cst.StarredElement) for e in (*names, *values)):
            return None
        return values[list(names).index(element)].value

    def _shapes(self, shape: cst.BaseExpression, at: cst.CSTNode) -> Optional[list[list[cst.BaseExpression]]]:
        """The shape tuples `output_shape` may be, as lists of elements."""
        if isinstance(shape, (cst.Tuple, cst.List)):
            values = [shape]
        elif isinstance(shape, cst.Name):
            values = self._values(shape.value, at) or []
            if not all(isinstance(v, cst.Tuple) for v in values):  # a list may be changed in place
                return None
        else:
            return None
        if not values or any(isinstance(e, cst.StarredElement) for v in values for e in v.elements):
            return None
        return [[e.value for e in v.elements] for v in values]

    def _values(self, name: str, at: cst.CSTNode) -> Optional[list[cst.BaseExpression]]:
        """The values `name` may have at `at`: the one of a name bound once, or of the assignments
        that last set it before `at` in the same function (or module), through `if`/`else`; None
        when anything else could set it (a loop, another function, an `if` without `else`, ...)."""
        bound = self._name_bindings().get(name, ())
        if len(bound) == 1:
            value = self._bound_value(bound[0])
            return None if value is None else [value]
        if not bound:
            return None
        parents = self._parents()
        holders = set()
        for b in bound:
            node = b
            while node is not None and node not in holders:
                holders.add(node)
                node = parents.get(node)
        node = at
        while True:
            parent = parents.get(node)
            if parent is None or isinstance(parent, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                return None
            if isinstance(parent, (cst.Module, cst.IndentedBlock)):
                body = list(parent.body)
                for stmt in reversed(body[:body.index(node)]):
                    if stmt in holders:
                        return self._set_by(stmt, holders)
                if isinstance(parent, cst.Module):
                    return None
            elif parent in holders and not isinstance(parent, (cst.If, cst.Else)):
                return None  # a loop, `with`, `try`, ... that binds the name
            node = parent

    def _set_by(self, stmt: cst.CSTNode, holders: set) -> Optional[list[cst.BaseExpression]]:
        """The values a statement that binds the name leaves it with."""
        if isinstance(stmt, cst.SimpleStatementLine):
            last = [s for s in stmt.body if s in holders][-1]
            if isinstance(last, cst.Assign) and all(isinstance(t.target, cst.Name) for t in last.targets):
                return [last.value]
            return None
        if isinstance(stmt, cst.If):
            if stmt.test in holders or stmt.orelse is None:
                return None
            branches = [stmt.body, stmt.orelse.body if isinstance(stmt.orelse, cst.Else) else stmt.orelse]
            out = []
            for branch in branches:
                if isinstance(branch, cst.If):
                    found = self._set_by(branch, holders) if branch in holders else None
                else:
                    inner = [s for s in branch.body if s in holders] if isinstance(branch, cst.IndentedBlock) else []
                    found = self._set_by(inner[-1], holders) if inner else None
                if found is None:
                    return None
                out.extend(found)
            return out
        return None


_CLASH = object()
