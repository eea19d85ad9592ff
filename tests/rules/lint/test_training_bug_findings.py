"""KM508..KM513: what the generic fixture/example tests cannot say.

The generic tests ignore info-level findings in noop cases and accept extra findings; here every
noop fixture of these rules must be silent at every severity, every firing fixture must give
exactly the findings its .messages file lists, and names are resolved however they are spelled.
"""
from __future__ import annotations

import pytest

from kmigrate.testing import fixture_cases, header_options, run_snippet

from tests.conftest import FIXTURES

CODES = ("KM508", "KM509", "KM510", "KM511", "KM512", "KM513")
CASES = [c for c in fixture_cases(FIXTURES) if c.code in CODES]


def test_every_rule_has_firing_and_noop_fixtures():
    for code in CODES:
        kinds = {c.kind for c in CASES if c.code == code}
        assert "noop" in kinds and kinds & {"fix", "report"}, code


@pytest.mark.parametrize("case", [c for c in CASES if c.kind == "noop"], ids=lambda c: c.id)
def test_noop_fixtures_are_silent_at_every_severity(case):
    text = case.path.read_text(encoding="utf-8")
    out = run_snippet(case.code, text, path=str(case.path), **header_options(text))
    assert [f"{f.line} {f.message}" for f in out.findings] == []


@pytest.mark.parametrize("case", [c for c in CASES if c.kind != "noop" and c.messages_path.exists()],
                         ids=lambda c: c.id)
def test_firing_fixtures_give_exactly_the_listed_findings(case):
    text = case.path.read_text(encoding="utf-8")
    out = run_snippet(case.code, text, path=str(case.path), **header_options(text))
    listed = [line.split(" ", 2) for line in case.messages_path.read_text().splitlines() if line.strip()]
    # one finding per listed line (a line may be listed twice to check two parts of a message)
    assert sorted(f.line for f in out.findings) == sorted({int(n) for n, _, _ in listed}), out.findings


def codes(code: str, text: str, **opts) -> list[int]:
    return [f.line for f in run_snippet(code, text, **opts).findings if f.code == code]


@pytest.mark.parametrize("imports,prefix", [
    ("import tensorflow as T\n", "T.keras.layers."),
    ("from keras.layers.recurrent import LSTM as R\n", ""),  # Keras 2 module path
    ("import keras.layers as KL\n", "KL."),
    ("from tensorflow.python.keras import layers as L\n", "L."),
])
def test_km508_any_spelling(imports, prefix):
    name = "R" if not prefix else prefix + "LSTM"
    seq = "T.keras.Sequential" if prefix.startswith("T.") else "Seq"
    text = imports + ("" if seq.startswith("T.") else "from keras.models import Sequential as Seq\n")
    text += f"m = {seq}([{name}(8), {name}(4)])\n"
    assert codes("KM508", text) == [text.count("\n")]


def test_km508_positional_and_literal_cases():
    base = "from tensorflow.keras import layers, Sequential\n"
    # RNN's second positional argument is return_sequences
    assert codes("KM508", base + "m = Sequential([layers.RNN(c, False), layers.LSTM(4)])\n") == [2]
    assert codes("KM508", base + "m = Sequential([layers.RNN(c, True), layers.LSTM(4)])\n") == []
    assert codes("KM508", base + "m = Sequential([layers.RNN(c, flag), layers.LSTM(4)])\n") == []
    # return_state: the output is a list
    assert codes("KM508", base + "m = Sequential([layers.LSTM(4, return_state=True), layers.LSTM(4)])\n") == []


def test_km508_fix_only_with_unsafe_fixes():
    text = "import keras\nm = keras.Sequential([keras.layers.GRU(4), keras.layers.GRU(4)])\n"
    assert run_snippet("KM508", text).text == text
    fixed = run_snippet("KM508", text, unsafe_fixes=True).text
    assert "keras.layers.GRU(4, return_sequences=True), keras.layers.GRU(4)" in fixed
    assert codes("KM508", fixed) == []


def test_km509_second_model_in_same_scope_is_separate():
    text = ("from tensorflow import keras\nd = keras.layers.Dense(4)\n"
            "a = keras.Sequential([d])\nb = keras.Sequential([d])\n")
    assert codes("KM509", text) == []  # two models sharing a layer on purpose: not this rule


def test_km510_alias_kept_and_returned_models_are_silent():
    loop = "from tensorflow import keras\nfor u in (1, 2):\n    m = keras.Sequential()\n"
    assert codes("KM510", loop) == [3]
    assert codes("KM510", loop + "    best = m\n") == []
    assert codes("KM510", loop + "    yield_all = [m]\n") == []


def test_km511_noqa_and_global_use():
    text = "import keras\nm = keras.Sequential()\nm.fit(x, y)  # noqa: KM511\n"
    assert codes("KM511", text) == []
    text = "import keras\nm = keras.Sequential()\ndef setup():\n    m.compile(loss='mse')\nm.fit(x, y)\n"
    assert codes("KM511", text) == []
    text = "import keras\nm = keras.Sequential()\ndef use():\n    return m.fit(x, y)\n"
    assert codes("KM511", text) == []  # the fit is in another scope than the model


def test_km512_loss_function_spellings():
    base = "from tensorflow import keras\nfrom tensorflow.keras import losses\n"
    for loss in ("'mae'", "'huber_loss'", "losses.mean_squared_error", "keras.losses.Huber(delta=2.0)",
                 "keras.losses.MSE"):
        assert codes("KM512", base + f"m.compile(optimizer='sgd', loss={loss}, metrics=['accuracy'])\n") == [3], loss
    for loss in ("'poisson'", "losses.BinaryCrossentropy()", "custom_loss", "losses.mean_squared_error()"):
        assert codes("KM512", base + f"m.compile(optimizer='sgd', loss={loss}, metrics=['accuracy'])\n") == [], loss


def test_km513_rename_keeps_other_inputs():
    text = ("import keras\nclass L(keras.layers.Layer):\n    def call(self, input, mask=None):\n"
            "        return keras.ops.where(mask, input, 0) if mask is not None else input\n")
    out = run_snippet("KM513", text, unsafe_fixes=True)
    assert out.text == text.replace("input", "inputs")
    assert [f.severity for f in out.findings] == ["info"]


def test_facts_are_rebuilt_for_each_module():
    a = "import keras\nclass A(keras.Model):\n    def call(self, input):\n        return input\n"
    b = "import keras\nclass A:\n    def call(self, input):\n        return input\n"
    assert codes("KM513", a) == [3]
    assert codes("KM513", b) == []
    assert codes("KM513", a) == [3]


def test_all_rules_together_on_these_fixtures_do_not_crash():
    for case in CASES:
        out = run_snippet(case.code, case.path.read_text(encoding="utf-8"), path=str(case.path),
                          select="KM", unsafe_fixes=True)
        assert not [f for f in out.findings if f.code == "KM000"], case.id
