"""KM521: a cross-entropy loss that does not match how the labels are encoded."""
from __future__ import annotations

from kmigrate.rule import KERAS_OR_TF, Example, Rule, Safety, Severity

from kmigrate.rules.analysis.shape_program import ShapeRule
from kmigrate.rules.lint import TRAINS, data_known


class LossVsLabelEncoding(ShapeRule, Rule):
    """
    ## What it does
    Compares the loss given to `compile` with the labels the file gives to `fit`/`evaluate`:
    `categorical_crossentropy` with integer class ids (`load_data()` labels, `randint`),
    `sparse_categorical_crossentropy` with one-hot labels (`to_categorical`, `np.eye(n)[y]`),
    and `binary_crossentropy` with one-hot labels over more than two classes on an output of
    that width. Losses as strings, `keras.losses.*` functions and loss classes are recognised.

    ## Why is this bad
    The first two fail in `fit` (Keras 3: "Arguments `target` and `output` must have the same
    shape"); the third trains, but scores each class as a separate yes/no question, and the
    `accuracy` metric becomes binary accuracy (about 90% for 10 classes whatever the model does).

    ## Example
    ```python
    (x_train, y_train), _ = keras.datasets.mnist.load_data()   # class ids 0..9
    model.compile(optimizer="adam", loss="categorical_crossentropy")   # KM521
    model.fit(x_train / 255.0, y_train)
    ```
    Use `loss="sparse_categorical_crossentropy"`, or one-hot encode the labels.

    ## Fix safety
    Unsafe, for a loss written as a string: `categorical_crossentropy` with class ids becomes
    `sparse_categorical_crossentropy` and `sparse_categorical_crossentropy` with one-hot labels
    becomes `categorical_crossentropy` (the program then trains where it crashed: a behaviour
    change). The `binary_crossentropy` case is reported only (the output activation may need to
    change too).
    """

    code = "KM521"
    name = "loss-vs-label-encoding"
    summary = "Cross-entropy loss that does not match the label encoding (class ids vs one-hot)"
    severity = Severity.ERROR
    fix_safety = Safety.UNSAFE
    triggers = ("crossentropy", "Crossentropy")
    needs_import = KERAS_OR_TF

    @classmethod
    def screen(cls, facts, context) -> bool:
        # labels of known shape given to `fit` (or evaluate...)
        return data_known(facts, TRAINS)

    VALID = [
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "(x, y), _ = keras.datasets.mnist.load_data()\n"
        "model = keras.Sequential([layers.Flatten(input_shape=(28, 28)), layers.Dense(10, activation='softmax')])\n"
        "model.compile(loss='sparse_categorical_crossentropy')\nmodel.fit(x / 255.0, y)\n",
    ]
    INVALID = [
        Example(
            "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
            "(x, y), _ = keras.datasets.mnist.load_data()\n"
            "model = keras.Sequential([layers.Flatten(input_shape=(28, 28)), layers.Dense(10, activation='softmax')])\n"
            "model.compile(loss='categorical_crossentropy')\nmodel.fit(x / 255.0, y)\n",
            "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
            "(x, y), _ = keras.datasets.mnist.load_data()\n"
            "model = keras.Sequential([layers.Flatten(input_shape=(28, 28)), layers.Dense(10, activation='softmax')])\n"
            "model.compile(loss='sparse_categorical_crossentropy')\nmodel.fit(x / 255.0, y)\n",
            options={"unsafe_fixes": True}),
        Example(
            "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
            "(x, y), _ = keras.datasets.mnist.load_data()\n"
            "model = keras.Sequential([layers.Flatten(input_shape=(28, 28)), layers.Dense(10, activation='softmax')])\n"
            "model.compile(loss=keras.losses.CategoricalCrossentropy())\nmodel.fit(x / 255.0, y)\n"),
    ]
