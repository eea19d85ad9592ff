"""The shape lints (KM520-KM525) on the development suite and on clean real code.

    python benchmarks/shape_bugs.py               # the suite: per rule and overall
    python benchmarks/shape_bugs.py --corpora     # also the corpora: findings per 100 files
    python benchmarks/shape_bugs.py --corpora -v  # ... and every corpus finding (for review)
    python benchmarks/shape_bugs.py --speed       # the engine's time against LibCST's parse

Suite: fixtures/shape_bugs/ (and heldout/, heldout2/, heldout3/: 12, 10 and 10 pairs written after
the rules), StackOverflow-style programs with one shape bug each and their fixes, plus clean
programs. A pair counts when the buggy version gets a finding of its rule on a line its fix changes and the fixed version gets no KM52x finding. For comparison the table
also shows what the earlier lint rules (KM501-KM513) flag on the same lines.

Corpora: the CORPORA.md packages (tests/corpora.py), modern Keras code from PyPI (keras-hub,
keras-cv sdists, tf-models-official) and the Keras 2.3.1 sdist (its examples/ train on the
datasets), as tests/rules/lint/test_shape_bugs_quiet_on_corpora.py
pins them after review.
"""
from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.rules.lint.test_shape_bugs import (  # noqa: E402
    CODES, HELDOUT, HELDOUT2, HELDOUT3, bug_lines, clean_programs, expected_code, findings, pairs,
)

EARLIER = ("KM501", "KM502", "KM503", "KM504", "KM505", "KM506", "KM507", "KM508", "KM509", "KM510",
           "KM511", "KM512", "KM513")


def suite(folder=None, title="development suite (fixtures/shape_bugs/)") -> None:
    print(title)
    rows: dict[str, Counter] = {c: Counter() for c in CODES}
    misses = []
    for path in (pairs(folder) if folder is not None else pairs()):
        code = expected_code(path)
        buggy = path.read_text(encoding="utf-8")
        fixed = path.with_name(path.stem + ".fixed.py").read_text(encoding="utf-8")
        lines = bug_lines(buggy, fixed)
        got = findings(buggy, path.name)
        flagged = any(f.code == code and f.line in lines for f in got)
        quiet = not findings(fixed, path.name)
        earlier = any(f.line in lines for f in findings(buggy, path.name, EARLIER))
        row = rows[code]
        row["pairs"] += 1
        row["flagged"] += flagged
        row["fixed quiet"] += quiet
        row["both"] += flagged and quiet
        row["earlier rules"] += earlier
        if not (flagged and quiet):
            misses.append(path.stem)
    cols = ("pairs", "flagged", "fixed quiet", "both", "earlier rules")
    print(f"{'rule':<8}" + "".join(f"{c:>15}" for c in cols))
    total = Counter()
    for code, row in rows.items():
        total.update(row)
        print(f"{code:<8}" + "".join(f"{row[c]:>15}" for c in cols))
    print(f"{'all':<8}" + "".join(f"{total[c]:>15}" for c in cols))
    if folder is not None:
        print(f"flagged on the bug's lines with a quiet fix: {total['both']}/{total['pairs']}")
        if misses:
            print("missed:", ", ".join(misses))
        return
    clean = clean_programs()
    clean_findings = sum(len(findings(p.read_text(encoding='utf-8'), p.name)) for p in clean)
    print(f"\nclean programs: {len(clean)}, KM52x findings on them: {clean_findings}")
    print(f"pairs flagged on the bug's lines with a quiet fix: {total['both']}/{total['pairs']} "
          f"({100 * total['both'] / total['pairs']:.0f}%); earlier rules (KM501-KM513) on the same lines: "
          f"{total['earlier rules']}/{total['pairs']}")
    if misses:
        print("missed:", ", ".join(misses))


def corpora(verbose: bool) -> None:
    from tests.rules.lint.test_shape_bugs_quiet_on_corpora import ALL_CORPORA, corpus_folder, lint_folder

    print(f"\n{'corpus':<24}{'files':>7}{'unread':>8}" + "".join(f"{c:>7}" for c in CODES) + f"{'per 100':>9}{'secs':>7}")
    totals: Counter = Counter()
    all_files = 0
    details = []
    for name in ALL_CORPORA:
        start = time.perf_counter()
        found, files, errors = lint_folder(corpus_folder(name), codes=CODES)
        secs = time.perf_counter() - start
        counts = Counter(f.code for f in found)
        totals.update(counts)
        all_files += files
        per100 = 100 * sum(counts.values()) / files if files else 0.0
        print(f"{name:<24}{files:>7}{errors:>8}" + "".join(f"{counts.get(c, 0):>7}" for c in CODES)
              + f"{per100:>9.2f}{secs:>7.1f}", flush=True)
        details.extend((name, f) for f in found)
    n = sum(totals.values())
    print(f"{'total':<24}{all_files:>7}{'':>8}" + "".join(f"{totals.get(c, 0):>7}" for c in CODES)
          + f"{100 * n / max(all_files, 1):>9.2f}")
    if verbose:
        for name, f in details:
            print(f"{name}: {f.path}:{f.line} {f.code} {f.message}")


def speed() -> None:
    """The shape engine's time on the largest Keras modules of the corpora, against the parse."""
    import libcst as cst

    from kmigrate.names import NameResolver
    from kmigrate.rules.analysis.shape_program import ShapeProgram
    from tests.rules.lint.test_shape_bugs_quiet_on_corpora import corpus_folder

    class Holder:
        def __init__(self, module):
            self.module = module

    files = []
    for name in ("mrcnn", "keras-2.3.1", "textgenrnn", "keras-rl"):
        files += [p for p in corpus_folder(name).rglob("*.py") if "keras" in p.read_text(encoding="utf-8",
                                                                                         errors="replace")]
    files = sorted(files, key=lambda p: -p.stat().st_size)[:5]
    print(f"\n{'file':<48}{'lines':>7}{'parse s':>9}{'shapes s':>10}{'ratio':>7}")
    for path in files:
        text = path.read_text(encoding="utf-8")
        best_parse = best_shapes = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            module = cst.parse_module(text)
            mid = time.perf_counter()
            program = ShapeProgram(module, NameResolver(Holder(module)), lambda node: 0)
            program.walrus = ":=" in text
            program.run()
            end = time.perf_counter()
            best_parse, best_shapes = min(best_parse, mid - start), min(best_shapes, end - mid)
        label = "/".join(path.parts[-2:])
        print(f"{label:<48}{len(text.splitlines()):>7}{best_parse:>9.3f}{best_shapes:>10.3f}"
              f"{best_shapes / best_parse:>7.2f}")


def main(argv: list[str]) -> int:
    if "--speed" in argv:
        speed()
        return 0
    suite()
    print()
    suite(HELDOUT, "held-out pairs (fixtures/shape_bugs/heldout/, written after the rules)")
    print()
    suite(HELDOUT2, "second held-out batch (fixtures/shape_bugs/heldout2/)")
    print()
    suite(HELDOUT3, "third held-out batch (fixtures/shape_bugs/heldout3/)")
    if "--corpora" in argv:
        corpora("-v" in argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
