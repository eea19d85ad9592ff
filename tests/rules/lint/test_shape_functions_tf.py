"""The static shape functions (rules/analysis/shapes.py) against TensorFlow's own.

Configurations are generated (every layer kind of `SIGNATURES`, many argument combinations and
input shapes); for each, `infer` must give exactly what the Keras layer's
`compute_output_shape` gives, and when `infer` says the input cannot be taken, calling the
layer on a symbolic input of that shape must raise.
"""
from __future__ import annotations

import itertools

import pytest

from kmigrate.rules.analysis.shapes import SIGNATURES, infer

pytestmark = pytest.mark.tf


def _conv_cases(kind, rank):
    n = rank - 2
    spatial = [(9,) * n, tuple(range(7, 7 + n)), (16,) * n, (5,) * n]
    for s, filters, k, stride, pad, dil in itertools.product(
            spatial, (1, 8), (1, 3, 5), (1, 2, 3), ("valid", "same"), (1, 2)):
        if stride > 1 and dil > 1:
            continue  # Keras refuses strides > 1 with dilation > 1
        cfg = {"filters": filters, "kernel_size": k, "strides": stride, "padding": pad, "dilation_rate": dil}
        yield kind, cfg, (2,) + s + (3,)
    if kind == "Conv1D":
        for s in spatial:
            yield kind, {"filters": 4, "kernel_size": 3, "padding": "causal"}, (2,) + s + (3,)
    for s in spatial[:2]:
        yield kind, {"filters": 4, "kernel_size": (2,) * n, "strides": (1,) * n}, (2,) + s + (3,)
        yield kind, {"filters": 4, "kernel_size": 3}, (None,) + s + (3,)
        yield kind, {"filters": 4, "kernel_size": 3}, (None,) + (None,) * n + (3,)


def _pool_cases(kind, rank):
    n = rank - 2
    for s, pool, stride, pad in itertools.product(
            [(9,) * n, (8,) * n, tuple(range(6, 6 + n)), (3,) * n], (2, 3), (None, 1, 2), ("valid", "same")):
        yield kind, {"pool_size": pool, "strides": stride, "padding": pad}, (2,) + s + (4,)
    if kind.startswith("Max"):
        yield kind, {}, (None,) + (10,) * n + (4,)


