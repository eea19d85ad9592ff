"""Verified, not assumed: Keras 1 and Keras 2 scripts (fixtures/scripts/, written for kmigrate)
are migrated with every default rule, then RUN on TensorFlow 2.21: each must train one short
epoch, predict, and build the model the old code meant (layers and parameter count, computed
by hand below).

Each script runs in a process of its own (forked from a child that imported TensorFlow once, two
such children at a time, with a timeout per script), so one script's global Keras state
(`set_image_data_format`, ...) cannot leak into another; the parent never imports TensorFlow.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kmigrate.config import Config
from kmigrate.process import process_file
from kmigrate.run import options_from

from tests.conftest import FIXTURES

pytestmark = pytest.mark.tf
SCRIPTS = FIXTURES / "scripts"

# Expected per script: the layers of the trained model (InputLayer left out, in order for
# Sequential models, sorted for functional ones), its parameter count, and the prediction shape.
# Parameter counts by hand: Dense(n) on d inputs = d*n + n; Conv2D(f, (k, k)) on c channels =
# k*k*c*f + f; LSTM(u) on d inputs = 4*(u*(d + u) + u); Embedding(v, d) = v*d; BatchNorm(c) = 4*c.
EXPECTED = {
    # Dense(64) on 20: 1344; Dense(10) on 64: 650
    "k1_mlp": (["Dense", "Activation", "Dropout", "Dense", "Activation"], 1344 + 650, [8]),
    # Conv2D(8, 3x3) on 1 ch: 80 (same padding keeps 12x12); pool -> 6x6; Conv2D(16, 3x3) on 8: 1168
    # (valid -> 4x4); AveragePooling2D(2x2) -> 2x2x16 = 64; Dense(10) on 64: 650. A Keras-1
    # `Convolution2D(8, 3, 3)` misread as strides 3 would not even build.
    "k1_cnn": (["Conv2D", "Activation", "MaxPooling2D", "Conv2D", "AveragePooling2D", "Flatten", "Dense",
                "Activation"], 80 + 1168 + 650, [4]),
    # Embedding(100, 8): 800; LSTM(16) on 8: 4*(16*24+16) = 1600; Dense(1) on 16: 17
    "k1_lstm": (["Embedding", "LSTM", "Dense"], 800 + 1600 + 17, [5, 1]),
    # Dense(8) on 4: 40; Dense(8) on 6: 56; concat -> 16; Dense(3) on 16: 51
    "k1_merge": (sorted(["Dense", "Dense", "Concatenate", "Dense"]), 40 + 56 + 51, [32, 3]),
    # Dense(8) on 20: 168; Dense(20) on 8: 180
    "k1_autoencoder": (sorted(["Dense", "Dense"]), 168 + 180, [4, 20]),
    # Flatten 8x8x1 -> 64; Dense(16): 1040; Dense(3): 51
    "k1_generator": (["Flatten", "Dense", "Dense"], 1040 + 51, [32, 3]),
    # Dense(32) on 10: 352; Dense(4) on 32: 132
    "k2_mlp": (["Dense", "Dropout", "Dense"], 352 + 132, [6]),
    # Dense(16) on 6: 112; Dense(1) on 16: 17; the features model gives the first layer's 16
    "k2_feature_extractor": (["Dense", "Dense"], 112 + 17, [5, 16]),
    # Conv2D(4) on 1: 40; BatchNorm(4): 16; avg pool -> 4x4x4; Conv2D(8) on 4: 296 -> 2x2; max pool
    # -> 1x1x8; Dense(2) on 8: 18
    "k2_cnn": (["Conv2D", "BatchNormalization", "Activation", "AveragePooling2D", "Conv2D", "MaxPooling2D",
                "Flatten", "Dense"], 40 + 16 + 296 + 18, [3]),
    # Embedding(50, 8): 400; LSTM(8) on 8: 4*(8*16+8) = 544; Dense(1) on 8: 9
    "k2_lstm": (["Embedding", "LSTM", "Dense"], 400 + 544 + 9, [4, 1]),
    # Dense(4) on 5: 24; Dense(4) on 3: 16; Dense(1) on 8: 9
    "k2_merge": (sorted(["Dense", "Dense", "Concatenate", "Dense"]), 24 + 16 + 9, [20, 1]),
    # Dense(6) on 16: 102; Dense(16) on 6: 112
    "k2_autoencoder": (sorted(["Dense", "Dense"]), 102 + 112, [4, 16]),
    # Dense(8) on 6: 56; Dense(2) on 8: 18; predict over 2 steps of 16
    "k2_generator": (["Dense", "Dense"], 56 + 18, [32, 2]),
    # image_dim_ordering() branches ('tf'): Conv2D(4, 3x3) on 1: 40; BatchNorm(4): 16; pool -> 5x5x4 = 100;
    # Dense(3) on 100: 303
    "k1_cnn_dim_ordering": (["Conv2D", "BatchNormalization", "Activation", "MaxPooling2D", "Flatten", "Dense",
                             "Activation"], 40 + 16 + 303, [16, 3]),
    # LSTM(6) on 2: 4*(6*8+6) = 216; Dense(1) on 6: 7 (stateful, reset_states per layer)
    "k1_stateful_lstm": (["LSTM", "Dense"], 216 + 7, [16, 1]),
    # Merge of Sequential branches: Dense(8) on 4: 40; Dense(6) on 3: 24; concat 14; Dense(2) on 14: 30
    "k1_merge_sequential": (sorted(["Dense", "Dense", "Concatenate", "Dropout", "Dense"]), 40 + 24 + 30, [32, 2]),
    # Embedding(30, 5) from weights=[matrix]: 150; Dense(2) on 5 from weights=[W, b]: 12 (the script
    # asserts both layers start with the given arrays)
    "k1_pretrained_embedding": (["Embedding", "GlobalAveragePooling1D", "Dense"], 150 + 12, [16, 2]),
    # KerasRegressor -> SKLearnRegressor: Dense(6) on 5 (hidden=6 reaches the build function): 36; Dense(1): 7
    "k2_sklearn_regressor": (["Dense", "Dense"], 36 + 7, [32, 1]),
    # KerasClassifier -> SKLearnClassifier (unsafe): Dense(8) on 4: 40; Dense(3) on 8: 27
    "k1_sklearn_classifier": (["Dense", "Dense"], 40 + 27, [30, 3]),
    # VAE: Dense(6) on 12: 78; two Dense(2) on 6: 28; Dense(6) on 2: 18; Dense(12) on 6: 84; the loss layer: 0
    "k2_vae": (sorted(["Dense", "Dense", "Dense", "Lambda", "Dense", "Dense", "VaeLoss"]), 78 + 28 + 18 + 84, [16, 12]),
    # the same VAE, Keras 1 style: the loss closure over z_mean/z_log_var becomes the loss layer
    "k1_vae_loss_closure": (sorted(["Dense", "Dense", "Dense", "Lambda", "Dense", "Dense", "VaeLoss"]),
                            78 + 28 + 18 + 84, [16, 12]),
    # SimpleRNN(6) on 3: 6*3 + 6*6 + 6 = 60; Dense(2) on 6: 14 (the script checks the tiny init std)
    "k1_init_lambda": (["SimpleRNN", "Dense"], 60 + 14, [16, 2]),
    # hidden = np.int64(7) * 2 = 14: Dense(14) on 7: 112; num_classes = np.max(y) + 1 = 4: Dense(4) on 14: 60
    "k2_numpy_classes": (["Dense", "Dropout", "Dense"], 112 + 60, [40, 4]),
    # merge(mode='sum') of two 3-inputs; Dense(2) on 3: 8; trained with make_batches/slice_X
    "k1_slice_x": (sorted(["Add", "Dense"]), 8, [20, 2]),
    # Dense(5) on 6: 35; Dense(2) on 5: 12 (callbacks on val_acc, history['acc'])
    "k2_callbacks_acc": (["Dense", "Dense"], 35 + 12, [40, 2]),
    # TimeDistributed(Dense(6)) on 4: 30; LSTM(8) on 6: 4*(8*14+8) = 480; TimeDistributed(Dense(3)) on 8: 27
    "k1_time_distributed": (["TimeDistributed", "LSTM", "TimeDistributed", "Activation"], 30 + 480 + 27, [12, 5, 3]),
    # shared Dense(4) on 6: 28; Lambda distance (1) + Lambda difference (4) concatenated: Dense(1) on 5: 6
    "k1_merge_lambda": (sorted(["Dense", "Lambda", "Lambda", "Concatenate", "Dense"]), 28 + 6, [16, 1]),
    # Embedding(50, 8): 400; Conv1D(6, 3) on 8: 150; Dense(1) on 6: 7
    "k2_conv1d_text": (["Embedding", "Dropout", "Conv1D", "GlobalMaxPooling1D", "Dense"], 400 + 150 + 7, [24, 1]),
    # Dense(4) on 5: 24; ops.exp / ops.square on its output, concatenated: 8; Dense(2) on 8: 18
    "k2_functional_ops": (sorted(["Dense", "Concatenate", "Lambda", "Dense"]), 24 + 18, [20, 2]),
}

# A child imports TensorFlow once, then runs each script in a process of its own, forked from it
# (so one script's global Keras state, `set_image_data_format` and the like, cannot reach another),
# with an alarm as the per-script timeout; results come back through a pipe, one JSON line each.
RUNNER = r"""
import json, os, runpy, signal, sys, traceback
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import tensorflow as tf

