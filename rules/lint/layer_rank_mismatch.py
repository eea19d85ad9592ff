"""KM523: a layer gets a tensor of a rank it cannot take (inside a model, or at its output)."""
from __future__ import annotations

from kmigrate.rule import Rule, Safety, Severity

from kmigrate.rules.analysis.shape_program import ShapeRule


class LayerRankMismatch(ShapeRule, Rule):
    """
    ## What it does
    Follows the shapes through a model from its declared input (or the data given to `fit`)
    and reports a layer that receives a tensor it cannot take: `Conv2D`/pooling after a
    `Dense` or `Flatten` without `Reshape`, an `LSTM`/`GRU` after `Flatten` or after a recurrent
    layer without `return_sequences=True`, a `Reshape` to a different number of values, a
    `Concatenate`/`Add` of tensors that do not line up (branches of different widths: at the
    branch layer that breaks the agreement, the odd one out or the one written later), a window
    larger than its input. A layer that wants more axes after a `Flatten` whose vector a `Dense`
    used (an autoencoder's decoder) is reported itself: it lacks a `Reshape`. It
    also reports an output that keeps axes the labels do not have (a `Dense` on a 4-D tensor
    trained against `(samples, classes)` labels), and an output whose sizes differ from the
    targets' (an autoencoder giving 30x30 for 28x28 images): then at the first layer, walking
    back from the output, that does not scale sizes exactly (a valid-padding `Conv2DTranspose`). Layers whose configuration is not visible
    (a computed size, `**kwargs`, Keras 1 spellings) make everything after them unknown.

    ## Why is this bad
    Keras raises when the model is built (`Input 0 of layer "lstm" is incompatible with the
    layer: expected ndim=3, found ndim=2`) or, for the output, in `fit` (`Shapes (None, 10)
    and (None, 26, 26, 10) are incompatible`); the message names layers by generated names,
    not by line.

    ## Example
    ```python
    model = keras.Sequential([
        layers.Dense(128, activation="relu", input_shape=(784,)),
        layers.Conv2D(32, 3),          # KM523: Conv2D needs (h, w, channels), gets (None, 128)
    ])
    ```
    Reshape first: `layers.Reshape((28, 28, 1))` on the input.

    ## Fix safety
    No fix: where the `Flatten`, `Reshape` or `return_sequences` belongs is a design choice.
    """

    code = "KM523"
    name = "layer-rank-mismatch"
    summary = "A layer gets a tensor of a rank it cannot take (Conv after Dense, LSTM after Flatten...)"
    severity = Severity.ERROR
    fix_safety = Safety.NONE
    triggers = ("Sequential", "Model", "Input")

    VALID = [
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "model = keras.Sequential([layers.Dense(784, input_shape=(100,)), layers.Reshape((28, 28, 1)),\n"
        "                          layers.Conv2D(8, 3), layers.Flatten(), layers.Dense(10)])\n",
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "inputs = keras.Input(shape=(20, 8))\nx = layers.LSTM(16, return_sequences=True)(inputs)\n"
        "x = layers.LSTM(16)(x)\nmodel = keras.Model(inputs, layers.Dense(1)(x))\n",
    ]
    INVALID = [
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "model = keras.Sequential([layers.Dense(128, input_shape=(784,)), layers.Conv2D(32, 3)])\n",
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "inputs = keras.Input(shape=(28, 28, 1))\nx = layers.Flatten()(inputs)\nx = layers.LSTM(16)(x)\n",
    ]
