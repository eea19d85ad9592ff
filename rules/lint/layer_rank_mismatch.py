"""KM523: a layer gets a tensor of a rank it cannot take (inside a model, or at its output), or a model
is called on a tensor whose shape contradicts its input."""
from __future__ import annotations

from kmigrate.rule import KERAS_OR_TF, Rule, Safety, Severity

from kmigrate.rules.analysis.shape_program import ShapeRule
from kmigrate.rules.lint import shapes_known


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

    A model (a Sequential built with `add` or a list, a single-input functional `Model`) whose
    input shape is known, called on a tensor whose known shape contradicts it (another rank, or
    another size on a known axis), is reported at the call, with both shapes and their lines: the
    generator of Keras 2's `mnist_acgan.py` feeds its `Dense(..., input_dim=latent_size)` model
    the product of the latent vector and the `Embedding` of a length-1 class input, (None, 1, 100).
    The engine follows what that takes: `Embedding` on an `Input`, `multiply`/`add`/`Multiply()`/
    `Add()`... broadcasting size-1 axes as Keras 3 does (`(None, 100)` times `(None, 1, 100)` is
    `(None, 1, 100)`), a model built in a function and called there (a size that is a parameter
    still leaves the rank known). A trailing axis of 1 (which Keras 3 adds or drops itself), a
    model without a declared input, or a tensor of unknown shape is not reported.

    ## Why is this bad
    Keras raises when the model is built (`Input 0 of layer "lstm" is incompatible with the
    layer: expected ndim=3, found ndim=2`) or, for the output, in `fit` (`Shapes (None, 10)
    and (None, 26, 26, 10) are incompatible`); the message names layers by generated names,
    not by line. A model called on a tensor of another rank raises in Keras 3 ("Exception
    encountered when calling Sequential.call()"), where Keras 2 let a `Dense` work on the
    last axis.

    ## Example
    ```python
    model = keras.Sequential([
        layers.Dense(128, activation="relu", input_shape=(784,)),
        layers.Conv2D(32, 3),          # KM523: Conv2D needs (h, w, channels), gets (None, 128)
    ])
    ```
    Reshape first: `layers.Reshape((28, 28, 1))` on the input.

    ## Fix safety
    Unsafe, for one case: an `Embedding` of a length-1 input (None, 1, d), used once, merged
    (`multiply`, `add`...) with rank-2 tensors into a tensor used once, by a model that wants
    (None, d): `Flatten()` is put after the `Embedding` (as later versions of the Keras example
    did). It computes what Keras 2 did (the merge gave the others an axis of 1, the `Dense` worked
    on the last axis, a `Reshape` dropped it again: same outputs for the same weights, checked on
    TensorFlow 2.21), but the layers' output shapes change. Otherwise no fix: where the `Flatten`,
    `Reshape` or `return_sequences` belongs is a design choice.
    """

    code = "KM523"
    name = "layer-rank-mismatch"
    summary = "A layer or model gets a tensor of a rank it cannot take (Conv after Dense, LSTM after Flatten...)"
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
        "model = keras.Sequential([layers.Dense(784, input_shape=(100,)), layers.Reshape((28, 28, 1)),\n"
        "                          layers.Conv2D(8, 3), layers.Flatten(), layers.Dense(10)])\n",
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "inputs = keras.Input(shape=(20, 8))\nx = layers.LSTM(16, return_sequences=True)(inputs)\n"
        "x = layers.LSTM(16)(x)\nmodel = keras.Model(inputs, layers.Dense(1)(x))\n",
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "head = keras.Sequential([layers.Dense(8, input_shape=(100,))])\n"
        "v = layers.Flatten()(layers.Embedding(10, 100)(keras.Input(shape=(1,))))\n"
        "out = head(layers.multiply([keras.Input(shape=(100,)), v]))\n",
    ]
    INVALID = [
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "model = keras.Sequential([layers.Dense(128, input_shape=(784,)), layers.Conv2D(32, 3)])\n",
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "head = keras.Sequential([layers.Dense(8, input_shape=(100,))])\n"
        "ids = keras.Input(shape=(1,))\nv = layers.Embedding(10, 100)(ids)\n"
        "out = head(layers.multiply([keras.Input(shape=(100,)), v, v]))\n",
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "inputs = keras.Input(shape=(28, 28, 1))\nx = layers.Flatten()(inputs)\nx = layers.LSTM(16)(x)\n",
    ]
