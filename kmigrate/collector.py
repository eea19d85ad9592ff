"""Garbage-collector settings for a process that runs the engine over files (the CLI's process,
its workers, the language server).

A file's LibCST tree, its `ast` tree and the rules' indexes hold no reference cycles: they die by
reference counting when the run moves on. CPython's collector still walks them while they live,
each young generation over again; with the default thresholds that was about a sixth of a run
on modern Keras code. The objects of the imports live as long as the process: frozen, no
collection walks them again; young objects are collected every 20,000 allocations instead of
every 700. The engine makes few cycles (tests/engine/test_no_reference_cycles.py), so memory
stays flat (docs/benchmarks.md has the figures).
"""
from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000
_tuned = False


def tune() -> None:
    """Freeze what the imports made and collect young objects less often (once per process)."""
    global _tuned
    if _tuned:
        return
    _tuned = True
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
