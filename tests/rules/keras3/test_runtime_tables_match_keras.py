"""The tables of the KM3xx run-time fixes (rules/tables/keras1_layers.py, keras2_api.py), checked
against the installed TensorFlow: each row says what TensorFlow 2.21 (Keras 3) really does."""
from __future__ import annotations

import inspect

import numpy as np
import pytest

from kmigrate.rules.tables import keras1_layers as T1
from kmigrate.rules.tables import keras2_api as T2

pytestmark = pytest.mark.tf


@pytest.fixture(scope="module")
def tfk():
    tf = pytest.importorskip("tensorflow")
    return tf.keras


def _layer(tfk, canonical: str):
    return getattr(tfk.layers, canonical.split(".")[1])


def test_weight_initializers_are_the_layers_weight_order(tfk):
    """Every keyword names an initializer, in get_weights() order, and the flags drop the right weight."""
    shapes = {"Dense": (None, 3), "Conv1D": (None, 5, 2), "Conv2D": (None, 5, 5, 2), "Conv3D": (None, 5, 5, 5, 2),
              "Conv1DTranspose": (None, 5, 2), "Conv2DTranspose": (None, 5, 5, 2), "Conv3DTranspose": (None, 5, 5, 5, 2),
              "Convolution1D": (None, 5, 2), "Convolution2D": (None, 5, 5, 2), "Convolution3D": (None, 5, 5, 5, 2),
              "Embedding": (None, 4), "BatchNormalization": (None, 3)}
    for canonical, slots in T2.WEIGHT_INITIALIZERS.items():
        cls = _layer(tfk, canonical)
        name = canonical.split(".")[1]
        args = (7, 2) if name == "Embedding" else () if name == "BatchNormalization" else (
            (2,) if name == "Dense" else (2, 3))
        values = [float(i + 2) for i in range(len(slots))]
        layer = cls(*args, **{kw: tfk.initializers.Constant(v) for (kw, _), v in zip(slots, values)})
        layer.build(shapes[name])
        weights = layer.get_weights()
        assert len(weights) == len(slots), canonical
        for w, v in zip(weights, values):
            assert np.all(w == v), (canonical, v)
        for kw, flags in slots:
            for flag in flags or ():
                if flag in inspect.signature(cls.__init__).parameters:
                    off = cls(*args, **{flag: False})
                    off.build(shapes[name])
                    assert len(off.get_weights()) == len(slots) - 1, (canonical, flag)


def test_constant_keeps_a_whole_array(tfk):
    value = np.arange(6, dtype="float32").reshape(3, 2)
    assert np.array_equal(tfk.initializers.Constant(value)((3, 2)).numpy(), value)


def test_keras1_initializer_targets(tfk):
    for fn, (cls, keywords, defaults, same) in T1.KERAS1_INITIALIZERS.items():
        init = getattr(tfk.initializers, cls)
        params = set(inspect.signature(init.__init__).parameters)
        for new in keywords.values():
            if new != "+-":
                assert new in params, (fn, new)
        for kw in defaults:
            assert kw in params, (fn, kw)
        assert "scale" not in params and "name" not in params  # the Keras 1 keywords are gone


def test_size_arguments_reject_numpy_ints_and_take_python_ints(tfk):
    for canonical, (names, count) in T2.SIZE_ARGUMENTS.items():
        cls = _layer(tfk, canonical)
        params = set(inspect.signature(cls.__init__).parameters)
        assert any(n in params for n in names), canonical
        name = canonical.split(".")[1]
        first = "input_dim" if name == "Embedding" else "units"
        extra = {"output_dim": 2} if name == "Embedding" else {}
        with pytest.raises((ValueError, TypeError)):
            cls(**{first: np.int64(4)}, **extra)
        cls(**{first: int(np.int64(4))}, **extra)
    # the layers left out of the table take NumPy integers: nothing to fix there
    tfk.layers.LSTM(np.int64(2))
    tfk.layers.Conv2D(np.int64(2), 3)


def test_callbacks_with_monitor_and_accuracy_names(tfk):
    for canonical in T2.CALLBACKS_WITH_MONITOR:
        cls = getattr(tfk.callbacks, canonical.split(".")[1])
        assert "monitor" in inspect.signature(cls.__init__).parameters
    x, y = np.zeros((4, 3)), np.eye(2)[[0, 1, 0, 1]]
    model = tfk.Sequential([tfk.Input((3,)), tfk.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    logs = model.fit(x, y, validation_data=(x, y), verbose=0).history
    assert set(T2.ACCURACY_NAMES.values()) <= set(logs) and not set(T2.ACCURACY_NAMES) & set(logs)
    with pytest.raises(ValueError):  # the old name: Keras 3 cannot tell its mode
        model.fit(x, y, validation_data=(x, y), verbose=0, epochs=2,
                  callbacks=[tfk.callbacks.EarlyStopping(monitor="val_acc")])


def test_checkpoint_suffixes(tfk, tmp_path):
    with pytest.raises(ValueError):
        tfk.callbacks.ModelCheckpoint(str(tmp_path / "w.hdf5"))
    with pytest.raises(ValueError):
        tfk.callbacks.ModelCheckpoint(str(tmp_path / "w.h5"), save_weights_only=True)
    tfk.callbacks.ModelCheckpoint(str(tmp_path / "w.h5"))
    tfk.callbacks.ModelCheckpoint(str(tmp_path / "w.weights.h5"), save_weights_only=True)


def test_dim_ordering_functions_take_data_format(tfk):
    for canonical in T1.DIM_ORDERING_FUNCTIONS:
        obj = tfk
        for part in canonical.split("."):
            obj = getattr(obj, part)
        params = set(inspect.signature(obj.__init__ if inspect.isclass(obj) else obj).parameters)
        assert "data_format" in params and "dim_ordering" not in params, canonical


def test_reset_states_and_wrappers(tfk):
    assert not hasattr(tfk.Model, "reset_states") and hasattr(tfk.layers.LSTM, "reset_states")
    for old, new in T2.SKLEARN_WRAPPERS.items():
        cls = getattr(tfk.wrappers, new.split(".")[1])
        assert {"model", "model_kwargs", "fit_kwargs"} <= set(inspect.signature(cls.__init__).parameters)
    assert not hasattr(tfk.wrappers.SKLearnClassifier, "predict_proba")
    assert hasattr(tfk.wrappers.SKLearnClassifier, "decision_function")


def test_backend_droppable_are_gone(tfk):
    for name in T2.BACKEND_DROPPABLE:
        assert not hasattr(tfk.backend, name), name


def test_backend_functions_on_keras_tensors(tfk):
    x = tfk.Input((3, 1))
    assert tfk.backend.int_shape(x) == (None, 3, 1) and tfk.backend.is_keras_tensor(x)
    for name in ("sum", "square", "exp", "shape", "squeeze"):  # what KM352 rewrites or reports fails
        fn = getattr(tfk.backend, name)
        with pytest.raises(Exception):
            fn(x, -1) if name == "squeeze" else fn(x)
