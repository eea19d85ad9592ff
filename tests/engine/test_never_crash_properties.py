"""Property tests: for any input, kmigrate never crashes, never emits code that does not
compile, is idempotent, and leaves a file with nothing to fix byte-identical.

Inputs: Python generated from the grammar (hypothesmith) with Keras imports in front so the
rules really run, Keras-flavoured programs assembled from old-API fragments, random bytes, and
truncated real files.
"""
from __future__ import annotations

import ast
import random
import re
import sys
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmigrate.config import Config
from kmigrate.engine import FileError, fix_text
from kmigrate.process import process_file
from kmigrate.run import options_from
from kmigrate.source import Source, SourceError
from tests.paths import ROOT

sys.setrecursionlimit(max(sys.getrecursionlimit(), 8000))  # as process_file does
OPTIONS = options_from(Config(unsafe_fixes=True))
SAFE_OPTIONS = options_from(Config())
PRELUDE = "import keras\nimport tensorflow as tf\nfrom keras.layers import Dense\n"

# Fragments of Keras 1/2, TF1 and modern code; a program is a random sequence of them.
FRAGMENTS = [
    "import keras\n", "import keras.backend as K\n", "from keras.models import Sequential, Model\n",
    "from keras.layers.core import Dense, Dropout\n", "from keras.layers import Conv2D, Input\n",
    "from tensorflow.keras import layers\n", "import tensorflow as tf\n", "tfl = tf.layers\n",
    "from keras.utils import np_utils\n", "from keras.optimizers import Adam\n",
    "model = Sequential()\n", "model.add(Dense(10, input_dim=4, init='uniform'))\n",
    "model.add(Dropout(p=0.5))\n", "x = Input(shape=(4,))\n", "y = Dense(3, activation='softmax')(x)\n",
    "m = Model(input=x, output=y)\n", "m.compile(loss='mse', optimizer=Adam(lr=0.1))\n",
    "m.fit(a, b, nb_epoch=3)\n", "z = tf.layers.dense(x, 10, name='fc')\n", "w = tfl.conv2d(x, 3, 3)\n",
    "c = Conv2D(32, 3, 3, border_mode='same')\n", "k = K.sum(x)\n", "p = model.predict_classes(a)\n",
    "y = np_utils.to_categorical(b, 3)\n",
    "class M(keras.Model):\n    def __init__(self):\n        super(M, self).__init__()\n"
    "        self.d = Dense(3)\n    def call(self, inputs):\n        return self.d(x)\n",
    "def f(x):\n    return tf.layers.dense(x, 2)\n", "if a:\n    model.add(Dense(2))\n",
    "for i in range(3):\n    model.add(Dense(4))\n", "# a comment\n", "\n", "x = 1  # noqa\n",
    "try:\n    import keras\nexcept ImportError:\n    pass\n",
]


def _check_text(text: str, options=OPTIONS) -> None:
    try:
        out = fix_text(text, "gen.py", options)
    except FileError as exc:
        # only for text the parsers reject; never a fix that broke the code or did not settle
        assert exc.message.startswith(("syntax error", "cannot parse")), exc.message
        return
    if not any(f.fix_applied for f in out.findings):
        assert out.text == text, "changed without a fix being reported"
    if out.text != text:
        compile(out.text, "gen.py", "exec")
        again = fix_text(out.text, "gen.py", options)
        assert again.text == out.text, "second run changed the output"


settings.register_profile("kmigrate", deadline=None, suppress_health_check=list(HealthCheck),
                          max_examples=60, derandomize=True)
settings.load_profile("kmigrate")


@given(hypothesmith.from_grammar())
def test_generated_python_with_keras_prelude(source):
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return
    _check_text(PRELUDE + source)
    _check_text(source)


@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=25))
def test_keras_flavoured_programs(parts):
    text = "".join(parts)
    _check_text(text)
    _check_text(text, SAFE_OPTIONS)
    _check_text(text.replace("\n", "\r\n"))


_NEWLINE = re.compile(r"\r\n|\r|\n")


def _check_line_endings(parts: list[str], nl: str, last: str) -> None:
    """Lines ending in `nl`, then an untouched last line ending in `last`: after the fixes every
    line still ends in `nl` (new lines too: LibCST writes the first newline it saw) and the last
    line keeps `last`, byte for byte."""
    text = "".join(parts).replace("\n", nl) + "END = 1" + last
    try:
        out = fix_text(text, "gen.py", OPTIONS)
    except FileError as exc:
        assert exc.message.startswith(("syntax error", "cannot parse")), exc.message
        return
    assert out.text.endswith("END = 1" + last), repr(out.text[-40:])
    endings = _NEWLINE.findall(out.text[: -len(last)])
    assert set(endings) <= {nl}, (nl, sorted(set(endings)))


@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=25),
       st.sampled_from(["\n", "\r\n", "\r"]), st.sampled_from(["\n", "\r\n", "\r", ""]))
def test_line_endings_survive_fixes(parts, nl, last):
    _check_line_endings(parts, nl, last)


@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=25), st.sampled_from(["\n", "\r\n", "\r"]))
def test_line_endings_survive_fixes_blank_cr_line_at_end_of_file(parts, nl):
    _check_line_endings(parts, nl, "\r\r")


@settings(max_examples=150)
@given(st.binary(max_size=400))
def test_random_bytes_never_crash_or_change(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("bytes") / "r.py"
    path.write_bytes(b"import keras\n" + raw)
    result = process_file(str(path), OPTIONS)
    assert not any("internal error" in f.message for f in result.findings)
    if result.error:
        assert result.new is None
        assert result.findings[0].message
    elif result.new is not None:
        compile(Source.from_bytes(result.new).text, "r.py", "exec")
    assert path.read_bytes() == b"import keras\n" + raw


def _real_files() -> list[Path]:
    files = sorted((ROOT / "fixtures").rglob("*.py")) + sorted((ROOT / "examples").rglob("*.py"))
    return [f for f in files if f.stat().st_size > 0]


@pytest.mark.parametrize("seed", range(3))
def test_truncated_real_files(tmp_path, seed):
    rng = random.Random(seed)
    files = _real_files()
    assert files
    for f in rng.sample(files, min(40, len(files))):
        raw = f.read_bytes()
        cut = raw[: rng.randrange(0, len(raw) + 1)]
        path = tmp_path / "t.py"
        path.write_bytes(cut)
        result = process_file(str(path), OPTIONS)
        assert not any("internal error" in x.message for x in result.findings), (f, len(cut))
        if result.new is not None:
            try:
                text = Source.from_bytes(result.new).text
            except SourceError:  # pragma: no cover
                pytest.fail("unreadable output")
            compile(text, str(f), "exec")
        assert path.read_bytes() == cut
