"""tf.contrib names with an exact TensorFlow 2.21 home (issue 18): KM601 moves them, KM603 keeps
reporting the rest, and what KM601 writes runs.

A small TF 1 program built on tf.contrib.signal (stft, frame, linear_to_mel_weight_matrix),
tf.contrib.framework.nest (imported and spelled out) and the contrib global step is migrated
with every KM rule and RUN on TensorFlow 2.21: nothing may remain, its loss must change and its
checks against numpy (TF 1's stft: a periodic Hann window, then the real FFT) must hold. A file
mixing homed and homeless contrib names checks that the run's "remaining" is what `--check`
finds on its output, that no fix uncovers a finding (KM604 in particular) and that KM603 still
reports every name without a home.
"""
from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import pytest

from kmigrate.engine import fix_text
from tests.rules.tf1.test_tf1_programs_run import options_for, run_program, trains

PROGRAM = '''"""TF1 audio features with tf.contrib: signal.stft / frame / linear_to_mel_weight_matrix,
framework.nest and the global step, in a graph-mode training loop (checked against numpy)."""
import numpy as np
import tensorflow as tf
from tensorflow.contrib.framework import nest

rng = np.random.RandomState(3)
waves = rng.randn(8, 1024).astype(np.float32)
waves[::2] *= np.sin(np.arange(1024) * 0.3).astype(np.float32)
labels = (np.arange(8) % 2).astype(np.int64)

x = tf.placeholder(tf.float32, [None, 1024])
y = tf.placeholder(tf.int64, [None])
stfts = tf.contrib.signal.stft(x, frame_length=256, frame_step=128, fft_length=256)
power = tf.abs(stfts) ** 2
mel = tf.contrib.signal.linear_to_mel_weight_matrix(16, 129, 16000, 20.0, 4000.0)
log_mel = tf.log(tf.tensordot(power, mel, 1) + 1e-6)
inputs = nest.map_structure(tf.identity, {"features": tf.reduce_mean(log_mel, axis=1), "labels": y})
flat = tf.contrib.framework.nest.flatten(inputs)
w = tf.get_variable("w", [16, 2], initializer=tf.zeros_initializer())
b = tf.get_variable("b", [2], initializer=tf.zeros_initializer())
logits = tf.matmul(inputs["features"], w) + b
loss = tf.losses.sparse_softmax_cross_entropy(labels=inputs["labels"], logits=logits)
step = tf.contrib.framework.get_or_create_global_step()
train = tf.train.GradientDescentOptimizer(0.002).minimize(loss, global_step=step)
frames = tf.contrib.signal.frame(x, 256, 128)

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for _ in range(10):
        l, _ = sess.run([loss, train], {x: waves, y: labels})
        print("loss", l)
    s, fr, parts, steps = sess.run([stfts, frames, flat, step], {x: waves, y: labels})

# TF1's stft: a periodic Hann window over each frame, then the real FFT
hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(256) / 256)
reference = np.fft.rfft(fr * hann, 256)
print("check", float(np.abs(s - reference).max() / np.abs(reference).max()))
print("check", float(np.abs(fr[:, 1] - waves[:, 128:384]).max()))
print("check", float(steps - 10))
print("check", float(len(parts) - 2))
'''

# Homed and homeless contrib names, through every spelling, beside look-alikes.
MIXED = '''import signal
import tensorflow as tf
import tensorflow.contrib.signal
import tensorflow.contrib.signal as tfsig
from tensorflow.contrib import signal as contrib_signal
from tensorflow.contrib.signal import stft, frames
from tensorflow.contrib.framework import nest, arg_scope, get_or_create_global_step
from tensorflow.contrib import framework
from tensorflow.contrib import data as cdata
from tensorflow.contrib.framework import load_variable

signal.signal(signal.SIGINT, None)
a = tensorflow.contrib.signal.hann_window(8)
b = tfsig.stft(x, 256, 128)
c = contrib_signal.frames(x, 3, 1)
d = stft(x, 256, 128)
e = frames(x, 3, 1)
n = nest.flatten_up_to([x], [x])
m = nest.map_structure(f, [x])
step = get_or_create_global_step()
with arg_scope([]):
    pass
g = framework.get_global_step()
ds = ds.apply(cdata.map_and_batch(f, 32))
v = load_variable(checkpoint_dir="/tmp", name="w")
w = tf.contrib.framework.load_variable(checkpoint_dir="/tmp", name="w")
nst = tf.contrib.framework.nest
k = nst.is_sequence([1])
sig = tf.contrib.signal
sig.foo(1)
o = tf.contrib.data.Optional.from_value(3)
h = tf.contrib.framework.nest.flatten_up_to([x], [x])
cell = tf.contrib.rnn.LSTMCell(3)
ss = tf.contrib.summary.scalar("a", 1)
'''


def _migrate(text: str, name: str):
    return fix_text(text, name, options_for(text))


