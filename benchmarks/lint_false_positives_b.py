"""Findings of KM508..KM513 per rule per corpus (real, working third-party code).

    python benchmarks/lint_false_positives_b.py            # table
    python benchmarks/lint_false_positives_b.py -v         # also every finding

Corpora: the Keras/TF1-era packages of ../shared/CORPORA.md and modern Keras 3 code from PyPI
(keras-hub, keras-cv, tf-models-official); downloaded once into .cache/corpora/.
"""
from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.rules.lint.test_training_bugs_quiet_on_corpora import ALL_CORPORA, CODES, corpus_folder, lint_folder  # noqa: E402


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    header = f"{'corpus':<28}{'files':>7}{'unread':>8}" + "".join(f"{c:>7}" for c in CODES) + f"{'secs':>7}"
    print(header)
    print("-" * len(header))
    totals: Counter = Counter()
    all_files = 0
    details = []
    for name in ALL_CORPORA:
        start = time.perf_counter()
        findings, files, errors = lint_folder(corpus_folder(name))
        secs = time.perf_counter() - start
        counts = Counter(f.code for f in findings)
        totals.update(counts)
        all_files += files
        print(f"{name:<28}{files:>7}{errors:>8}" + "".join(f"{counts.get(c, 0):>7}" for c in CODES)
              + f"{secs:>7.1f}")
        details.extend((name, f) for f in findings)
    print("-" * len(header))
    print(f"{'total':<28}{all_files:>7}{'':>8}" + "".join(f"{totals.get(c, 0):>7}" for c in CODES))
    if verbose:
        for name, f in details:
            print(f"{name}: {f.path}:{f.line} {f.code} {f.message}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
