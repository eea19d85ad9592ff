"""Run the KM501..KM507 lint rules over real code and print the findings per rule per corpus.

    python benchmarks/lint_false_positives.py            # counts table
    python benchmarks/lint_false_positives.py -v         # and every finding (for review)

Corpora: the Keras-1/2/TF1-era packages of ../shared/CORPORA.md (tests/corpora.py) and correct
modern Keras code from PyPI sdists (keras-hub, keras-cv, keras-nlp), downloaded with pip into
the same gitignored cache. Nothing is written to the packages (findings only, no fixes).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kmigrate.engine import FileError, Options, fix_text  # noqa: E402
from kmigrate.rule import select_rules  # noqa: E402
from tests import corpora  # noqa: E402

CODES = ["KM501", "KM502", "KM503", "KM504", "KM505", "KM506", "KM507"]
# Modern, working Keras code (Keras 3 / tf.keras 2.x era), pinned.
MODERN = {"keras-hub": "0.21.1", "keras-cv": "0.9.0", "keras-nlp": "0.6.0"}


def modern_corpus(name: str, version: str) -> Path:
    """Like tests/corpora.corpus, but some modern sdists need build isolation to download."""
    downloads = corpora.CACHE / "sdists"
    downloads.mkdir(parents=True, exist_ok=True)
    if not any(corpora._matches(p.name, name, version) for p in downloads.iterdir()):
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                        f"{name}=={version}", "-d", str(downloads), "-q"], check=False, timeout=900)
    return corpora._fetch(name, version)


def lint(folder: Path, options: Options):
    findings, files, errors = [], 0, 0
    for path in corpora.python_files(folder):
        text = path.read_text(encoding="utf-8", errors="replace")
        files += 1
        try:
            out = fix_text(text, str(path.relative_to(folder)), options)
        except FileError:
            errors += 1
            continue
        findings.extend(out.findings)
    return findings, files, errors


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-v", "--verbose", action="store_true", help="print every finding")
    ap.add_argument("--only", nargs="*", help="corpus names")
    args = ap.parse_args()
    options = Options(rules=tuple(select_rules(CODES, [])))
    corpora_list = [(n, lambda n=n, v=v: corpora._fetch(n, v)) for n, v in corpora.ALL.items()]
    corpora_list += [(n, lambda n=n, v=v: modern_corpus(n, v)) for n, v in MODERN.items()]
    totals: Counter = Counter()
    rows = []
    start = time.perf_counter()
    for name, fetch in corpora_list:
        if args.only and name not in args.only:
            continue
        folder = fetch()
        findings, files, errors = lint(folder, options)
        counts = Counter(f.code for f in findings)
        totals.update(counts)
        rows.append((name, files, errors, counts))
        if args.verbose:
            for f in findings:
                print(f"  {name}: {f.path}:{f.line}: {f.code} {f.message} ({f.severity})")
    print(f"{'corpus':28} {'files':>5} {'KM000':>5} " + " ".join(f"{c:>5}" for c in CODES))
    for name, files, errors, counts in rows:
        print(f"{name:28} {files:5} {errors:5} " + " ".join(f"{counts.get(c, 0):5}" for c in CODES))
    print(f"{'total':28} {sum(r[1] for r in rows):5} {sum(r[2] for r in rows):5} "
          + " ".join(f"{totals.get(c, 0):5}" for c in CODES))
    print(f"({time.perf_counter() - start:.1f}s)")


if __name__ == "__main__":
    main()
