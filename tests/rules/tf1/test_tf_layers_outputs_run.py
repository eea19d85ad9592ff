"""KM201/KM202/KM204 outputs run on the installed TensorFlow and mean what the TF1 call meant.

Each case is a TF1 line `y = tf.layers.<fn>(x, ...)`. kmigrate converts it; the test then takes
the converted `Layer(...)(x, ...)` apart, builds the layer, applies it to a tensor of the right
rank, and checks the output shape and the configuration the TF1 call had (its own arguments and
the TF1 defaults: data_format='channels_last', Dropout rate 0.5, training=False, ...). All cases
share one TensorFlow import (one module-scoped fixture).
"""
from __future__ import annotations

import ast

import numpy as np
import pytest

from kmigrate.testing import run_snippet

pytestmark = pytest.mark.tf

# (TF1 call with input `x`, input shape, output shape, expected config items, options)
CASES = [
    ("tf.layers.dense(x, 10, activation=tf.nn.relu, use_bias=False, name='fc')", (2, 5), (2, 10),
     {"units": 10, "use_bias": False, "name": "fc", "activation": "relu"}),
    ("tf.layers.dense(inputs=x, units=4, kernel_initializer=tf.zeros_initializer())", (2, 3, 5), (2, 3, 4),
     {"units": 4, "use_bias": True, "activation": "linear", "kernel": 0.0}),
    ("tf.layers.dense(x, 3)", (2, 5), (2, 3),
     {"kernel_initializer": "GlorotUniform", "bias_initializer": "Zeros"}),
    ("tf.layers.conv1d(x, 4, 3, strides=2, padding='same')", (2, 8, 3), (2, 4, 4),
     {"filters": 4, "kernel_size": (3,), "strides": (2,), "padding": "same", "data_format": "channels_last"}),
    ("tf.layers.conv2d(x, 6, [3, 3], 2, 'valid', activation=tf.nn.tanh, use_bias=False)", (2, 9, 9, 3),
     (2, 4, 4, 6), {"filters": 6, "kernel_size": (3, 3), "strides": (2, 2), "padding": "valid",
                    "use_bias": False, "activation": "tanh", "data_format": "channels_last",
                    "dilation_rate": (1, 1)}),
    ("tf.layers.conv2d(x, 2, 3, dilation_rate=2)", (1, 9, 9, 1), (1, 5, 5, 2), {"dilation_rate": (2, 2)}),
    ("tf.layers.conv3d(x, 2, 3, padding='same')", (1, 4, 4, 4, 1), (1, 4, 4, 4, 2),
     {"filters": 2, "kernel_size": (3, 3, 3), "padding": "same", "data_format": "channels_last"}),
    ("tf.layers.conv2d_transpose(x, 5, 3, strides=2, padding='same')", (2, 4, 4, 3), (2, 8, 8, 5),
     {"filters": 5, "strides": (2, 2), "padding": "same", "data_format": "channels_last"}),
    ("tf.layers.conv3d_transpose(x, 2, 2, strides=(2, 2, 2))", (1, 2, 2, 2, 1), (1, 4, 4, 4, 2),
     {"filters": 2, "kernel_size": (2, 2, 2), "strides": (2, 2, 2), "padding": "valid"}),
    ("tf.layers.separable_conv1d(x, 4, 3, depth_multiplier=2)", (2, 8, 3), (2, 6, 4),
     {"filters": 4, "depth_multiplier": 2, "data_format": "channels_last"}),
    ("tf.layers.separable_conv2d(x, 4, 3, padding='same', activation=tf.nn.relu)", (2, 8, 8, 3), (2, 8, 8, 4),
     {"filters": 4, "kernel_size": (3, 3), "padding": "same", "activation": "relu"}),
    ("tf.layers.max_pooling1d(x, 2, 2)", (2, 8, 3), (2, 4, 3),
     {"pool_size": (2,), "strides": (2,), "padding": "valid", "data_format": "channels_last"}),
    ("tf.layers.max_pooling2d(x, 3, 2, padding='same')", (2, 7, 7, 3), (2, 4, 4, 3),
     {"pool_size": (3, 3), "strides": (2, 2), "padding": "same"}),
    ("tf.layers.max_pooling3d(x, 2, 2)", (1, 4, 4, 4, 2), (1, 2, 2, 2, 2), {"pool_size": (2, 2, 2)}),
    ("tf.layers.average_pooling1d(x, pool_size=4, strides=4)", (2, 8, 3), (2, 2, 3), {"pool_size": (4,)}),
    ("tf.layers.average_pooling2d(x, 2, 1)", (2, 5, 5, 3), (2, 4, 4, 3),
     {"pool_size": (2, 2), "strides": (1, 1), "data_format": "channels_last"}),
    ("tf.layers.average_pooling3d(x, 2, 2, 'same')", (1, 3, 3, 3, 2), (1, 2, 2, 2, 2), {"padding": "same"}),
    ("tf.layers.batch_normalization(x, axis=1, momentum=0.9, epsilon=1e-5, center=False)", (4, 3, 2),
     (4, 3, 2), {"axis": 1, "momentum": 0.9, "epsilon": 1e-5, "center": False, "scale": True}),
    ("tf.layers.batch_normalization(x)", (4, 3), (4, 3), {"axis": -1, "momentum": 0.99, "epsilon": 1e-3}),
    ("tf.layers.dropout(x, 0.3, training=True)", (64, 64), (64, 64), {"rate": 0.3}),
    ("tf.layers.dropout(x)", (4, 4), (4, 4), {"rate": 0.5}),
    ("tf.layers.flatten(x)", (2, 3, 4), (2, 12), {"data_format": "channels_last"}),
    ("tf.contrib.layers.fully_connected(x, 7)", (2, 5), (2, 7), {"units": 7, "activation": "relu"}),
    ("tf.contrib.layers.fully_connected(x, 7, activation_fn=None, biases_initializer=None)", (2, 5), (2, 7),
     {"units": 7, "activation": "linear", "use_bias": False}),
    ("tf.contrib.layers.conv2d(x, 4, 3)", (1, 6, 6, 2), (1, 6, 6, 4),
     {"filters": 4, "padding": "same", "activation": "relu", "data_format": "channels_last"}),
    ("tf.contrib.layers.conv2d(x, 4, [3, 3], stride=2, padding='VALID', rate=1)", (1, 7, 7, 2), (1, 3, 3, 4),
     {"strides": (2, 2), "padding": "valid"}),
]


