"""rules/tables/keras2_api.py (KM320..KM345) checked against the installed TensorFlow 2.21 and
standalone Keras 3: every target name exists, every keyword is accepted, every "gone" claim holds."""
from __future__ import annotations

import importlib
import inspect
import warnings

import pytest

from kmigrate.rules.tables import keras2_api as T

pytestmark = pytest.mark.tf


@pytest.fixture(scope="module")
def tfk():
    import tensorflow as tf

    return tf.keras


@pytest.fixture(scope="module")
def k3():
    return importlib.import_module("keras")


def resolve(root, dotted: str):
    obj = root
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def has(root, dotted: str) -> bool:
    try:
        resolve(root, dotted)
        return True
    except AttributeError:
        return False


def params(fn) -> set[str]:
    return set(inspect.signature(fn).parameters)


@pytest.fixture(scope="module")
def model(tfk):
    m = tfk.Sequential([tfk.Input((3,)), tfk.layers.Dense(2)])
    return m


# ----------------------------------------------------------------------------- training API


def test_generator_methods_are_gone_and_targets_exist(model):
    for old, new in T.GENERATOR_METHODS.items():
        assert not hasattr(model, old)
        assert hasattr(model, new)
    assert not hasattr(model, T.PREDICT_CLASSES) and not hasattr(model, T.PREDICT_PROBA)


def test_training_keywords(model):
    fit = params(model.fit)
    for old, new in T.TRAINING_KEYWORDS.items():
        assert old not in fit and new in fit
    accepted = {"steps_per_epoch": fit, "validation_steps": fit,
                "steps": params(model.evaluate) & params(model.predict)}
    for old, new in T.SAMPLE_KEYWORDS.items():
        assert new in accepted[new], new
    for old, new in T.GENERATOR_METHODS.items():
        target = params(getattr(model, new))
        assert set(T.KERAS2_GENERATOR_POSITIONAL[old]) <= target, old
        for name in T.KERAS1_GENERATOR_POSITIONAL[old]:
            mapped = T.SAMPLE_KEYWORDS.get(name) or T.TRAINING_KEYWORDS.get(name) or name
            assert mapped in target, (old, name)


def test_worker_keywords_are_rejected(model):
    for method in ("fit", "evaluate", "predict"):
        sig = params(getattr(model, method))
        for kw in T.WORKER_KEYWORDS:
            assert kw not in sig, (method, kw)
    import numpy as np

    with pytest.raises(TypeError):
        model.fit(np.zeros((2, 3)), np.zeros((2, 2)), workers=2, verbose=0)


def test_model_factories_and_layers_exist(tfk):
    for name in T.MODEL_FACTORIES:
        assert has(tfk, name), name
    for name in T.UNITS_LAYERS:
        assert "units" in params(resolve(tfk, name).__init__)
    for name in T.SAME_WIDTH_LAYERS:
        assert has(tfk, name), name


# ----------------------------------------------------------------------------- optimizers


def test_optimizers_take_learning_rate_not_lr(tfk, k3):
    for name in T.OPTIMIZERS:
        for root in (tfk, k3):
            cls = resolve(root, name)
            assert "learning_rate" in params(cls.__init__) and "lr" not in params(cls.__init__)
    with pytest.raises(ValueError, match="lr"):
        tfk.optimizers.SGD(lr=0.1)
    assert not hasattr(tfk.optimizers.SGD(0.1), "lr")


def test_decay_is_ignored_and_the_schedule_matches_keras2(tfk):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tfk.optimizers.SGD(learning_rate=0.1, decay=0.5)
    assert any("decay" in str(w.message) for w in caught)
    schedule = resolve(tfk, T.DECAY_SCHEDULE)(0.1, decay_steps=1, decay_rate=0.5)
    for step in (0, 1, 7):  # Keras 2: lr / (1 + decay * iterations)
        assert float(schedule(step)) == pytest.approx(0.1 / (1 + 0.5 * step))


def test_optimizer_aliases_and_legacy(tfk, k3):
    for old, new in T.OPTIMIZER_ALIASES.items():
        for root in (tfk, k3):
            assert not has(root, old) and has(root, new)
    for name in T.LEGACY_OPTIMIZER_NAMES - {"Optimizer"}:
        assert has(tfk, "optimizers." + name)
    with pytest.raises(ImportError):
        tfk.optimizers.legacy.Adam(0.1)
    assert not has(tfk, "optimizers.experimental.Adam")


def test_set_value_on_learning_rate_fails_but_assign_works(tfk):
    m = tfk.Sequential([tfk.Input((3,)), tfk.layers.Dense(2)])
    m.compile(tfk.optimizers.SGD(0.1), "mse")
    with pytest.raises(AttributeError):
        tfk.backend.set_value(m.optimizer.learning_rate, 0.2)
    m.optimizer.learning_rate.assign(0.2)
    assert float(tfk.backend.get_value(m.optimizer.learning_rate)) == pytest.approx(0.2)


