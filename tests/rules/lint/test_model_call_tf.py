"""KM523's model calls on TensorFlow 2.21: a model whose input shape is known, called on a tensor of
another rank or size, raises in Keras 3 (what fixtures/KM523/model_called_on_tensor.py reports,
and the generator of Keras 2.3.1's mnist_acgan.py); the flattened versions build; and the unsafe
fix (`Flatten()` after an `Embedding` of a length-1 input, fixtures/KM523/embedding_flatten.py)
computes what Keras 2 computed: the merge gave the rank-2 tensor an axis of 1, the `Dense` worked
on the last axis and the `Reshape` dropped the axis again. Same weights, same outputs.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from tests.conftest import FIXTURES
from tests.rules.lint.test_shape_bugs_tf import _migrated

pytestmark = pytest.mark.tf

HEAD = "from tensorflow import keras\nfrom tensorflow.keras import layers\n"

# (reported, fixed): the cases of fixtures/KM523/model_called_on_tensor.py, one by one
CALLS = [
    ("head = keras.Sequential([layers.Dense(32, input_shape=(64,)), layers.Dense(1)])\n"
     "head(keras.Input(shape=(10, 64)))\n",
     "head = keras.Sequential([layers.Dense(32, input_shape=(64,)), layers.Dense(1)])\n"
     "head(layers.GlobalAveragePooling1D()(keras.Input(shape=(10, 64))))\n"),
    ("i = keras.Input(shape=(28, 28, 1))\nenc = keras.Model(i, layers.Flatten()(layers.Conv2D(8, 3)(i)))\n"
     "enc(keras.Input(shape=(32, 32, 1)))\n",
     "i = keras.Input(shape=(28, 28, 1))\nenc = keras.Model(i, layers.Flatten()(layers.Conv2D(8, 3)(i)))\n"
     "enc(layers.Resizing(28, 28)(keras.Input(shape=(32, 32, 1))))\n"),
    ("mlp = keras.Sequential()\nmlp.add(layers.Dense(16, input_dim=8))\n"
     "v = layers.Embedding(10, 8)(keras.Input(shape=(1,), dtype='int32'))\n"
     "mlp(layers.add([v, keras.Input(shape=(8,))]))\n",
     "mlp = keras.Sequential()\nmlp.add(layers.Dense(16, input_dim=8))\n"
     "v = layers.Flatten()(layers.Embedding(10, 8)(keras.Input(shape=(1,), dtype='int32')))\n"
     "mlp(layers.add([v, keras.Input(shape=(8,))]))\n"),
]


def _exec(text: str) -> dict:
    namespace: dict = {"__name__": "__km523__"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(text, "<program>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("reported,fixed", CALLS)
def test_reported_model_calls_raise_and_fixed_ones_build(reported, fixed):
    with pytest.raises(ValueError):
        _exec(HEAD + reported)
    _exec(HEAD + fixed)


def test_fixture_report_raises_at_its_first_call():
    text = (FIXTURES / "KM523" / "model_called_on_tensor.py").read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="Sequential.call"):
        _exec(text)


def test_fix_fixture_builds_and_the_buggy_one_raises():
    buggy = _migrated((FIXTURES / "KM523" / "embedding_flatten.py").read_text(encoding="utf-8"))
    fixed = _migrated((FIXTURES / "KM523" / "embedding_flatten.fixed.py").read_text(encoding="utf-8"))
    bad, good = _exec(buggy), _exec(fixed)
    for name in ("make_generator", "make_critic"):
        with pytest.raises(ValueError):
            bad[name]()
        model = good[name]()
        assert model.count_params() > 0
    assert tuple(good["make_generator"]().output.shape) == (None, 4, 4, 16)


@pytest.mark.parametrize("merge", ["multiply", "add"])
def test_flatten_fix_computes_what_keras2_computed(merge):
    import keras
    from keras import layers

    latent, classes, rng = 100, 10, np.random.default_rng(0)
    noise = keras.Input(shape=(latent,))
    label = keras.Input(shape=(1,), dtype="int32")
    embedding = layers.Embedding(classes, latent, embeddings_initializer="glorot_normal")
    dense = layers.Dense(3 * 3 * 8, activation="relu")
    reshape = layers.Reshape((3, 3, 8))
    merge_fn = getattr(layers, merge)

    # Keras 2: the merge expanded the rank-2 input at axis 1, the Dense worked on the last axis
    # of (None, 1, 100), the Reshape dropped the axis of 1 (3 * 3 * 8 values per sample either way)
    widened = layers.Reshape((1, latent))(noise)
    keras2 = keras.Model([noise, label], reshape(dense(merge_fn([widened, embedding(label)]))))
    # after the fix: Flatten() after the Embedding, the model the example builds for its (None, 100)
    body = keras.Sequential([keras.Input(shape=(latent,)), layers.Dense(3 * 3 * 8, activation="relu"),
                             layers.Reshape((3, 3, 8))])
    body.layers[0].set_weights(dense.get_weights())
    fixed_emb = layers.Embedding(classes, latent)
    fixed = keras.Model([noise, label], body(merge_fn([noise, layers.Flatten()(fixed_emb(label))])))
    fixed_emb.set_weights(embedding.get_weights())

    z = rng.normal(size=(16, latent)).astype("float32")
    c = rng.integers(0, classes, size=(16, 1)).astype("int32")
    before = keras2.predict([z, c], verbose=0)
    after = fixed.predict([z, c], verbose=0)
    assert before.shape == after.shape == (16, 3, 3, 8)
    np.testing.assert_allclose(before, after, rtol=1e-5, atol=1e-6)
