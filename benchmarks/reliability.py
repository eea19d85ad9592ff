"""Reliability report: throw bad and real input at kmigrate and count crashes and corruptions.

    python benchmarks/reliability.py [--quick] [--modern PACKAGE==VERSION]

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
from kmigrate.engine import process_file  # noqa: E402
from kmigrate.run import options_from  # noqa: E402
from kmigrate.source import Source  # noqa: E402

OPTIONS = options_from(Config(unsafe_fixes=True))


def check(path: Path, counts: Counter, kind: str) -> None:
    counts[f"{kind}: inputs"] += 1
    try:
        first = process_file(str(path), OPTIONS)
    except Exception as exc:  # process_file must never raise
        counts["crashes"] += 1
        print(f"CRASH {kind} {path}: {exc!r}")
        return
    if any("internal error" in f.message for f in first.findings):
        counts["crashes"] += 1
        print(f"CRASH {kind} {path}: {first.findings[0].message}")
        return
    if first.error:
        counts[f"{kind}: clear per-file errors"] += 1
        return
    if first.new is None:
        return
    if not any(f.fix_applied for f in first.findings):
        counts["corrupted"] += 1
        print(f"CORRUPT {kind} {path}: changed without an applied fix")
    text = Source.from_bytes(first.new).text
    try:
        compile(text, str(path), "exec")
    except SyntaxError as exc:
        counts["corrupted"] += 1
        print(f"CORRUPT {kind} {path}: output does not compile: {exc}")
        return
    path.write_bytes(first.new)
    second = process_file(str(path), OPTIONS)
    if second.new is not None:
        counts["corrupted"] += 1
        print(f"CORRUPT {kind} {path}: second run changed it again")
    counts[f"{kind}: changed"] += 1


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
            import hypothesmith
            from hypothesis import HealthCheck, given, settings

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
            shutil.copytree(corpora._fetch(name, corpora.ALL[name]), work)
            for f in corpora.python_files(work):
                check(f, counts, "corpora")
        if not args.quick:
            name, _, version = args.modern.partition("==")
            work = tmp / "modern"
            shutil.copytree(corpora._fetch(name, version), work)
            for f in corpora.python_files(work):
                check(f, counts, f"modern ({args.modern})")
    print(f"\nreliability report ({time.perf_counter() - start:.0f} s)")
    for key in sorted(counts):
        print(f"  {key:<45} {counts[key]}")
    print(f"  {'crashes (must be 0)':<45} {counts['crashes']}")
    print(f"  {'files corrupted (must be 0)':<45} {counts['corrupted']}")
    return 1 if counts["crashes"] or counts["corrupted"] else 0


if __name__ == "__main__":
    sys.exit(main())