# ----------------------------------------------------------------------------- layers


def test_shape_keywords(tfk):
    L = tfk.layers
    with pytest.raises(ValueError):
        L.Dense(3, batch_input_shape=(None, 4))
    with pytest.raises(ValueError):
        L.LSTM(3, input_length=5)
    sig = params(L.Input)
    assert {"shape", "batch_shape", "batch_size"} <= sig
    assert "input_dim" in params(L.Embedding.__init__)  # vocabulary size, not a shape


def test_pooling_defaults(tfk, k3):
    for root in (tfk, k3):
        L = root.layers
        for name, default in T.POOLING_WITHOUT_DEFAULT.items():
            cls = resolve(root, name)
            with pytest.raises(TypeError):
                cls()
            cls(pool_size=eval(default))
        # the other (non-global, non-adaptive) pooling layers still have a default
        for name in dir(L):
            if ("Pool" in name and not name.startswith(("Global", "Adaptive"))
                    and f"layers.{name}" not in T.POOLING_WITHOUT_DEFAULT):
                getattr(L, name)()


def test_removed_layer_keywords(tfk):
    L = tfk.layers
    with pytest.raises(ValueError):
        L.Embedding(10, 3, dropout=0.2)
    with pytest.raises(ValueError):
        L.BatchNormalization(mode=0)
    with pytest.raises(ValueError):
        L.Dense(3, weights=[])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        L.Embedding(10, 3, input_length=5)
    assert any("input_length" in str(w.message) for w in caught)
    for name in T.WEIGHTS_ACCEPTED:
        assert "weights" in params(resolve(tfk, name).__init__)


# ----------------------------------------------------------------------------- utilities, backend


@pytest.mark.parametrize("func", sorted(T.FUNCTION_KEYWORDS))
def test_function_keywords(tfk, func):
    sig = params(resolve(tfk, func))
    for old, new in T.FUNCTION_KEYWORDS[func].items():
        assert old not in sig and new in sig  # imdb.load_data also takes **kwargs: `nb_words` is ignored there


def test_backend_tables(tfk, k3):
    for name in T.BACKEND_GONE:
        assert not hasattr(tfk.backend, name) and not hasattr(k3.backend, name), name
    for name in (*T.BACKEND_TO_OPS, *T.BACKEND_TO_OPS_POSITIONAL, *T.BACKEND_TF_ONLY_HINTS):
        assert hasattr(tfk.backend, name) and not hasattr(k3.backend, name), name
    assert T.KERAS3_BACKEND == {n for n in dir(k3.backend) if not n.startswith("_")}


@pytest.mark.parametrize("name", sorted(T.BACKEND_TO_OPS))
def test_backend_to_ops_twins_agree(tfk, k3, name):
    """Same parameter names and defaults, so `K.f(...)` -> `keras.ops.g(...)` keeps its meaning."""
    old = inspect.signature(getattr(tfk.backend, name)).parameters
    new = inspect.signature(getattr(k3.ops, T.BACKEND_TO_OPS[name])).parameters
    assert list(old)[: len(new)] == list(new)[: len(old)], (list(old), list(new))
    for p in old.values():
        assert p.name in new, p.name
        assert new[p.name].default == p.default, (p.name, p.default, new[p.name].default)


@pytest.mark.parametrize("name", sorted(T.BACKEND_TO_OPS_POSITIONAL))
def test_backend_to_ops_positional_twins_agree(tfk, k3, name):
    """Same number of parameters and the same defaults by position (names may differ)."""
    old = list(inspect.signature(getattr(tfk.backend, name)).parameters.values())
    new = list(inspect.signature(getattr(k3.ops, T.BACKEND_TO_OPS_POSITIONAL[name])).parameters.values())
    assert len(old) == len(new)
    assert [p.default for p in old] == [p.default for p in new]


def test_sklearn_wrappers(tfk, k3):
    for new in T.SKLEARN_WRAPPERS.values():
        assert has(tfk, new) and has(k3, new)
    for root in ("tensorflow.keras", "keras"):
        with pytest.raises(ImportError):
            importlib.import_module(f"{root}.{T.SKLEARN_MODULE}")


def test_deprecated_preprocessing(tfk, k3):
    for name in T.DEPRECATED_PREPROCESSING:
        assert has(tfk, name), name  # still in TF 2.21's tf.keras
        assert not has(k3, name), name  # gone from standalone Keras 3


@pytest.mark.parametrize("target", sorted(T.OLD_NAMES_BY_TARGET))
def test_old_names(tfk, k3, target):
    root = tfk if target == "tensorflow.keras" else k3
    for old, new in T.OLD_NAMES_BY_TARGET[target].items():
        assert not has(root, old), (target, old)
        if new is not None:
            assert has(root, new), (target, new)
            assert old.split(".")[0] == new.split(".")[0]  # the rule renames inside one module