timeout = int(sys.argv[1])
for path in sys.argv[2:]:
    name = os.path.splitext(os.path.basename(path))[0]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        signal.alarm(timeout)
        np.random.seed(0)
        try:
            g = runpy.run_path(path, run_name="__main__")
            model, preds = g["model"], np.asarray(g["preds"])
            layers = [type(l).__name__ for l in model.layers if type(l).__name__ != "InputLayer"]
            if not isinstance(model, tf.keras.Sequential):
                layers = sorted(layers)
            hist = g.get("history")
            losses = hist.history.get("loss", []) if hist is not None else []
            out = {"layers": layers, "params": int(model.count_params()), "preds": list(preds.shape),
                   "finite": bool(np.all(np.isfinite(preds))), "epochs": len(losses),
                   "loss_finite": bool(all(np.isfinite(losses)))}
        except BaseException:
            out = {"error": traceback.format_exc()[-1500:]}
        os.write(write, json.dumps(out).encode())
        os._exit(0)
    os.close(write)
    data = b""
    while True:
        chunk = os.read(read, 1 << 16)
        if not chunk:
            break
        data += chunk
    os.close(read)
    _, status = os.waitpid(pid, 0)
    result = json.loads(data) if data else {"error": f"the script's process ended with status {status} "
                                                     "(killed by the timeout?)"}
    print("E2E-RESULT " + json.dumps({name: result}), flush=True)
