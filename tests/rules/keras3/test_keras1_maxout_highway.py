"""KM302's `MaxoutDense` and `Highway`: Keras 1 code migrated by kmigrate (all rules, unsafe fixes on),
then run under TensorFlow 2.21. The layers the fix defines must compute what Keras 1's computed
(keras/layers/core.py of Keras 1.2, written out here in NumPy on the layers' own weights), have
Keras 1's weights (shapes, order, count) and start them as Keras 1 did.
"""
from __future__ import annotations

import numpy as np
import pytest

from tests.rules.keras3.migrate_and_run import migrate, run

pytestmark = pytest.mark.tf

KERAS1 = '''
from keras.models import Sequential
from keras.layers import Dense, Highway, MaxoutDense
from keras.layers.core import Activation

model = Sequential()
model.add(Dense(12, input_dim=7))
model.add(Highway(activation='relu', name='highway'))
model.add(MaxoutDense(5, nb_feature=3, name='maxout'))
model.add(Highway(name='linear_highway'))
model.add(MaxoutDense(300, name='wide'))
model.add(Activation('softmax'))
model.compile(loss='categorical_crossentropy', optimizer='sgd')
'''


@pytest.fixture(scope="module")
def migrated():
    return migrate(KERAS1, "keras1_maxout.py")


@pytest.fixture(scope="module")
def model(migrated):
    return run(migrated, "keras1_maxout.py")["model"]


def test_nothing_is_left(migrated):
    assert [f"{f.line} {f.code} {f.message}" for f in migrated.findings if f.code == "KM302" and not f.fix_applied] == []
    assert migrated.text.count("class MaxoutDense(Layer):") == 1
    assert migrated.text.count("class Highway(Layer):") == 1
    assert "import Dense, Highway" not in migrated.text


def _maxout_keras1(x, W, b):
    """Keras 1.2: K.max(K.dot(x, W) + b, axis=1) with W (nb_feature, input_dim, output_dim)."""
    return np.max(np.einsum("ni,fio->nfo", x, W) + b, axis=1)


def _highway_keras1(x, W, W_carry, b, b_carry, activation):
    transform = 1 / (1 + np.exp(-(x @ W_carry + b_carry)))
    return activation(x @ W + b) * transform + (1 - transform) * x


def test_parameters_are_keras1s(model):
    maxout = model.get_layer("maxout")
    assert [tuple(w.shape) for w in maxout.get_weights()] == [(3, 12, 5), (3, 5)]
    assert maxout.count_params() == 3 * (12 * 5 + 5)  # nb_feature * (input_dim * output_dim + output_dim)
    highway = model.get_layer("highway")
    assert [tuple(w.shape) for w in highway.get_weights()] == [(12, 12), (12, 12), (12,), (12,)]
    assert highway.count_params() == 2 * (12 * 12 + 12)
    assert model.get_layer("wide").count_params() == 4 * (5 * 300 + 300)  # nb_feature defaults to 4


def test_initial_weights_are_keras1s(model):
    wide = model.get_layer("wide")
    W, b = wide.get_weights()
    limit = np.sqrt(6 / (2 * np.sqrt(W.size)))  # Keras 1's glorot_uniform: fan_in = fan_out = sqrt(prod(shape))
    assert np.abs(W).max() <= limit and np.abs(W).max() > 0.95 * limit
    assert abs(W.std() - limit / np.sqrt(3)) < 0.05 * limit
    assert not b.any()
    W, W_carry, b, b_carry = model.get_layer("highway").get_weights()
    limit = np.sqrt(6 / (12 + 12))
    assert np.abs(W).max() <= limit and np.abs(W_carry).max() <= limit
    assert not b.any() and (b_carry == 1).all()


def test_layers_compute_what_keras1_did(model):
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.standard_normal((9, 12)).astype("float32")
    for name, activation, n in (("highway", lambda t: np.maximum(t, 0), 12), ("linear_highway", lambda t: t, 5)):
        layer = model.get_layer(name)
        layer.set_weights([rng.standard_normal(w.shape).astype("float32") for w in layer.get_weights()])
        np.testing.assert_allclose(layer(tf.constant(x[:, :n])).numpy(),
                                   _highway_keras1(x[:, :n], *layer.get_weights(), activation), rtol=1e-5, atol=1e-5)
    maxout = model.get_layer("maxout")
    maxout.set_weights([rng.standard_normal(w.shape).astype("float32") for w in maxout.get_weights()])
    np.testing.assert_allclose(maxout(tf.constant(x)).numpy(), _maxout_keras1(x, *maxout.get_weights()),
                               rtol=1e-5, atol=1e-5)


def test_model_trains_saves_and_loads(model, tmp_path):
    import tensorflow as tf

    x = np.random.default_rng(1).standard_normal((16, 7)).astype("float32")
    y = np.eye(300, dtype="float32")[np.arange(16)]
    model.fit(x, y, epochs=1, verbose=0)
    assert model.output_shape == (None, 300)
    path = str(tmp_path / "m.keras")
    model.save(path)
    classes = {type(layer).__name__: type(layer) for layer in model.layers}
    loaded = tf.keras.models.load_model(path, custom_objects={"MaxoutDense": classes["MaxoutDense"],
                                                              "Highway": classes["Highway"]})
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