@pytest.fixture(scope="module")
def tf():
    import tensorflow

    return tensorflow


def _convert(line: str) -> ast.Call:
    text = f"import tensorflow as tf\ny = {line}\n"
    out = run_snippet("KM2", text, unsafe_fixes=True)
    assert out.text != text, out.findings
    value = ast.parse(out.text).body[-1].value
    assert isinstance(value, ast.Call) and isinstance(value.func, ast.Call), out.text
    return value


def _eval(node: ast.AST, ns: dict):
    return eval(compile(ast.Expression(node), "<converted>", "eval"), ns)


def _apply(tf, line: str, shape):
    call = _convert(line)
    x = tf.random.normal(shape, seed=1)
    ns = {"tf": tf, "x": x}
    layer = _eval(call.func, ns)
    args = [_eval(a, ns) for a in call.args]
    kwargs = {k.arg: _eval(k.value, ns) for k in call.keywords}
    return layer, x, layer(*args, **kwargs), kwargs


@pytest.mark.parametrize("line,shape,out_shape,config", CASES, ids=[c[0].split("(")[0] + str(i) for i, c in enumerate(CASES)])
def test_converted_layer_means_the_tf1_call(tf, line, shape, out_shape, config):
    layer, x, y, call_kwargs = _apply(tf, line, shape)
    assert tuple(y.shape) == out_shape
    cfg = layer.get_config()
    for key, want in config.items():
        if key == "kernel":
            assert np.all(layer.kernel.numpy() == want)
        elif key.endswith("_initializer"):
            assert type(getattr(layer, key)).__name__ == want
        elif isinstance(want, tuple):
            assert tuple(cfg[key]) == want, key
        else:
            assert cfg[key] == want, (key, cfg[key])


