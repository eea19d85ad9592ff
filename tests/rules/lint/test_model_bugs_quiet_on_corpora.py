"""KM501..KM507 over real Keras-era packages (../shared/CORPORA.md): the reviewed findings, no more.

Every finding below was read and judged (see docs/families/lint.md, "Keras bug lints KM501-KM507"); a new one
means a rule started crying wolf (or found something new: review it and update the table).
The modern-code corpora (keras-hub, keras-cv, keras-nlp) are in benchmarks/lint_false_positives.py.
"""
from __future__ import annotations

from collections import Counter

import pytest

from kmigrate.engine import FileError, Options, fix_text
from kmigrate.rule import select_rules

from tests.corpora import KERAS_ERA, corpus, python_files

pytestmark = pytest.mark.corpus

CODES = ["KM501", "KM502", "KM503", "KM504", "KM505", "KM506", "KM507"]

# Reviewed: every KM505 here is the Python 2 `super(Cls, self)` spelling (info, safe fix), except
# mrcnn's `super(self.__class__, self).call(...)` in BatchNorm (a real recursion hazard, warning).
REVIEWED = {
    "keras-vis": {},
    "hyperas": {},
    "keras-rl": {"KM505": 1},
    "segmentation-models": {"KM505": 2},
    "keras-resnet": {"KM505": 16},
    "talos": {},
    "textgenrnn": {"KM505": 2},
    "keras-self-attention": {"KM505": 8},
    "mrcnn": {"KM505": 8},
}
NOT_INFO = {("mrcnn", "KM505", "super(self.__class__, self)")}


def test_reviewed_table_covers_the_keras_era_corpora():
    assert set(REVIEWED) == set(KERAS_ERA)


@pytest.mark.parametrize("name", sorted(REVIEWED))
def test_lint_findings_are_the_reviewed_ones(name):
    folder = corpus(name)
    options = Options(rules=tuple(select_rules(CODES, [])))
    findings = []
    for path in python_files(folder):
        try:
            out = fix_text(path.read_text(encoding="utf-8", errors="replace"), str(path), options)
        except FileError:
            continue
        findings.extend(out.findings)
    assert dict(Counter(f.code for f in findings)) == REVIEWED[name], [
        f"{f.path}:{f.line} {f.code} {f.message}" for f in findings]
    for f in findings:
        if f.severity != "info":
            assert any(name == n and f.code == c and text in f.message for n, c, text in NOT_INFO), f
