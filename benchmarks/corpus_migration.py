"""kmigrate (all default rules, safe fixes) over the Keras-era corpora of ../shared/CORPORA.md.

Per package: files, files changed, files kmigrate could not process (KM000: Python 2 sources),
findings by code (fixed / left), removed-API uses left in the migrated code (found by
tests/leftovers.py, independently of the rules), how many of those no finding reports
(`unreported`, the number tests/rules/keras3/test_no_removed_api_left_in_corpora.py keeps at zero), and the time.

    python benchmarks/corpus_migration.py [PACKAGE...]

Imports TensorFlow (the leftover scan checks names and signatures against it).
"""
from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.corpora import KERAS_ERA, corpus  # noqa: E402
from tests.rules.keras3.test_no_removed_api_left_in_corpora import known, migrate_and_check  # noqa: E402


def main(names: list[str]) -> None:
    print(f"{'package':22} {'files':>5} {'changed':>7} {'KM000':>5} {'left':>5} {'unrep':>5} {'time s':>7}  "
          "findings by code (fixed/left)")
    totals: Counter[str] = Counter()
    for name in names:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp) / name
            results = migrate_and_check(corpus(name), work)
            fixed: Counter[str] = Counter()
            left: Counter[str] = Counter()
            changed = errors = 0
            unreported: list[str] = []
            for path, (was_changed, findings, unrep) in results.items():
                changed += was_changed
                errors += any(f.code == "KM000" for f in findings)
                for f in findings:
                    (fixed if f.fix_applied else left)[f.code] += 1
                rel = str(path.relative_to(work))
                unreported += [f"{rel}:{x.line}: {x.what}" for x in unrep if not known(name, rel, x.what)]
            remaining = _remaining(work, results)
        seconds = time.perf_counter() - start
        codes = sorted(set(fixed) | set(left))
        by_code = " ".join(f"{c}:{fixed[c]}/{left[c]}" for c in codes)
        print(f"{name:22} {len(results):5} {changed:7} {errors:5} {remaining:5} {len(unreported):5} {seconds:7.1f}  "
              f"{by_code}")
        for line in unreported:
            print(f"    unreported: {line}")
        totals.update(files=len(results), changed=changed, errors=errors, remaining=remaining,
                      unreported=len(unreported))
    print(f"{'total':22} {totals['files']:5} {totals['changed']:7} {totals['errors']:5} {totals['remaining']:5} "
          f"{totals['unreported']:5}")
    print("left: removed-API uses still in the migrated code (each reported unless counted in unrep)")


def _remaining(work: Path, results) -> int:
    from tests import leftovers
    from kmigrate.source import Source

    count = 0
    for path, (_, findings, _) in results.items():
        if any(f.code == "KM000" for f in findings):
            continue
        count += len(leftovers.find(Source.from_bytes(path.read_bytes()).text))
    return count


if __name__ == "__main__":
    main(sys.argv[1:] or sorted(KERAS_ERA))
