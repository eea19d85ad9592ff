"""KM335: `weights=` in a layer constructor (Keras 3 rejects it), turned into initializers or a
`set_weights` call once the layer is built."""
from __future__ import annotations

import re
from typing import Optional, Sequence

import libcst as cst

from kmigrate.names import canonical_keras, keras_module
from kmigrate.rule import KERAS_OR_TF, Example, ImportEdit, Safety, Severity
from kmigrate.rules.keras3.keras2_common import (
    LayerKeywordRule, code_of, enclosing_line, has_star, is_layer, kwarg, make_kw, positional, walk, with_args,
)
from kmigrate.rules.analysis.keras_facts import ModuleIndex
from kmigrate.rules.keras3.screens import keras_call_with
from kmigrate.rules.tables.keras2_api import (
    CONSTANT_INITIALIZER, GRU_LAYER, RECURRENT_WEIGHTS, SET_WEIGHTS_LAYERS, WEIGHT_INITIALIZERS, WEIGHTS_ACCEPTED,
)


class LayerWeightsArgument(LayerKeywordRule):
    """
    ## What it does
    Turns `weights=[...]` in a layer constructor into one `Constant` initializer per weight, in
    the layer's weight order: `Dense`/`Conv*` `[kernel, bias]` -> `kernel_initializer=` and
    `bias_initializer=` (only the kernel with `use_bias=False`), `Embedding(weights=[matrix])` ->
    `embeddings_initializer=Constant(matrix)` (the pretrained-embeddings pattern),
    `BatchNormalization` `[gamma, beta, moving_mean, moving_variance]` -> the four initializers.
    A `weights=w` given as a plain name is split as `w[0]`, `w[1]`, ...

    A value it cannot split (a call such as `other.get_weights()`, a computed `use_bias`, a
    `Constant` name taken; also for the layers outside that table: `LSTM`, `GRU`, `SimpleRNN`,
    `ConvLSTM*`, separable and depthwise convolutions, `PReLU`, `LayerNormalization`, ...) is set
    the way Keras 2 set it, with `set_weights` once the layer is built, where the file shows the
    statement that builds it:
    `model.add(Layer(..., weights=W))` on a `Sequential` model with an input shape (an `Input`
    first, or shape keywords on its first layer: Keras 3's `add()` builds the model) is followed
    by `model.layers[-1].set_weights(W)`; `y = Layer(..., weights=W)(x)` on symbolic tensors (names
    bound above in the same block to `Input(...)`, a layer's output or a merge of them) becomes
    `dense_layer = Layer(...)`, `y = dense_layer(x)`, `dense_layer.set_weights(W)`; and `layer =
    Layer(..., weights=W)` bound once gets `layer.set_weights(W)` after its first use, when that
    is such a call or `model.add(layer)` in the same block and nothing in between rebinds the
    names `W` reads (a call in `W` only when the use is the next line). A layer in the list of
    `model = Sequential([...])` gets `model.layers[i].set_weights(W)` (`i` its place, an `Input`
    first not counted, as Keras 3's `model.layers` leaves it out) right after that statement when
    the first layer gives the input shape (the constructor builds the model), or after the
    `model.build(...)` line that follows in the same block with only `compile` calls between (no
    call in `W` then, and nothing rebinding its names).

    Recurrent layers take Keras 2's three arrays (kernel, recurrent_kernel, bias; the same order
    in Keras 3). A standalone Keras 2 `GRU` (imported from `keras`) without `reset_after=` also gets
    `reset_after=False`, Keras 2's default, whose single bias its arrays have (Keras 3 and tf.keras
    default to True). A visible list of Keras 1's per-gate arrays (9 for `GRU`, 12 for `LSTM`) or of
    another length is reported: the gates' arrays must be concatenated by hand.
    Elsewhere (a Sequential model without an input shape or a visible `build`, a call on something
    that may be an array, a layer inside a wrapper such as `Bidirectional`, a list of the wrong
    length) it is reported.

    ## Why is this bad
    Keras 3 layers reject it (`ValueError: Unrecognized keyword arguments passed to Dense:
    {'weights': ...}`); Keras 2 set the given arrays as the layer's weights once it was built.

    ## Example
    ```python
    Dense(10, weights=[W, b])
    Embedding(vocab, 100, weights=[embedding_matrix], trainable=False)
    ```
    becomes
    ```python
    Dense(10, kernel_initializer=Constant(W), bias_initializer=Constant(b))
    Embedding(vocab, 100, embeddings_initializer=Constant(embedding_matrix), trainable=False)
    ```
    and
    ```python
    model = Sequential()
    model.add(Input(shape=(784,)))
    model.add(Dense(64, weights=teacher.layers[0].get_weights()))
    ```
    becomes
    ```python
    model = Sequential()
    model.add(Input(shape=(784,)))
    model.add(Dense(64))
    model.layers[-1].set_weights(teacher.layers[0].get_weights())
    ```

    ## Fix safety
    Safe: a `Constant` initializer holding the array gives the built layer exactly the weights
    `set_weights` gave (checked in TensorFlow, per layer kind). Safe for `set_weights`: Keras 2
    called it on the arrays when it built the layer, and the call follows the statement that
    builds it, before anything runs the layer (checked in TensorFlow: the layers end with exactly
    the given arrays and compute with them; a Keras 2 GRU's arrays give Keras 2's outputs).
    Unsafe for Keras layers outside the checked list (recurrent, separable and depthwise
    convolutions, `PReLU`, `LayerNormalization`): their weight order in Keras 3 was not compared
    with Keras 2's (a wrong shape fails loudly in `set_weights`, arrays of equal shapes in another
    order would not). A layer not visibly built at one statement, or a list of the wrong number of
    arrays, is reported: then call `layer.set_weights(...)` after the model is built.
    """

    code = "KM335"
    needs_import = KERAS_OR_TF
    name = "layer-weights-argument"
    summary = "`weights=` in a layer constructor is gone; use `Constant` initializers"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("weights",)

    @classmethod
    def screen(cls, facts, context) -> bool:
        # `weights=` on a call, or a Keras 1 positional one (KM305 makes it a keyword)
        from kmigrate.rules.keras3.keras1_layers import positional_keywords

        return keras_call_with(facts, ("weights",)) or positional_keywords(facts)

    VALID = ["from keras.layers import Embedding\ne = Embedding(10, 3, embeddings_initializer='uniform')\n",
             "from keras.layers import Dense\nd = Dense(3)\nd.set_weights(w)\n",
             "d = MyLayer(3, weights=[w])\n",
             "from keras.layers import Dense, Input\nx = Input(shape=(4,))\nd = Dense(3)\ny = d(x)\n"
             "d.set_weights(other.get_weights())\n"]
    INVALID = [
        Example("from keras.layers import Dense\nd = Dense(10, weights=[W, b])\n",
                "from keras.layers import Dense\nfrom tensorflow.keras.initializers import Constant\n\n"
                "d = Dense(10, kernel_initializer=Constant(W), bias_initializer=Constant(b))\n"),
        Example("from keras.layers import Embedding\n"
                "e = Embedding(1000, 50, weights=[matrix], trainable=False)\n",
                "from keras.layers import Embedding\nfrom tensorflow.keras.initializers import Constant\n\n"
                "e = Embedding(1000, 50, embeddings_initializer=Constant(matrix), trainable=False)\n"),
        Example("from keras.layers import Dense\nd = Dense(10, use_bias=False, weights=w)\n",
                "from keras.layers import Dense\nfrom tensorflow.keras.initializers import Constant\n\n"
                "d = Dense(10, use_bias=False, kernel_initializer=Constant(w[0]))\n"),
        Example("from keras.layers import Dense\nd = Dense(10, weights=other.get_weights())\n"),
        Example("from keras.layers import LSTM\nl = LSTM(10, weights=[a, b, c])\n"),
        Example("from keras.models import Sequential\nfrom keras.layers import Dense, GRU\n"
                "m = Sequential([GRU(4, input_shape=(5, 2), weights=w), Dense(1)])\n",
                "from keras.models import Sequential\nfrom keras.layers import Dense, GRU\n"
                "m = Sequential([GRU(4, input_shape=(5, 2), reset_after=False), Dense(1)])\n"
                "m.layers[0].set_weights(w)\n"),
        Example("from keras.models import Sequential\nfrom keras.layers import Dense, Input\n"
                "m = Sequential()\nm.add(Input(shape=(4,)))\nm.add(Dense(3, weights=other.get_weights()))\n",
                "from keras.models import Sequential\nfrom keras.layers import Dense, Input\n"
                "m = Sequential()\nm.add(Input(shape=(4,)))\nm.add(Dense(3))\n"
                "m.layers[-1].set_weights(other.get_weights())\n"),
        Example("from keras.layers import Input, LSTM\ns = Input(shape=(5, 2))\nh = LSTM(4, weights=w)(s)\n",
                "from keras.layers import Input, LSTM\ns = Input(shape=(5, 2))\nlstm_layer = LSTM(4)\n"
                "h = lstm_layer(s)\nlstm_layer.set_weights(w)\n"),
        Example("from keras.models import Sequential\nfrom keras.layers import Dense\n"
                "m = Sequential()\nm.add(Dense(3, weights=other.get_weights()))\n"),
        Example("from keras.layers import Conv2D\nc = Conv2D(8, (3, 3), weights=None, padding='same')\n"
                "d = Dense(2, weights=None)\n",
                "from keras.layers import Conv2D\nc = Conv2D(8, (3, 3), padding='same')\nd = Dense(2, weights=None)\n"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        k = self.layer_call(node)
        arg = kwarg(node, "weights")
        if not k or arg is None:
            return
        cls = k.split(".")[1]
        if isinstance(arg.value, cst.Name) and arg.value.value == "None":
            message = f"`{cls}(weights=None)` is the default; Keras 3 rejects the keyword: removed"
            if arg is node.args[-1]:
                self.report(node, message, with_args(node, [a for a in node.args if a is not arg]), at=arg)
            else:
                self.report(arg, message, cst.RemovalSentinel.REMOVE)
            return
        slots = WEIGHT_INITIALIZERS.get(k)
        accepted = k in WEIGHTS_ACCEPTED
        what = (f"`{cls}(weights=)` is deprecated" if accepted else f"`{cls}(weights=)` is rejected by Keras 3")
        severity = Severity.WARNING if accepted else None
        if slots is None:
            if accepted:
                return
            extra = self._recurrent(node, arg, k, cls, what)
            if extra is None:
                return  # reported
            safety = Safety.SAFE if k in SET_WEIGHTS_LAYERS else Safety.UNSAFE
            if not self._set_weights(node, arg, cls, what, 3 if k in RECURRENT_WEIGHTS else None, extra, safety):
                self.report(arg, f"{what}: kmigrate does not see the statement that builds the layer; build the "
                            "model, then call `layer.set_weights(...)`")
            return
        names = self._initializers(node, slots)
        if names is None:
            if accepted or not self._set_weights(node, arg, cls, what, None):
                self.report(arg, f"{what}: kmigrate cannot tell which weights the layer has (a computed flag); "
                            "build the model, then call `layer.set_weights(...)`", severity=severity)
            return
        values = self._split(arg.value, len(names))
        if values is None:
            if accepted or not self._set_weights(node, arg, cls, what, len(names)):
                self.report(arg, f"{what}: its {len(names)} array(s) ({', '.join(n[:-12] for n in names)}) are "
                            "not visible one by one; pass them as `Constant` initializers or call "
                            "`layer.set_weights(...)` after the model is built", severity=severity)
            return
        constant, imports = self._constant()
        if constant is None:
            if accepted or not self._set_weights(node, arg, cls, what, len(names)):
                self.report(arg, f"{what}: the name `Constant` is taken in this file; pass "
                            "`keras.initializers.Constant(...)` per weight by hand", severity=severity)
            return
        new_args = []
        for a in node.args:
            if a is arg:
                for i, (n, v) in enumerate(zip(names, values)):
                    new = make_kw(n, cst.Call(func=cst.Name(constant), args=[cst.Arg(v)]), like=arg)
                    new_args.append(new.with_changes(comma=cst.MaybeSentinel.DEFAULT if i == len(names) - 1
                                                     else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))))
                if a.comma != cst.MaybeSentinel.DEFAULT:
                    new_args[-1] = new_args[-1].with_changes(comma=a.comma)
            elif a.keyword is not None and a.keyword.value in names:
                continue  # the given weights replace the initializer
            else:
                new_args.append(a)
        self.report(node, f"{what}: each weight becomes a `Constant` initializer ({', '.join(names)})",
                    with_args(node, new_args), imports=imports, severity=severity, at=arg)

    @staticmethod
    def _initializers(node: cst.Call, slots) -> Optional[list[str]]:
        out = []
        for name, flags in slots:
            if flags:
                flag = next((kwarg(node, f) for f in flags if kwarg(node, f) is not None), None)
                if flag is not None:
                    value = code_of(flag.value)
                    if value == "False":
                        continue
                    if value != "True":
                        return None
            out.append(name)
        return out

    @staticmethod
    def _split(value: cst.BaseExpression, n: int) -> Optional[list[cst.BaseExpression]]:
        if isinstance(value, (cst.List, cst.Tuple)):
            if len(value.elements) != n or any(isinstance(e, cst.StarredElement) for e in value.elements):
                return None
            return [e.value for e in value.elements]
        if isinstance(value, cst.Name) or (isinstance(value, cst.Attribute) and isinstance(value.value, cst.Name)):
            return [cst.Subscript(value=value, slice=[cst.SubscriptElement(cst.Index(cst.Integer(str(i))))])
                    for i in range(n)]
        return None

    def _constant(self) -> tuple[Optional[str], list[ImportEdit]]:
        """The local name of Keras' `Constant` initializer and the import it needs."""
        from kmigrate.rules.keras3.keras2_common import name_bindings

        bindings = self.__dict__.get("_bindings")
        if bindings is None:
            bindings = self._bindings = name_bindings(self.module)
        if "Constant" in bindings:
            q = self.names.import_name("Constant")
            if q is None or canonical_keras(q) != CONSTANT_INITIALIZER:
                return None, []
            return "Constant", []
        return "Constant", [ImportEdit(keras_module(self.context.target, "initializers"), "Constant")]

    # -------------------------------------------------------------- layer.set_weights(W) once it is built

    def _recurrent(self, node: cst.Call, arg: cst.Arg, k: str, cls: str, what: str) -> Optional[list[cst.Arg]]:
        """The arguments a recurrent layer needs to take its Keras 2 arrays (`[]`: none), or None when a
        visible list is not Keras 2's three arrays (reported here: Keras 1 gave one W, U, b per gate)."""
        if k not in RECURRENT_WEIGHTS:
            return []
        value = arg.value
        if isinstance(value, (cst.List, cst.Tuple)) and len(value.elements) != 3 \
                and not any(isinstance(e, cst.StarredElement) for e in value.elements):
            n = len(value.elements)
            if n == RECURRENT_WEIGHTS[k] and n != 3:
                gates = "i, f, c, o" if k.endswith("LSTM") else "z, r, h"
                self.report(arg, f"{what}: {n} arrays are Keras 1's `{cls}` weights (a W, U and b per gate); Keras "
                            f"3's `{cls}` has three (kernel, recurrent_kernel, bias), each the gates' arrays "
                            f"concatenated on the last axis in the order {gates}"
                            + (" (Keras 1 listed them i, c, f, o)" if k.endswith("LSTM") else
                               ", with `reset_after=False` (Keras 1's GRU)")
                            + ": concatenate them by hand and call `set_weights` once the layer is built")
            else:
                self.report(arg, f"{what}: {n} arrays, but `{cls}` has three (kernel, recurrent_kernel, bias); "
                            "call `layer.set_weights(...)` with those once the layer is built")
            return None
        if k == GRU_LAYER and kwarg(node, "reset_after") is None and self._standalone_keras(node):
            return [make_kw("reset_after", cst.Name("False"))]
        return []

    def _standalone_keras(self, node: cst.Call) -> bool:
        """The layer class comes from standalone Keras (`keras.layers`), not from `tensorflow.keras`."""
        names = self.names.qualified_names(node.func)
        return bool(names) and all(n.split(".")[0] == "keras" for n in names)

    def _set_weights(self, node: cst.Call, arg: cst.Arg, cls: str, what: str, count: Optional[int],
                     extra: Sequence[cst.Arg] = (), safety: Safety = Safety.SAFE) -> bool:
        """Reports `weights=W` dropped and `<layer>.set_weights(W)` called right after the statement that
        builds the layer, where the file shows that statement; True when it did. `extra`: arguments the
        layer gets instead (GRU's `reset_after=False`)."""
        value = arg.value
        if isinstance(value, (cst.List, cst.Tuple)) and (
                count is not None and len(value.elements) != count
                or any(isinstance(e, cst.StarredElement) for e in value.elements)):
            return False  # the wrong number of arrays: set_weights fails as Keras 2's did
        if has_star(node):
            return False
        parents = ModuleIndex.of(self).parent  # the module's walk, shared with the other rules
        line = enclosing_line(node, parents)
        block = parents.get(line) if line is not None else None
        if block is None or len(line.body) != 1 or not isinstance(block, (cst.Module, cst.IndentedBlock)):
            return False
        body, small = list(block.body), line.body[0]
        idx = body.index(line)
        layer = with_args(node, [a for a in node.args if a is not arg] + list(extra))
        if layer.args:
            layer = layer.with_changes(args=[*layer.args[:-1], layer.args[-1].with_changes(
                comma=cst.MaybeSentinel.DEFAULT)])
        read = set(_names_in(value))
        message = (f"{what}: the layer is built at this line; `weights=` is dropped and "
                   "`set_weights(...)` sets the arrays right after, as Keras 2 did when it built the layer")
        if extra:
            message += ("; `reset_after=False` keeps standalone Keras 2's GRU, whose arrays these are (Keras 3 "
                        "defaults to True: another bias shape)")
        if safety is not Safety.SAFE:
            message += f" (unsafe: the order of `{cls}`'s weights in Keras 3 was not compared with Keras 2's)"
        # Sequential([..., Layer(..., weights=W), ...]): set once the model is built
        element = parents.get(node)
        if type(element) is cst.Element and type(parents.get(element)) is cst.List:
            return self._in_sequential_list(node, element, parents, line, block, body, idx, layer, read, message,
                                            safety, arg)
        # model.add(Layer(..., weights=W)) on a Sequential model with an input shape: built by add()
        if isinstance(small, cst.Expr) and self._add_of(small.value, node) is not None:
            model = self._add_of(small.value, node)
            if model in read or not self._built_sequential(body, idx, model, node):
                return False
            added = line.with_changes(body=[small.with_changes(value=small.value.with_changes(
                args=[small.value.args[0].with_changes(value=layer)]))])
            after = _statement(f"{model}.layers[-1].set_weights({code_of(value)})", line)
            self.report(line, message, cst.FlattenSentinel([added, after]), safety=safety, at=arg)
            return True
        if not isinstance(small, cst.Assign) or len(small.targets) != 1 \
                or not isinstance(small.targets[0].target, cst.Name):
            return False
        target = small.targets[0].target.value
        # y = Layer(..., weights=W)(x) on a symbolic x: built by the call
        if small.value is not node:
            call = small.value
            if not (isinstance(call, cst.Call) and call.func is node and self._symbolic_call(call, body, idx)) \
                    or target in read:
                return False
            fresh = self._fresh(cls)
            first = line.with_changes(body=[small.with_changes(targets=[small.targets[0].with_changes(
                target=cst.Name(fresh))], value=layer)])
            second = line.with_changes(body=[small.with_changes(value=call.with_changes(func=cst.Name(fresh)))],
                                       leading_lines=())
            after = _statement(f"{fresh}.set_weights({code_of(value)})", line)
            self.report(line, message, cst.FlattenSentinel([first, second, after]), safety=safety, at=arg)
            return True
        # layer = Layer(..., weights=W); ...; y = layer(x) / model.add(layer): built at that first use
        message = message.replace("is built at this line", "is built where it is first called")
        return self._built_later(node, arg, block, body, idx, target, layer, read, message, safety)

    def _in_sequential_list(self, node, element, parents, line, block, body, idx, layer, read, message, safety,
                            arg) -> bool:
        """`model = Sequential([..., Layer(..., weights=W), ...])`: `model.layers[i].set_weights(W)` right after
        the statement when the model has an input shape (Keras 3 builds it there), or after the
        `model.build(...)` line that follows in the same block with only `compile` calls between."""
        items = parents[element]
        given = parents.get(items)
        seq = parents.get(given)
        small = line.body[0]
        if not (type(given) is cst.Arg and type(seq) is cst.Call and getattr(small, "value", None) is seq and type(small) is cst.Assign
                and len(small.targets) == 1 and type(small.targets[0].target) is cst.Name
                and (given.keyword is None or given.keyword.value == "layers") and not given.star):
            return False
        k = self.call_kname(seq)
        if not (k and k.endswith("Sequential")) or has_star(seq) or \
                any(isinstance(e, cst.StarredElement) for e in items.elements):
            return False
        model = small.targets[0].target.value
        from kmigrate.rules.keras3.keras2_common import name_bindings

        bindings = name_bindings(self.module)
        if len(bindings.get(model, ())) != 1 or model in read:
            return False
        elements = list(items.elements)
        position = elements.index(element)
        first = elements[0].value
        starts_with_input = isinstance(first, cst.Call) and self.call_kname(first) in (
            "layers.Input", "Input", "layers.InputLayer")
        index = position - 1 if starts_with_input else position  # Keras 3's model.layers leaves the input out
        if index < 0:
            return False
        if self._has_input_shape(first):
            use = idx  # built by the constructor
        else:
            use = None
            for j in range(idx + 1, len(body)):
                stmt = body[j]
                call = stmt.body[0].value if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 \
                    and isinstance(stmt.body[0], cst.Expr) else None
                receiver = call.func.value if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) \
                    else None
                if isinstance(receiver, cst.Name) and receiver.value == model and call.func.attr.value == "build":
                    use = j
                    break
                if isinstance(receiver, cst.Name) and receiver.value == model and call.func.attr.value == "compile":
                    continue
                if model in _names_in(stmt):
                    return False  # used (fit, predict, a call, ...) before it is visibly built
            if use is None:
                return False
            between = {id(n) for stmt in body[idx + 1:use + 1] for n in walk(stmt)}
            if any(id(b) in between for r in read for b in bindings.get(r, ())):
                return False  # W rebound before the model is built
            if any(isinstance(n, cst.Call) for n in walk(arg.value)):
                return False  # a call evaluated later than Keras 2 evaluated it
        new_items = items.with_changes(elements=[e.with_changes(value=layer) if e is element else e
                                                 for e in elements])
        new_line = line.with_changes(body=[small.with_changes(value=seq.with_changes(args=[
            a.with_changes(value=new_items) if a is given else a for a in seq.args]))])
        setter = _statement(f"{model}.layers[{index}].set_weights({code_of(arg.value)})", body[use])
        where = "built at this line" if use == idx else "built by its `build(...)` call"
        message = message.replace("the layer is built at this line", f"the model is {where}").replace(
            "right after", f"right after that, on `{model}.layers[{index}]`")
        if use == idx:
            self.report(line, message, cst.FlattenSentinel([new_line, setter]), safety=safety, at=arg)
            return True
        new_body = list(body)
        new_body[idx] = new_line
        new_body.insert(use + 1, setter)
        self.report(block, message, block.with_changes(body=new_body), safety=safety, at=arg)
        return True

    def _built_later(self, node, arg, block, body, idx, name, layer, read, message, safety=Safety.SAFE) -> bool:
        from kmigrate.rules.keras3.keras2_common import name_bindings

        bindings = name_bindings(self.module)
        if len(bindings.get(name, ())) != 1:
            return False
        use = next((j for j in range(idx + 1, len(body)) if name in _names_in(body[j])), None)
        if use is None:
            return False
        mentions = sum(1 for n in walk(self.module) if isinstance(n, cst.Name) and n.value == name)
        if mentions != 1 + sum(1 for stmt in body[idx + 1:] for n in walk(stmt)
                               if isinstance(n, cst.Name) and n.value == name):
            return False  # read before it is built (in a function defined above, ...)
        stmt = body[use]
        if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
            return False
        small = stmt.body[0]
        model = self._add_of(small.value, None, name) if isinstance(small, cst.Expr) else None
        if model is not None:
            if model in read or not self._built_sequential(body, use, model, None):
                return False
        elif not (isinstance(small, cst.Assign) and len(small.targets) == 1
                  and isinstance(small.targets[0].target, cst.Name) and small.targets[0].target.value not in read
                  and isinstance(small.value, cst.Call) and isinstance(small.value.func, cst.Name)
                  and small.value.func.value == name and self._symbolic_call(small.value, body, use)):
            return False
        # W means at that line what it meant here: nothing in between rebinds its names (and a call is
        # evaluated on the next line)
        between = {id(n) for stmt in body[idx + 1:use + 1] for n in walk(stmt)}
        if any(id(b) in between for r in read for b in bindings.get(r, ())):
            return False
        if use != idx + 1 and any(isinstance(n, cst.Call) for n in walk(arg.value)):
            return False
        line = body[idx]
        new_body = list(body)
        new_body[idx] = line.with_changes(body=[line.body[0].with_changes(value=layer)])
        new_body.insert(use + 1, _statement(f"{name}.set_weights({code_of(arg.value)})", stmt))
        self.report(block, message, block.with_changes(body=new_body), safety=safety, at=arg)
        return True

    @staticmethod
    def _add_of(call, node, name: Optional[str] = None) -> Optional[str]:
        """`model` when `call` is `model.add(node)` (or `model.add(name)`)."""
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value == "add"
                and isinstance(call.func.value, cst.Name) and len(call.args) == 1 and call.args[0].keyword is None
                and not call.args[0].star):
            return None
        value = call.args[0].value
        if node is not None and value is not node:
            return None
        if name is not None and not (isinstance(value, cst.Name) and value.value == name):
            return None
        return call.func.value.value

    def _built_sequential(self, body, idx: int, model: str, layer: Optional[cst.Call]) -> bool:
        """Whether `model` is a Sequential model with an input shape when body[idx] adds a layer to it:
        Keras 3's `add()` then builds the model, and the layer with it."""
        first = layer
        for j in range(idx - 1, -1, -1):
            stmt = body[j]
            if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
                return False
            small = stmt.body[0]
            if isinstance(small, cst.Assign) and len(small.targets) == 1 \
                    and isinstance(small.targets[0].target, cst.Name) and small.targets[0].target.value == model:
                value = small.value
                k = self.call_kname(value)
                if not (k and k.endswith("Sequential")) or has_star(value):
                    return False
                pos = positional(value)
                given = pos[0] if pos else kwarg(value, "layers")
                if given is not None:
                    if not isinstance(given.value, cst.List) or not given.value.elements:
                        return False
                    first = given.value.elements[0].value
                return first is not None and self._has_input_shape(first)
            if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) \
                    and self._add_of(small.value, None) == model:
                first = small.value.args[0].value
                continue
            if model in _names_in(stmt):
                return False
        return False

    def _has_input_shape(self, layer) -> bool:
        if not isinstance(layer, cst.Call):
            return False
        k = self.call_kname(layer)
        if k in ("layers.Input", "Input", "layers.InputLayer"):
            return True
        return is_layer(k) and any(kwarg(layer, kw) is not None for kw in ("input_shape", "input_dim",
                                                                               "batch_input_shape"))

    def _symbolic_call(self, call: cst.Call, body, idx: int) -> bool:
        """`call` is a layer call on symbolic tensors (names bound above in the block to `Input(...)` or
        to a layer's output), which builds the layer before it runs."""
        if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
            return False
        value = call.args[0].value
        items = [e.value for e in value.elements] if isinstance(value, (cst.List, cst.Tuple)) else [value]
        if not items or any(isinstance(e, cst.StarredElement) for e in getattr(value, "elements", ())):
            return False
        tensors: set[str] = set()
        layers: set[str] = set()
        for stmt in body[:idx]:
            if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 \
                    and isinstance(stmt.body[0], cst.Assign) and len(stmt.body[0].targets) == 1 \
                    and isinstance(stmt.body[0].targets[0].target, cst.Name):
                name, v = stmt.body[0].targets[0].target.value, stmt.body[0].value
                tensors.discard(name)
                layers.discard(name)
                kind = self._tensor_kind(v, tensors, layers)
                if kind == "tensor":
                    tensors.add(name)
                elif kind == "layer":
                    layers.add(name)
                continue
            for n in walk(stmt):  # anything else that binds a name: no longer known
                if isinstance(n, (cst.AssignTarget, cst.For, cst.CompFor, cst.AsName, cst.AugAssign, cst.AnnAssign,
                                  cst.NamedExpr, cst.FunctionDef, cst.ClassDef, cst.Global, cst.Nonlocal)):
                    for bound in _names_in(getattr(n, "target", None) or getattr(n, "name", None) or n):
                        tensors.discard(bound)
                        layers.discard(bound)
        return all(isinstance(e, cst.Name) and e.value in tensors for e in items)

    def _tensor_kind(self, value, tensors: set, layers: set) -> Optional[str]:
        if not isinstance(value, cst.Call):
            return None
        if isinstance(value.func, cst.Call):  # Layer(...)(x)
            return "tensor" if is_layer(self.call_kname(value.func)) else None
        if isinstance(value.func, cst.Name) and value.func.value in layers:
            return "tensor"
        k = self.call_kname(value)
        if k in ("layers.Input", "Input"):
            return "tensor"
        if is_layer(k):
            return "layer"
        if k in _MERGE_FUNCTIONS:
            return "tensor"
        return None

    def _fresh(self, cls: str) -> str:
        from kmigrate.rules.keras3.keras2_common import name_bindings

        base = re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", cls).lower() + "_layer"
        taken = name_bindings(self.module)
        given = self.__dict__.setdefault("_fresh_names", set())  # by this pass's other fixes
        name, i = base, 2
        while name in taken or name in given or re.search(rf"\b{name}\b", self.context.text):
            name, i = f"{base}_{i}", i + 1
        given.add(name)
        return name


_MERGE_FUNCTIONS = frozenset(f"layers.{f}" for f in (
    "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"))


def _names_in(node) -> list[str]:
    return [n.value for n in walk(node) if isinstance(n, cst.Name)] if node is not None else []


def _statement(source: str, like: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
    """A new line `source`, with the newline of `like` and no leading comments."""
    stmt = cst.parse_statement(source)
    return stmt.with_changes(trailing_whitespace=cst.TrailingWhitespace(), leading_lines=())