def test_dropout_without_training_is_a_no_op_as_in_tf1(tf):
    _, x, y, kwargs = _apply(tf, "tf.layers.dropout(x, rate=0.9)", (8, 8))
    assert kwargs == {"training": False}
    np.testing.assert_array_equal(y.numpy(), x.numpy())


def test_dropout_with_training_drops(tf):
    _, x, y, _ = _apply(tf, "tf.layers.dropout(x, 0.5, training=True)", (64, 64))
    zeros = float(np.mean(y.numpy() == 0))
    assert 0.35 < zeros < 0.65


def test_batch_normalization_defaults_to_inference_as_in_tf1(tf):
    _, x, y, kwargs = _apply(tf, "tf.layers.batch_normalization(x)", (16, 3))
    assert kwargs == {"training": False}
    # moving mean 0, variance 1: y = x / sqrt(1 + epsilon)
    np.testing.assert_allclose(y.numpy(), x.numpy() / np.sqrt(1 + 1e-3), rtol=1e-5)


def test_batch_normalization_in_training_uses_batch_statistics(tf):
    _, x, y, _ = _apply(tf, "tf.layers.batch_normalization(x, training=True)", (64, 3))
    np.testing.assert_allclose(y.numpy().mean(axis=0), 0.0, atol=1e-4)


def test_explicit_channels_last_survives_a_channels_first_config(tf):
    """TF1 ignored keras.json; the written-out data_format keeps the converted layer NHWC."""
    keras = tf.keras
    before = keras.config.image_data_format()
    keras.config.set_image_data_format("channels_first")
    try:
        _, _, y, _ = _apply(tf, "tf.layers.conv2d(x, 6, 3)", (2, 9, 9, 3))
        assert tuple(y.shape) == (2, 7, 7, 6)
        _, _, y, _ = _apply(tf, "tf.layers.max_pooling2d(x, 2, 2)", (2, 8, 8, 3))
        assert tuple(y.shape) == (2, 4, 4, 3)
    finally:
        keras.config.set_image_data_format(before)


def test_converted_classes_build(tf):
    text = ("import tensorflow as tf\n"
            "c = tf.layers.Conv2DTranspose(4, 3, 2, 'same', 'channels_last')\n"
            "d = tf.layers.Dropout()\n"
            "b = tf.layers.BatchNormalization(fused=True)\n"
            "s = tf.layers.InputSpec(ndim=2)\n")
    out = run_snippet("KM202", text, unsafe_fixes=True)
    ns: dict = {}
    exec(compile(out.text, "<converted>", "exec"), ns)
    c, d, b = ns["c"], ns["d"], ns["b"]
    assert c.get_config()["data_format"] == "channels_last" and c.get_config()["padding"] == "same"
    assert tuple(c(tf.zeros([1, 4, 4, 2])).shape) == (1, 8, 8, 4)
    assert d.rate == 0.5
    assert tuple(b(tf.zeros([2, 3])).shape) == (2, 3)
    assert ns["s"].ndim == 2


def test_keras_target_builds_standalone_keras_layers(tf):
    out = run_snippet("KM201", "import tensorflow as tf\ny = tf.layers.dense(x, 3)\n", target="keras")
    import keras

    ns = {"x": tf.zeros([2, 4])}
    exec(compile(out.text, "<converted>", "exec"), ns)
    assert ns["keras"] is keras and tuple(ns["y"].shape) == (2, 3)
