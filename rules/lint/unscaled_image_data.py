"""KM525 (info): raw 0-255 images from `load_data()` given to `fit` without scaling."""
from __future__ import annotations

from kmigrate.rule import KERAS_OR_TF, Rule, Safety, Severity

from kmigrate.rules.analysis.shape_program import ShapeRule


class UnscaledImageData(ShapeRule, Rule):
    """
    ## What it does
    Reports `fit` on images that come straight from `keras.datasets.mnist/fashion_mnist/
    cifar10/cifar100.load_data()` (through `astype`, `reshape`, slicing or a new axis, which do
    not scale) when nothing divides or otherwise rescales them and the model has no
    `Rescaling`/`Normalization`/`BatchNormalization`/`Lambda` layer. Any arithmetic on the
    array (`/ 255`, `- mean`) or an unknown function counts as scaling.

    ## Why is this bad
    Pixel values of 0-255 make the first layer's activations hundreds of times larger than
    the initialisers assume: training is slow, unstable, or stalls at chance accuracy, with no
    error to point at the cause.

    ## Example
    ```python
    (x_train, y_train), _ = keras.datasets.mnist.load_data()
    model.fit(x_train, y_train)        # KM525: scale with x_train / 255.0
    ```

    ## Fix safety
    No fix (info): the scaling belongs to the data pipeline or the model, at the author's choice.
    """

    code = "KM525"
    name = "unscaled-image-data"
    summary = "Images from `load_data()` are given to `fit` as raw 0-255 pixels (info)"
    severity = Severity.INFO
    fix_safety = Safety.NONE
    triggers = ("load_data",)
    needs_import = KERAS_OR_TF

    VALID = [
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "(x, y), _ = keras.datasets.mnist.load_data()\nx = x.astype('float32') / 255\n"
        "model = keras.Sequential([layers.Flatten(input_shape=(28, 28)), layers.Dense(10)])\nmodel.fit(x, y)\n",
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "(x, y), _ = keras.datasets.mnist.load_data()\n"
        "model = keras.Sequential([layers.Rescaling(1 / 255, input_shape=(28, 28)), layers.Flatten(), layers.Dense(10)])\n"
        "model.fit(x, y)\n",
    ]
    INVALID = [
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "(x, y), _ = keras.datasets.mnist.load_data()\nx = x.astype('float32')\n"
        "model = keras.Sequential([layers.Flatten(input_shape=(28, 28)), layers.Dense(10)])\nmodel.fit(x, y)\n",
    ]
