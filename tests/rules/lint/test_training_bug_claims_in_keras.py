"""The claims KM508..KM513 make, checked against the installed TensorFlow 2.21 (Keras 3).

Each case lints a snippet (the rule must fire, or must be silent for the near miss), then runs
the snippet, and where the rule offers a fix the fixed snippet too, in this one process, and
checks what the rule's message says happens.
"""
from __future__ import annotations

import pytest

from kmigrate.testing import run_snippet

pytestmark = pytest.mark.tf

HEAD = "import numpy as np\nfrom tensorflow import keras\nfrom tensorflow.keras import layers\n"


@pytest.fixture(scope="module")
def tf():
    import tensorflow

    return tensorflow


def run(text: str) -> dict:
    ns: dict = {}
    exec(compile(text, "<snippet>", "exec"), ns)
    return ns


def lint(code: str, text: str, **opts):
    out = run_snippet(code, text, **opts)
    return [f for f in out.findings if f.code == code], out.text


def test_km508_stacked_lstm_fails_and_fix_builds(tf):
    text = HEAD + "m = keras.Sequential([keras.Input((5, 3)), layers.LSTM(4), layers.LSTM(2)])\n"
    found, fixed = lint("KM508", text, unsafe_fixes=True)
    assert len(found) == 1 and "expected ndim=3, found ndim=2" in found[0].message
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=2"):
        run(text)
    assert run(fixed)["m"].output_shape == (None, 2)
    # ConvLSTM2D: the ranks in the message are the ones Keras reports
    conv = HEAD + ("m = keras.Sequential([keras.Input((2, 6, 6, 1)), layers.ConvLSTM2D(2, 3),"
                   " layers.ConvLSTM2D(2, 3)])\n")
    found, _ = lint("KM508", conv)
    with pytest.raises(ValueError, match="expected ndim=5, found ndim=4"):
        run(conv)
    assert "expected ndim=5, found ndim=4" in found[0].message


def test_km509_reused_layer_shares_weights(tf):
    text = HEAD + "d = layers.Dense(4)\nm = keras.Sequential([keras.Input((4,)), d, d])\n"
    found, _ = lint("KM509", text)
    assert len(found) == 1
    assert len(run(text)["m"].weights) == 2  # two positions, one kernel and one bias
    rep = HEAD + "m = keras.Sequential([keras.Input((4,))] + [layers.Dense(4)] * 2)\n"
    found, fixed = lint("KM509", rep, unsafe_fixes=True)
    assert len(found) == 1
    assert len(run(rep)["m"].weights) == 2
    assert len(run(fixed)["m"].weights) == 4  # the fix gives separate layers


def test_km510_layer_names_keep_counting_without_clear_session(tf):
    loop = HEAD + ("names = []\nfor i in range(2):\n{clear}"
                   "    m = keras.Sequential([keras.Input((4,)), layers.Dense(2)])\n"
                   "    names.append(m.layers[-1].name)\n")
    without = loop.format(clear="")
    found, _ = lint("KM510", without)
    assert len(found) == 1 and "layer names go on counting" in found[0].message
    names = run(without)["names"]
    assert names[0] != names[1]  # dense_3, dense_4 ... as the course notes
    with_clear = loop.format(clear="    keras.backend.clear_session()\n")
    assert lint("KM510", with_clear)[0] == []
    names = run(with_clear)["names"]
    assert names[0] == names[1] == "dense"


def test_km511_fit_without_compile_raises(tf):
    text = HEAD + ("m = keras.Sequential([keras.Input((3,)), layers.Dense(1)])\n"
                   "m.fit(np.zeros((4, 3)), np.zeros((4, 1)), verbose=0)\n")
    found, _ = lint("KM511", text)
    assert len(found) == 1
    with pytest.raises(ValueError, match=r"You must call `compile\(\)` before using the model"):
        run(text)
    compiled = text.replace("m.fit", "m.compile(optimizer='sgd', loss='mse')\nm.fit")
    assert lint("KM511", compiled)[0] == []
    run(compiled)


def test_km512_accuracy_is_meaningless_for_regression(tf):
    text = HEAD + ("keras.utils.set_random_seed(0)\n"
                   "m = keras.Sequential([keras.Input((3,)), layers.Dense(1)])\n"
                   "m.compile(optimizer='adam', loss='mse', metrics=['accuracy'])\n"
                   "x = np.random.rand(64, 3)\ny = x @ np.array([[1.5], [-2.0], [0.7]]) + 0.1\n"
                   "h = m.fit(x, y, epochs=3, verbose=0)\n")
    found, _ = lint("KM512", text)
    assert [f.severity for f in found] == ["info"]
    history = run(text)["h"].history
    assert max(history["accuracy"]) == 0.0


def test_km513_rename_keeps_behaviour(tf):
    text = HEAD + ("class Net(keras.Model):\n    def __init__(self):\n        super().__init__()\n"
                   "        self.d = layers.Dense(2, kernel_initializer='ones')\n"
                   "    def call(self, input):\n        return self.d(input) + input[:, :1]\n"
                   "out = Net()(np.ones((1, 3))).numpy().tolist()\n")
    found, fixed = lint("KM513", text, unsafe_fixes=True)
    assert len(found) == 1 and "def call(self, inputs)" in fixed
    assert run(text)["out"] == run(fixed)["out"] == [[4.0, 4.0]]
