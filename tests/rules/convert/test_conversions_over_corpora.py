"""KM401..KM403 over real Keras 2 code (../shared/CORPORA.md): both directions run without a
crash, conversions do happen, every converted file compiles and a second run changes nothing."""
from __future__ import annotations

import pytest

from kmigrate.engine import Options, fix_text
from kmigrate.rule import select_rules

from tests.corpora import corpus, python_files

CODES = ["KM401", "KM402", "KM403"]
# package -> (direction, minimum number of conversions seen when this test was written)
CASES = {"keras-rl": ("functional", 6), "mrcnn": ("sequential", 1), "talos": ("functional", 1)}


@pytest.mark.corpus
@pytest.mark.parametrize("name", list(CASES))
def test_conversions_on_real_code(name):
    to, minimum = CASES[name]
    options = Options(rules=tuple(select_rules(CODES, [])), to=to)
    converted = 0
    for path in python_files(corpus(name)):
        text = path.read_text(encoding="utf-8", errors="replace")
        if "Sequential" not in text and "Model" not in text:
            continue
        out = fix_text(text, str(path), options)  # raises FileError on a crash or uncompilable output
        assert all(f.code in CODES for f in out.findings)
        converted += sum(f.fix_applied for f in out.findings)
        if out.text != text:
            compile(out.text, str(path), "exec")
            assert fix_text(out.text, str(path), options).text == out.text, f"{path}: not idempotent"
    assert converted >= minimum, converted
