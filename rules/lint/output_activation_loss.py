"""KM502 probabilities fed to a loss that expects logits; KM506 output activation and loss disagree.

Both compare a model's output, as visible in the file (Sequential layers, the `outputs` of a
functional `Model`, or what `call()` of a model class of this file returns), with the loss given
to `model.compile` (a string, a loss class or function, or a local name assigned one of those).
"""
from __future__ import annotations

import ast
import re
from typing import Optional

import libcst as cst

from kmigrate.rule import KERAS_OR_TF, Rule, Safety, Severity

from kmigrate.rules.analysis.keras_facts import CROSS_ENTROPY_CLASSES, DENSE, Facts, FactsRule, Loss, Output
from kmigrate.rules.lint import bound_to, calls_and_attributes, in_words, spelled, statements

CE = {"categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy"}
CATEGORICAL = {"categorical_crossentropy", "sparse_categorical_crossentropy"}
# Activations and losses are matched in any case (a string's `.lower()`, `Softmax` layers).
_SOFTMAX = re.compile("softmax", re.IGNORECASE)
_SQUASHING = re.compile("softmax|sigmoid", re.IGNORECASE)
_CROSSENTROPY = re.compile("crossentropy", re.IGNORECASE)


def _line(facts: Facts, rule: Rule, node: cst.CSTNode) -> str:
    try:
        from libcst.metadata import PositionProvider

        return f" (line {rule.get_metadata(PositionProvider, node).start.line})"
    except Exception:  # pragma: no cover - a node of another module version
        return ""


def _model_checks(rule: Rule, facts: Facts):
    """(compile call, output, loss) for every compile whose model output and loss are visible."""
    for call in facts.compile_calls():
        loss = facts.loss(call)
        if loss is None:
            continue
        out = facts.model_output(call.func.value, call)
        if out is None or out.activation is None:
            continue
        yield call, out, loss


class ProbabilitiesFromLogits(FactsRule, Rule):
    """
    ## What it does
    Reports a model whose output layer applies `softmax` or `sigmoid` while the loss passed to
    `compile` says `from_logits=True`. The activation is read from the code: `activation=` of
    the last `Dense`/`Conv` layer (a string, `keras.activations.softmax`, `tf.nn.sigmoid`, a
    local name), a trailing `Activation('softmax')` or `Softmax()` layer, or `tf.nn.softmax(x)`
    applied to the output; the loss from `compile(loss=...)`, also through a local name as in
    `loss = SparseCategoricalCrossentropy(from_logits=True); model.compile(loss=loss)`.

    ## Why is this bad
    `from_logits=True` makes the loss apply softmax/sigmoid itself, so the code says two
    contradictory things. Keras 3 on the TensorFlow backend notices when the output tensor
    comes straight from a softmax/sigmoid and quietly uses its logits instead (warning "received
    `from_logits=True`, but the `output` argument was produced by a Softmax activation ... Was
    this intended?"); on the JAX and PyTorch backends, in a hand-written training loop, or with
    any op after the activation, the probabilities are squashed a second time: the gradients
    are tiny and wrong and the model learns slowly or not at all, without an error.

    ## Example
    ```python
    model = keras.Sequential([layers.Dense(20, activation="relu", input_shape=(10,)),
                              layers.Dense(10, activation="softmax")])
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)   # KM502
    model.compile(optimizer="rmsprop", loss=loss)
    ```
    Either drop `activation="softmax"` (keep `from_logits=True`) or drop `from_logits=True`.

    ## Fix safety
    No fix: which of the two to change is the author's choice (and changes the model).
    """

    code = "KM502"
    name = "probabilities-with-from-logits"
    summary = "softmax/sigmoid output with a loss that has `from_logits=True`"
    severity = Severity.WARNING
    fix_safety = Safety.NONE
    triggers = ("from_logits",)
    needs_import = KERAS_OR_TF

    @classmethod
    def screen(cls, facts, context) -> bool:
        # `<model>.compile(...)` with a cross-entropy loss class (`from_logits=True`), and softmax/sigmoid
        return "compile" in facts.calls and spelled(facts, CROSS_ENTROPY_CLASSES) and in_words(facts, _SQUASHING) \
            and _compiled_model(facts.tree)

    VALID = [
        "from tensorflow import keras\n"
        "model = keras.Sequential([keras.layers.Dense(10)])\n"
        "model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))\n",
        "from tensorflow import keras\n"
        "model = keras.Sequential([keras.layers.Dense(10, activation='softmax')])\n"
        "model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=False))\n",
        # the model comes from elsewhere: nothing visible
        "from tensorflow import keras\n"
        "model = build()\n"
        "model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))\n",
    ]
    INVALID = [
        "from tensorflow import keras\n"
        "model = keras.Sequential([keras.layers.Dense(10, activation='softmax')])\n"
        "loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)\n"
        "model.compile(optimizer='sgd', loss=loss)\n",
    ]

    def check(self, facts: Facts) -> None:
        for call, out, loss in _model_checks(self, facts):
            if loss.from_logits is True and out.activation in ("softmax", "sigmoid"):
                self.report(loss.node, f"the model's output already applies {out.activation}"
                            f"{_line(facts, self, out.activation_at)} but the loss has `from_logits=True` "
                            f"(applied twice outside Keras' TensorFlow-backend rescue): remove the activation "
                            f"or `from_logits=True`")