def _cases():
    for rank, tag in ((3, "1D"), (4, "2D"), (5, "3D")):
        for base in ("Conv", "SeparableConv"):
            kind = base + tag
            if kind in SIGNATURES:
                yield from _conv_cases(kind, rank)
        for base in ("MaxPooling", "AveragePooling"):
            yield from _pool_cases(base + tag, rank)
        for base in ("GlobalMaxPooling", "GlobalAveragePooling"):
            for keep in (False, True):
                yield base + tag, {"keepdims": keep}, (2,) + (6,) * (rank - 2) + (5,)
                yield base + tag, {"keepdims": keep, "data_format": "channels_first"}, (2,) + (6,) * (rank - 2) + (5,)
    for (tag, rank), filters, k, stride, pad in itertools.product(
            (("1D", 3), ("2D", 4), ("3D", 5)), (1, 6), (1, 2, 3, 5), (1, 2, 3), ("valid", "same")):
        n = rank - 2
        for spatial in ((7,) * n, tuple(range(4, 4 + n)), (None,) * n):
            yield f"Conv{tag}Transpose", {"filters": filters, "kernel_size": k, "strides": stride,
                                           "padding": pad}, (2,) + spatial + (3,)
    for units, shape in itertools.product((1, 10, 64), [(None, 8), (4, 3, 8), (None, 5, 6, 7), (None, None)]):
        yield "Dense", {"units": units}, shape
    for shape in [(None, 28, 28), (None, 4, 5, 6), (2, 7), (None, 3, None)]:
        yield "Flatten", {}, shape
    for target, shape in [((28, 28, 1), (None, 784)), ((-1,), (None, 4, 5)), ((2, -1), (None, 12)),
                          ((4, 5, 6), (None, 120)), ((-1, 3), (3, 6, 2))]:
        yield "Reshape", {"target_shape": target}, shape
    for out, shape in itertools.product((8, 32), [(None, 10), (None, 5, 3), (None, None), (None, 1)]):
        yield "Embedding", {"input_dim": 100, "output_dim": out}, shape
    for kind, units, rs, shape in itertools.product(("LSTM", "GRU", "SimpleRNN"), (1, 16), (False, True),
                                                    [(None, 10, 3), (4, 7, 2), (None, None, 5)]):
        yield kind, {"units": units, "return_sequences": rs}, shape
    for kind in ("Dropout", "BatchNormalization", "LayerNormalization", "Activation", "ReLU", "LeakyReLU",
                 "Softmax", "GaussianNoise", "Rescaling"):
        cfg = {"Dropout": {"rate": 0.5}, "Activation": {"activation": "relu"}, "GaussianNoise": {"stddev": 0.1},
               "Rescaling": {"scale": 1 / 255}}.get(kind, {})
        for shape in [(None, 8), (None, 4, 5, 3), (2, 6, 7)]:
            yield kind, cfg, shape
    yield "SpatialDropout1D", {"rate": 0.2}, (None, 6, 3)
    yield "SpatialDropout2D", {"rate": 0.2}, (None, 6, 6, 3)
    for n, shape in itertools.product((1, 5), [(None, 8), (3, 2)]):
        yield "RepeatVector", {"n": n}, shape
    for size in (2, 3, (2, 3)):
        yield "UpSampling2D", {"size": size}, (None, 5, 6, 3)
    yield "UpSampling1D", {"size": 3}, (None, 5, 2)
    for pad in (1, 2, (1, 2), ((1, 0), (2, 3))):
        yield "ZeroPadding2D", {"padding": pad}, (None, 5, 6, 3)
    yield "ZeroPadding1D", {"padding": 2}, (None, 5, 2)
    yield "ZeroPadding1D", {"padding": (1, 3)}, (None, 5, 2)
    for inner, shape in [(("Dense", {"units": 8}), (None, 10, 4)), (("Dense", {"units": 3}), (None, 5, 6, 7)),
                         (("Conv2D", {"filters": 4, "kernel_size": 3}), (None, 6, 9, 9, 2)),
                         (("Flatten", {}), (None, 4, 3, 5)),
                         (("MaxPooling2D", {}), (None, 3, 8, 8, 2))]:
        yield "TimeDistributed", {"layer": inner}, shape
    for rnn, units, rs, mode in itertools.product(("LSTM", "GRU"), (4, 9), (False, True), ("concat", "sum", "ave")):
        yield "Bidirectional", {"layer": (rnn, {"units": units, "return_sequences": rs}), "merge_mode": mode}, (None, 6, 3)


def _merge_cases():
    for axis in (-1, 1, 2):
        yield "Concatenate", {"axis": axis}, [(None, 4, 5), (None, 4, 5)]
    yield "Concatenate", {}, [(None, 4, 5), (None, 4, 3), (None, 4, 1)]
    yield "Concatenate", {"axis": 1}, [(None, 2, 5), (None, 7, 5)]
    yield "Concatenate", {}, [(None, 8), (None, 16)]
    for kind in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"):
        yield kind, {}, [(None, 4, 5), (None, 4, 5)]
        yield kind, {}, [(None, 7), (None, 7)]
        if kind != "Subtract":
            yield kind, {}, [(None, 7), (None, 7), (None, 7)]
        # Keras 3 gives a lower-rank input axes of 1 after the batch axis, then broadcasts size-1
        # axes as NumPy does (mnist_acgan: a latent vector times the Embedding of a length-1 input)
        for shapes in ([(None, 100), (None, 1, 100)], [(None, 1, 100), (None, 100)], [(None, 3), (None, 5, 3)],
                       [(None, 1), (None, 5, 3)], [(None, 5), (None, 5, 1)], [(None, 4, 1), (None, 1, 5)],
                       [(None, 1, 5), (None, 4, 5)], [(None, 6), (None, 1)], [(2, 6), (2, 1, 6)]):
            yield kind, {}, shapes


