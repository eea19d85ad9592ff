"""KM501..KM507 against real Keras (TensorFlow 2.21 / Keras 3): the claims the rules make hold,
and the fixes change nothing a model does. One module-scoped TensorFlow import for all tests;
the fixture files themselves are executed (they are small, runnable scripts)."""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from kmigrate.testing import header_options, run_snippet

from tests.conftest import FIXTURES

pytestmark = pytest.mark.tf


@pytest.fixture(scope="module")
def tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore")
    import tensorflow

    return tensorflow


def _exec(path: Path, text: str | None = None) -> dict:
    ns: dict = {"__name__": "fixture"}
    exec(compile(text if text is not None else path.read_text(), str(path), "exec"), ns)
    return ns


def _fixed(code: str, case: str) -> tuple[str, str]:
    before = (FIXTURES / code / f"{case}.py").read_text()
    out = run_snippet(code, before, **header_options(before))
    assert out.text == (FIXTURES / code / f"{case}.fixed.py").read_text()
    return before, out.text


def _shapes(model) -> list[tuple]:
    return [tuple(w.shape) for w in model.weights]


def test_km501_course_model_cannot_run(tf):
    ns = _exec(FIXTURES / "KM501" / "course_subclass.py")
    with pytest.raises(UnboundLocalError):
        ns["MyModel"]()(tf.zeros((2, 10)))


def test_km502_softmax_with_from_logits(tf):
    keras = tf.keras
    logits = tf.constant([[4.0, 1.0, -2.0]])
    probs = keras.activations.softmax(logits)
    y = tf.constant([0])
    right = float(keras.losses.SparseCategoricalCrossentropy()(y, probs))
    # Keras' TensorFlow backend recognises a softmax output and uses its logits, with a warning
    with pytest.warns(UserWarning, match="Was this intended"):
        rescued = float(keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, probs))
    assert rescued == pytest.approx(right)
    # any other path (other backends, a plain tensor, an op after softmax) applies softmax twice
    plain = tf.constant(probs.numpy())
    twice = float(keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, plain))
    assert twice > right + 0.3


def test_km503_unused_layer_is_unbuilt(tf):
    ns = _exec(FIXTURES / "KM503" / "unused.py")
    model = ns["LeNet"]()
    model(tf.zeros((1, 32, 32, 1)))
    assert not model.fc_1.built and model.fc_2.built


def test_km504_removed_input_shape_changes_nothing(tf):
    before, after = _fixed("KM504", "course_lenet")
    models = [_exec(FIXTURES / "KM504" / "course_lenet.py", text)["LeNet"]() for text in (before, after)]
    outs = [m(tf.zeros((1, 32, 32, 1))) for m in models]
    assert outs[0].shape == outs[1].shape and _shapes(models[0]) == _shapes(models[1])

    before, after = _fixed("KM504", "sequential_non_first")
    a, b = (_exec(FIXTURES / "KM504" / "sequential_non_first.py", t) for t in (before, after))
    for name in ("model", "other"):
        assert a[name].input_shape == b[name].input_shape
        assert a[name].output_shape == b[name].output_shape
        assert _shapes(a[name]) == _shapes(b[name])
    assert a["model"].input_shape == (None, 500)  # the first layer's shape is the one that counts

    before, after = _fixed("KM504", "functional")
    a, b = (_exec(FIXTURES / "KM504" / "functional.py", t) for t in (before, after))
    assert a["x"].shape == b["x"].shape


def test_km504_batch_input_shape_raises_in_keras3(tf):
    with pytest.raises(ValueError, match="batch_input_shape"):
        tf.keras.layers.Dense(3, batch_input_shape=(None, 4))


def test_km505_fix_keeps_models_and_missing_init_raises(tf):
    before, after = _fixed("KM505", "course_super")
    for text in (before, after):
        ns = _exec(FIXTURES / "KM505" / "course_super.py", text)
        assert ns["MyModel"]()(tf.zeros((2, 5))).shape == (2, 20)
        assert ns["LeNet"](name="lenet").name == "lenet"
    snippet = (
        "from tensorflow import keras\n"
        "class Attention(keras.layers.Layer):\n"
        "    def __init__(self, units):\n"
        "        self.units = units\n"
        "    def call(self, x):\n"
        "        return x\n"
    )
    assert [f.code for f in run_snippet("KM505", snippet).findings] == ["KM505"]
    ns = _exec(Path("snippet.py"), snippet)
    with pytest.raises(RuntimeError, match="super"):
        ns["Attention"](3)(tf.zeros((1, 3)))


def test_km506_claims(tf):
    keras = tf.keras
    one = keras.layers.Dense(1, activation="softmax")
    assert bool(tf.reduce_all(one(tf.random.normal((4, 3))) == 1.0))  # softmax over one unit: always 1
    p = tf.constant([[0.3], [0.9]])
    loss = keras.losses.categorical_crossentropy(tf.constant([[1.0], [0.0]]), p)
    assert float(tf.reduce_max(tf.abs(loss))) < 1e-6  # cross-entropy over one class: always 0


def test_km507_dense_after_pooling_keeps_spatial_axes(tf):
    ns = _exec(FIXTURES / "KM507" / "conv_then_dense.py")
    assert len(ns["model"].output_shape) == 4
    assert len(ns["outputs"].shape) == 4
    assert len(ns["Net"]()(tf.zeros((1, 16, 16, 3))).shape) == 4
