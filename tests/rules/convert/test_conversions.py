"""KM4xx model-style conversions: refusals leave files byte-identical, conversions are verified
with TensorFlow (same layers, configs, parameter count and outputs), Sequential -> functional ->
Sequential round trips.

Fixture convention: every conversion fixture binds the model at module level as `model`.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys

import pytest

from kmigrate.engine import Options
from kmigrate.process import process_file
from kmigrate.rule import select_rules
from kmigrate.testing import fixture_cases, header_options, run_snippet

from tests.conftest import FIXTURES

CODES = ("KM401", "KM402", "KM403")
CASES = [c for c in fixture_cases(FIXTURES) if c.code in CODES]
CONVERSIONS = [c for c in CASES if c.kind == "fix"]
REFUSALS = [c for c in CASES if c.kind == "report"]
# Sequential fixtures whose functional form is a straight chain again (no control flow):
ROUND_TRIP = [c for c in CONVERSIONS if c.code == "KM401"
              and not re.search(r"^\s*(if|for|while)\b|;", c.path.read_text(encoding="utf-8"), re.M)]


def _text(path) -> str:
    return path.read_text(encoding="utf-8")


def test_enough_fixtures():
    assert len(CONVERSIONS) >= 25, len(CONVERSIONS)
    assert len(REFUSALS) >= 15, len(REFUSALS)
    for c in REFUSALS:
        assert c.messages_path.exists(), f"refusal {c.id} must say why (.messages)"
    assert {c.code for c in CONVERSIONS} == set(CODES)


@pytest.mark.parametrize("case", REFUSALS, ids=[c.id for c in REFUSALS])
def test_refusal_leaves_file_byte_identical(case, tmp_path):
    """Through the file-level engine (what the CLI writes): nothing to write, and the reason is given."""
    target = tmp_path / case.path.name
    shutil.copyfile(case.path, target)
    raw = target.read_bytes()
    opts = header_options(_text(case.path))
    options = Options(rules=tuple(select_rules([case.code], [])), to=opts["to"])
    result = process_file(str(target), options)
    assert not result.error, result.findings
    assert result.new is None and target.read_bytes() == raw
    messages = [f.message for f in result.findings if f.code == case.code]
    assert messages and all(m.startswith("not converted") or "not converted" in m for m in messages), messages
    assert not any(f.fix_applied for f in result.findings)


def test_without_to_nothing_is_converted():
    for case in CONVERSIONS:
        opts = {k: v for k, v in header_options(_text(case.path)).items() if k != "to"}
        out = run_snippet(case.code, _text(case.path), **opts)
        assert out.text == _text(case.path) and out.findings == [], case.id


def test_wrong_direction_does_nothing():
    for case in CONVERSIONS:
        opts = header_options(_text(case.path))
        opts["to"] = "sequential" if opts["to"] == "functional" else "functional"
        out = run_snippet(case.code, _text(case.path), **opts)
        assert out.text == _text(case.path), case.id


@pytest.mark.parametrize("case", ROUND_TRIP, ids=[c.id for c in ROUND_TRIP])
def test_round_trip_text_converts_back(case):
    functional = _text(case.fixed_path)
    back = run_snippet("KM402", functional, to="sequential")
    assert back.text != functional, [f.message for f in back.findings]
    assert "Sequential(" in back.text and "Model(" not in back.text.replace("models.Model", "")


def test_cli_to_functional_and_check(tmp_path):
    """The real command line: --check reports without writing; --to converts in place."""
    case = next(c for c in CONVERSIONS if c.path.stem == "list_keras_attr")
    target = tmp_path / "m.py"
    shutil.copyfile(case.path, target)
    before = target.read_bytes()
    env = dict(os.environ, PYTHONPATH=str(FIXTURES.parent))
    cmd = [sys.executable, "-m", "kmigrate", "--select", "KM4"]
    check = subprocess.run([*cmd, "--to", "functional", "--check", str(target)], capture_output=True,
                           text=True, env=env, cwd=tmp_path)
    assert check.returncode != 0 and target.read_bytes() == before, check.stdout + check.stderr
    plain = subprocess.run([*cmd, str(target)], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert target.read_bytes() == before, plain.stdout + plain.stderr  # no --to: style is left alone
    run = subprocess.run([*cmd, "--to", "functional", str(target)], capture_output=True, text=True, env=env,
                         cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert target.read_text() == _text(case.fixed_path)


# ------------------------------------------------------------------------------ TensorFlow


@pytest.fixture(scope="module")
def tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow

    return tensorflow


@contextlib.contextmanager
def _keras2_batch_input_shape(tf):
    """Run Keras 2 code that passes `batch_input_shape=` to a layer as Keras 2 did (Keras 3 rejects it)."""
    from keras.src.layers.layer import Layer

    original = Layer.__init__

    def patched(self, *args, **kwargs):
        shape = kwargs.pop("batch_input_shape", None)
        if shape is not None:
            kwargs["input_shape"] = tuple(shape[1:])
        original(self, *args, **kwargs)

    Layer.__init__ = patched
    try:
        yield
    finally:
        Layer.__init__ = original


def _model(tf, text: str, path: str):
    namespace = {"__name__": "kmigrate_fixture"}
    shim = _keras2_batch_input_shape(tf) if "batch_input_shape" in text else contextlib.nullcontext()
    with shim:
        exec(compile(text, path, "exec"), namespace)
    return namespace["model"]


def _layers(tf, model, weighted_only=False):
    out = [layer for layer in model.layers if not isinstance(layer, tf.keras.layers.InputLayer)]
    return [layer for layer in out if layer.weights] if weighted_only else out


def _config(layer):
    config = dict(layer.get_config())
    config.pop("name", None)
    return config


def _sample(model, seed=0):
    import numpy as np

    shape = tuple(d if d is not None else 3 for d in model.inputs[0].shape)
    return np.random.default_rng(seed).integers(0, 5, size=shape).astype("float32")


def assert_equivalent(tf, original, converted, subclass=False):
    """Same layer classes in order, configs (names aside), parameter count, and outputs."""
    import numpy as np

    x = _sample(converted)
    if subclass:
        original(x)  # a subclassed model is built on its first call
    a = _layers(tf, original, weighted_only=subclass)
    b = _layers(tf, converted, weighted_only=subclass)
    assert [type(layer).__name__ for layer in a] == [type(layer).__name__ for layer in b]
    if subclass:
        assert {type(layer).__name__ for layer in _layers(tf, original)} == \
            {type(layer).__name__ for layer in _layers(tf, converted)}
    for la, lb in zip(a, b):
        assert _config(la) == _config(lb), type(la).__name__
    assert original.count_params() == converted.count_params()
    for la, lb in zip(a, b):
        lb.set_weights(la.get_weights())
    np.testing.assert_allclose(np.asarray(original(x, training=False)), np.asarray(converted(x, training=False)),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.tf
@pytest.mark.parametrize("case", CONVERSIONS, ids=[c.id for c in CONVERSIONS])
def test_conversion_builds_the_same_model(tf, case):
    tf.keras.backend.clear_session()
    original = _model(tf, _text(case.path), str(case.path))
    converted = _model(tf, _text(case.fixed_path), str(case.fixed_path))
    if case.code == "KM402":
        assert isinstance(converted, tf.keras.Sequential) and not isinstance(original, tf.keras.Sequential)
    else:
        assert not isinstance(converted, tf.keras.Sequential) and type(converted).__name__ == "Functional"
    assert_equivalent(tf, original, converted, subclass=case.code == "KM403")


@pytest.mark.tf
@pytest.mark.parametrize("case", ROUND_TRIP, ids=[c.id for c in ROUND_TRIP])
def test_round_trip_gives_an_equivalent_model(tf, case):
    tf.keras.backend.clear_session()
    back = run_snippet("KM402", _text(case.fixed_path), to="sequential").text
    original = _model(tf, _text(case.path), str(case.path))
    again = _model(tf, back, str(case.path) + "#round-trip")
    assert isinstance(again, tf.keras.Sequential)
    assert_equivalent(tf, original, again)
