"""KM301..KM310 over real Keras 1/2 packages (../shared/CORPORA.md): no crash on any file, the
output compiles, a second run changes nothing, and what is left of Keras 1 layer code in the
output is reported (no finding with a fix remains: everything fixable was fixed)."""
from __future__ import annotations

import functools
import io
import tokenize

import pytest

from kmigrate.engine import FileError, Options, fix_text
from kmigrate.rule import select_rules

from kmigrate.rules.tables import keras1_layers as T

from tests.corpora import corpus, python_files

pytestmark = pytest.mark.corpus

MY_CODES = [f"KM3{n:02d}" for n in range(1, 11)]
OPTIONS = Options(rules=tuple(select_rules(MY_CODES, [])))
PACKAGES = ["keras-vis", "hyperas", "keras-rl"]
# Identifiers that only Keras 1 layer code uses, and Keras 1 keywords with no other common meaning.
KERAS1_NAMES = set(T.LAYER_RENAMES) | set(T.REMOVED_LAYERS) | {"merge", "Merge"}
KERAS1_KEYWORDS = {k for table in T.KEYWORDS.values() for k in table} - {
    "input", "output", "p", "length", "init", "bias", "stride", "sigma", "output_shape"}


def _unreported_keras1(text: str, reported_lines: set[int]) -> list[str]:
    """Keras 1 names, and Keras 1 keywords passed in a call, on lines no finding points to."""
    toks = list(tokenize.generate_tokens(io.StringIO(text).readline))
    lines = text.splitlines()
    out = []
    for i, t in enumerate(toks):
        if t.type != tokenize.NAME or t.start[0] in reported_lines:
            continue
        keyword = (t.string in KERAS1_KEYWORDS and 0 < i < len(toks) - 1 and toks[i + 1].string == "="
                   and toks[i - 1].string in ("(", ","))
        if t.string in KERAS1_NAMES or keyword:
            out.append(f"{t.start[0]}: {lines[t.start[0] - 1].strip()}")
    return out


@functools.lru_cache(maxsize=None)
def _migrate_package(name: str):
    results = []
    for path in python_files(corpus(name)):
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            first = fix_text(text, str(path), OPTIONS)
        except FileError as exc:
            if "syntax error" in exc.message:  # Python 2 files of the package: KM000, not ours
                continue
            raise AssertionError(f"{path}: {exc.message}") from None
        second = fix_text(first.text, str(path), OPTIONS)
        results.append((path, text, first, second))
    return tuple(results)


@pytest.mark.parametrize("name", PACKAGES)
def test_keras1_rules_on_corpus(name):
    results = _migrate_package(name)
    assert results, f"no Python 3 files in {name}"
    for path, text, first, second in results:
        if first.text != text:
            compile(first.text, str(path), "exec")
        assert second.text == first.text, f"{path}: second run changed the file"
        left = [f for f in second.findings if f.code in MY_CODES and f.fix_safety == "safe"]
        assert left == [], f"{path}: fixable findings left after a run: {[(f.line, f.message) for f in left]}"
        # What the first run left unfixed is still reported on the output.
        unfixed = sorted(f.code for f in first.findings if f.code in MY_CODES and not f.fix_applied
                         and f.severity != "info")
        assert sorted(f.code for f in second.findings if f.severity != "info") == unfixed, path
        assert _unreported_keras1(first.text, {f.line for f in second.findings}) == [], path


def test_keras_vis_is_migrated():
    """keras-vis 0.2 is Keras 1 code: its VGG16 must come out with Keras 2 layers and kernels."""
    results = {p.name: (text, first) for p, text, first, _ in _migrate_package("keras-vis")}
    text, first = results["vggnet.py"]
    assert "Convolution2D(64, 3, 3" in text
    assert "Conv2D(64, kernel_size=(3, 3), activation='relu', padding='same', name='block1_conv1')" in first.text
    assert "Convolution2D" not in first.text and "border_mode" not in first.text
    codes = {f.code for f in first.findings}
    assert {"KM301", "KM304", "KM305"} <= codes
    _, vis = results["visualization.py"]
    assert "isinstance(layer, (Conv2D, _Pooling2D))" in vis.text