def _layer(tf, kind, cfg):
    cfg = dict(cfg)
    if "layer" in cfg:
        ik, icfg = cfg["layer"]
        cfg["layer"] = _layer(tf, ik, icfg)
    if kind == "Reshape":
        return tf.keras.layers.Reshape(cfg["target_shape"])
    return getattr(tf.keras.layers, kind)(**cfg)


CASES = list(_cases())
MERGES = list(_merge_cases())


def test_many_cases_generated():
    kinds = {k for k, _, _ in CASES} | {k for k, _, _ in MERGES}
    assert len(CASES) + len(MERGES) > 700
    missing = set(SIGNATURES) - kinds - {"InputLayer", "SeparableConv3D"}
    assert not missing, missing


@pytest.fixture(scope="module")
def tf():
    import tensorflow

    return tensorflow


@pytest.mark.parametrize("kind,cfg,shape", CASES, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(CASES)])
def test_single_input_layers_match_keras(tf, kind, cfg, shape):
    layer = _layer(tf, kind, cfg)
    ours, problem = infer(kind, cfg, [shape])
    try:
        theirs = tuple(layer.compute_output_shape(shape))
    except ValueError:  # e.g. a window larger than the input: we must say so too
        assert problem is not None and ours is None, f"{kind} {cfg} {shape}: Keras raises"
        return
    assert problem is None, problem
    assert ours is not None, f"{kind} {cfg} {shape}: TF says {theirs}"
    assert ours == theirs, f"{kind} {cfg} {shape}"


@pytest.mark.parametrize("kind,cfg,shapes", MERGES, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(MERGES)])
def test_merge_layers_match_keras(tf, kind, cfg, shapes):
    layer = _layer(tf, kind, cfg)
    ours, problem = infer(kind, cfg, shapes)
    assert problem is None
    assert ours == tuple(layer.compute_output_shape(shapes))


# Inputs a layer cannot take: `infer` reports a problem, and Keras raises when the layer is
# called on a symbolic tensor of that shape.
BAD = [
    ("Conv2D", {"filters": 8, "kernel_size": 3}, [(None, 28, 28)]),
    ("Conv2D", {"filters": 8, "kernel_size": 3}, [(None, 64)]),
    ("Conv1D", {"filters": 8, "kernel_size": 3}, [(None, 64)]),
    ("Conv3D", {"filters": 8, "kernel_size": 3}, [(None, 8, 8, 3)]),
    ("MaxPooling2D", {}, [(None, 10)]),
    ("MaxPooling1D", {}, [(None, 10, 10, 3)]),
    ("GlobalAveragePooling2D", {}, [(None, 10, 3)]),
    ("LSTM", {"units": 4}, [(None, 10)]),
    ("GRU", {"units": 4}, [(None, 5, 5, 3)]),
    ("SimpleRNN", {"units": 4}, [(None, 12)]),
    ("Bidirectional", {"layer": ("LSTM", {"units": 4})}, [(None, 12)]),
    ("Dense", {"units": 4}, [(None,)]),
    ("RepeatVector", {"n": 3}, [(None, 4, 5)]),
    ("TimeDistributed", {"layer": ("Dense", {"units": 3})}, [(None, 5)]),
    ("Reshape", {"target_shape": (28, 28, 1)}, [(None, 785)]),
    ("Reshape", {"target_shape": (-1, 7)}, [(None, 20)]),
    ("Concatenate", {}, [(None, 4, 5), (None, 5)]),
    ("Concatenate", {"axis": -1}, [(None, 4, 5), (None, 3, 5)]),
    ("Add", {}, [(None, 4), (None, 5)]),
    ("Multiply", {}, [(None, 5), (None, 5, 3)]),
    ("Add", {}, [(None, 4, 2), (None, 3, 2)]),
]


@pytest.mark.parametrize("kind,cfg,shapes", BAD, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(BAD)])
def test_refused_inputs_raise_in_keras(tf, kind, cfg, shapes):
    ours, problem = infer(kind, cfg, shapes)
    assert problem is not None and ours is None
    layer = _layer(tf, kind, cfg)
    tensors = [tf.keras.Input(batch_shape=s) for s in shapes]
    with pytest.raises(Exception):
        layer(tensors if len(tensors) > 1 else tensors[0])
