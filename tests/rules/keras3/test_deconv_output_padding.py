"""KM310 over a grid of Keras 1 `Deconvolution2D(output_shape=...)` calls (kernel, strides, padding,
output sizes, both layouts), migrated by KM301..KM310 (safe fixes only), then built in TensorFlow 2.21.

The oracle is TensorFlow itself: Keras 1 called `tf.nn.conv2d_transpose` with `output_shape` on the
input a convolution of that shape gives; the migrated layer, on that input and with the same kernel,
must give the same shape and the same values. Where no `output_padding` reproduces the shape (Keras 3
needs it below the strides), the keyword must stay for the unsafe drop, and Keras' own formula must
agree that nothing else would do.
"""
from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest

from kmigrate.engine import Options, fix_text
from kmigrate.rule import select_rules
from kmigrate.rules.keras3.keras1_layers import keras1_deconv_padding

pytestmark = pytest.mark.tf

CODES = [f"KM3{n:02d}" for n in range(1, 11)]
FILTERS = 2


def _keras1_input(out: int, k: int, s: int, padding: str) -> int:
    """The input size Keras 1's tf.nn.conv2d_transpose took for output size `out`."""
    return math.ceil((out - k + 1) / s) if padding == "valid" else math.ceil(out / s)


def _cases():
    for k, s, padding in itertools.product((1, 2, 3, 4, 5), (1, 2, 3), ("valid", "same")):
        for rows in range(1, 12):
            cols = rows + (1 if rows % 3 else 2)
            if _keras1_input(rows, k, s, padding) >= 1 and _keras1_input(cols, k, s, padding) >= 1:
                yield k, s, padding, rows, cols


CASES = list(_cases())


def _source(layout: str) -> str:
    lines = ["from keras.layers import Deconvolution2D", ""]
    for i, (k, s, padding, rows, cols) in enumerate(CASES):
        shape = (f"(None, {rows}, {cols}, {FILTERS})" if layout == "tf" else f"(None, {FILTERS}, {rows}, {cols})")
        lines.append(f"layer_{i} = Deconvolution2D({FILTERS}, {k}, {k}, {shape}, border_mode='{padding}', "
                     f"subsample=({s}, {s}), dim_ordering='{layout}', bias=False, name='layer_{i}')")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module", params=["tf", "th"])
def migrated(request):
    layout = request.param
    out = fix_text(_source(layout), "deconv.py", Options(rules=tuple(select_rules(CODES, []))))
    lines = [line for line in out.text.splitlines() if line.startswith("layer_")]
    assert len(lines) == len(CASES)
    return layout, lines


def _expected(k: int, s: int, padding: str, outs: tuple[int, int]):
    """From Keras' own output-size formula: () when Keras 3 computes the shape, the output_padding
    (each below the strides) that gives it, or None when there is none."""
    from keras.src.backend.common.backend_utils import _get_output_shape_given_tf_padding as size

    ins = [_keras1_input(o, k, s, padding) for o in outs]
    if all(size(n, k, s, padding, None, 1) == o for n, o in zip(ins, outs)):
        return ()
    pads = []
    for n, o in zip(ins, outs):
        found = [p for p in range(s) if size(n, k, s, padding, p, 1) == o]
        if not found:
            return None
        pads.append(found[0])
    return tuple(pads)


def test_the_grid_is_large(migrated):
    layout, lines = migrated
    assert len(CASES) > 250
    assert sum("output_padding" in line for line in lines) > 100
    assert sum("output_shape" not in line and "output_padding" not in line for line in lines) > 50


def test_formula_matches_keras():
    for k, s, padding, rows, cols in CASES:
        for out in (rows, cols):
            n, p, default = keras1_deconv_padding(out, k, s, padding)
            assert n == _keras1_input(out, k, s, padding)
            expected = _expected(k, s, padding, (out, out))
            assert default == (expected == ())
            if expected:
                assert (p, p) == expected


def test_fix_is_what_keras_formula_needs(migrated):
    layout, lines = migrated
    for (k, s, padding, rows, cols), line in zip(CASES, lines):
        expected = _expected(k, s, padding, (rows, cols))
        found = re.search(r"output_padding=\((\d+), (\d+)\)", line)
        if expected is None:
            assert "output_shape=" in line, line  # left for the unsafe drop
        elif expected == ():
            assert "output_shape" not in line and "output_padding" not in line, line
        else:
            assert found and tuple(map(int, found.groups())) == expected, line
            assert "output_shape" not in line, line


def test_migrated_layers_match_tensorflow_conv2d_transpose(migrated):
    import tensorflow as tf

    layout, lines = migrated
    checked = 0
    rng = np.random.default_rng(0)
    for (k, s, padding, rows, cols), line in zip(CASES, lines):
        if "output_shape=" in line:
            continue
        namespace: dict = {}
        exec("from tensorflow.keras.layers import Conv2DTranspose\n" + line, namespace)
        layer = next(v for name, v in namespace.items() if name.startswith("layer_"))
        n_rows, n_cols = _keras1_input(rows, k, s, padding), _keras1_input(cols, k, s, padding)
        x = rng.standard_normal((1, n_rows, n_cols, 3)).astype("float32")
        kernel = rng.standard_normal((k, k, FILTERS, 3)).astype("float32")
        # Keras 1 (TensorFlow backend): conv2d_transpose with the given output_shape, NHWC.
        keras1 = tf.nn.conv2d_transpose(x, kernel, output_shape=[1, rows, cols, FILTERS], strides=[1, s, s, 1],
                                        padding=padding.upper()).numpy()
        if layout == "tf":
            y = layer(x)  # builds the layer
            layer.kernel.assign(kernel)
            got = layer(x).numpy()
            assert got.shape == (1, rows, cols, FILTERS), line
            np.testing.assert_allclose(got, keras1, rtol=1e-4, atol=1e-4, err_msg=line)
        else:  # channels_first: the shape (TensorFlow's CPU kernels are NHWC only)
            y = layer.compute_output_shape((1, 3, n_rows, n_cols))
            assert tuple(y) == (1, FILTERS, rows, cols), line
        checked += 1
    assert checked > 200
