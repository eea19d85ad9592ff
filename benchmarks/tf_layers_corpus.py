"""KM2xx over the TF1 corpora (tensor2tensor==1.13.4, stable-baselines==2.10.2): how many
`tf.layers` / `tf.contrib.layers` uses are converted, converted only with --unsafe-fixes, or
reported; that every output compiles; that a second run changes nothing; and the time taken.

    python benchmarks/tf_layers_corpus.py            (downloads the sdists once, see tests/corpora.py)
"""
from __future__ import annotations

import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kmigrate.engine import FileError, Options, fix_text  # noqa: E402
from kmigrate.rule import select_rules  # noqa: E402
from tests.corpora import corpus, python_files  # noqa: E402

# An independent, spelling-level census of TF1 layer uses (aliases are counted by the rules only).
USE = re.compile(r"\b(?:tf|tensorflow)(?:\.compat\.v1)?\.(?:contrib\.)?layers\.(\w+)")


def run(name: str, unsafe: bool) -> dict:
    options = Options(rules=tuple(select_rules(["KM2"], [])), unsafe_fixes=unsafe)
    stats: Counter = Counter()
    by_message: Counter = Counter()
    for path in python_files(corpus(name)):
        text = path.read_text(encoding="utf-8", errors="replace")
        uses = [m for m in USE.finditer(text)]
        stats["census uses"] += len(uses)
        try:
            out = fix_text(text, str(path), options)
        except FileError as exc:
            stats["file errors"] += 1
            print(f"  {path}: {exc.message}", file=sys.stderr)
            continue
        for f in out.findings:
            stats[f"{f.code} {'fixed' if f.fix_applied else 'reported'}"] += 1
            if not f.fix_applied:
                by_message[f"{f.code} " + re.sub(r"`[^`]*`", "`…`", f.message)[:110]] += 1
        if out.text != text:
            stats["files changed"] += 1
            compile(out.text, str(path), "exec")
            again = fix_text(out.text, str(path), options)
            if again.text != out.text:
                stats["NOT IDEMPOTENT"] += 1
        lines_with_finding = {f.line for f in out.findings}
        for m in uses:
            line = text.count("\n", 0, m.start()) + 1
            if line not in lines_with_finding and not _continued(text, m.start(), lines_with_finding):
                stats["census uses without a finding"] += 1
                print(f"  unmatched {path.name}:{line}: {m.group(0)}", file=sys.stderr)
    return {"stats": stats, "messages": by_message}


def _continued(text: str, pos: int, lines: set[int]) -> bool:
    """A use inside a multi-line call whose finding points at an earlier line of the statement."""
    line = text.count("\n", 0, pos) + 1
    return any(line - k in lines for k in range(1, 6))


def main() -> None:
    for name in ("tensor2tensor", "stable-baselines"):
        for unsafe in (False, True):
            t = time.perf_counter()
            res = run(name, unsafe)
            dt = time.perf_counter() - t
            print(f"{name} ({'--unsafe-fixes' if unsafe else 'safe fixes only'}, {dt:.1f} s)")
            for k, v in sorted(res["stats"].items()):
                print(f"  {k:32s} {v}")
            if not unsafe:
                print("  reported, by message:")
                for k, v in res["messages"].most_common(12):
                    print(f"    {v:4d}  {k}")


if __name__ == "__main__":
    main()
