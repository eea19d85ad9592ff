"""KM311: Keras 1 initializer callables (`init=lambda shape, name: normal(shape, scale=0.01, name=name)`)
-> Keras 3 initializer objects (`RandomNormal(stddev=0.01)`)."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from kmigrate.names import keras_module
from kmigrate.rule import KERAS_OR_TF, Example, ImportEdit, Safety, Severity
from kmigrate.rules.keras3.keras1_common import Keras1Rule, code_of, positional, walk
from kmigrate.rules.keras3.screens import called_with, used
from kmigrate.rules.tables.keras1_layers import KERAS1_INITIALIZERS

_FUNCTIONS = tuple(f"initializers.{name}" for name in KERAS1_INITIALIZERS)
_CLASSES = tuple(f"initializers.{entry[0]}" for entry in KERAS1_INITIALIZERS.values())
_CLASS_WORDS = tuple(entry[0] for entry in KERAS1_INITIALIZERS.values())


class Keras1InitializerCallable(Keras1Rule):
    """
    ## What it does
    Rewrites a Keras 1 initializer lambda of the simple shape
    `lambda shape, name=None: normal(shape, scale=0.01, name=name)` (the function from
    `keras.initializations`, any spelling) into the Keras 3 initializer object it meant:
    `RandomNormal(stddev=0.01)`; `uniform(shape, scale=s)` -> `RandomUniform(-s, s)`,
    `orthogonal(shape, scale=g)` -> `Orthogonal(gain=g)` (Keras 1's default gain 1.1 written out),
    `zero`/`one`/`identity`/`glorot_uniform`/`he_uniform`/`lecun_uniform` likewise. Any other
    lambda around a Keras 1 initializer function, and a call of one with the Keras 1 signature
    elsewhere (`def my_init(shape, name=None): return normal(shape, scale=0.01, name=name)`), is
    reported.

    ## Why is this bad
    Keras 3 calls an initializer as `init(shape, dtype=...)`: the Keras 1 signature
    `(shape, name)` fails, and `keras.initializations` is gone.

    ## Example
    ```python
    Dense(64, init=lambda shape, name: normal(shape, scale=0.01, name=name))
    ```
    becomes
    ```python
    Dense(64, init=RandomNormal(stddev=0.01))
    ```
    (KM304 then renames `init=` to `kernel_initializer=`.)

    ## Fix safety
    Safe for the uniform, constant, orthogonal and identity families (the same distribution).
    Unsafe for `glorot_normal`/`he_normal`: Keras 1 drew from a plain normal, Keras 3 from a
    truncated one. A lambda that does more than call the function with the shape (computed
    scales that use the lambda's parameters, other arguments) is reported.
    """

    code = "KM311"
    needs_import = KERAS_OR_TF
    name = "keras1-initializer-callable"
    summary = "Keras 1 initializer lambda (`lambda shape, name: normal(shape, scale=...)`); use an initializer object"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("initializations", "initializers")

    @classmethod
    def screen(cls, facts, context) -> bool:
        # a Keras 1 initializer function, or its class called with `name=`/`scale=` (KM345's rename)
        return used(facts, _FUNCTIONS) or (
            used(facts, _CLASSES) and called_with(facts, _CLASS_WORDS, ("name", "scale")))

    VALID = [
        "from keras.initializers import RandomNormal\nDense(3, kernel_initializer=RandomNormal(stddev=0.01))\n",
        "f = lambda shape, name: my_normal(shape, scale=0.01, name=name)\n",
    ]
    INVALID = [
        Example("from keras.initializations import normal\n"
                "init = lambda shape, name=None: normal(shape, scale=0.01, name=name)\n",
                "from keras.initializations import normal\nfrom tensorflow.keras.initializers import RandomNormal\n\n"
                "init = RandomNormal(stddev=0.01)\n"),
        Example("from keras import initializations\n"
                "i = lambda shape, name: initializations.uniform(shape, 0.1, name=name)\n",
                "from keras import initializations\nfrom tensorflow.keras.initializers import RandomUniform\n\n"
                "i = RandomUniform(-0.1, 0.1)\n"),
        Example("from keras.initializations import normal\ni = lambda shape, name: normal(shape, scale=shape[0], name=name)\n"),
        Example("from keras.initializations import normal\ndef init(shape, name=None):\n"
                "    return normal(shape, scale=0.01, name=name)\n"),
    ]

    def visit_Lambda(self, node: cst.Lambda) -> None:
        body = node.body
        self._lambda_bodies.add(body)  # visited before the body: visit_Call knows it is one
        if not isinstance(body, cst.Call):
            return
        k = self.kname(body.func)
        if not k or not k.startswith("initializers.") or k.count(".") != 1:
            return
        fn = k.split(".")[1]
        entry = KERAS1_INITIALIZERS.get(fn)
        if entry is None:
            return
        cls, keywords, defaults, same = entry
        params = [p.name.value for p in node.params.params]
        if not params or node.params.star_arg not in (None, cst.MaybeSentinel.DEFAULT) and not isinstance(
                node.params.star_arg, cst.ParamStar):
            self._by_hand(node, fn)
            return
        shape = params[0]
        pos = positional(body)
        if any(a.star for a in body.args) or not pos or not (isinstance(pos[0].value, cst.Name)
                                                             and pos[0].value.value == shape):
            self._by_hand(node, fn)
            return
        given: dict[str, cst.BaseExpression] = {}
        order = ("scale",) if keywords else ()
        for i, a in enumerate(pos[1:]):
            if i >= len(order):
                self._by_hand(node, fn)
                return
            given[order[i]] = a.value
        for a in body.args:
            if a.keyword is None:
                continue
            kw = a.keyword.value
            if kw == "name" or kw == "dim_ordering":
                continue
            if kw not in keywords:
                self._by_hand(node, fn)
                return
            given[kw] = a.value
        for value in given.values():
            if any(isinstance(n, cst.Name) and n.value in params for n in walk(value)):
                self._by_hand(node, fn)
                return
        args: list[str] = []
        for old, value in given.items():
            new = keywords[old]
            text = code_of(value)
            if new == "+-":
                args += [f"-{text}" if isinstance(value, (cst.Integer, cst.Float, cst.Name)) else f"-({text})", text]
            else:
                args.append(f"{new}={text}")
        for kw, default in defaults.items():
            if not any(a.startswith(kw + "=") for a in args):
                args.append(f"{kw}={default}")
        if not self.free_for(cls, "initializers." + cls):
            self._by_hand(node, fn, f"the name `{cls}` is taken in this file")
            return
        new = cst.parse_expression(f"{cls}({', '.join(args)})")
        message = f"Keras 1 initializer function `{fn}` in a lambda: Keras 3 takes the object `{code_of(new)}`"
        if not same:
            message += " (Keras 1 drew from a plain normal, Keras 3 from a truncated one)"
        self.report(node, message, new, imports=[ImportEdit(keras_module(self.context.target, "initializers"), cls)],
                    safety=Safety.SAFE if same else Safety.UNSAFE)

    def visit_Call(self, node: cst.Call) -> None:
        """A Keras 1 initializer function called outside the lambda shape (`def my_init(shape, name=None):
        return normal(shape, scale=0.01, name=name)`): reported."""
        if not node.args:
            return
        k = self.kname(node.func)
        if not k or not k.startswith("initializers.") or k.count(".") != 1 or node in self._lambda_bodies:
            return
        fn = k.split(".")[1]
        classes = {entry[0]: name for name, entry in KERAS1_INITIALIZERS.items()}
        if fn in classes:  # `normal` imported as KM345 renames it: `RandomNormal as normal`
            if not any(a.keyword is not None and a.keyword.value in ("name", "scale") for a in node.args):
                return
            fn = classes[fn]
        elif fn not in KERAS1_INITIALIZERS:
            return
        if not any(a.keyword is None or a.keyword.value in ("name", "scale", "shape") for a in node.args):
            return
        self._by_hand(node, fn, "a call with the Keras 1 signature `(shape, scale=..., name=...)`")

    @property
    def _lambda_bodies(self) -> set:
        """The bodies of the lambdas visited so far (a lambda is visited before its body)."""
        found = self.__dict__.get("_bodies")
        if found is None:
            found = self._bodies = set()
        return found

    def _by_hand(self, node: cst.CSTNode, fn: str, why: str = "") -> None:
        self.report(node, f"Keras 1 initializer function `{fn}` in a lambda: Keras 3 calls initializers as "
                    f"`init(shape, dtype=None)`; write a `keras.initializers` object (or a function of "
                    f"`(shape, dtype=None)`) by hand" + (f" ({why})" if why else ""))
