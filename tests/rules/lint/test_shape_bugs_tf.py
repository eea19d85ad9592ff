"""fixtures/shape_bugs/ run on TensorFlow 2.21: each fixed program trains, and each buggy one
fails the way its rule says (raises), or, for the silent bugs, runs without telling.

The datasets are replaced by random arrays of the documented dtypes and per-sample shapes with
fewer samples (the programs' literal sample counts are scaled the same way), and `fit` runs one
epoch quietly: the shapes and the failures are those of the real programs. Programs written
for Keras 2 are first moved to TensorFlow 2.21 by kmigrate's own KM1xx/KM3xx fixes.
"""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from kmigrate.rules.analysis.data_shapes import DATASETS
from tests.rules.lint.test_shape_bugs import HELDOUT, HELDOUT2, HELDOUT3, expected_code, pairs

pytestmark = pytest.mark.tf

SCALE = {60000: 600, 10000: 100, 50000: 500, 25000: 250, 404: 40, 102: 10}
# Bugs Keras does not raise on: the program trains, on the wrong thing.
SILENT = {
    "km520_binary_head_multiclass",  # class ids 0..9 scored by one sigmoid
    "km521_binary_on_onehot",  # binary cross-entropy over 10 one-hot columns
    "km525_mnist_raw", "km525_cifar_raw", "km525_functional_fashion", "km525_astype_only",
    "km525_cifar100_astype", "km525_fashion_cnn_raw",
    "km520_regression_three_targets",  # mse broadcasts (N, 1) against (N, 3)
    "km521_subclass_binary_onehot", "km525_split_before_scaling",
}
# The NameError needs the model or builder to run; these programs only define them.
DEFINITIONS_ONLY = {"km524_call_undefined_hidden", "km524_ctor_arg_in_call", "km524_layer_typo",
                    "km524_class_attribute_bare", "km524_functional_builder", "km524_build_weight_units",
                    "km524_subclass_units_attr",
                    # these read a CSV file (and pandas is not a test dependency)
                    "km523_csv_lstm_after_dense", "km522_csv_conv_no_channel_decl"}


def _fake(name):
    xtr, ytr, xte, yte, classes, image = DATASETS[name]
    rng = np.random.default_rng(0)

    def make(shape, labels):
        if shape is None:
            return None
        shape = (SCALE[shape[0]],) + tuple(shape[1:])
        if labels:
            return rng.integers(0, classes or 2, size=shape).astype("uint8" if image else "int64")
        return rng.integers(0, 256, size=shape).astype("uint8") if image else rng.random(shape)

    def load_data(**kwargs):
        if name == "imdb":
            seqs = np.empty(SCALE[25000], dtype=object)
            for i in range(len(seqs)):
                seqs[i] = list(rng.integers(1, 50, size=rng.integers(5, 50)))
            return (seqs, make(ytr, True)), (seqs[:SCALE[25000]], make(yte, True))
        return (make(xtr, False), make(ytr, True)), (make(xte, False), make(yte, True))

    return load_data


@pytest.fixture(scope="module")
def keras_patched():
    import keras

    saved = {}
    for name in ("mnist", "fashion_mnist", "cifar10", "cifar100", "imdb", "boston_housing"):
        mod = getattr(keras.datasets, name)
        saved[mod] = mod.load_data
        mod.load_data = _fake(name)
    fit = keras.Model.fit

    def quick_fit(self, *args, **kwargs):
        kwargs.update(epochs=1, verbose=0)
        return fit(self, *args, **kwargs)

    keras.Model.fit = quick_fit
    yield keras
    keras.Model.fit = fit
    for mod, f in saved.items():
        mod.load_data = f


def _migrated(text: str) -> str:
    """Old Keras APIs (`keras.utils.np_utils`...) moved to TensorFlow 2.21 by kmigrate itself."""
    from kmigrate.engine import Options, fix_text
    from kmigrate.rule import select_rules

    return fix_text(text, "program.py", Options(rules=tuple(select_rules(["KM1", "KM3"], [])))).text


def _run(text: str) -> None:
    text = _migrated(text)
    for big, small in SCALE.items():
        text = re.sub(rf"\b{big}\b", str(small), text)
    namespace = {"__name__": "__shape_bug__"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(text, "<program>", "exec"), namespace)


CASES = [p for p in pairs() + pairs(HELDOUT) + pairs(HELDOUT2) + pairs(HELDOUT3) if p.stem not in DEFINITIONS_ONLY]


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_fixed_program_runs_and_buggy_one_fails_as_said(keras_patched, path):
    fixed = path.with_name(path.stem + ".fixed.py").read_text(encoding="utf-8")
    _run(fixed)
    buggy = path.read_text(encoding="utf-8")
    if path.stem in SILENT:
        _run(buggy)
        return
    with pytest.raises(Exception) as info:
        _run(buggy)
    if expected_code(path) == "KM524":
        assert isinstance(info.value, NameError)
