"""KM520-KM525 on real, working code: the CORPORA.md packages, modern Keras 3 sdists, and the
Keras 2.3.1 sdist, whose examples/ are 39 working programs that load data, build and `fit`
(mnist_cnn.py, imdb_lstm.py, cifar10_cnn.py...): the code these rules look at.

Every finding there was reviewed by hand (docs/families/lint.md, "Shape lints KM520-KM525");
the reviewed counts are pinned here, so a rule that starts crying wolf (or goes silent on a
true finding) fails. `python benchmarks/shape_bugs.py --corpora -v` prints the same table.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from collections import Counter
from pathlib import Path

import pytest

from tests.corpora import CACHE, python_files
from tests.rules.lint.test_training_bugs_quiet_on_corpora import ALL_CORPORA as OTHERS
from tests.rules.lint.test_training_bugs_quiet_on_corpora import corpus_folder as other_folder
from tests.rules.lint.test_training_bugs_quiet_on_corpora import lint_folder

KERAS2 = ("Keras", "2.3.1")
ALL_CORPORA = [*OTHERS, "keras-2.3.1"]


def keras2_corpus() -> Path:
    """The Keras 2.3.1 sdist (package, tests and examples), downloaded once into .cache/corpora/."""
    name, version = KERAS2
    target = CACHE / "modern" / f"keras-{version}"
    if (target / ".unpacked").exists():
        return target
    downloads = CACHE / "modern" / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    archive = downloads / f"{name}-{version}.tar.gz"
    try:
        if not archive.exists():
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                            "--no-build-isolation", "-q", f"keras=={version}", "-d", str(downloads)],
                           capture_output=True, text=True, timeout=600)
        if not archive.exists():
            raise RuntimeError("pip download keras==2.3.1 failed")
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as tf:
            tf.extractall(target, filter="data")
        (target / ".unpacked").write_text("ok\n")
        return target
    except Exception as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"cannot fetch keras=={version}: {exc}")


def corpus_folder(name: str) -> Path:
    return keras2_corpus() if name == "keras-2.3.1" else other_folder(name)

CODES = ("KM520", "KM521", "KM522", "KM523", "KM524", "KM525")

# Reviewed findings per corpus; corpora not listed have none.
EXPECTED: dict[str, Counter] = {
    # examples/mnist_acgan.py:86, a true finding: the generator's Sequential wants (None, 100) and is
    # called on (None, 1, 100) (the class Embedding of a length-1 input, multiplied with the latent
    # vector); Keras 2 let its Dense work on the last axis, Keras 3 raises there (checked on TF 2.21)
    "keras-2.3.1": Counter({"KM523": 1}),
}


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
