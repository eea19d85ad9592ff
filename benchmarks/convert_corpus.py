"""KM401..KM403 over the Keras-era corpora of ../shared/CORPORA.md, both directions: per package
and direction, files, files changed, conversions applied, refusals by reason, errors, time.

    python benchmarks/convert_corpus.py [PACKAGE...]
"""
from __future__ import annotations

import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kmigrate.engine import FileError, Options, fix_text  # noqa: E402
from kmigrate.rule import select_rules  # noqa: E402
from tests.corpora import KERAS_ERA, corpus, python_files  # noqa: E402

CODES = ["KM401", "KM402", "KM403"]


def reason(message: str) -> str:
    """The refusal reason without the names in backquotes, so reasons can be counted."""
    text = message.split(": ", 1)[-1]
    return re.sub(r"`[^`]*`", "`…`", text)[:90]


def main(names: list[str]) -> None:
    reasons: Counter[str] = Counter()
    print(f"{'package':24} {'to':10} {'files':>5} {'changed':>7} {'converted':>9} {'refused':>7} {'errors':>6} {'s':>6}")
    for name in names:
        files = python_files(corpus(name))
        for to in ("functional", "sequential"):
            options = Options(rules=tuple(select_rules(CODES, [])), to=to)
            changed = converted = refused = errors = 0
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
                    if f.fix_applied:
                        converted += 1
                    else:
                        refused += 1
                        reasons[f"{f.code} {reason(f.message)}"] += 1
            print(f"{name:24} {to:10} {len(files):5} {changed:7} {converted:9} {refused:7} {errors:6} "
                  f"{time.perf_counter() - start:6.1f}")
    print("\nrefusals by reason:")
    for r, n in reasons.most_common():
        print(f"{n:5}  {r}")


if __name__ == "__main__":
    main(sys.argv[1:] or list(KERAS_ERA))