class OutputLossMismatch(FactsRule, Rule):
    """
    ## What it does
    Reports an output layer whose activation and units do not fit the loss it is trained with:

    - `softmax` on a 1-unit output (always 1.0; reported wherever such a `Dense` is built);
    - `softmax` with `binary_crossentropy`;
    - a multi-unit `sigmoid` with `categorical_crossentropy`;
    - a 1-unit output with `categorical_crossentropy` or `sparse_categorical_crossentropy`;
    - a linear output (no activation) with a cross-entropy loss and no `from_logits=True`.

    Activations are resolved from the code (`activation=` in any spelling, `Activation`/`Softmax`
    layers, activation functions applied to the output), never from layer names; the loss from
    `compile(loss=...)` or a local name assigned it. Anything not visible is left alone.

    ## Why is this bad
    Each pair trains something other than what was meant, without an error: a 1-unit softmax
    predicts 1.0 for everything; categorical cross-entropy over one unit is always 0; binary
    cross-entropy on a softmax makes `accuracy` mean binary accuracy per unit; cross-entropy on
    unbounded linear outputs takes logs of negative numbers (NaN) unless told they are logits.

    ## Example
    ```python
    model.add(Dense(1, activation="softmax"))                 # KM506: use sigmoid
    model.compile(loss="binary_crossentropy", optimizer="adam")
    ```

    ## Fix safety
    No fix: the right activation or loss depends on the labels, which the code does not show.
    """

    code = "KM506"
    name = "output-activation-loss-mismatch"
    summary = "Output activation/units and loss disagree (softmax on 1 unit, sigmoid with CCE, ...)"
    severity = Severity.ERROR
    fix_safety = Safety.NONE
    triggers = ("softmax", "crossentropy")
    needs_import = KERAS_OR_TF

    @classmethod
    def screen(cls, facts, context) -> bool:
        # `<model>.compile(...)` with a cross-entropy loss, or a softmax Dense layer of 1 unit (a literal)
        return ("compile" in facts.calls and in_words(facts, _CROSSENTROPY) and _compiled_model(facts.tree)) or (
            spelled(facts, DENSE) and in_words(facts, _SOFTMAX) and _one_unit(facts.tree))

    VALID = [
        "from tensorflow import keras\n"
        "model = keras.Sequential([keras.layers.Dense(10, activation='softmax')])\n"
        "model.compile(loss='categorical_crossentropy')\n",
        "from tensorflow import keras\n"
        "model = keras.Sequential([keras.layers.Dense(1, activation='sigmoid')])\n"
        "model.compile(loss='binary_crossentropy')\n",
        "from tensorflow import keras\n"
        "model = keras.Sequential([keras.layers.Dense(10)])\n"
        "model.compile(loss=keras.losses.CategoricalCrossentropy(from_logits=True))\n",
        # the activation is a parameter: not visible
        "from tensorflow import keras\n"
        "def build(act):\n"
        "    model = keras.Sequential([keras.layers.Dense(1, activation=act)])\n"
        "    model.compile(loss='binary_crossentropy')\n",
    ]
    INVALID = [
        "from tensorflow import keras\nlayer = keras.layers.Dense(1, activation='softmax')\n",
        "from tensorflow import keras\n"
        "model = keras.Sequential([keras.layers.Dense(10)])\n"
        "model.compile(loss='categorical_crossentropy')\n",
    ]

    def check(self, facts: Facts) -> None:
        single_softmax: set[cst.CSTNode] = set()
        for call in facts.calls:
            lf = facts.layer_facts(call) if facts.layer_kind(call.func) in DENSE else None
            if lf is not None and lf.units == 1 and lf.activation == "softmax":
                single_softmax.add(call)
                self.report(lf.activation_node or call, "softmax over a single unit always outputs 1.0: "
                            "use `sigmoid` for one output (or more units for softmax)")
        for call, out, loss in _model_checks(self, facts):
            msg = self._mismatch(out, loss)
            if msg is None:
                continue
            if out.layer is not None and out.layer.call in single_softmax and out.activation == "softmax":
                continue
            self.report(loss.node, msg + f" (output layer{_line(facts, self, out.activation_at)})")

    @staticmethod
    def _mismatch(out: Output, loss: Loss) -> Optional[str]:
        act, units = out.activation, out.units
        if loss.from_logits is True and act in ("softmax", "sigmoid"):
            return None  # KM502
        if act == "softmax" and units == 1:
            return "softmax over a single unit always outputs 1.0: use `sigmoid`"
        if units == 1 and loss.name in CATEGORICAL:
            return (f"`{loss.name}` over a 1-unit output is meaningless (the loss is always 0 or the "
                    f"labels do not fit): use `binary_crossentropy` with a sigmoid output")
        if act == "softmax" and loss.name == "binary_crossentropy":
            return ("softmax output with `binary_crossentropy`: use `categorical_crossentropy` for "
                    "one class per sample, or sigmoid outputs for several labels per sample")
        if act == "sigmoid" and units is not None and units > 1 and loss.name in CATEGORICAL:
            return (f"{units}-unit sigmoid output with `{loss.name}`: use softmax for one class per "
                    f"sample, or `binary_crossentropy` for several labels per sample")
        if act == "linear" and loss.name in CE and loss.from_logits is False:
            return (f"linear output (no activation) with `{loss.name}`: pass `from_logits=True` to "
                    f"the loss, or add a {'sigmoid' if loss.name == 'binary_crossentropy' else 'softmax'} "
                    f"activation")
        return None


