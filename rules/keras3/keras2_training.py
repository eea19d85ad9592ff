"""KM320..KM324: the Keras 1/2 training API that Keras 3 removed (nb_epoch, *_generator methods,
predict_classes, predict_proba, workers/use_multiprocessing/max_queue_size)."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from kmigrate.rule import KERAS_OR_TF, Example, ImportEdit, Safety, Severity
from kmigrate.rules.keras3.keras2_common import (
    KerasRule, code_of, has_star, kwarg, make_kw, method, positional, rename_kw, walk, with_args,
)
from kmigrate.rules.tables.keras2_api import (
    GENERATOR_METHODS, KERAS1_GENERATOR_POSITIONAL, KERAS1_ONLY_KEYWORDS, KERAS2_GENERATOR_POSITIONAL,
    KERAS2_ONLY_KEYWORDS, PREDICT_CLASSES, PREDICT_PROBA, SAMPLE_KEYWORDS,
    TRAINING_METHODS, WORKER_KEYWORDS,
)

_FLOW_METHODS = ("flow", "flow_from_directory", "flow_from_dataframe")
_KERAS_FIT_HINTS = ("epochs", "nb_epoch", "steps_per_epoch", "validation_data", "callbacks", "validation_split",
                    "initial_epoch", "validation_steps", "samples_per_epoch", "nb_val_samples")


def _keywords(call: cst.Call) -> set[str]:
    return {a.keyword.value for a in call.args if a.keyword is not None}


class FitNbEpoch(KerasRule):
    """
    ## What it does
    Renames the Keras 1 keyword `nb_epoch=` of `fit()` / `fit_generator()` to `epochs=`.

    ## Why is this bad
    Keras 2 renamed it and Keras 3 (TensorFlow 2.16+) rejects it: `fit()` raises
    `TypeError: fit() got an unexpected keyword argument 'nb_epoch'`.

    ## Example
    ```python
    model.fit(x, y, nb_epoch=10, batch_size=32)
    ```
    becomes
    ```python
    model.fit(x, y, epochs=10, batch_size=32)
    ```

    ## Fix safety
    Safe: the same number of epochs, under the current name.
    """

    code = "KM320"
    name = "fit-nb-epoch"
    summary = "`fit(nb_epoch=)` is gone; use `epochs=`"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("nb_epoch",)

    @classmethod
    def screen(cls, facts, context) -> bool:
        # by method name (no import needed): only `.fit(..., nb_epoch=)` / `.fit_generator(..., nb_epoch=)`
        return "nb_epoch" in facts.keywords and not facts.calls.isdisjoint(("fit", "fit_generator"))

    VALID = ["model.fit(x, y, epochs=3)\n", "model.train(x, nb_epoch=3)\n"]
    INVALID = [
        Example("model.fit(x, y, nb_epoch=10, batch_size=32)\n", "model.fit(x, y, epochs=10, batch_size=32)\n"),
        Example("m.fit_generator(g, steps_per_epoch=5, nb_epoch=2)\n",
                "m.fit_generator(g, steps_per_epoch=5, epochs=2)\n"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if method(node) not in ("fit", "fit_generator"):
            return
        arg = kwarg(node, "nb_epoch")
        if arg is not None and kwarg(node, "epochs") is None:
            self.report(arg, "`nb_epoch=` was renamed `epochs=` (Keras 2); Keras 3 rejects it",
                        rename_kw(arg, "epochs"))


class GeneratorMethods(KerasRule):
    """
    ## What it does
    Rewrites `fit_generator`, `evaluate_generator` and `predict_generator` to `fit`, `evaluate`
    and `predict`, which take generators and `Sequence`s directly. Keras 1 keywords that counted
    *samples* (`samples_per_epoch`, `nb_val_samples`, `val_samples`) become the Keras 2+ keywords
    that count *steps*: `steps_per_epoch=math.ceil(samples / batch_size)`, which needs the batch
    size. kmigrate uses it when the generator call shows it (`datagen.flow(x, y, batch_size=32)`);
    otherwise it reports the call and says what to write. Positional arguments after the
    generator become keywords (Keras 1 and Keras 2 gave them different meanings, so a call whose
    version cannot be told from its keywords is reported instead). `predict_generator` over a
    Python generator (a generator expression or a generator function of this file) gets its
    batches wrapped in tuples, since Keras 2 took bare `x` batches and Keras 3 only takes tuples.

    ## Why is this bad
    Keras 3 (TensorFlow 2.16+) removed the `*_generator` methods:
    `AttributeError: 'Sequential' object has no attribute 'fit_generator'`.

    ## Example
    ```python
    model.fit_generator(datagen.flow(x, y, batch_size=32), samples_per_epoch=len(x), nb_epoch=5)
    ```
    becomes
    ```python
    model.fit(datagen.flow(x, y, batch_size=32), steps_per_epoch=math.ceil(len(x) / 32), epochs=5)
    ```

    ## Fix safety
    Safe when the batch size comes from a Keras `flow*()` call; unsafe when it comes from another
    generator's `batch_size=` argument (kmigrate assumes the generator yields batches of that size).
    The worker keywords (`nb_worker`, `workers`, ...) are left to KM324.
    """

    code = "KM321"
    name = "generator-methods"
    summary = "`fit_generator`/`evaluate_generator`/`predict_generator` are gone; use `fit`/`evaluate`/`predict`"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = tuple(GENERATOR_METHODS)

    @classmethod
    def screen(cls, facts, context) -> bool:
        # by method name (no import needed): only `.fit_generator(...)` and its kin
        return not facts.calls.isdisjoint(GENERATOR_METHODS)

    VALID = ["model.fit(gen, steps_per_epoch=10)\n", "def fit_generator(x):\n    return x\nfit_generator(3)\n"]
    INVALID = [
        Example("model.fit_generator(gen, steps_per_epoch=10, epochs=2)\n",
                "model.fit(gen, steps_per_epoch=10, epochs=2)\n"),
        Example("model.fit_generator(datagen.flow(x, y, batch_size=32), samples_per_epoch=len(x), nb_epoch=5)\n",
                "import math\n\nmodel.fit(datagen.flow(x, y, batch_size=32), steps_per_epoch=math.ceil(len(x) / 32), "
                "nb_epoch=5)\n"),
        Example("model.fit_generator(gen, 100, 2)\n"),
        Example("model.fit_generator(*args, **kwargs)\n"),  # Keras 1 (samples) or Keras 2 (steps)? reported
        Example("model.fit_generator(gen, samples_per_epoch=1000, nb_epoch=2)\n"),  # batch size unknown
        Example("model.fit_generator(gen, 10, 2, validation_data=val, validation_steps=3)\n",
                "model.fit(gen, steps_per_epoch=10, epochs=2, validation_data=val, validation_steps=3)\n"),
        Example("s = model.evaluate_generator(gen, steps=5)\np = model.predict_generator(gen, 5)\n",
                "s = model.evaluate(gen, steps=5)\np = model.predict_generator(gen, 5)\n"),
        Example("p = model.predict_generator((x for x in xs), steps=2)\n",
                "p = model.predict((b if isinstance(b, tuple) else (b,) for b in (x for x in xs)), steps=2)\n"),
        Example("p = model.predict_generator(make_gen(x, batch_size=8), val_samples=64)\n",
                "import math\n\np = model.predict(make_gen(x, batch_size=8), steps=math.ceil(64 / 8))\n",
                {"unsafe_fixes": True}),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        old = method(node)
        if old not in GENERATOR_METHODS:
            return
        new = GENERATOR_METHODS[old]
        pos = positional(node)
        kws = _keywords(node)
        if has_star(node) or (not pos and kwarg(node, "generator") is None):
            self.report(node, f"`{old}` is gone in Keras 3; call `{new}` (Keras 1 sample counts become steps: "
                        "`steps_per_epoch=math.ceil(samples / batch_size)`)")
            return
        version = 1 if kws & KERAS1_ONLY_KEYWORDS else 2 if kws & KERAS2_ONLY_KEYWORDS else None
        args: list[cst.Arg] = []
        if pos:
            args.append(pos[0])
        else:
            gen_kw = kwarg(node, "generator")
            args.append(cst.Arg(value=gen_kw.value))
        extra = pos[1:]
        if extra and version is None:
            self.report(node, f"`{old}` is gone; use `{new}`. Its positional arguments meant samples in "
                        f"Keras 1 and steps in Keras 2: pass them by keyword (`steps_per_epoch=`, `epochs=`) "
                        f"to `{new}`")
            return
        table = (KERAS1_GENERATOR_POSITIONAL if version == 1 else KERAS2_GENERATOR_POSITIONAL)[old]
        if len(extra) > len(table):
            self.report(node, f"`{old}` is gone; use `{new}` with keyword arguments")
            return
        named: list[tuple[str, cst.Arg]] = [(table[i], a) for i, a in enumerate(extra)]
        named += [(a.keyword.value, a) for a in node.args if a.keyword is not None and a.keyword.value != "generator"]
        safety = Safety.SAFE
        imports: list[ImportEdit] = []
        problems: list[str] = []
        for key, a in named:
            if key in SAMPLE_KEYWORDS:
                source = node.args[0].value if key != "nb_val_samples" else (
                    kwarg(node, "validation_data").value if kwarg(node, "validation_data") else None)
                batch, how = self._batch_size(source)
                if batch is None:
                    problems.append(f"`{key}=` counts samples; write `{SAMPLE_KEYWORDS[key]}="
                                    f"math.ceil({code_of(a.value)} / batch_size)` with the generator's batch size")
                    continue
                if how == "guess":
                    safety = Safety.UNSAFE
                steps = cst.parse_expression(f"math.ceil({code_of(a.value)} / {code_of(batch)})")
                args.append(make_kw(SAMPLE_KEYWORDS[key], steps) if a.keyword is None
                            else a.with_changes(keyword=cst.Name(SAMPLE_KEYWORDS[key]), value=steps))
                imports.append(ImportEdit("math"))
            elif a.keyword is None:
                args.append(make_kw(key, a.value))
            else:
                args.append(a)
        if problems:
            self.report(node, f"`{old}` is gone; use `{new}`. " + "; ".join(problems))
            return
        if old == "predict_generator" and self._python_generator(args[0].value):
            # Keras 2 took bare `x` batches from a generator; Keras 3 wants tuples: (x,)
            wrapped = cst.parse_expression(
                f"(b if isinstance(b, tuple) else (b,) for b in {code_of(args[0].value)})")
            args[0] = args[0].with_changes(value=wrapped)
        call = with_args(node, args).with_changes(func=node.func.with_changes(attr=cst.Name(new)))
        self.report(node, f"`{old}` is gone in Keras 3; `{new}` takes generators", call,
                    imports=imports, safety=safety)

    def _python_generator(self, expr) -> bool:
        """A generator expression, or a call of a generator function defined in this file."""
        if isinstance(expr, cst.GeneratorExp):
            return True
        if not (isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name)):
            return False
        defs = [n for n in walk(self.module) if isinstance(n, cst.FunctionDef) and n.name.value == expr.func.value]
        return len(defs) == 1 and any(isinstance(n, (cst.Yield,)) for n in walk(defs[0].body))

    def _batch_size(self, source) -> tuple[Optional[cst.BaseExpression], str]:
        if not isinstance(source, cst.Call):
            return None, ""
        arg = kwarg(source, "batch_size")
        if arg is None:
            return None, ""
        return arg.value, ("flow" if method(source) in _FLOW_METHODS else "guess")


class PredictClasses(KerasRule):
    """
    ## What it does
    Rewrites `model.predict_classes(x)` to what it computed: `model.predict(x).argmax(axis=-1)`
    when the model's output has several units, or `(model.predict(x) > 0.5).astype("int32")`
    for a single unit, when the model is defined in the same file so its last layer is visible.
    When it is not, the call is reported (with an unsafe fix to the `argmax` form).

    ## Why is this bad
    `predict_classes` was removed in TensorFlow 2.6 / Keras 3:
    `AttributeError: 'Sequential' object has no attribute 'predict_classes'`.

    ## Example
    ```python
    model = Sequential([Dense(10, activation="softmax")])
    labels = model.predict_classes(x_test)
    ```
    becomes
    ```python
    model = Sequential([Dense(10, activation="softmax")])
    labels = model.predict(x_test).argmax(axis=-1)
    ```

    ## Fix safety
    Safe when the output width is visible (it is what Keras 2's `predict_classes` did);
    unsafe otherwise (a one-unit model needs the `> 0.5` form instead).
    """

    code = "KM322"
    name = "predict-classes"
    summary = "`predict_classes` is gone; use `predict(x).argmax(axis=-1)` (or `> 0.5` for one unit)"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("predict_classes",)

    @classmethod
    def screen(cls, facts, context) -> bool:
        # by method name (no import needed): only `.predict_classes(...)`
        return PREDICT_CLASSES in facts.calls

    VALID = ["model.predict(x).argmax(axis=-1)\n", "predict_classes(x)\n"]
    INVALID = [
        Example("from keras.models import Sequential\nfrom keras.layers import Dense, Activation\n"
                "model = Sequential()\nmodel.add(Dense(10))\nmodel.add(Activation('softmax'))\n"
                "c = model.predict_classes(x, batch_size=8)\n",
                "from keras.models import Sequential\nfrom keras.layers import Dense, Activation\n"
                "model = Sequential()\nmodel.add(Dense(10))\nmodel.add(Activation('softmax'))\n"
                "c = model.predict(x, batch_size=8).argmax(axis=-1)\n"),
        Example("from keras.models import Sequential\nfrom keras.layers import Dense\n"
                "model = Sequential([Dense(1, activation='sigmoid')])\nc = model.predict_classes(x)\n",
                "from keras.models import Sequential\nfrom keras.layers import Dense\n"
                "model = Sequential([Dense(1, activation='sigmoid')])\nc = (model.predict(x) > 0.5).astype(\"int32\")\n"),
        Example("c = model.predict_classes(x)\n"),
        Example("c = model.predict_classes(x)\n", "c = model.predict(x).argmax(axis=-1)\n", {"unsafe_fixes": True}),
        Example("from keras.models import Model\nfrom keras.layers import Dense, Input\ninp = Input((3,))\n"
                "out = Dense(4, activation='softmax')(inp)\nm = Model(inp, out)\nc = m.predict_classes(x)\n",
                "from keras.models import Model\nfrom keras.layers import Dense, Input\ninp = Input((3,))\n"
                "out = Dense(4, activation='softmax')(inp)\nm = Model(inp, out)\nc = m.predict(x).argmax(axis=-1)\n"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if method(node) != PREDICT_CLASSES:
            return
        receiver = node.func.value
        predict = node.with_changes(func=node.func.with_changes(attr=cst.Name("predict")))
        width = self.models.output_width(receiver)
        argmax = cst.Call(func=cst.Attribute(value=predict, attr=cst.Name("argmax")),
                          args=[make_kw("axis", cst.UnaryOperation(cst.Minus(), cst.Integer("1")))])
        if width == 1:
            threshold = cst.parse_expression(f'({code_of(predict)} > 0.5).astype("int32")')
            self.report(node, "`predict_classes` is gone; for one output unit it was `predict(x) > 0.5`", threshold)
        elif width is not None:
            self.report(node, "`predict_classes` is gone; it was `predict(x).argmax(axis=-1)`", argmax)
        else:
            self.report(node, "`predict_classes` is gone: use `predict(x).argmax(axis=-1)`, or "
                        "`(predict(x) > 0.5).astype(\"int32\")` if the model has one output unit "
                        "(the model is not visible here)", argmax, safety=Safety.UNSAFE)


class PredictProba(KerasRule):
    """
    ## What it does
    Rewrites `model.predict_proba(x)` to `model.predict(x)` when `model` is a Keras model built
    or loaded in the same file (scikit-learn estimators have a `predict_proba` of their own,
    so other receivers are left alone).

    ## Why is this bad
    Keras 3 removed `predict_proba`; in Keras 2 it was `predict` plus a warning.

    ## Example
    ```python
    model = load_model("m.h5")
    p = model.predict_proba(x)
    ```
    becomes
    ```python
    model = load_model("m.h5")
    p = model.predict(x)
    ```

    ## Fix safety
    Safe: Keras 2's `predict_proba` returned `predict`'s output.
    """

    code = "KM323"
    needs_import = KERAS_OR_TF
    name = "predict-proba"
    summary = "`predict_proba` is gone; use `predict`"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("predict_proba",)

    VALID = ["clf = LogisticRegression()\np = clf.predict_proba(x)\n", "p = model.predict_proba(x)\n"]
    INVALID = [
        Example("from keras.models import load_model\nmodel = load_model('m.h5')\np = model.predict_proba(x)\n",
                "from keras.models import load_model\nmodel = load_model('m.h5')\np = model.predict(x)\n"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if method(node) == PREDICT_PROBA and self.models.is_model(node.func.value):
            self.report(node.func.attr, "`predict_proba` is gone in Keras 3; it returned `predict(x)`",
                        cst.Name("predict"))


class WorkerKeywords(KerasRule):
    """
    ## What it does
    Removes `workers=`, `use_multiprocessing=` and `max_queue_size=` (and their Keras 1
    spellings `nb_worker=`, `pickle_safe=`, `max_q_size=`) from `fit`, `evaluate`, `predict`
    and the `*_generator` methods.

    ## Why is this bad
    Keras 3 moved these options to `keras.utils.PyDataset(workers=, use_multiprocessing=,
    max_queue_size=)`; `fit(workers=4)` raises `TypeError: unexpected keyword argument`.

    ## Example
    ```python
    model.fit(seq, epochs=3, workers=4, use_multiprocessing=True)
    ```
    becomes (with `--unsafe-fixes`)
    ```python
    model.fit(seq, epochs=3)
    ```

    ## Fix safety
    Unsafe: data loading loses its parallelism (pass the options to your `PyDataset` subclass's
    `super().__init__()` to keep it). Removing a keyword that has its default value
    (`workers=1`, `use_multiprocessing=False`, `max_queue_size=10`) is safe.
    """

    code = "KM324"
    name = "fit-worker-keywords"
    summary = "`workers=`/`use_multiprocessing=`/`max_queue_size=` are gone from `fit`/`evaluate`/`predict`"
    severity = Severity.ERROR
    fix_safety = Safety.UNSAFE
    triggers = ("workers", "use_multiprocessing", "max_queue_size", "nb_worker", "pickle_safe", "max_q_size")
    trigger_pattern = r"\b(?:workers|use_multiprocessing|max_queue_size|nb_worker|pickle_safe|max_q_size)\s*="

    _DEFAULTS = {"workers": "1", "nb_worker": "1", "use_multiprocessing": "False", "pickle_safe": "False",
                 "max_queue_size": "10", "max_q_size": "10"}

    @classmethod
    def screen(cls, facts, context) -> bool:
        # `.fit_generator(..., workers=)` is reported by method name (no import needed)
        return not facts.keywords.isdisjoint(WORKER_KEYWORDS) and not facts.calls.isdisjoint(TRAINING_METHODS)

    VALID = ["model.fit(x, y, epochs=2)\n", "pool.map(f, xs, workers=4)\n", "est.fit(x, workers=4)\n"]
    INVALID = [
        Example("model.fit(seq, epochs=3, workers=4, use_multiprocessing=True)\n"),
        Example("model.fit(seq, epochs=3, workers=4, use_multiprocessing=True)\n", "model.fit(seq, epochs=3)\n",
                {"unsafe_fixes": True}),
        Example("model.fit_generator(g, steps_per_epoch=3, workers=1, max_queue_size=10)\n",
                "model.fit_generator(g, steps_per_epoch=3)\n"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        m = method(node)
        if m not in TRAINING_METHODS:
            return
        gone = [a for a in node.args if a.keyword is not None and a.keyword.value in WORKER_KEYWORDS]
        if not gone:
            return
        if m in ("fit", "evaluate", "predict") and not (
                _keywords(node) & set(_KERAS_FIT_HINTS) or self.models.is_model(node.func.value)):
            return  # not visibly a Keras model
        safe = all(isinstance(a.value, (cst.Integer, cst.Name)) and code_of(a.value) == self._DEFAULTS[a.keyword.value]
                   for a in gone)
        names = ", ".join(f"`{a.keyword.value}=`" for a in gone)
        fix = with_args(node, [a for a in node.args if a not in gone])
        self.report(node, f"{names} no longer accepted by `{GENERATOR_METHODS.get(m, m)}` (Keras 3); set them on "
                    "a `keras.utils.PyDataset` instead", fix, safety=Safety.SAFE if safe else Safety.UNSAFE)
