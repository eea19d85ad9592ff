"""KM343: Keras 2's scikit-learn wrappers (`KerasClassifier`/`KerasRegressor(build_fn=...)`) as
Keras 3's `SKLearnClassifier`/`SKLearnRegressor`, with the searches and cross-validation helpers
that use them."""
from __future__ import annotations

import re
from keyword import iskeyword
from typing import Optional

import libcst as cst
from libcst.helpers import get_full_name_for_node

from kmigrate.rule import KERAS_OR_TF, Example, ImportEdit, Safety, Severity
from kmigrate.rules.imports.removed_keras_module import split_root
from kmigrate.rules.keras3.keras2_common import (
    KerasRule, code_of, import_from_names, kwarg, name_bindings, removal_edits, string_literal, walk,
)
from kmigrate.rules.tables.keras2_api import SKLEARN_MODULE, SKLEARN_WRAPPERS

_SEARCHES = ("GridSearchCV", "RandomizedSearchCV")
# scikit-learn helpers that fit clones of the estimator they are given, and take `params=` for its `fit`
_CLONING = ("cross_val_score", "cross_validate", "cross_val_predict", "learning_curve", "validation_curve",
            "permutation_test_score")
_PIPELINES = ("Pipeline", "make_pipeline")
# SKLearnClassifier/SKLearnRegressor's own parameters
_WRAPPER_PARAMS = frozenset({"model", "model_kwargs", "fit_kwargs", "warm_start"})
# what the Keras 2 wrappers passed on to `Model.fit` (Keras 1's nb_epoch as epochs)
_FIT_PARAMS = frozenset({
    "batch_size", "epochs", "nb_epoch", "verbose", "callbacks", "validation_split", "validation_data",
    "shuffle", "class_weight", "sample_weight", "initial_epoch", "steps_per_epoch", "validation_steps",
    "validation_batch_size", "validation_freq",
})


# layers that want a sample of more than one axis (images, sequences, volumes)
_ND_LAYER = re.compile(r"^(Conv(olution)?[123]D(Transpose)?|SeparableConv(olution)?[12]D|DepthwiseConv[12]D|"
                       r"(Max|Average)Pooling[123]D|Global(Max|Average)Pooling[123]D|ZeroPadding[123]D|"
                       r"Cropping[123]D|UpSampling[123]D|LSTM|GRU|SimpleRNN|ConvLSTM[123]D|TimeDistributed|"
                       r"Bidirectional)$")


class _Unconverted:
    """A search grid over a Keras wrapper that names the old keys and is not rewritten: why."""

    def __init__(self, foreign, reason: str):
        self.foreign, self.reason = list(foreign), reason

    @property
    def listed(self) -> str:
        return f"`{'`, `'.join(self.foreign)}`" if self.foreign else "the build function's and `fit`'s arguments"


def _plain(node) -> bool:
    """A literal (numbers, strings, True/False/None, names, and lists/tuples/dicts of them): the
    same value however often it is evaluated."""
    if isinstance(node, (cst.Integer, cst.Float, cst.SimpleString, cst.Name, cst.ConcatenatedString)):
        return True
    if isinstance(node, cst.UnaryOperation):
        return _plain(node.expression)
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return all(isinstance(e, cst.Element) and _plain(e.value) for e in node.elements)
    if isinstance(node, cst.Dict):
        return all(isinstance(e, cst.DictElement) and _plain(e.key) and _plain(e.value) for e in node.elements)
    return False



def _appended(elements: list, new):
    """`elements` (call arguments or dict elements) with `new` last, commas as the others have them."""
    if not elements:
        return [new]
    last = elements[-1]
    between = elements[-2].comma if len(elements) > 1 and isinstance(elements[-2].comma, cst.Comma) else \
        cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    if isinstance(last.comma, cst.Comma):
        if isinstance(last.comma.whitespace_after, cst.SimpleWhitespace) and len(elements) == 1:
            between = last.comma.with_changes(whitespace_after=cst.SimpleWhitespace(" "))
        return [*elements[:-1], last.with_changes(comma=between), new.with_changes(comma=last.comma)]
    return [*elements[:-1], last.with_changes(comma=between), new]


def _dict_with(d: cst.Dict, items, quote) -> cst.Dict:
    """`d` with `items` ([(str key, value node)]) added at its end."""
    elements = list(d.elements)
    for key, value in items:
        elements = _appended(elements, cst.DictElement(quote(key), value))
    return d.with_changes(elements=elements)


