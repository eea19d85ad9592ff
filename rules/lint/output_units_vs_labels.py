"""KM520: the model's output units differ from the number of classes the labels carry."""
from __future__ import annotations

from kmigrate.rule import KERAS_OR_TF, Rule, Safety, Severity

from kmigrate.rules.analysis.shape_program import ShapeRule
from kmigrate.rules.lint import TRAINS, data_known


class OutputUnitsVsLabels(ShapeRule, Rule):
    """
    ## What it does
    Follows the labels a file gives to `fit`/`evaluate` (`to_categorical(y, 10)`, `np.eye(n)[y]`,
    the class ids of `keras.datasets.*.load_data()`, `np.random.randint(0, k, ...)`) and the
    model's output layer (Sequential, functional, or a subclass's straight-line `call()`), and
    reports the output layer when its units contradict the labels: one-hot labels over `n`
    classes and an output of another width; class ids of `k > 2` classes and a 1-unit output
    trained with `binary_crossentropy` or `sparse_categorical_crossentropy`, or fewer than `k`
    units with `sparse_categorical_crossentropy`; 0/1 ids with several units and
    `binary_crossentropy`; and targets that are not class labels (`np.random.rand(5000, 3)`)
    for an output of another width. Constants such as `num_classes = 10` are
    followed (units given by a name bound once to a number and read only there, `n_out = 1`,
    are reported where the number is written); anything the file does not show (labels from a file, units from a parameter)
    keeps the rule silent.

    ## Why is this bad
    Keras fails in `fit` with `Shapes (None, 10) and (None, 1) are incompatible` (often after
    minutes of data loading), or, with `mse` or sparse labels on some devices, trains on
    broadcast garbage or NaN.

    ## Example
    ```python
    y_train = to_categorical(y_train, 10)          # one-hot over 10 classes
    model = keras.Sequential([
        layers.Flatten(input_shape=(28, 28)),
        layers.Dense(1, activation="sigmoid"),     # KM520: 1 unit for 10 classes
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(x_train, y_train)
    ```
    Use `layers.Dense(10, activation="softmax")`.

    ## Fix safety
    No fix: the right output (units, activation and loss together) is for the author to choose.
    """

    code = "KM520"
    name = "output-units-vs-labels"
    summary = "The output layer's units differ from the number of classes of the labels given to `fit`"
    severity = Severity.ERROR
    fix_safety = Safety.NONE
    triggers = ("fit", "evaluate", "train_on_batch")
    needs_import = KERAS_OR_TF

    @classmethod
    def screen(cls, facts, context) -> bool:
        # labels of known shape given to `fit` (or evaluate...)
        return data_known(facts, TRAINS)

    VALID = [
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "y = keras.utils.to_categorical(y, 10)\n"
        "model = keras.Sequential([layers.Dense(64, input_shape=(20,)), layers.Dense(10, activation='softmax')])\n"
        "model.compile(loss='categorical_crossentropy')\nmodel.fit(x, y)\n",
        # the labels come from elsewhere: unknown
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "model = keras.Sequential([layers.Dense(1, activation='sigmoid')])\n"
        "model.compile(loss='binary_crossentropy')\nmodel.fit(x, load_labels())\n",
    ]
    INVALID = [
        "import numpy as np\nfrom tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "y = keras.utils.to_categorical(np.random.randint(0, 10, size=(100,)), 10)\n"
        "model = keras.Sequential([layers.Dense(64, input_shape=(20,)), layers.Dense(1, activation='sigmoid')])\n"
        "model.compile(loss='binary_crossentropy')\nmodel.fit(np.zeros((100, 20)), y)\n",
    ]
