"""rules/tables/keras1_layers.py checked against the installed TensorFlow (tf.keras = Keras 3):
every target class exists, every target keyword is accepted, every old keyword is rejected (so
the rules' "Keras 3 rejects it" is true), and the value maps produce accepted values."""
from __future__ import annotations

import inspect

import pytest

from kmigrate.rules.tables import keras1_layers as T

pytestmark = pytest.mark.tf


@pytest.fixture(scope="module")
def keras():
    import tensorflow as tf

    return tf.keras


# Smallest arguments that build each target class (filled in by parameter name).
_REQUIRED = {"units": 2, "filters": 2, "kernel_size": 3, "rate": 0.5, "stddev": 0.1, "input_dim": 10,
             "output_dim": 2, "axes": -1, "shape": (4,)}


def _target(keras, cls: str):
    name = T.LAYER_RENAMES.get(cls, cls)
    if name == "Input":
        return keras.Input
    return getattr(keras.layers, name)


def _params(obj) -> dict[str, inspect.Parameter]:
    fn = obj if inspect.isfunction(obj) else obj.__init__
    return dict(inspect.signature(fn).parameters)


def _build(obj, **extra):
    params = _params(obj)
    kwargs = {k: v for k, v in _REQUIRED.items()
              if k in params and params[k].default is inspect.Parameter.empty and k not in extra}
    return obj(**kwargs, **extra)


def _accepts(obj, keyword: str, value=None) -> bool:
    params = _params(obj)
    if keyword in params and value is None:
        return True
    try:
        _build(obj, **{keyword: value})
    except (TypeError, ValueError) as exc:
        return keyword not in str(exc) and "nrecognized" not in str(exc)
    return True


def test_renamed_layers_exist_and_old_names_are_what_the_table_says(keras):
    for old, new in T.LAYER_RENAMES.items():
        assert hasattr(keras.layers, new), new
        assert hasattr(keras.layers, old) == (old in T.LAYER_ALIASES_KEPT), old
        if old in T.LAYER_ALIASES_KEPT:
            assert getattr(keras.layers, old) is getattr(keras.layers, new)


def test_removed_layers_are_gone(keras):
    for name in T.REMOVED_LAYERS:
        assert not hasattr(keras.layers, name), name
    assert not hasattr(keras.layers, "merge") and not hasattr(keras.layers, "Merge")


def test_merge_targets(keras):
    for func, cls in T.MERGE_MODES.values():
        assert callable(getattr(keras.layers, func)) and hasattr(keras.layers, cls)
    assert "axis" in _params(keras.layers.concatenate) and "axis" in _params(keras.layers.Concatenate)
    assert {"axes", "normalize"} <= set(_params(keras.layers.dot)) | set(_params(keras.layers.Dot))
    assert "normalize" in _params(keras.layers.Dot)


@pytest.mark.parametrize("cls", sorted(T.KEYWORDS))
def test_keyword_targets_are_accepted_and_old_keywords_rejected(keras, cls):
    target = _target(keras, cls)
    for old, new in T.KEYWORDS[cls].items():
        targets = new if isinstance(new, tuple) else (new,) if new else ()
        for t in targets:
            if t == "implementation":
                assert _accepts(target, t, 2), (cls, t)
            elif t == "kernel_size":
                assert t in _params(target), (cls, t)
            else:
                assert t in _params(target) or _accepts(target, t), (cls, old, t)
        # The Keras 1 keyword itself fails today (that is why the rules exist).
        with pytest.raises((TypeError, ValueError)):
            _build(target, **{old: 1})


def test_dropped_keywords_are_really_not_accepted(keras):
    for cls, table in T.KEYWORDS.items():
        for old, new in table.items():
            if new is None and old == "consume_less":
                assert not _accepts(_target(keras, cls), "implementation", 2), cls


def test_model_keywords(keras):
    x = keras.Input(shape=(3,))
    y = keras.layers.Dense(2)(x)
    keras.Model(**{T.MODEL_KEYWORDS["input"]: x, T.MODEL_KEYWORDS["output"]: y})
    with pytest.raises((TypeError, ValueError)):
        keras.Model(input=x, output=y)


def test_value_maps_give_accepted_values(keras):
    for value in T.DIM_ORDERING_VALUES.values():
        keras.layers.Conv2D(2, 3, data_format=value)
        keras.layers.MaxPooling2D(data_format=value)
    assert keras.backend.image_data_format() in ("channels_last", "channels_first")
    for value in T.CONSUME_LESS_VALUES.values():
        keras.layers.LSTM(2, implementation=value)
        keras.layers.GRU(2, implementation=value)
    for value in T.FORGET_BIAS_VALUES.values():
        keras.layers.LSTM(2, unit_forget_bias=value)


def test_keras1_initializer_names_still_resolve(keras):
    # KM304 renames `init=` but keeps its value: Keras 1's names must still be understood.
    for name in ("zero", "one", "uniform", "normal", "lecun_uniform", "glorot_normal", "glorot_uniform",
                 "he_normal", "he_uniform", "orthogonal", "identity"):
        assert keras.initializers.get(name) is not None, name


def test_border_mode_full_is_rejected(keras):
    with pytest.raises(ValueError):
        keras.layers.Conv2D(2, 3, padding="full")


def test_positional_kernel_trap_is_real(keras):
    layer = keras.layers.Conv2D(32, 3, 3)
    assert layer.kernel_size == (3, 3) and layer.strides == (3, 3)
    for cls in T.POSITIONAL_KERNEL:
        assert "kernel_size" in _params(_target(keras, cls))


@pytest.mark.parametrize("name", sorted(T.BACKEND_KEYWORDS))
def test_backend_keyword_targets_are_accepted_and_old_keywords_are_not(keras, name):
    fn = getattr(keras.backend, name.split(".", 1)[1])
    params = inspect.signature(fn).parameters
    for old, new in T.BACKEND_KEYWORDS[name].items():
        assert new in params and old not in params, (name, old, new)
