"""False-positive check of KM508..KM513 on real, working code (the issue's "Verified" list).

Two kinds of corpora: the Keras/TF1-era packages of ../shared/CORPORA.md (tests/corpora.py) and
correct modern Keras 3 code from PyPI: keras-hub and keras-cv (sdists) and tf-models-official
(its sdist has no setup.py, so pip cannot download it as a source package; its pure-Python wheel
holds the same .py files). Every finding there was reviewed by hand; the reviewed counts are
pinned below, so a rule that starts crying wolf (or goes silent on a true finding) fails.
`benchmarks/lint_false_positives_b.py` prints the same table.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import zipfile
from collections import Counter
from pathlib import Path
from typing import Optional

import pytest

from kmigrate.engine import FileError, Options, fix_text
from kmigrate.rule import select_rules

from tests.corpora import CACHE, KERAS_ERA, TF1_ERA, corpus, python_files

CODES = ("KM508", "KM509", "KM510", "KM511", "KM512", "KM513")

# name -> (version, "sdist" | "wheel")
MODERN = {
    "keras-hub": ("0.32.0", "sdist"),
    "keras-cv": ("0.9.0", "sdist"),
    "tf-models-official": ("2.20.0", "wheel"),
}

# Reviewed findings per corpus (see docs/families/lint.md, "Keras bug lints KM508-KM513"): every one was read
# and judged a true finding. Corpora not listed have none.
EXPECTED: dict[str, Counter] = {
    # tests/rl/agents/test_dqn.py: two test loops build a new functional Model per pass
    "keras-rl": Counter({"KM510": 2}),
    # keras_hub/src/models/retinanet/prediction_head.py: `def call(self, input)` (info)
    "keras-hub": Counter({"KM513": 1}),
}


def modern_corpus(name: str) -> Path:
    """Download (once) and unpack a modern package from PyPI into .cache/corpora/modern/."""
    version, kind = MODERN[name]
    target = CACHE / "modern" / f"{name}-{version}"
    done = target / ".unpacked"
    if done.exists():
        return target
    downloads = CACHE / "modern" / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    stem = name.replace("-", "_").lower()

    def existing():
        return [p for p in downloads.iterdir()
                if p.name.lower().replace("-", "_").startswith(f"{stem}_{version}")]

    try:
        if not existing():
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(downloads), "-q",
                   f"{name}=={version}"]
            cmd += ["--no-binary", ":all:"] if kind == "sdist" else ["--only-binary", ":all:"]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
            if not existing():
                raise RuntimeError(f"pip download {name}=={version} failed: {proc.stderr.strip()[-500:]}")
        archive = existing()[0]
        target.mkdir(parents=True, exist_ok=True)
        if archive.name.endswith((".zip", ".whl")):
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(target)
        else:
            with tarfile.open(archive) as tf:
                tf.extractall(target, filter="data")
        done.write_text("ok\n")
        return target
    except Exception as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"cannot fetch {name}: {exc}")


# The corpora are big (3,169 files; keras-hub alone takes minutes of LibCST metadata on 2 cores).
# The test lints only the files where these rules have something to look at: models trained or
# stacked, recurrent layers, `call(self, input)`, accuracy metrics (about 1 file in 8; every
# reviewed finding is in one of them). The benchmark lints every file.
SAMPLE = re.compile(r"Sequential\(|\.fit\(|\.evaluate\(|_on_batch\(|LSTM|GRU|SimpleRNN|"
                    r"def call\(\s*self,\s*input\b|accuracy")


def lint_folder(folder: Path, codes=CODES, sample: Optional[re.Pattern] = None) -> tuple[list, int, int]:
    """(findings of `codes`, files linted, files kmigrate could not read) for a folder."""
    options = Options(rules=tuple(select_rules(list(codes), [])))
    findings, files, errors = [], 0, 0
    for path in python_files(folder):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            errors += 1
            continue
        if sample is not None and not sample.search(text):
            continue
        files += 1
        try:
            out = fix_text(text, str(path.relative_to(folder)), options)
        except FileError:
            errors += 1  # Python 2 files of the old corpora
            continue
        findings.extend(out.findings)
    return findings, files, errors


def corpus_folder(name: str) -> Path:
    return modern_corpus(name) if name in MODERN else corpus(name)


ALL_CORPORA = [*KERAS_ERA, *TF1_ERA, *MODERN]


@pytest.mark.corpus
@pytest.mark.parametrize("name", ALL_CORPORA)
def test_reviewed_findings_only(name):
    folder = corpus_folder(name)
    assert python_files(folder), f"{name}: no Python files unpacked"
    findings, _, _ = lint_folder(folder, sample=SAMPLE)
    got = Counter(f.code for f in findings)
    assert got == EXPECTED.get(name, Counter()), "\n".join(
        f"{f.path}:{f.line} {f.code} {f.message}" for f in findings)