@pytest.mark.tf
def test_migrated_contrib_program_runs_on_tensorflow_2_21(tmp_path):
    out = _migrate(PROGRAM, "contrib_audio.py")
    left = [f for f in out.findings if not f.fix_applied and f.severity == "error"]
    assert not left, left
    assert "contrib" not in out.text.split('"""', 2)[2]
    assert "from tensorflow import nest\n" in out.text and "tf.signal.stft(" in out.text
    assert _migrate(out.text, "contrib_audio.py").text == out.text
    result = run_program(out.text, tmp_path, "contrib_audio.py")
    assert trains(result), (result, out.text)
    assert len(result["checks"]) == 4


@pytest.mark.tf
def test_the_original_contrib_program_fails_on_tensorflow_2_21(tmp_path):
    result = run_program(PROGRAM, tmp_path, "original.py")
    assert result["returncode"] != 0 and "contrib" in result["stderr"]


def test_what_remains_is_what_has_no_home():
    out = _migrate(MIXED, "mixed.py")
    remaining = [f for f in out.findings if not f.fix_applied]
    assert not [f for f in out.findings if f.after_fix], "a fix uncovered a finding"
    assert sorted((f.line, f.code) for f in remaining) == [
        (7, "KM603"),  # arg_scope (and nest, whose flatten_up_to has no home) stay imported from contrib
        (29, "KM603"),  # sig = tf.contrib.signal: sig.foo has no home
        (32, "KM603"),  # nest.flatten_up_to
        (33, "KM603"), (33, "KM605"),  # TF1 RNN cells
        (34, "KM603"),  # contrib.summary
    ]
    again = fix_text(out.text, "mixed.py", options_for(out.text))
    assert again.text == out.text
    assert Counter(f.code for f in again.findings) == Counter(f.code for f in remaining)
    assert not [f for f in again.findings if f.code == "KM604"]


def test_homed_names_are_rewritten_through_every_spelling():
    text = _migrate(MIXED, "mixed.py").text
    for line in [
        "import tensorflow.signal\n",
        "import tensorflow.signal as tfsig\n",
        "from tensorflow import signal as contrib_signal\n",
        "from tensorflow.signal import stft, frame as frames\n",
        "from tensorflow.contrib.framework import nest, arg_scope\n"
        "from tensorflow.compat.v1.train import get_or_create_global_step\n",
        "from tensorflow.data import experimental as cdata\n",
        "from tensorflow.train import load_variable\n",
        "signal.signal(signal.SIGINT, None)\n",  # the standard library's signal
        "a = tensorflow.signal.hann_window(8)\n",
        "b = tfsig.stft(x, 256, 128)\n",
        "c = contrib_signal.frame(x, 3, 1)\n",
        "d = stft(x, 256, 128)\n",
        "e = frames(x, 3, 1)\n",
        "n = nest.flatten_up_to([x], [x])\n",
        "m = tf.nest.map_structure(f, [x])\n",
        "g = tf.compat.v1.train.get_global_step()\n",
        "ds = ds.apply(cdata.map_and_batch(f, 32))\n",
        'v = load_variable(ckpt_dir_or_file="/tmp", name="w")\n',
        'w = tf.train.load_variable(ckpt_dir_or_file="/tmp", name="w")\n',
        "nst = tf.nest\nk = nst.is_nested([1])\n",
        "sig = tf.contrib.signal\nsig.foo(1)\n",
        "o = tf.data.experimental.Optional.from_value(3)\n",
        "h = tf.contrib.framework.nest.flatten_up_to([x], [x])\n",
    ]:
        assert line in text, (line, text)
    assert "from tensorflow.contrib import framework\n" not in text  # every use moved: unused


@pytest.mark.tf
def test_the_rewritten_imports_and_names_exist_on_tensorflow_2_21():
    """The output's imports run on TensorFlow 2.21 (but the ones KM603 still reports), and the
    names the file reads through them are there."""
    text = _migrate(MIXED, "mixed.py").text
    imports = [line for line in text.splitlines() if line.startswith(("import ", "from ")) and "tensorflow.contrib" not in line]
    assert len(imports) == 9
    used = ["tensorflow.signal.hann_window", "tfsig.stft", "contrib_signal.frame", "stft", "frames",
            "get_or_create_global_step", "cdata.map_and_batch", "load_variable", "tf.nest.map_structure",
            "tf.compat.v1.train.get_global_step", "tf.train.load_variable", "tf.nest.is_nested",
            "tf.data.experimental.Optional.from_value"]
    # In a process of its own: `import tensorflow.signal` run here would put real submodules
    # in place of TensorFlow's API modules for the rest of this test process (the public-names
    # table test walks them).
    check = "\n".join(imports) + f"\nfor u in {used!r}:\n    assert eval(u) is not None, u\n"
    proc = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stderr[-2000:]