def _compiled_model(tree) -> bool:
    """`<name>.compile(...)` where the name is assigned a call somewhere (`model_output` follows
    the name to the call that made the model: Sequential, Model, a model class)."""
    made = {t.id for s in statements(tree) if type(s) in (ast.Assign, ast.AnnAssign) and type(s.value) is ast.Call
            for t in (s.targets if type(s) is ast.Assign else [s.target]) if type(t) is ast.Name}
    return bool(made) and any(type(n.func) is ast.Attribute and n.func.attr == "compile" and type(n.func.value)
                              is ast.Name and n.func.value.id in made for n in calls_and_attributes(tree)[0])


def _one_unit(tree) -> bool:
    """A call that may be a `Dense` (`<x>.Dense`, a name imported as `Dense` or bound to an alias,
    a call's result) whose first positional argument, or `units=`/`output_dim=`, is the literal 1
    (where `literal_int` reads the units from)."""
    bound = None
    for n in calls_and_attributes(tree)[0]:
        args = [n.args[0]] if n.args and type(n.args[0]) is not ast.Starred else []
        args += [k.value for k in n.keywords if k.arg in ("units", "output_dim")]
        if not any(type(a) is ast.Constant and type(a.value) is int and a.value == 1 for a in args):
            continue
        f = n.func
        if type(f) is ast.Attribute:
            if f.attr == "Dense":
                return True
        elif type(f) is ast.Name:
            bound = bound_to(tree) if bound is None else bound
            if any(p is None or p.rpartition(".")[2] == "Dense" for p in bound.get(f.id, ())):
                return True
        else:
            return True
    return False
