"""KM301..KM310 over the Keras-era corpora of ../shared/CORPORA.md: per package, files, files
changed, findings by code (fixed / left), unreported Keras 1 leftovers (a token scan: an
upper bound, e.g. `pd.merge` counts), and time.

    python benchmarks/keras1_corpus.py [PACKAGE...]
"""
from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kmigrate.engine import FileError, Options, fix_text  # noqa: E402
from kmigrate.rule import select_rules  # noqa: E402
from tests.corpora import KERAS_ERA, corpus, python_files  # noqa: E402
from tests.rules.keras3.test_keras1_layers_over_corpora import MY_CODES, _unreported_keras1  # noqa: E402


def main(names: list[str]) -> None:
    options = Options(rules=tuple(select_rules(MY_CODES, [])))
    print(f"{'package':24} {'files':>5} {'changed':>7} {'errors':>6} {'leftover':>8} {'time s':>7}  findings (fixed/left)")
    for name in names:
        files = python_files(corpus(name))
        changed = errors = leftover = 0
        fixed: Counter[str] = Counter()
        left: Counter[str] = Counter()
        start = time.perf_counter()
        for path in files:
            text = path.read_text(encoding="utf-8", errors="replace")
            try:
                out = fix_text(text, str(path), options)
            except FileError:
                errors += 1
                continue
            changed += out.text != text
            for f in out.findings:
                (fixed if f.fix_applied else left)[f.code] += 1
            again = fix_text(out.text, str(path), options)
            leftover += len(_unreported_keras1(out.text, {f.line for f in again.findings}))
        took = time.perf_counter() - start
        codes = ", ".join(f"{c} {fixed[c]}/{left[c]}" for c in sorted(set(fixed) | set(left))) or "-"
        print(f"{name:24} {len(files):5} {changed:7} {errors:6} {leftover:8} {took:7.1f}  {codes}")


if __name__ == "__main__":
    main(sys.argv[1:] or list(KERAS_ERA))
