"""Reliability report: throw bad and real input at kmigrate and count crashes and corruptions.

    python benchmarks/reliability.py [--quick] [--modern PACKAGE==VERSION]

--quick: 50 random / truncated inputs (instead of 300), two corpora (keras-vis, textgenrnn), and
no modern package. The report prints, per kind of input: inputs tried, clear per-file errors,
files changed, crashes and files corrupted; then the totals, which must be 0.

Inputs: random bytes, truncations of the repo's fixtures and examples, grammar-generated Python
(hypothesmith), every .py file of the ../shared/CORPORA.md packages and of a large modern
package (downloaded as sdists, cached). For each input: a crash is an internal error or an
exception out of process_file; a corruption is output that does not compile, a second run that
changes the output again, or a file with no applied fix whose bytes changed. Both must be 0.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kmigrate.config import Config  # noqa: E402
from kmigrate.process import process_file  # noqa: E402
from kmigrate.run import options_from  # noqa: E402
from kmigrate.source import Source  # noqa: E402

OPTIONS = options_from(Config(unsafe_fixes=True))


def check(path: Path, counts: Counter, kind: str) -> None:
    counts[(kind, "inputs")] += 1
    try:
        first = process_file(str(path), OPTIONS)
    except Exception as exc:  # process_file must never raise
        counts[(kind, "crashes")] += 1
        print(f"CRASH {kind} {path}: {exc!r}")
        return
    if any("internal error" in f.message for f in first.findings):
        counts[(kind, "crashes")] += 1
        print(f"CRASH {kind} {path}: {first.findings[0].message}")
        return
    if first.error:
        counts[(kind, "errors")] += 1
        if path.read_bytes() != first.old or first.new is not None:
            counts[(kind, "corrupted")] += 1
            print(f"CORRUPT {kind} {path}: an error, yet the file or its output changed")
        return
    if first.new is None:
        return
    if not any(f.fix_applied for f in first.findings):
        counts[(kind, "corrupted")] += 1
        print(f"CORRUPT {kind} {path}: changed without an applied fix")
    text = Source.from_bytes(first.new).text
    try:
        compile(text, str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        counts[(kind, "corrupted")] += 1
        print(f"CORRUPT {kind} {path}: output does not compile: {exc}")
        return
    path.write_bytes(first.new)
    second = process_file(str(path), OPTIONS)
    if second.new is not None or second.error:
        counts[(kind, "corrupted")] += 1
        print(f"CORRUPT {kind} {path}: second run changed it again or failed")
    counts[(kind, "changed")] += 1


COLUMNS = ("inputs", "errors", "changed", "crashes", "corrupted")


def report(counts: Counter, seconds: float) -> None:
    """One row per kind of input, then the totals."""
    kinds = list(dict.fromkeys(kind for kind, _ in counts))
    width = max([len(k) for k in kinds] + [13])

    def row(label: str, values: dict) -> str:
        return (f"  {label:<{width}}  {values['inputs']:>7}  {values['errors']:>12}  {values['changed']:>7}"
                f"  {values['crashes']:>7}  {values['corrupted']:>9}")

    total = {c: sum(counts[(k, c)] for k in kinds) for c in COLUMNS}
    print(f"\nreliability report ({seconds:.0f} s)")
    print(row("kind of input", {"inputs": "inputs", "errors": "clear errors", "changed": "changed",
                                "crashes": "crashes", "corrupted": "corrupted"}))
    for kind in kinds:
        print(row(kind, {c: counts[(kind, c)] for c in COLUMNS}))
    print(row("total", total))
    print(f"  inputs tried: {total['inputs']}; crashes (must be 0): {total['crashes']}; "
          f"files corrupted (must be 0): {total['corrupted']}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--modern", default="rich==13.9.4", help="a large modern package (sdist)")
    args = ap.parse_args()
    n = 50 if args.quick else 300
    rng = random.Random(0)
    counts: Counter = Counter()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for i in range(n):
            p = tmp / f"rand{i}.py"
            p.write_bytes(b"import keras\n" + bytes(rng.randrange(256) for _ in range(rng.randrange(400))))
            check(p, counts, "random bytes")
        real = sorted((ROOT / "fixtures").rglob("*.py")) + sorted((ROOT / "examples").rglob("*.py"))
        for i in range(n):
            raw = rng.choice(real).read_bytes()
            p = tmp / f"trunc{i}.py"
            p.write_bytes(raw[: rng.randrange(len(raw) + 1)])
            check(p, counts, "truncated files")
        try:
            import warnings

            import hypothesmith
            from hypothesis import HealthCheck, given, settings

            warnings.simplefilter("ignore", SyntaxWarning)  # generated code: `is` with literals & co

            @settings(max_examples=n // 2, deadline=None, suppress_health_check=list(HealthCheck),
                      derandomize=True)
            @given(hypothesmith.from_grammar())
            def generated(src):
                p = tmp / "gen.py"
                p.write_text("import keras\nfrom keras.layers import Dense\n" + src)
                check(p, counts, "generated python")

            generated()
        except ImportError:
            print("hypothesmith not installed: generated inputs skipped")
        sys.path.insert(0, str(ROOT / "tests"))
        import shutil

        import corpora

        for name in sorted(corpora.ALL):
            if args.quick and name not in ("keras-vis", "textgenrnn"):
                continue
            work = tmp / name
            shutil.copytree(corpora.fetch(name, corpora.ALL[name]), work)
            for f in corpora.python_files(work):
                check(f, counts, "corpora")
        if not args.quick:
            name, _, version = args.modern.partition("==")
            work = tmp / "modern"
            shutil.copytree(corpora.fetch(name, version), work)
            for f in corpora.python_files(work):
                check(f, counts, f"modern ({args.modern})")
    report(counts, time.perf_counter() - start)
    return 1 if any(counts[k] for k in counts if k[1] in ("crashes", "corrupted")) else 0


if __name__ == "__main__":
    sys.exit(main())
