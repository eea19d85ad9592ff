"""KM2xx over the TF1 corpora (tensor2tensor==1.13.4, stable-baselines==2.10.2): how many
`tf.layers` / `tf.contrib.layers` findings are converted with safe fixes only and with
--unsafe-fixes, how many are reported, per rule; the independent `ast` census of uses; that
every output compiles; that a second run changes nothing; and the time taken.

    python benchmarks/tf_layers_corpus.py     (downloads the sdists once, see tests/corpora.py)
"""
from __future__ import annotations

import re
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kmigrate.engine import FileError, Options, fix_text  # noqa: E402
from kmigrate.rule import select_rules  # noqa: E402
from tests.corpora import corpus, python_files  # noqa: E402
from tests.rules.tf1.test_tf_layers_over_corpora import census  # noqa: E402


def one(args) -> tuple[Counter, Counter]:
    path, unsafe = args
    options = Options(rules=tuple(select_rules(["KM2"], [])), unsafe_fixes=unsafe)
    text = open(path, encoding="utf-8").read()
    stats, messages = Counter(), Counter()
    uses = census(text)
    stats["census: tf.layers / contrib uses"] += len(uses)
    try:
        out = fix_text(text, path, options)
    except FileError as exc:
        stats["file errors"] += 1
        messages[f"KM000 {exc.message[:100]}"] += 1
        return stats, messages
    for f in out.findings:
        stats[f"{f.code} {'converted' if f.fix_applied else 'reported'}"] += 1
        if not f.fix_applied:
            messages[f"{f.code} " + re.sub(r"`[^`]*`", "`…`", f.message)[:100]] += 1
    lines = {f.line for f in out.findings}
    stats["census uses without a finding"] += sum(1 for line, _ in uses if line not in lines)
    if out.text != text:
        stats["files changed"] += 1
        compile(out.text, path, "exec")
        if fix_text(out.text, path, options).text != out.text:
            stats["files NOT idempotent"] += 1
    return stats, messages


def main() -> None:
    for name in ("tensor2tensor", "stable-baselines"):
        files = [str(p) for p in python_files(corpus(name))
                 if "layers" in (t := p.read_text(encoding="utf-8", errors="replace")) and "tensorflow" in t]
        for unsafe in (False, True):
            t0 = time.perf_counter()
            stats, messages = Counter(), Counter()
            with ProcessPoolExecutor(max_workers=2) as pool:
                for s, m in pool.map(one, [(f, unsafe) for f in files], chunksize=4):
                    stats.update(s)
                    messages.update(m)
            dt = time.perf_counter() - t0
            mode = "--unsafe-fixes" if unsafe else "safe fixes only"
            print(f"{name}: {len(files)} files, {mode}, {dt:.1f} s")
            for k, v in sorted(stats.items()):
                print(f"  {k:36s} {v}")
            print("  reported, by message:")
            for k, v in messages.most_common(10):
                print(f"    {v:4d}  {k}")


if __name__ == "__main__":
    main()
