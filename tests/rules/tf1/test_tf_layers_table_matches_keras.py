"""rules/tables/tf_layers.py checked against the installed TensorFlow (Keras 3): every keyword the
KM201/KM202/KM204 fixes pass to a Keras constructor is accepted by it, the positional prefixes are
real, the defaults written out are ones Keras does not share, the ones left out are equal, and
the TF1 keywords dropped or refused are indeed unknown to Keras."""
from __future__ import annotations

import inspect

import pytest

from kmigrate.rules.tables import tf_layers as T

pytestmark = pytest.mark.tf


@pytest.fixture(scope="module")
def layers():
    import tensorflow as tf

    return tf.keras.layers


def _init_params(cls) -> dict[str, inspect.Parameter]:
    return {n: p for n, p in inspect.signature(cls.__init__).parameters.items() if n != "self"}


def _accepts(layers, cls, keyword: str) -> bool:
    params = _init_params(cls)
    base = _init_params(layers.Layer)
    return keyword in params or (keyword in base and any(p.kind is p.VAR_KEYWORD for p in params.values()))


def test_function_tables(layers):
    for fname, (klass, params) in T.FUNCTIONS.items():
        cls = getattr(layers, klass)
        ctor = [p for p in params if p not in T.CALL_PARAMS and p not in T.DROPPABLE]
        for p in ctor:
            assert _accepts(layers, cls, p), f"{fname}: Keras {klass} does not take {p}="
        for p in T.CTOR_DEFAULTS.get(fname, {}):
            assert p in params and _accepts(layers, cls, p), (fname, p)
        for p in T.CALL_DEFAULTS.get(fname, {}):
            assert p in inspect.signature(cls.call).parameters, (fname, p)
        assert params[0] == "inputs"


def test_positional_prefixes_are_real(layers):
    for klass, prefix in T.KERAS_POSITIONAL.items():
        names = list(_init_params(getattr(layers, klass)))
        assert names[: len(prefix)] == list(prefix), (klass, names[:4])
    for klass, (tf1, same) in T.CLASS_POSITIONAL.items():
        names = list(_init_params(getattr(layers, T.CLASSES[klass])))
        assert names[:same] == list(tf1[:same]), (klass, names[:same])
        if same < len(tf1):  # the next TF1 parameter is not where Keras has it (so it goes by keyword)
            assert len(names) <= same or names[same] != tf1[same] or klass == "Layer", klass
        for p in tf1:
            assert p in T.DROPPABLE or _accepts(layers, getattr(layers, T.CLASSES[klass]), p), (klass, p)


def test_written_out_defaults_differ_and_left_out_ones_agree(layers):
    # TF1 data_format was 'channels_last'; Keras takes None (= keras.json). Dropout has no default rate.
    for fname, defaults in T.CTOR_DEFAULTS.items():
        cls = getattr(layers, T.FUNCTIONS[fname][0])
        for p, tf1 in defaults.items():
            keras_default = _init_params(cls)[p].default
            assert keras_default is inspect.Parameter.empty or repr(keras_default) != tf1, (fname, p)
    for klass, defaults in T.SAME_DEFAULTS.items():
        params = _init_params(getattr(layers, klass))
        for p, tf1 in defaults.items():
            assert params[p].default == tf1, (klass, p, params[p].default, tf1)


def test_dropped_and_refused_keywords_are_unknown_to_keras(layers):
    for p in T.DROPPABLE:
        assert not _accepts(layers, layers.BatchNormalization, p) or p == "reuse"
        with pytest.raises((TypeError, ValueError)):
            layers.BatchNormalization(**{p: None})


def test_class_tables(layers):
    for old, new in T.CLASSES.items():
        assert hasattr(layers, new), new
    for name in T.CLASS_NOTES:
        assert name in T.CLASSES
    for name, defaults in T.CLASS_DEFAULTS.items():
        params = _init_params(getattr(layers, T.CLASSES[name]))
        for p, tf1 in defaults.items():
            assert p in params and repr(params[p].default) != tf1, (name, p)


def test_contrib_tables(layers):
    for fname, klass in T.CONTRIB_CONVERT.items():
        cls = getattr(layers, klass)
        for p in T.CONTRIB_PARAMS[fname]:
            if p in ("inputs", "kernel_size") or p in T.CONTRIB_MUST_BE_NONE:
                continue
            keras = T.CONTRIB_FIRST[klass] if p == "num_outputs" else T.CONTRIB_RENAMES[p]
            assert _accepts(layers, cls, keras), (fname, p, keras)
        for p in T.CONTRIB_DEFAULTS[fname]:
            assert _accepts(layers, cls, p), (fname, p)
