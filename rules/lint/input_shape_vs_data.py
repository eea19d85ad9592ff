"""KM522: the model's input shape contradicts the data given to it, or its first layer."""
from __future__ import annotations

from kmigrate.rule import KERAS_OR_TF, Example, Rule, Safety, Severity

from kmigrate.rules.analysis.shape_program import ShapeRule
from kmigrate.rules.lint import shapes_known


class InputShapeVsData(ShapeRule, Rule):
    """
    ## What it does
    Compares the model's input (`Input(shape=)`, `input_shape=`, `input_dim=`,
    `batch_input_shape=` on the first layer, `InputLayer`) with the arrays the file gives to
    `fit`/`evaluate`/`predict` when their shapes are visible (`load_data()`, `np.zeros`,
    `reshape`, `x[..., None]`, `np.expand_dims`, slicing, `train_test_split`), and with what
    the first layer accepts. It names the usual mistakes: images without the channel axis
    (`input_shape=(28, 28)` for a `Conv2D`), the number of samples inside `input_shape`,
    flattened data for an image model (and the reverse), one sample given to `predict` without
    its batch axis, a vector per sample for a recurrent
    layer that reads sequences, image data whose channel axis was put first
    (`np.expand_dims(x, axis=1)`) for a model that reads channels last (reported at the data). A model without a declared input is checked with the data's
    shape, as Keras builds it on the first `fit`. It also reports data and labels with different
    numbers of samples (`fit(x_train, y_test)`, a slice of one of them).

    ## Why is this bad
    Keras raises at build time (`expected min_ndim=4, found ndim=3`) or in `fit` (`expected
    shape=(None, 28, 28, 1), found shape=(32, 28, 28)`), often after the data is loaded and
    preprocessed, far from the line to change.

    ## Example
    ```python
    (x_train, y_train), _ = keras.datasets.mnist.load_data()    # (60000, 28, 28)
    x_train = x_train / 255.0       # KM522: the data has no channel axis for the Conv2D
    model = keras.Sequential([
        layers.Conv2D(32, 3, activation="relu"),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])
    model.fit(x_train, y_train)
    ```
    Use `x_train[..., None] / 255.0` (or `np.expand_dims`). A declared input whose last axis
    is 1 (`input_shape=(28, 28, 1)`) with data of `(28, 28)` is not reported: Keras 3 adds (or
    drops) such a trailing axis itself.

    ## Fix safety
    Unsafe, for the number of samples written into a literal `input_shape` on the first layer:
    `input_shape=(1000, 20)` for data of `(1000, 20)` becomes `input_shape=(20,)` (the model
    then builds where it failed: a behaviour change). Everything else is reported only: whether
    the data or the model should change is the author's call.
    """

    code = "KM522"
    name = "input-shape-vs-data"
    summary = "The model's input shape contradicts the data given to it or its first layer"
    severity = Severity.ERROR
    fix_safety = Safety.UNSAFE
    triggers = ("Sequential", "Model", "Input")
    needs_import = KERAS_OR_TF

    @classmethod
    def screen(cls, facts, context) -> bool:
        # a tensor or array of known shape (rules/lint/__init__.py)
        return shapes_known(facts)

    VALID = [
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "(x, y), _ = keras.datasets.mnist.load_data()\nx = x[..., None] / 255.0\n"
        "model = keras.Sequential([layers.Conv2D(8, 3, input_shape=(28, 28, 1)), layers.Flatten(), layers.Dense(10)])\n"
        "model.fit(x, y)\n",
        # shapes from a file: unknown
        "import numpy as np\nfrom tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "x = np.load('x.npy')\nmodel = keras.Sequential([layers.Dense(10, input_shape=(20,))])\nmodel.fit(x, x)\n",
    ]
    INVALID = [
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "(x, y), _ = keras.datasets.mnist.load_data()\nx = x / 255.0\n"
        "model = keras.Sequential([layers.Conv2D(8, 3), layers.Flatten(), layers.Dense(10)])\n"
        "model.fit(x, y)\n",
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "model = keras.Sequential([layers.Conv2D(8, 3, input_shape=(28, 28)), layers.Flatten(), layers.Dense(10)])\n",
        Example(
            "import numpy as np\nfrom tensorflow import keras\nfrom tensorflow.keras import layers\n"
            "x = np.zeros((1000, 20))\nmodel = keras.Sequential([layers.Dense(8, input_shape=(1000, 20)), layers.Dense(1)])\n"
            "model.fit(x, x[:, :1])\n",
            "import numpy as np\nfrom tensorflow import keras\nfrom tensorflow.keras import layers\n"
            "x = np.zeros((1000, 20))\nmodel = keras.Sequential([layers.Dense(8, input_shape=(20,)), layers.Dense(1)])\n"
            "model.fit(x, x[:, :1])\n",
            options={"unsafe_fixes": True}),
    ]
