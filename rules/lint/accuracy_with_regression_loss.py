"""KM512: `metrics=['accuracy']` with a regression loss (`mse`, `mae`, ...)."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from kmigrate.rule import Example, Rule, Safety, Severity

from kmigrate.rules.analysis.keras_facts import ModuleIndex
from kmigrate.rules.analysis.model_facts import ModuleFacts, ScopeFacts, argument, keyword, literal_string, sequential_chains

REGRESSION_STRINGS = {
    "mse": "mse", "mean_squared_error": "mse", "mae": "mae", "mean_absolute_error": "mae",
    "mape": "mape", "mean_absolute_percentage_error": "mape", "msle": "msle",
    "mean_squared_logarithmic_error": "msle", "huber": "huber", "huber_loss": "huber",
    "logcosh": "log_cosh", "log_cosh": "log_cosh",
}
REGRESSION_FUNCTIONS = {**REGRESSION_STRINGS, "MSE": "mse", "MAE": "mae", "MAPE": "mape", "MSLE": "msle"}
REGRESSION_CLASSES = {
    "MeanSquaredError": "mse", "MeanAbsoluteError": "mae", "MeanAbsolutePercentageError": "mape",
    "MeanSquaredLogarithmicError": "msle", "Huber": "huber", "LogCosh": "log_cosh",
}
CLASSIFYING_ACTIVATIONS = {"sigmoid", "softmax", "hard_sigmoid", "log_softmax"}


class AccuracyWithRegressionLoss(Rule):
    """
    ## What it does
    Finds `compile(loss=<regression loss>, metrics=[..., "accuracy", ...])`: a loss of `mse`,
    `mae`, `mape`, `msle`, `huber` or `log_cosh` (as a string, a function such as
    `keras.losses.mean_squared_error`, or a class such as `MeanSquaredError()`) together with
    the `"accuracy"`/`"acc"` metric or `keras.metrics.Accuracy()`. Loss and metrics assigned to a
    local name first (`loss = "mse"; model.compile(loss=loss, ...)`) count. When the model's
    output visibly ends in `sigmoid` or `softmax` (a classifier trained with a squared error),
    it stays silent: there accuracy means something.

    ## Why is this bad
    Accuracy counts exact matches. For a model that predicts real numbers it stays at (or near)
    zero whatever the fit, so the training log shows a meaningless figure and hides the one that
    matters. An info-level note: nothing fails.

    ## Example
    ```python
    model.compile(optimizer="adam", loss="mse", metrics=["accuracy"])
    ```
    Use a regression metric: `metrics=["mae"]` or `[keras.metrics.RootMeanSquaredError()]`.

    ## Fix safety
    None (report only): which regression metric to watch is the author's choice.
    """

    code = "KM512"
    name = "accuracy-with-regression-loss"
    summary = "`accuracy` metric with a regression loss (`mse`, `mae`, ...)"
    severity = Severity.INFO
    fix_safety = Safety.NONE
    triggers = ("acc", "Accuracy")  # and `keras` (wants)

    @classmethod
    def wants(cls, context) -> bool:
        return super().wants(context) and "keras" in context.text

    # Not needs_import: `<any>.compile(loss="mse", metrics=["accuracy"])` is matched by the method
    # name and string literals alone. It always takes a `.compile(..., metrics=...)` call.
    @classmethod
    def screen(cls, facts, context) -> bool:
        return "compile" in facts.calls and "metrics" in facts.keywords

    VALID = [
        "import keras\nmodel.compile(optimizer='adam', loss='mse', metrics=['mae'])\n",
        "import keras\nmodel.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])\n",
        # a classifier trained with a squared error: accuracy is meaningful
        "from keras.models import Sequential\nfrom keras.layers import Dense\n"
        "model = Sequential([Dense(1, activation='sigmoid')])\n"
        "model.compile(optimizer='sgd', loss='mse', metrics=['accuracy'])\n",
        # not visible
        "import keras\ndef f(model, loss):\n    model.compile(optimizer='adam', loss=loss, metrics=['accuracy'])\n",
    ]
    INVALID = [
        Example("import keras\nmodel.compile(optimizer='adam', loss='mse', metrics=['accuracy'])\n"),
        Example("from tensorflow import keras\nloss = keras.losses.MeanAbsoluteError()\nmetrics = ['acc']\n"
                "model.compile(optimizer='adam', loss=loss, metrics=metrics)\n"),
    ]

    def visit_Module(self, node: cst.Module) -> None:
        self.facts = ModuleFacts.of(self)
        if not ModuleIndex.of(self).method_calls("compile"):
            return  # no `.compile(...)` anywhere: no scope to read
        for scope in self.facts.scopes:
            chains = None
            for n in scope.own_nodes():
                if not (isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute)
                        and n.func.attr.value == "compile"):
                    continue
                metrics = keyword(n, "metrics")
                loss_expr = argument(n, 1, "loss")
                if metrics is None or loss_expr is None:
                    continue
                accuracy = self._accuracy(metrics.value, scope)
                loss = self._regression_loss(loss_expr, scope)
                if accuracy is None or loss is None:
                    continue
                if chains is None:
                    chains = {id(c.ctor): c for c in sequential_chains(self.facts, scope)}
                if self._output_activation(n.func.value, scope, chains) in CLASSIFYING_ACTIVATIONS:
                    continue
                self.report(
                    accuracy,
                    f"accuracy is meaningless with the regression loss `{loss}`: it counts exact "
                    f"matches of real-valued predictions and stays near 0; watch a regression metric "
                    f"instead (`'mae'`, `keras.metrics.RootMeanSquaredError()`)",
                )

    # ------------------------------------------------------------------ what the code says
    def _resolve(self, expr: cst.BaseExpression, scope: ScopeFacts) -> cst.BaseExpression:
        if isinstance(expr, cst.Name):
            value = scope.value_of(expr)
            if value is not None:
                return value
        return expr

    def _accuracy(self, expr: cst.BaseExpression, scope: ScopeFacts) -> Optional[cst.CSTNode]:
        expr = self._resolve(expr, scope)
        if not isinstance(expr, (cst.List, cst.Tuple)):
            return None
        for el in expr.elements:
            value = el.value
            if literal_string(value) in ("accuracy", "acc"):
                return value
            target = value.func if isinstance(value, cst.Call) else value
            name = self.facts.keras_name(target)
            if (isinstance(value, cst.Call) and name == "metrics.Accuracy") or name == "metrics.accuracy":
                return value
        return None

    def _regression_loss(self, expr: cst.BaseExpression, scope: ScopeFacts) -> Optional[str]:
        expr = self._resolve(expr, scope)
        text = literal_string(expr)
        if text is not None:
            return REGRESSION_STRINGS.get(text)
        if isinstance(expr, cst.Call):
            name = self.facts.keras_name(expr.func)
            if name and name.startswith("losses."):
                return REGRESSION_CLASSES.get(name[len("losses."):])
            return None
        name = self.facts.keras_name(expr)
        if name and name.startswith("losses."):
            return REGRESSION_FUNCTIONS.get(name[len("losses."):])
        return None

    def _output_activation(self, model: cst.BaseExpression, scope: ScopeFacts, chains) -> Optional[str]:
        value = scope.value_of(model) if isinstance(model, cst.Name) else None
        kind = self.facts.model_kind(value) if value is not None else None
        last = None
        if kind == "Sequential":
            chain = chains.get(id(value))
            if chain and chain.elements:
                last = self.facts.layer(chain.elements[-1].expr, scope)
        elif kind == "Model":
            out = argument(value, 1, "outputs")
            if out is None:
                kw = keyword(value, "output")
                out = kw.value if kw else None
            out = self._resolve(out, scope) if out is not None else None
            if isinstance(out, cst.Call):
                last = self.facts.layer(out.func, scope)
        if last is None:
            return None
        act = argument(last.call, 0, "activation") if last.kind == "Activation" else None
        if last.kind != "Activation":
            kw = keyword(last.call, "activation")
            act = kw.value if kw else None
        if act is None:
            return None
        text = literal_string(act)
        if text is not None:
            return text
        for q in self.facts.resolver.qualified_names(act):
            return q.rsplit(".", 1)[-1]
        return None
