"""KM520-KM525 on real, working code: the CORPORA.md packages and modern Keras 3 sdists.

Every finding there was reviewed by hand (docs/families/lint.md, "Shape lints KM520-KM525");
the reviewed counts are pinned here, so a rule that starts crying wolf (or goes silent on a
true finding) fails. `python benchmarks/shape_bugs.py --corpora -v` prints the same table.
"""
from __future__ import annotations

from collections import Counter

import pytest

from tests.rules.lint.test_training_bugs_quiet_on_corpora import ALL_CORPORA, corpus_folder, lint_folder
from tests.corpora import python_files

CODES = ("KM520", "KM521", "KM522", "KM523", "KM524", "KM525")

# Reviewed findings per corpus; corpora not listed have none.
EXPECTED: dict[str, Counter] = {}


@pytest.mark.corpus
@pytest.mark.parametrize("name", ALL_CORPORA)
def test_reviewed_findings_only(name):
    folder = corpus_folder(name)
    assert python_files(folder), f"{name}: no Python files unpacked"
    findings, files, _ = lint_folder(folder, codes=CODES)
    assert files > 0
    got = Counter(f.code for f in findings)
    assert got == EXPECTED.get(name, Counter()), "\n".join(
        f"{f.path}:{f.line} {f.code} {f.message}" for f in findings)