"""
TIMEOUT = 120  # seconds per script (each trains one tiny epoch)


def _run(paths: list, env: dict) -> dict:
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(TIMEOUT), *map(str, paths)], capture_output=True,
                          text=True, timeout=60 + TIMEOUT * len(paths), cwd=paths[0].parent, env=env)
    out = {}
    for line in proc.stdout.splitlines():
        if line.startswith("E2E-RESULT "):
            out.update(json.loads(line[len("E2E-RESULT "):]))
    for p in paths:
        out.setdefault(p.stem, {"error": "no result; stderr: " + proc.stderr[-3000:]})
    return out


def _unsafe(path: Path) -> bool:
    return path.read_text(encoding="utf-8").startswith("# e2e: --unsafe-fixes")


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """Migrate copies of every script with kmigrate's default rules; run them all in one child."""
    work = tmp_path_factory.mktemp("e2e")
    findings = {}
    for src in sorted(SCRIPTS.glob("*.py")):
        dst = work / src.name
        shutil.copy(src, dst)
        options = options_from(Config(unsafe_fixes=_unsafe(src)))
        result = process_file(str(dst), options)
        assert not result.error, [f.message for f in result.findings]
        if result.new is not None:
            dst.write_bytes(result.new)
        findings[src.stem] = result.findings
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "-1",
           "OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}
    scripts = sorted(work.glob("*.py"))
    results: dict = {}
    with ThreadPoolExecutor(max_workers=2) as pool:  # two children, half the scripts each: CI has 2 cores
        for part in pool.map(lambda half: _run(half, env), [scripts[0::2], scripts[1::2]]):
            results.update(part)
    return work, findings, results


def test_every_script_has_expectations():
    assert sorted(p.stem for p in SCRIPTS.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_migrated_script_runs_and_builds_the_meant_model(migrated, name):
    work, findings, results = migrated
    got = results[name]
    assert "error" not in got, (
        f"{name} fails after migration:\n{got['error']}\nmigrated source:\n{(work / (name + '.py')).read_text()}\n"
        "remaining findings: " + "; ".join(f"{f.line} {f.code} {f.message}" for f in findings[name]
                                           if not f.fix_applied))
    layers, params, pred_shape = EXPECTED[name]
    assert got["layers"] == layers
    assert got["params"] == params
    assert got["preds"] == pred_shape
    assert got["finite"] and got["loss_finite"]
    assert got["epochs"] == 1


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_migration_leaves_nothing_open(migrated, name):
    """After the migration nothing but info notes and (opt-in) unsafe suggestions remains."""
    _, findings, _ = migrated
    open_ = [f for f in findings[name] if not f.fix_applied and f.severity != "info"
             and f.fix_safety != "unsafe"]
    assert open_ == [], [f"{f.line} {f.code} {f.message}" for f in open_]


def test_leftover_scan_sees_the_old_apis_and_none_after_migration(migrated):
    """tests/leftovers.py (the corpus test's independent scan) is not vacuous: it finds the removed
    APIs in every original script, and in the migrated ones only what a new run still reports
    (`SGD(decay=)`: ignored by Keras 3, its fix is unsafe)."""
    from tests import leftovers

    work, findings, _ = migrated
    scanned = 0
    for src in sorted(SCRIPTS.glob("*.py")):
        before = leftovers.find(src.read_text(encoding="utf-8"))
        # The scan reads names and keywords; what it cannot see (monitor='val_acc', K.* on a symbolic
        # tensor, a NumPy layer size, a symbolic add_loss) kmigrate must still have fixed.
        assert before or any(f.fix_applied for f in findings[src.stem]), f"{src.name}: nothing old in it"
        scanned += bool(before)
        again = process_file(str(work / src.name), options_from(Config(unsafe_fixes=_unsafe(src))))
        reported = {f.line for f in again.findings}
        after = [x for x in leftovers.find((work / src.name).read_text(encoding="utf-8")) if x.line not in reported]
        assert after == [], f"{src.name}: {after}"
    assert scanned >= len(EXPECTED) // 2  # the scan is not vacuous
