"""Where kmigrate's time goes on a tree: exclusive seconds per engine phase, as ratios to a bare
`libcst.parse_module` of the same files, measured in the same process.

    python benchmarks/phases.py TREE            # the check configuration (every rule, safe fixes)

benchmarks/bench.py runs it on each tree it measures (with the committed code). The engine
functions are wrapped, in process, no profiler: each phase's time excludes the phases it calls.
The last line is the floor no rule speed-up removes: the parse of the files that reach LibCST,
the re-parse of what the fixes changed, and the compile checks of the input and of the fixed text.
"""
from __future__ import annotations

import sys
import time
from collections import Counter

import libcst

import kmigrate.engine as engine
from kmigrate.collector import tune
from kmigrate.files import iter_files
from kmigrate.rule import select_rules
from kmigrate.source import Source, SourceError

# engine function -> phase
PHASES = {
    "_parse": "parse (files that reach LibCST)",
    "_reparse": "re-parse of what the fixes changed",
    "check_syntax": "compile checks (input, fixed text)",
    "verify_output": "compile checks (input, fixed text)",
    "active_rules": "pre-check and screens",
    "CodeFacts": "pre-check and screens",
    "traverse": "the rules' walks",
    "_finding": "positions of findings",
    "_unsuppressed": "positions of findings",
    "_apply": "applying fixes",
    "_code_after": "printing fixed code",
    "_tidy_imports": "printing fixed code",
    "reconcile": "reconciling findings",
    "fix_text": "other",
    "_final_findings": "other",
}
FLOOR = ("parse (files that reach LibCST)", "re-parse of what the fixes changed", "compile checks (input, fixed text)")


def _wrap(spent: Counter, stack: list, name: str, phase: str) -> None:
    fn = getattr(engine, name)

    def timed(*args, **kwargs):
        start = time.perf_counter()
        stack.append(0.0)
        try:
            return fn(*args, **kwargs)
        finally:
            took = time.perf_counter() - start
            inner = stack.pop()
            spent[phase] += took - inner
            if stack:
                stack[-1] += took

    setattr(engine, name, timed)


def main(tree: str) -> None:
    sys.setrecursionlimit(10000)
    items = []
    for path in iter_files([tree]):
        if path.endswith(".py"):
            try:
                items.append((path, Source.from_bytes(open(path, "rb").read()).text))
            except (OSError, SourceError):
                pass
    options = engine.Options(rules=tuple(select_rules(["KM"], [])))
    engine.fix_text("import keras\nkeras.layers.Dense(1)\n", "warm.py", options)  # imports, rule tables
    tune()  # the garbage collector settings of a kmigrate run
    start = time.perf_counter()
    for _, text in items:
        try:
            libcst.parse_module(text)
        except Exception:  # Python 2 files, deep nesting
            pass
    parse = time.perf_counter() - start
    spent: Counter = Counter()
    stack: list = []
    for name, phase in PHASES.items():
        _wrap(spent, stack, name, phase)
    start = time.perf_counter()
    for path, text in items:
        try:
            engine.fix_text(text, path, options)
        except engine.FileError:
            pass
    total = time.perf_counter() - start
    print(f"  in process: {len(items)} files; libcst.parse_module {parse:.2f} s; kmigrate's engine {total:.2f} s "
          f"({total / parse:.2f}x)")
    for phase, seconds in spent.most_common():
        print(f"    {phase:<40} {seconds:7.2f} s {seconds / parse:6.2f}x")
    floor = sum(spent[p] for p in FLOOR)
    print(f"    {'floor: ' + ' + '.join(p.split(' (')[0] for p in FLOOR):<40} {floor:7.2f} s {floor / parse:6.2f}x")


if __name__ == "__main__":
    main(sys.argv[1])