class SklearnWrappers(KerasRule):
    """
    ## What it does
    Rewrites `KerasClassifier`/`KerasRegressor(build_fn=f, **sk_params)` from the gone
    `keras.wrappers.scikit_learn` to Keras 3's `keras.wrappers.SKLearnClassifier` /
    `SKLearnRegressor` (in TensorFlow 2.21 `tf.keras.wrappers.*`) when `f` is a function defined
    in the file: `sk_params` named like `f`'s parameters go to `model_kwargs={...}`, the rest
    (`epochs`, `batch_size`, `verbose`, Keras 1's `nb_epoch` as `epochs`) to `fit_kwargs={...}`,
    and since Keras 3 calls `model(X=X, y=y, **model_kwargs)`, `f` is passed as
    `lambda X, y, **kwargs: f(**kwargs)`. The old import goes once no use is left.
    Elsewhere (`f` not visible, `**sk_params`, a subclass without `build_fn`) it reports the
    module with what to use.

    The fitted Keras model, which the old wrappers kept in `.model`, is `.model_` in Keras 3's
    (their `.model` is the build function given to the constructor): `clf.model` becomes
    `clf.model_` where `clf` is visibly such a wrapper (a name bound once to `KerasClassifier(...)`/
    `KerasRegressor(...)`, or to the `best_estimator_` of a `GridSearchCV`/`RandomizedSearchCV`
    over one), and so does `grid_result.best_estimator_.model` where `grid_result` is such a
    search or its `fit(...)`. A `.best_estimator_.model` whose search is not visible, in a file
    that uses the old wrappers, is reported.

    A `GridSearchCV`/`RandomizedSearchCV` (scikit-learn's, however imported) over such a wrapper
    whose `param_grid`/`param_distributions` names the build function's parameters or `fit`'s
    (`epochs`, `batch_size`, ...) fails on Keras 3 ("Invalid parameter 'epochs' for estimator
    SKLearnClassifier"): the new wrappers take those only inside `model_kwargs`/`fit_kwargs`, and
    scikit-learn sets a dict parameter whole (`model_kwargs__units` is refused too). When the grid
    is a literal dict (or a list of them) whose values are literal lists or names, it becomes a
    grid over those two dicts: `'model_kwargs'` lists a dict per combination of the build
    function's keys, `'fit_kwargs'` one per combination of `fit`'s; their product is the old
    grid, so the same candidates are fitted (`RandomizedSearchCV` draws from the same set). Written
    as a list comprehension, `[{'units': units, 'layers': 2} for units in [8, 16]]`, a key with a
    single value inlined: what a person would write, readable in the diff, no new import (a
    `ParameterGrid(...)` call would need one and hides the dicts). The wrapper's own fixed
    `model_kwargs` go into each `model_kwargs` dict (a grid value replaces the whole dict); its
    `fit_kwargs` go into each `fit_kwargs` dict, and into a `'fit_kwargs': [{...}]` of their own
    when the grid varies none of them, because Keras 3's `__sklearn_clone__` (what every search
    calls) passes only `model`, `warm_start` and `model_kwargs` on: without that, the searched
    models would train with `fit`'s defaults. `search.best_params_['epochs']` becomes
    `search.best_params_['fit_kwargs']['epochs']`. Not rewritten, reported at the grid and at the
    search's `fit(...)` (where the program fails): values that are not literal lists (`np.arange`,
    distributions), a key that is neither a parameter of the build function nor one of `fit`'s,
    a build function that is not visible, a grid under a name.

    scikit-learn's helpers that fit clones of their estimator (`cross_val_score`, `cross_validate`,
    `cross_val_predict`, `learning_curve`, `validation_curve`, `permutation_test_score`, however
    imported) lose the wrapper's `fit_kwargs` the same way: every fold would train with `fit`'s
    defaults (1 epoch, batch size 32, no callbacks), silently (the classic
    `cross_val_score(KerasClassifier(build_fn=f, epochs=100, batch_size=5), X, y, cv=kfold)`).
    When the estimator is a wrapper whose rewrite carries fit arguments (the call itself, or a name
    bound once to it), the same arguments go to the helper's `params=`, which scikit-learn passes to
    every clone's `fit` (and Keras 3's `fit(X, y, **kwargs)` to `model.fit`); into a literal
    `params=`/`fit_params=` dict the call has, the keys it lacks (one it gives wins, as in `fit`).
    Not for a `validation_curve` whose `param_name` is `fit_kwargs` (it sets them itself). A search
    KM343 does not convert (a grid over `model_kwargs` only, or `param_grid={}`) over such a wrapper
    gets `'fit_kwargs': [{...}]` in each grid dict, as the converted grids have. Reported at the
    call instead: a `Pipeline`/`make_pipeline` holding such a wrapper (with the
    `params={'<step>__epochs': ...}` that reaches it), an estimator that cannot be followed (a loop
    variable, a name bound twice, an attribute) in a file that has such a wrapper, fit arguments
    that are not literals (`callbacks=[EarlyStopping()]` would be evaluated twice), a `params=`
    that is not a literal dict, a grid under a name.

    At a `fit(...)` of a search over such a wrapper (or of the wrapper) it also reports what the
    new wrappers refuse at run time: X with more than two axes when the build function makes
    convolutional or recurrent layers without a `Reshape` or an `Embedding` (which takes 2-D token
    ids) (they check X with scikit-learn's
    `check_array`: "Found array with dim 4"), and, for a classifier, a target made by
    `to_categorical` (`SKLearnClassifier` one-hot encodes the labels itself).

    ## Why is this bad
    The module is gone: `ModuleNotFoundError: No module named 'keras.wrappers.scikit_learn'`. And
    where the new wrappers are cloned (cross-validation, searches), their `fit_kwargs` are dropped:
    the migrated program runs, but trains each fold for 1 epoch.

    ## Example
    ```python
    from keras.wrappers.scikit_learn import KerasRegressor
    reg = KerasRegressor(build_fn=make_model, units=16, epochs=5, batch_size=8)
    scores = cross_val_score(reg, X, y, cv=3)
    ```
    becomes
    ```python
    from tensorflow.keras.wrappers import SKLearnRegressor
    reg = SKLearnRegressor(model=lambda X, y, **kwargs: make_model(**kwargs), model_kwargs={"units": 16},
                           fit_kwargs={"epochs": 5, "batch_size": 8})
    scores = cross_val_score(reg, X, y, cv=3, params={"epochs": 5, "batch_size": 8})
    ```

    ## Fix safety
    Safe for `KerasRegressor` (the same model, trained with the same `fit` arguments; the new
    wrapper reshapes a 1-D target to a column as Keras did). Unsafe for `KerasClassifier`:
    `SKLearnClassifier` always one-hot encodes the target, so the model must end in one unit per
    class with a categorical loss (a `Dense(1, activation="sigmoid")` model with
    `binary_crossentropy`, which `KerasClassifier` accepted, needs two units and
    `categorical_crossentropy`). The new wrappers need scikit-learn installed, as the old ones did.
    Safe for `.model` -> `.model_`: the same fitted Keras model (checked in TensorFlow with
    scikit-learn, directly and through `GridSearchCV(...).fit(...).best_estimator_`). The grid
    rewrite has the safety of the wrapper's own rewrite (unsafe over a `KerasClassifier`, so the two
    go together), safe over a wrapper that is already `SKLearn*`; checked in TensorFlow with
    scikit-learn: the migrated search fits as many candidates as the old grid has combinations.
    `best_params_` printed whole shows the two dicts instead of the flat keys, and
    `cv_results_['param_epochs']` is `cv_results_['param_fit_kwargs']` now (not rewritten).
    `params=` and the added `'fit_kwargs'` grid entry have the safety of the wrapper's rewrite too
    (safe over an `SKLearn*` wrapper); checked in TensorFlow with scikit-learn: every fold of a
    migrated `cross_val_score`/`cross_validate` trains the wrapper's epochs with its callbacks
    (1 epoch without them). `params=` needs scikit-learn 1.4 (1.6 for `learning_curve`,
    `validation_curve`, `permutation_test_score`); an old `fit_params=` is merged into, not renamed
    (recent scikit-learn has only `params=`). Array values as long as X (a `sample_weight`) are
    split per fold by scikit-learn, as it does for any `params=`.
    """

    # Fires only on names resolved to Keras: a file that never spells "keras" is not parsed.
    requires = ("keras",)

    code = "KM343"
    needs_import = KERAS_OR_TF
    name = "sklearn-wrappers"
    summary = "`keras.wrappers.scikit_learn` is gone; use `keras.wrappers.SKLearnClassifier`/`SKLearnRegressor`"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("scikit_learn", "SearchCV", "SKLearn")

    VALID = ["from sklearn.linear_model import LogisticRegression\n",
             "from tensorflow.keras.wrappers import SKLearnClassifier\n",
             "from tensorflow.keras.wrappers import SKLearnClassifier\nclf = SKLearnClassifier(model=f)\n"
             "search = GridSearchCV(clf, param_grid={'model_kwargs': [{'units': 4}], 'fit_kwargs__epochs': [1]})\n",
             "from tensorflow.keras.wrappers import SKLearnClassifier\nclf = SKLearnClassifier(model=make)\n"
             "build = clf.model\nfitted = clf.model_\n"]
    INVALID = [
        Example("from keras.wrappers.scikit_learn import KerasClassifier\n"),
        Example("import tensorflow as tf\nclf = tf.keras.wrappers.scikit_learn.KerasRegressor(build_fn=f)\n"),
        Example("from keras.wrappers.scikit_learn import KerasRegressor\n"
                "def make(units=8):\n    return units\n"
                "reg = KerasRegressor(build_fn=make, units=4, nb_epoch=2, verbose=0)\n",
                "from tensorflow.keras.wrappers import SKLearnRegressor\n\n"
                "def make(units=8):\n    return units\n"
                "reg = SKLearnRegressor(model=lambda X, y, **kwargs: make(**kwargs), model_kwargs={'units': 4}, "
                "fit_kwargs={'epochs': 2, 'verbose': 0})\n"),
        Example("from tensorflow.keras.wrappers import SKLearnClassifier\nclf = SKLearnClassifier(model=f)\n"
                "search = GridSearchCV(clf, param_grid={'units': [4, 8], 'epochs': [1, 2]})\n"),
        Example("from tensorflow.keras.wrappers import SKLearnRegressor\nfrom sklearn.model_selection import GridSearchCV\n"
                "def make(units=8):\n    return units\n"
                "reg = SKLearnRegressor(model=lambda X, y, **kwargs: make(**kwargs), fit_kwargs={'batch_size': 8})\n"
                "search = GridSearchCV(reg, param_grid={'units': [4, 8], 'epochs': [1, 2]})\n"
                "search.fit(X, y)\nprint(search.best_params_['units'])\n",
                "from tensorflow.keras.wrappers import SKLearnRegressor\nfrom sklearn.model_selection import GridSearchCV\n"
                "def make(units=8):\n    return units\n"
                "reg = SKLearnRegressor(model=lambda X, y, **kwargs: make(**kwargs), fit_kwargs={'batch_size': 8})\n"
                "search = GridSearchCV(reg, param_grid={'model_kwargs': [{'units': units} for units in [4, 8]],\n"
                "                                       'fit_kwargs': [{'batch_size': 8, 'epochs': epochs} for epochs in [1, 2]]})\n"
                "search.fit(X, y)\nprint(search.best_params_['model_kwargs']['units'])\n"),
        Example("from tensorflow.keras.wrappers import SKLearnRegressor\nfrom sklearn.model_selection import cross_val_score\n"
                "reg = SKLearnRegressor(model=make, fit_kwargs={'epochs': 5})\nscores = cross_val_score(reg, X, y, cv=3)\n",
                "from tensorflow.keras.wrappers import SKLearnRegressor\nfrom sklearn.model_selection import cross_val_score\n"
                "reg = SKLearnRegressor(model=make, fit_kwargs={'epochs': 5})\n"
                "scores = cross_val_score(reg, X, y, cv=3, params={'epochs': 5})\n"),
        Example("from keras.wrappers.scikit_learn import KerasRegressor\nreg = KerasRegressor(build_fn=f)\n"
                "grid_result = GridSearchCV(reg, {}).fit(X, y)\nbest = grid_result.best_estimator_.model\n"
                "reg.model.summary()\n",
                "from keras.wrappers.scikit_learn import KerasRegressor\nreg = KerasRegressor(build_fn=f)\n"
                "grid_result = GridSearchCV(reg, {}).fit(X, y)\nbest = grid_result.best_estimator_.model_\n"
                "reg.model_.summary()\n"),
    ]

    def _hint(self, names) -> str:
        base = "tensorflow.keras" if self.context.target == "tensorflow.keras" else "keras"
        news = sorted({SKLEARN_WRAPPERS[n] for n in names if n in SKLEARN_WRAPPERS}) or sorted(set(SKLEARN_WRAPPERS.values()))
        return (f"`keras.wrappers.scikit_learn` is gone: use {' / '.join(f'`{base}.{n}`' for n in news)} "
                "(arguments `model=`, `model_kwargs=`, `fit_kwargs=`) or the `scikeras` package")

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        info = import_from_names(node)
        if info is None:
            return
        root, rest, names = info
        if rest == SKLEARN_MODULE:
            self.report(node, self._hint([n for _, n in names]))
        elif rest == "wrappers" and any(n == "scikit_learn" for _, n in names):
            self.report(node, self._hint([]))

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            root, rest = split_root(get_full_name_for_node(alias.name) or "")
            if root is not None and rest == SKLEARN_MODULE:
                self.report(node, self._hint([]))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value == "model":
            self._fitted_model(node)
            return
        k = self.kname(node)
        if k and k.startswith(SKLEARN_MODULE + ".") and node.attr.value in SKLEARN_WRAPPERS:
            if node in getattr(self, "_fixed_funcs", ()):
                return
            self.report(node, self._hint([node.attr.value]))

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "predict_proba":
            self._predict_proba(node)
            return
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "fit":
            self._search_fit(node)
            return
        if self._is_search(node.func):
            self._search_grid(node)
            return
        if self._is_sklearn(node.func, _CLONING):
            self._cloning_call(node)
            return
        k = self.kname(node.func)
        if not k or not k.startswith(SKLEARN_MODULE + "."):
            return
        old = k.rsplit(".", 1)[1]
        if old not in SKLEARN_WRAPPERS:
            return
        new = SKLEARN_WRAPPERS[old].split(".")[1]
        fix = self._rewrite(node, old, new)
        if isinstance(fix, str):
            if isinstance(node.func, cst.Name):
                self.report(node, self._hint([old]) + f"; not rewritten: {fix}")
            return
        call, imports = fix
        self._fixed_funcs = getattr(self, "_fixed_funcs", set()) | {node.func}
        classifier = old == "KerasClassifier"
        message = (f"`{old}` (keras.wrappers.scikit_learn) is gone: `{new}(model=..., model_kwargs=..., fit_kwargs=...)`"
                   + (" (it one-hot encodes the target: the model needs one output unit per class and a "
                      "categorical loss)" if classifier else ""))
        self.report(node, message, call, imports=imports, safety=Safety.UNSAFE if classifier else Safety.SAFE)

    # ------------------------------------------------------------------ searches over a wrapper

    def _is_search(self, func) -> bool:
        """`GridSearchCV`/`RandomizedSearchCV` of scikit-learn, however imported."""
        return self._is_sklearn(func, _SEARCHES)

    def _is_sklearn(self, func, names) -> bool:
        """One of scikit-learn's `names`, however imported."""
        spelled = code_of(func).split(".")[-1]
        quals = self.names.qualified_names(func)
        if any(q.split(".")[0] == "sklearn" and q.rsplit(".", 1)[-1] in names for q in quals):
            return True
        # not resolved to an import (a star import, a name from elsewhere): by its spelling
        return spelled in names and not any("." in q and q.split(".")[0] != "sklearn" for q in quals)

    @staticmethod
    def _search_args(node: cst.Call):
        """(estimator, grid) of a search call: by keyword or position."""
        estimator = next((a.value for a in node.args if a.keyword is not None and a.keyword.value == "estimator"),
                         node.args[0].value if node.args and node.args[0].keyword is None else None)
        grid = next((a.value for a in node.args if a.keyword is not None
                     and a.keyword.value in ("param_grid", "param_distributions")),
                    node.args[1].value if len(node.args) > 1 and node.args[1].keyword is None else None)
        return estimator, grid

    def _wrapper_of(self, estimator):
        """What the search's estimator is: (the wrapper call, the build function's def or None, its
        parameter names, the fixed [(model kwarg, value)], [(fit kwarg, value)], fix safety), or why it
        cannot be followed (a string), or None when it is not a Keras wrapper."""
        call = estimator
        if isinstance(estimator, cst.Name):
            call = self._single_assignment(estimator.value)
        if not isinstance(call, cst.Call):
            return None
        k = self.kname(call.func) or ""
        last = k.rsplit(".", 1)[-1]
        if k.startswith(SKLEARN_MODULE + ".") and last in SKLEARN_WRAPPERS:
            new = SKLEARN_WRAPPERS[last].split(".")[1]
            done = self._rewrite(call, last, new)
            if isinstance(done, str):
                return f"the `{last}` is not rewritten ({done})"
            fn_def, own, model_kw, fit_kw = self._split(call)
            return call, fn_def, own, model_kw, fit_kw, Safety.UNSAFE if last == "KerasClassifier" else Safety.SAFE
        if last not in ("SKLearnClassifier", "SKLearnRegressor"):
            return None
        model = kwarg(call, "model")
        if model is None and call.args and call.args[0].keyword is None:
            model = call.args[0]
        if model is None or any(a.star for a in call.args):
            return "the wrapper's `model=` is not visible"
        fn, takes_xy = model.value, True
        if isinstance(fn, cst.Lambda) and code_of(fn.params) == "X, y, **kwargs" and isinstance(fn.body, cst.Call) \
                and len(fn.body.args) == 1 and fn.body.args[0].star == "**" \
                and code_of(fn.body.args[0].value) == "kwargs":
            fn, takes_xy = fn.body.func, False
        if not isinstance(fn, cst.Name):
            return "the wrapper's `model=` is not a function by name"
        found = self._build_function(fn, "keys")
        if isinstance(found, str):
            return found
        own = found[1]
        if takes_xy:
            own -= {"X", "y"}
        fixed = []
        for key in ("model_kwargs", "fit_kwargs"):
            arg = kwarg(call, key)
            items = []
            if arg is not None and not (isinstance(arg.value, cst.Name) and arg.value.value == "None"):
                if not isinstance(arg.value, cst.Dict) or not all(
                        isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString)
                        and isinstance(e.key.evaluated_value, str) for e in arg.value.elements):
                    return f"the wrapper's `{key}=` is not a literal dict"
                items = [(e.key.evaluated_value, e.value) for e in arg.value.elements]
            fixed.append(items)
        return call, found[0], own, fixed[0], fixed[1], Safety.SAFE

    def _grid_plan(self, node: cst.Call):
        """The conversion of a search's grid over a Keras wrapper (cached per search call):
        None when there is nothing to do, a string saying why it is not converted, or
        (new grid node, {old key: (dict name, new key)}, safety)."""
        cache = self.__dict__.setdefault("_plans", {})
        if node not in cache:
            cache[node] = self._make_grid_plan(node)
        return cache[node]

    def _make_grid_plan(self, node: cst.Call):
        estimator, grid = self._search_args(node)
        if estimator is None:
            return None
        wrapper = self._wrapper_of(estimator)
        if wrapper is None:
            return None
        dicts = [grid] if isinstance(grid, cst.Dict) else (
            [e.value for e in grid.elements] if isinstance(grid, cst.List) and all(
                isinstance(e, cst.Element) and isinstance(e.value, cst.Dict) for e in grid.elements) else None)
        keys = []
        for d in dicts or ():
            for e in d.elements:
                if isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString) \
                        and isinstance(e.key.evaluated_value, str):
                    keys.append(e.key.evaluated_value)
        foreign = [key for key in dict.fromkeys(keys) if key not in _WRAPPER_PARAMS and "__" not in key]
        if dicts is not None and not foreign:
            return None  # already over the wrapper's own parameters
        if dicts is None:
            # a grid by name: reported when it is visibly a dict naming the old keys
            bound = self._single_assignment(grid.value) if isinstance(grid, cst.Name) else None
            if isinstance(bound, cst.Dict):
                named = [e.key.evaluated_value for e in bound.elements if isinstance(e, cst.DictElement)
                         and isinstance(e.key, cst.SimpleString) and isinstance(e.key.evaluated_value, str)]
            elif isinstance(bound, cst.Call) and code_of(bound.func) == "dict":
                named = [a.keyword.value for a in bound.args if a.keyword is not None]
            else:
                return None
            foreign = [key for key in named if key not in _WRAPPER_PARAMS and "__" not in key]
            if not foreign:
                return None
            return _Unconverted(foreign, f"the grid is built under the name `{grid.value}`: make its values dicts "
                                "where it is built")
        if isinstance(wrapper, str):
            return _Unconverted(foreign, wrapper)
        call, fn_def, own, fixed_model, fixed_fit, safety = wrapper
        new_dicts, moved = [], {}
        for d in dicts:
            done = self._convert_grid_dict(d, fn_def, own, fixed_model, fixed_fit, moved)
            if isinstance(done, str):
                return _Unconverted(foreign, done)
            new_dicts.append(done)
        if isinstance(grid, cst.Dict):
            new_grid = new_dicts[0]
        else:
            new_grid = grid.with_changes(elements=[e.with_changes(value=v) for e, v in zip(grid.elements, new_dicts)])
        return new_grid, moved, safety

    def _convert_grid_dict(self, d: cst.Dict, fn_def, own, fixed_model, fixed_fit, moved):
        """One grid dict -> `{'model_kwargs': [...], 'fit_kwargs': [...]}` enumerating the same
        combinations, or why not."""
        fn = fn_def.name.value
        model, fit = [], []
        for e in d.elements:
            if not isinstance(e, cst.DictElement) or not isinstance(e.key, cst.SimpleString) \
                    or not isinstance(e.key.evaluated_value, str):
                return "a key of the grid is not a plain string"
            key = e.key.evaluated_value
            if key in _WRAPPER_PARAMS or "__" in key:
                return f"the grid mixes the old keys with the wrapper's own `{key}`"
            if not self._grid_values(e.value):
                return f"the values of `{key}` are not a literal list (or a name)"
            if key in own:
                model.append((key, e.value, key))
            elif key in _FIT_PARAMS:
                fit.append(("epochs" if key == "nb_epoch" else key, e.value, key))
            else:
                return f"`{key}` is neither a parameter of `{fn}` nor one of `fit`'s"
        for key, value in (*fixed_model, *fixed_fit):
            if not _plain(value):
                return f"the wrapper's fixed `{key}` is not a literal (it would be copied into every candidate)"
        used = {n.value for part in (model, fit) for _, v, _ in part for n in walk(v) if isinstance(n, cst.Name)}
        used |= {n.value for part in (fixed_model, fixed_fit) for _, v in part for n in walk(v) if isinstance(n, cst.Name)}
        quote = lambda k: code_of(string_literal(k, like=self.module))  # noqa: E731
        out = []
        for name, grid_part, fixed in (("model_kwargs", model, fixed_model), ("fit_kwargs", fit, fixed_fit)):
            # the constructor's fit_kwargs are lost when scikit-learn clones the wrapper (Keras 3's
            # __sklearn_clone__ passes model, warm_start and model_kwargs only): they go in the grid too
            if not grid_part and (name == "model_kwargs" or not fixed):
                continue
            varied = {k for k, _, _ in grid_part}
            items = [f"{quote(k)}: {code_of(v)}" for k, v in fixed if k not in varied]
            loops = []
            for key, values, old in grid_part:
                moved[old] = (name, key)
                single = values.elements[0].value if isinstance(values, (cst.List, cst.Tuple)) \
                    and len(values.elements) == 1 and _plain(values.elements[0].value) else None
                if single is not None:
                    items.append(f"{quote(key)}: {code_of(single)}")
                    continue
                var = key if key.isidentifier() and not iskeyword(key) else "value"
                while var in used:
                    var += "_"
                used.add(var)
                items.append(f"{quote(key)}: {var}")
                loops.append(f"for {var} in {code_of(values)}")
            out.append((name, "[{" + ", ".join(items) + "}" + "".join(" " + l for l in loops) + "]"))
        # keep the dict's layout: one key a line when it had one key a line
        first_comma = d.elements[0].comma if d.elements else cst.MaybeSentinel.DEFAULT
        ws = first_comma.whitespace_after if isinstance(first_comma, cst.Comma) else None
        if isinstance(ws, cst.ParenthesizedWhitespace):
            indent = ws.last_line.value
        else:
            indent = None
            from libcst.metadata import PositionProvider

            where = self.get_metadata(PositionProvider, d, None)
            inline = ", ".join(f"{quote(name)}: {comp}" for name, comp in out)
            if where is not None and where.start.column + len(inline) > 118:
                indent = " " * (where.start.column + 1)
        sep = ", " if indent is None else ",\n" + indent
        texts = []
        for name, comp in out:
            text = f"{quote(name)}: {comp}"
            if indent is not None and len(indent) + len(text) > 120 and " for " in comp:
                at = comp.index("} for ") + 1
                pad = indent + " " * (len(quote(name)) + 3)
                text = f"{quote(name)}: {comp[:at]}\n{pad}{comp[at + 1:]}"
            texts.append(text)
        return cst.parse_expression("{" + sep.join(texts) + "}")

    @staticmethod
    def _grid_values(node) -> bool:
        """A grid value kmigrate can loop over in a comprehension the same as scikit-learn does: a
        literal list/tuple of plain elements (evaluating it again per combination changes nothing)
        or a name."""
        if isinstance(node, cst.Name):
            return True
        return isinstance(node, (cst.List, cst.Tuple)) and bool(node.elements) and all(
            isinstance(e, cst.Element) and _plain(e.value) for e in node.elements)

    def _search_grid(self, node: cst.Call) -> None:
        """`GridSearchCV(wrapper, param_grid={'epochs': ..., 'units': ...})`: Keras 3's wrappers take
        the build function's and fit's arguments only inside `model_kwargs`/`fit_kwargs`, so a grid
        over them fails ("Invalid parameter 'units' for estimator SKLearnClassifier")."""
        plan = self._grid_plan(node)
        if plan is None:
            self._search_keeps_fit(node)
            return
        _, grid = self._search_args(node)
        if isinstance(plan, _Unconverted):
            self.report(grid, f"the search grid sets {plan.listed} on the Keras wrapper: Keras 3's "
                        "`SKLearnClassifier`/`SKLearnRegressor` take the build function's and `fit`'s arguments only "
                        "inside `model_kwargs`/`fit_kwargs` (\"Invalid parameter\"); grid over whole dicts instead, "
                        f"e.g. `'model_kwargs': [dict(units=u) for u in units]`; not rewritten: {plan.reason}")
            return
        new_grid, moved, safety = plan
        self.report(grid, "the search grid sets the build function's and `fit`'s arguments on the Keras wrapper: "
                    "Keras 3's `SKLearnClassifier`/`SKLearnRegressor` take them only inside `model_kwargs`/"
                    "`fit_kwargs` (\"Invalid parameter\"): the grid searches over those dicts, the same combinations",
                    new_grid, safety=safety)

    def _search_of(self, expr, depth: int = 0):
        """The search call `expr` is (a name bound once to it, or its `.fit(...)`), else None."""
        if depth > 4:
            return None
        if isinstance(expr, cst.Name):
            return self._search_of(self._single_assignment(expr.value), depth + 1)
        if not isinstance(expr, cst.Call):
            return None
        if isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "fit":
            return self._search_of(expr.func.value, depth + 1)
        return expr if self._is_search(expr.func) else None

    def visit_Subscript(self, node: cst.Subscript) -> None:
        """`search.best_params_['epochs']` after the grid moved `epochs` into `fit_kwargs`."""
        value = node.value
        if not (isinstance(value, cst.Attribute) and value.attr.value == "best_params_") or len(node.slice) != 1:
            return
        index = node.slice[0].slice
        if not isinstance(index, cst.Index) or not isinstance(index.value, cst.SimpleString) \
                or not isinstance(index.value.evaluated_value, str):
            return
        search = self._search_of(value.value)
        plan = self._grid_plan(search) if search is not None else None
        if not isinstance(plan, tuple) or index.value.evaluated_value not in plan[1]:
            return
        name, key = plan[1][index.value.evaluated_value]
        new = cst.parse_expression(f"{code_of(value)}[{code_of(string_literal(name, like=index.value))}]"
                                   f"[{code_of(string_literal(key, like=index.value))}]")
        self.report(node, f"the search grid now holds `{key}` inside `{name}`: `best_params_` has it there",
                    new, safety=plan[2])

    def _search_fit(self, node: cst.Call) -> None:
        """`search.fit(X, y)` / `wrapper.fit(X, y)`: where a grid over the old wrapper's keys, image
        or sequence data and one-hot targets fail at run time."""
        search = self._search_of(node.func.value)
        if search is None:
            wrapper = self._wrapper_of(node.func.value) if isinstance(node.func.value, cst.Name) else None
            if isinstance(wrapper, tuple):
                self._fit_data(node, wrapper)
            return
        estimator, _ = self._search_args(search)
        wrapper = self._wrapper_of(estimator) if estimator is not None else None
        if isinstance(wrapper, tuple):
            self._fit_data(node, wrapper)
        plan = self._grid_plan(search)
        if isinstance(plan, _Unconverted):
            first = sorted(plan.foreign)[0] if plan.foreign else "..."
            self.report(node, f"this search fails on Keras 3 (\"Invalid parameter '{first}' for estimator "
                        f"SKLearnClassifier\"): its grid sets {plan.listed} on the Keras wrapper, which takes them only "
                        "inside `model_kwargs`/`fit_kwargs`; make the grid search over whole dicts, e.g. "
                        "`{'model_kwargs': [{'units': u} for u in [8, 16]], 'fit_kwargs': [{'batch_size': 32, "
                        "'epochs': e} for e in [1, 2]]}`, each with the wrapper's own fixed `fit_kwargs` (cloning the "
                        f"wrapper drops them); not rewritten: {plan.reason}")
    def _fit_data(self, node: cst.Call, wrapper) -> None:
        """Keras 3's wrappers check X with scikit-learn's `check_array` (2-D only: "Found array with
        dim 4") and a classifier one-hot encodes y itself (a one-hot y is "multilabel-indicator",
        refused): reported at the `fit` when the build function visibly wants images or sequences,
        or y is visibly `to_categorical(...)`."""
        call, fn_def, *_ = wrapper
        problems = []
        if fn_def is not None:
            spelled = {code_of(n.func).split(".")[-1] for n in walk(fn_def.body) if isinstance(n, cst.Call)}
            wants = sorted(n for n in spelled if _ND_LAYER.match(n))
            # an Embedding first takes 2-D token ids (its LSTM gets the 3-D tensor); a Reshape makes the axes
            if wants and not spelled & {"Reshape", "Embedding"}:
                problems.append(
                    f"Keras 3's wrappers accept only 2-D X (scikit-learn's `check_array`: \"Found array with dim 4\"), "
                    f"and `{fn_def.name.value}` builds `{wants[0]}` layers for images or sequences: pass "
                    "`X.reshape(len(X), -1)` and start the model with `Reshape(<one sample's shape>)`")
        classifier = (self.kname(call.func) or "").rsplit(".", 1)[-1] in ("KerasClassifier", "SKLearnClassifier")
        args = [a for a in node.args if a.keyword is None and not a.star]
        y = kwarg(node, "y").value if kwarg(node, "y") else (args[1].value if len(args) > 1 else None)
        if classifier and isinstance(y, cst.Name):
            values = self._assigned_values(y.value) or []
            last = values[-1] if values else None
            if isinstance(last, cst.Call) and code_of(last.func).split(".")[-1] == "to_categorical":
                problems.append(
                    f"`SKLearnClassifier` one-hot encodes the target itself and refuses a one-hot `{y.value}` "
                    f"(\"Only binary and multiclass target types are supported\"): pass the class labels "
                    f"(`{y.value}.argmax(axis=1)`)")
        if problems:
            self.report(node, "this `fit` fails on Keras 3: " + "; ".join(problems))

    # ------------------------------------------ what scikit-learn clones: the wrapper's fit_kwargs

    def _carried_fit(self, expr, depth: int = 0):
        """What scikit-learn clones when it is given `expr`, as far as it concerns `fit_kwargs`
        (Keras 3's `__sklearn_clone__` drops them): ('wrapper', call, [(fit key, value)], safety) for
        a Keras wrapper (a `KerasClassifier`/`KerasRegressor` KM343 rewrites, or a `SKLearn*`) with
        fit arguments; ('pipeline', call) for a `Pipeline`/`make_pipeline`; ('unknown', why) when it
        cannot be followed; None when it is not (or holds no) Keras wrapper with fit arguments."""
        if depth > 6:
            return "unknown", "it is not followed that far"
        if isinstance(expr, cst.Name):
            values = self._assigned_values(expr.value)
            if values is None or all(v is None for v in values):
                bound = name_bindings(self.module).get(expr.value, ())
                if bound and all(isinstance(b, (cst.FunctionDef, cst.ClassDef)) for b in bound):
                    return None
                return "unknown", f"`{expr.value}` is not bound by a plain assignment here"
            if len(values) == 1 and values[0] is not None:
                return self._carried_fit(values[0], depth + 1)
            kinds = [self._carried_fit(v, depth + 1) if v is not None else ("unknown", "") for v in values]
            if any(k is not None for k in kinds):
                return "unknown", f"`{expr.value}` is bound more than once"
            return None
        if not isinstance(expr, cst.Call):
            if isinstance(expr, (cst.Attribute, cst.Subscript)):
                return "unknown", f"`{code_of(expr)}` is not followed"
            return None
        k = self.kname(expr.func) or ""
        last = k.rsplit(".", 1)[-1]
        if k.startswith(SKLEARN_MODULE + ".") and last in SKLEARN_WRAPPERS:
            if isinstance(self._rewrite(expr, last, SKLEARN_WRAPPERS[last].split(".")[1]), str):
                return None  # not rewritten: reported at the wrapper
            fit_kw = self._split(expr)[3]
            safety = Safety.UNSAFE if last == "KerasClassifier" else Safety.SAFE
            return ("wrapper", expr, fit_kw, safety) if fit_kw else None
        if last in ("SKLearnClassifier", "SKLearnRegressor"):
            if any(a.star for a in expr.args):
                return "unknown", "the wrapper's arguments are not visible"
            arg = kwarg(expr, "fit_kwargs")
            if arg is None or (isinstance(arg.value, cst.Name) and arg.value.value == "None"):
                return None
            if not isinstance(arg.value, cst.Dict) or not all(
                    isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString)
                    and isinstance(e.key.evaluated_value, str) for e in arg.value.elements):
                return "unknown", "the wrapper's `fit_kwargs=` is not a literal dict"
            items = [(e.key.evaluated_value, e.value) for e in arg.value.elements]
            return ("wrapper", expr, items, Safety.SAFE) if items else None
        if self._is_sklearn(expr.func, _PIPELINES):
            return "pipeline", expr
        if self._is_sklearn(expr.func, ("clone",)) and expr.args:
            return self._carried_fit(expr.args[0].value, depth + 1)
        if isinstance(expr.func, cst.Name):
            bound = name_bindings(self.module).get(expr.func.value, ())
            if any(isinstance(b, cst.FunctionDef) for b in bound):
                return "unknown", f"`{expr.func.value}(...)` is a function of this file"
        return None

    def _fit_wrappers(self) -> list:
        """The Keras wrappers of the file whose rewrite carries `fit_kwargs`: [('wrapper', call, items, safety)]."""
        found = self.__dict__.get("_fit_wrapper_list")
        if found is None:
            found = self._fit_wrapper_list = []
            for n in walk(self.module):
                if isinstance(n, cst.Call) and (self.kname(n.func) or "").rsplit(".", 1)[-1] in (
                        *SKLEARN_WRAPPERS, "SKLearnClassifier", "SKLearnRegressor"):
                    kind = self._carried_fit(n)
                    if kind is not None and kind[0] == "wrapper":
                        found.append(kind)
        return found

    def _step_example(self, pipeline: cst.Call, wrappers) -> tuple:
        """(`params=` example, whether the pipeline visibly holds one of `wrappers`)."""
        calls = {w[1]: w for w in wrappers}
        held = None
        # the steps, also a list the file `.append`s `(name, step)` tuples to (`estimators.append(('mlp', clf))`)
        lists = {n.value for n in walk(pipeline) if isinstance(n, cst.Name)}
        appended = [n for n in walk(self.module) if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute)
                    and n.func.attr.value == "append" and isinstance(n.func.value, cst.Name)
                    and n.func.value.value in lists]
        for n in (*walk(pipeline), *(m for a in appended for m in walk(a))):
            if n is pipeline:
                continue
            kind = self._carried_fit(n) if isinstance(n, (cst.Call, cst.Name)) else None
            if kind is not None and kind[0] == "wrapper" and kind[1] in calls:
                held = (n, kind)
                break
        step = "<step>"
        if held is not None and code_of(pipeline.func).split(".")[-1] == "make_pipeline":
            old = (self.kname(held[1][1].func) or "").rsplit(".", 1)[-1]
            step = SKLEARN_WRAPPERS.get(old, "." + old).split(".")[1].lower()
        elif held is not None:
            for t in (*walk(pipeline), *(m for a in appended for m in walk(a))):
                if isinstance(t, cst.Tuple) and len(t.elements) == 2 and t.elements[1].value is held[0] \
                        and isinstance(t.elements[0].value, cst.SimpleString):
                    step = t.elements[0].value.evaluated_value
        items = (held[1] if held is not None else wrappers[0])[2]
        example = "{" + ", ".join(f"'{step}__{k}': {code_of(v)}" for k, v in items[:2]) + "}"
        return example, held is not None

    def _clone_message(self, what: str, wrapper=None, of: str = "the Keras wrapper") -> str:
        cls = "`SKLearnClassifier`/`SKLearnRegressor` lose their"
        if wrapper is not None:
            last = (self.kname(wrapper[1].func) or "").rsplit(".", 1)[-1]
            cls = f"`{SKLEARN_WRAPPERS.get(last, '.' + last).split('.')[1]}` loses its"
        return (f"{what} fits clones of {of}, and Keras 3's {cls} `fit_kwargs` when cloned "
                "(`__sklearn_clone__` passes on only `model`, `warm_start` and `model_kwargs`): each fit would "
                "train with `fit`'s defaults (1 epoch, batch size 32)")

    def _cloning_call(self, node: cst.Call) -> None:
        """`cross_val_score(wrapper, X, y, ...)` and the other helpers that fit clones: the wrapper's
        `fit_kwargs` go to `params=` (scikit-learn passes them to every clone's `fit`)."""
        helper = code_of(node.func).split(".")[-1]
        estimator = next((a.value for a in node.args if a.keyword is not None and a.keyword.value == "estimator"),
                         node.args[0].value if node.args and node.args[0].keyword is None and not node.args[0].star
                         else None)
        if estimator is None:
            return
        kind = self._carried_fit(estimator)
        if kind is None:
            return
        what = f"`{helper}`"
        if kind[0] == "pipeline":
            wrappers = self._fit_wrappers()
            if not wrappers:
                return
            example, held = self._step_example(kind[1], wrappers)
            self.report(node, self._clone_message(what, of="the pipeline") + f"; {'this' if held else 'if this'} pipeline holds one "
                        f"with `fit_kwargs`, pass them to its step's `fit` through the pipeline: "
                        f"`params={example}` (not rewritten)")
            return
        if kind[0] == "unknown":
            if self._fit_wrappers():
                self.report(node, self._clone_message(what, of="its estimator") + "; if the estimator is a Keras wrapper with "
                            f"`fit_kwargs`, pass them as `params={{...}}` too (not rewritten: {kind[1]})")
            return
        _, _, items, safety = kind
        if helper == "validation_curve":
            name = kwarg(node, "param_name")
            pos = [a for a in node.args if a.keyword is None and not a.star]
            name = name.value if name is not None else (pos[3].value if len(pos) > 3 else None)
            varied = name.evaluated_value if isinstance(name, cst.SimpleString) else None
            if isinstance(varied, str) and varied.split("__")[0] == "fit_kwargs":
                return  # the curve sets fit_kwargs itself; params= would override it
            if not isinstance(varied, str):
                self.report(node, self._clone_message(what, kind) + "; pass the wrapper's `fit_kwargs` as "
                            "`params={...}` unless the curve varies `fit_kwargs` (not rewritten: `param_name` is "
                            "not a literal)")
                return
        self._add_params(node, what, kind, items, safety)

    def _add_params(self, node: cst.Call, what: str, wrapper, items, safety) -> None:
        keys = ", ".join(f"`{k}`" for k, _ in items)
        message = self._clone_message(what, wrapper)
        odd = [k for k, v in items if not _plain(v)]
        if odd:
            self.report(node, message + f"; pass them as `params={{...}}` (not rewritten: the wrapper's `{odd[0]}` "
                        "is not a literal, and would be evaluated twice)")
            return
        if any(a.star for a in node.args):
            self.report(node, message + "; pass them as `params={...}` (not rewritten: the call passes `*`/`**` "
                        "arguments)")
            return
        given = [a for a in node.args if a.keyword is not None and a.keyword.value in ("params", "fit_params")]
        if len(given) > 1:
            self.report(node, message + "; pass them in `params=` (not rewritten: the call has both `params=` "
                        "and `fit_params=`)")
            return
        quote = lambda k: string_literal(k, like=self.module)  # noqa: E731
        by_hand = message + f"; add the wrapper's {keys} to the call's `params=`"
        message += f"; `params=` gives every clone's `fit` the wrapper's {keys}"
        if not given:
            new = cst.Arg(keyword=cst.Name("params"), value=_dict_with(cst.Dict([]), items, quote),
                          equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                                whitespace_after=cst.SimpleWhitespace("")))
            args = _appended(list(node.args), new)
            self.report(node.args[-1], message, cst.FlattenSentinel(args[len(node.args) - 1:]), safety=safety,
                        at=node)
            return
        arg = given[0]
        if isinstance(arg.value, cst.Name) and arg.value.value == "None":
            self.report(arg.value, message, _dict_with(cst.Dict([]), items, quote), safety=safety, at=node)
            return
        if not isinstance(arg.value, cst.Dict) or not all(
                isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString)
                and isinstance(e.key.evaluated_value, str) for e in arg.value.elements):
            self.report(node, by_hand + f" (not rewritten: `{arg.keyword.value}=` is not a literal dict)")
            return
        have = {e.key.evaluated_value for e in arg.value.elements}
        missing = [(k, v) for k, v in items if k not in have]
        if not missing:
            return  # already given (a value of its own wins over fit_kwargs, as in Keras 3's fit)
        if arg.keyword.value == "fit_params":
            message += " (`fit_params=` is `params=` in recent scikit-learn)"
        self.report(arg.value, message, _dict_with(arg.value, missing, quote), safety=safety, at=node)

    def _search_keeps_fit(self, node: cst.Call) -> None:
        """A search KM343 does not convert (its grid is over the wrapper's own parameters, or empty)
        over a wrapper with fit arguments: `'fit_kwargs': [{...}]` in each dict of the grid, as the
        converted grids have it (scikit-learn clones the wrapper for every candidate)."""
        estimator, grid = self._search_args(node)
        kind = self._carried_fit(estimator) if estimator is not None else None
        if kind is None:
            return
        what = f"`{code_of(node.func).split('.')[-1]}`"
        if kind[0] == "pipeline":
            wrappers = self._fit_wrappers()
            if wrappers:
                example, held = self._step_example(kind[1], wrappers)
                self.report(node, self._clone_message(what, of="the pipeline") + f"; {'this' if held else 'if this'} pipeline holds "
                            "one with `fit_kwargs`, give them to the search's `fit(...)` for its step, e.g. "
                            f"`.fit(X, y, **{example})` (not rewritten)")
            return
        if kind[0] == "unknown":
            if self._fit_wrappers():
                self.report(node, self._clone_message(what, of="its estimator") + "; if the estimator is a Keras wrapper with "
                            "`fit_kwargs`, put them in the grid as `'fit_kwargs': [{...}]` (not rewritten: "
                            f"{kind[1]})")
            return
        _, _, items, safety = kind
        message = self._clone_message(what, kind)
        keys = ", ".join(f"`{k}`" for k, _ in items)
        hint = f"; put them in the grid: `'fit_kwargs': [{{{', '.join(f'{k!r}: {code_of(v)}' for k, v in items)}}}]`"

        def has_fit(d) -> bool:
            return any(isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString)
                       and isinstance(e.key.evaluated_value, str) and e.key.evaluated_value.split("__")[0] == "fit_kwargs"
                       for e in d.elements)

        def dicts_of(g):
            if isinstance(g, cst.Dict):
                return [g]
            if isinstance(g, cst.List) and g.elements and all(
                    isinstance(e, cst.Element) and isinstance(e.value, cst.Dict) for e in g.elements):
                return [e.value for e in g.elements]
            return None

        dicts = dicts_of(grid)
        if dicts is None:
            bound = self._single_assignment(grid.value) if isinstance(grid, cst.Name) else None
            named = dicts_of(bound)
            if named is not None and all(has_fit(d) for d in named):
                return
            if isinstance(bound, cst.Call) and code_of(bound.func) == "dict" and any(
                    a.keyword is not None and a.keyword.value == "fit_kwargs" for a in bound.args):
                return
            why = "the grid is not a literal dict here" if grid is not None else "no grid is visible"
            self.report(node, message + hint + f" (not rewritten: {why})")
            return
        if all(has_fit(d) for d in dicts) or any(
                not isinstance(e, cst.DictElement) for d in dicts for e in d.elements):
            return
        odd = [k for k, v in items if not _plain(v)]
        if odd:
            self.report(grid, message + hint + f" (not rewritten: the wrapper's `{odd[0]}` is not a literal)")
            return
        quote = lambda k: string_literal(k, like=self.module)  # noqa: E731
        value = cst.parse_expression("[" + code_of(_dict_with(cst.Dict([]), items, quote)) + "]")
        new = [d if has_fit(d) else _dict_with(d, [("fit_kwargs", value)], quote) for d in dicts]
        new_grid = new[0] if isinstance(grid, cst.Dict) else grid.with_changes(
            elements=[e.with_changes(value=v) for e, v in zip(grid.elements, new)])
        self.report(grid, message + f"; the grid gives every candidate the wrapper's {keys} as "
                    "`'fit_kwargs': [{...}]`", new_grid, safety=safety, at=node)

    # -------------------------------------------------------------- wrapper.model -> wrapper.model_

    def _fitted_model(self, node: cst.Attribute) -> None:
        """`clf.model` / `search.best_estimator_.model` on a Keras 2 wrapper: the fitted Keras model,
        which Keras 3's wrappers keep in `model_` (their `model` is the constructor's build function)."""
        receiver = node.value
        kind = self._wrapper_kind(receiver, 0)
        message = ("the Keras 2 scikit-learn wrapper kept the fitted Keras model in `.model`; Keras 3's "
                   "`SKLearnClassifier`/`SKLearnRegressor` keep it in `.model_` (their `.model` is the build "
                   "function given to the constructor)")
        if kind == "wrapper":
            self.report(node.attr, message, cst.Name("model_"), safety=Safety.SAFE, at=node)
        elif kind == "maybe":
            self.report(node, message + "; the receiver is not visibly one of them: use `.model_` if it is",
                        safety=Safety.NONE)

    def _wrapper_kind(self, expr, depth: int) -> Optional[str]:
        """'wrapper' when `expr` is visibly a Keras 2 scikit-learn wrapper (or the best estimator of a
        search over one), 'maybe' when it may be one, None otherwise."""
        if depth > 6:
            return None
        if isinstance(expr, cst.Attribute) and expr.attr.value == "best_estimator_":
            kind = self._search_kind(expr.value, depth + 1)
            if kind is None and self._keras2_wrappers_in_file():
                return "maybe"
            return kind
        if isinstance(expr, cst.Call):
            return "wrapper" if self._keras2_wrapper_call(expr) else None
        if not isinstance(expr, cst.Name):
            return None
        values = self._assigned_values(expr.value)
        if values is None:
            return None
        kinds = [self._wrapper_kind(v, depth + 1) if v is not None else None for v in values]
        if len(values) == 1 and kinds[0] is not None:
            return kinds[0]
        return "maybe" if any(kinds) else None

    def _search_kind(self, expr, depth: int) -> Optional[str]:
        """What `expr` is as a `GridSearchCV`/`RandomizedSearchCV` (or its `fit(...)`, which returns it)."""
        if depth > 6:
            return None
        if isinstance(expr, cst.Name):
            values = self._assigned_values(expr.value)
            if not values:
                return None
            kinds = [self._search_kind(v, depth + 1) if v is not None else None for v in values]
            if len(values) == 1:
                return kinds[0]
            return "maybe" if any(kinds) else None
        if not isinstance(expr, cst.Call):
            return None
        if isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "fit":
            return self._search_kind(expr.func.value, depth + 1)
        if code_of(expr.func).split(".")[-1] not in ("GridSearchCV", "RandomizedSearchCV"):
            return None
        estimator = next((a.value for a in expr.args if a.keyword is not None and a.keyword.value == "estimator"),
                         expr.args[0].value if expr.args and expr.args[0].keyword is None else None)
        return self._wrapper_kind(estimator, depth + 1) if estimator is not None else None

    def _assigned_values(self, name: str) -> Optional[list]:
        """The values `name` is assigned (None for a binding that is not a plain `name = value`)."""
        bindings = name_bindings(self.module)  # built once per module
        found = bindings.get(name, ())
        if not found:
            return None
        assigns = self.__dict__.get("_assign_of")
        if assigns is None:
            assigns = self._assign_of = {t: n for n in walk(self.module) if isinstance(n, cst.Assign)
                                         for t in n.targets}
        return [assigns[b].value if b in assigns and isinstance(b.target, cst.Name) else None for b in found]

    def _keras2_wrapper_call(self, call: cst.Call) -> bool:
        """`KerasClassifier(...)`/`KerasRegressor(...)`, or the `SKLearn*(model=lambda X, y, **kwargs: f(**kwargs))`
        kmigrate makes of one (whose `.model` is that lambda: nobody reads it on purpose)."""
        k = self.kname(call.func) or ""
        if k.startswith(SKLEARN_MODULE + ".") and k.rsplit(".", 1)[1] in SKLEARN_WRAPPERS:
            return True
        if k.rsplit(".", 1)[-1] in ("SKLearnClassifier", "SKLearnRegressor"):
            model = kwarg(call, "model")
            return model is not None and isinstance(model.value, cst.Lambda) and code_of(model.value.params) in (
                "X, y, **kwargs",)
        return False

    def _keras2_wrappers_in_file(self) -> bool:
        return any(isinstance(n, cst.Call) and self._keras2_wrapper_call(n) for n in walk(self.module))

    def _single_assignment(self, name: str) -> Optional[cst.BaseExpression]:
        found = [n for n in walk(self.module) if isinstance(n, cst.Assign) and len(n.targets) == 1
                 and isinstance(n.targets[0].target, cst.Name) and n.targets[0].target.value == name]
        return found[0].value if len(found) == 1 else None

    def _predict_proba(self, node: cst.Call) -> None:
        """`clf.predict_proba(x)` on a KerasClassifier the file builds -> `clf.decision_function(x)`
        (SKLearnClassifier has no predict_proba; its decision_function is the model's output)."""
        receiver = node.func.value
        if not isinstance(receiver, cst.Name):
            return
        bindings = name_bindings(self.module)  # built once per module
        found = bindings.get(receiver.value, ())
        if len(found) != 1 or not isinstance(found[0], cst.AssignTarget):
            return
        assign = next((n for n in walk(self.module) if isinstance(n, cst.Assign) and found[0] in n.targets), None)
        if assign is None or not isinstance(assign.value, cst.Call):
            return
        k = self.kname(assign.value.func) or ""
        if not (k == SKLEARN_MODULE + ".KerasClassifier" or k == "wrappers.SKLearnClassifier"):
            return
        message = ("`SKLearnClassifier` (Keras 3's `KerasClassifier`) has no `predict_proba`: its "
                   "`decision_function` returns the model's output (the class probabilities of a softmax model)")
        if len(node.args) != 1 or node.args[0].keyword is not None or node.args[0].star:
            self.report(node, message + "; rewrite by hand (it takes only `X`)")
            return
        self.report(node.func.attr, message, cst.Name("decision_function"), safety=Safety.UNSAFE)

    def _split(self, node: cst.Call):
        """A `KerasClassifier`/`KerasRegressor(...)` call split as Keras 3 wants it: (the build
        function's def, its parameter names, [(model kwarg, value)], [(fit kwarg, value)]), or why not."""
        if any(a.star for a in node.args):
            return "`**sk_params` cannot be split"
        pos = [a for a in node.args if a.keyword is None]
        fn = pos[0].value if pos else (kwarg(node, "build_fn").value if kwarg(node, "build_fn") else None)
        if len(pos) > 1 or not isinstance(fn, cst.Name):
            return "no `build_fn` function by name"
        found = self._build_function(fn, "`sk_params`")
        if isinstance(found, str):
            return found
        fn_def, own = found
        if own & {"X", "y"}:
            return f"`{fn.value}` has parameters named `X`/`y`"
        model_kw, fit_kw = [], []
        for a in node.args:
            if a.keyword is None or a.keyword.value == "build_fn":
                continue
            name = a.keyword.value
            if name in own:
                model_kw.append((name, a.value))
            else:
                fit_kw.append(("epochs" if name == "nb_epoch" else name, a.value))
        return fn_def, own, model_kw, fit_kw

    def _build_function(self, fn: cst.Name, what: str):
        """(its def, its parameter names) for the build function `fn` names, or why not."""
        defs = name_bindings(self.module).get(fn.value, ())
        if len(defs) != 1 or not isinstance(defs[0], cst.FunctionDef):
            return f"`{fn.value}` is not a function defined in this file"
        params = defs[0].params
        if isinstance(params.star_kwarg, cst.Param):
            return f"`{fn.value}` takes `**kwargs`: which {what} are its own is not visible"
        return defs[0], {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}

    def _rewrite(self, node: cst.Call, old: str, new: str):
        split = self._split(node)
        if isinstance(split, str):
            return split
        fn_def, own, model_kw, fit_kw = split
        fn = fn_def.name
        bindings = name_bindings(self.module)
        # quote style of the file
        def dict_text(items):
            return "{" + ", ".join(f"{code_of(string_literal(k, like=self.module))}: {code_of(v)}" for k, v in items) + "}"

        args = [f"model=lambda X, y, **kwargs: {fn.value}(**kwargs)"]
        if model_kw:
            args.append(f"model_kwargs={dict_text(model_kw)}")
        if fit_kw:
            args.append(f"fit_kwargs={dict_text(fit_kw)}")
        imports = []
        if isinstance(node.func, cst.Name):
            local = node.func.value
            qname = self.names.import_name(local)
            if qname is None:
                return "the wrapper name is not imported plainly"
            old_module = qname.rsplit(".", 1)[0]
            root = old_module[: -len(".wrappers.scikit_learn")] if old_module.endswith(".wrappers.scikit_learn") else None
            if root is None:
                return "the wrapper is imported from an unknown module"
            if root in ("keras", "tensorflow.keras"):
                root = "tensorflow.keras" if self.context.target == "tensorflow.keras" else "keras"
            if bindings.get(new):
                return f"the name `{new}` is taken in this file"
            asname = local if local != old else None
            func = cst.Name(new)
            imports = [ImportEdit(f"{root}.wrappers", new), *removal_edits(old_module, old, asname)]
        elif isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Attribute):
            func = node.func.value.value
            func = cst.Attribute(value=func, attr=cst.Name(new))
        else:
            return "unknown spelling"
        call = cst.parse_expression(f"{new}({', '.join(args)})")
        return call.with_changes(func=func), imports
