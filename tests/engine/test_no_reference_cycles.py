"""A file's run leaves no reference cycle that holds its trees or the rules' state.

kmigrate/collector.py collects young objects rarely (every 20,000 allocations): that keeps memory
flat only because a file's LibCST tree, its `ast` tree, the rule visitors and their indexes die by
reference counting when the run moves on. A cycle among them (a visitor holding an index that
holds the visitor, a recursive closure that holds `self`) would keep the whole tree until a
collection. Each fixture is run with the collector off and DEBUG_SAVEALL: what a collection then
finds unreachable is what only a collection would have freed.
"""
from __future__ import annotations

import ast
import gc
import sys

import libcst as cst
import pytest

from kmigrate.collector import YOUNG_THRESHOLD, tune
from kmigrate.engine import Options, fix_text
from kmigrate.rule import select_rules

from tests.conftest import FIXTURES

FOLDERS = sorted(d for d in FIXTURES.iterdir() if d.is_dir() and any(d.rglob("*.py")))


def _ours(obj) -> bool:
    """An object a cycle must not hold: a whole tree, or any object of kmigrate's or a rule's.
    (The standard library's `ast.literal_eval` and LibCST's scope analysis make small cycles of
    their own: functions, cells, scopes and the names they saw; those are not ours to break.)"""
    kind = type(obj)
    return (kind is cst.Module or kind is ast.Module
            or kind.__module__.split(".")[0] in ("kmigrate", "rules"))


def _garbage_after(text: str, path: str, options: Options) -> list:
    # With the collector off, everything the run allocates stays in the young generation:
    # collecting that one alone finds the run's cycles (a full collection would walk every
    # object the test session holds, for each file).
    gc.collect(0)
    was_enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        fix_text(text, path, options)
        fix_text("x = 1\n", "other.py", options)  # drops what the engine memoizes for the last file
        gc.collect(0)
        return [o for o in gc.garbage if _ours(o)]
    finally:
        gc.garbage.clear()
        gc.set_debug(0)
        if was_enabled:
            gc.enable()


@pytest.mark.parametrize("folder", FOLDERS, ids=[d.name for d in FOLDERS])
def test_a_run_leaves_no_cycle_holding_its_trees(folder):
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 8000))
    options = Options(rules=tuple(select_rules(["KM"], [])))  # every rule: what --check runs
    for path in sorted(folder.rglob("*.py")):
        if path.name.endswith(".fixed.py"):
            continue
        left = _garbage_after(path.read_text(encoding="utf-8"), str(path), options)
        kinds = sorted({f"{type(o).__module__}.{type(o).__qualname__}" for o in left})
        assert not left, f"{path}: a reference cycle holds {', '.join(kinds)}"


def test_the_cycle_check_sees_a_cycle():
    """The check above can fail: a rule state that holds itself is found."""

    class Held:
        pass

    Held.__module__ = "kmigrate.example"
    gc.collect(0)
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        held = Held()
        held.me = held
        del held
        gc.collect(0)
        assert any(_ours(o) for o in gc.garbage)
    finally:
        gc.garbage.clear()
        gc.set_debug(0)
        gc.enable()


def test_tune_freezes_the_imports_and_collects_young_objects_less_often(monkeypatch):
    from kmigrate import collector

    monkeypatch.setattr(collector, "_tuned", False)
    before = gc.get_threshold()
    try:
        tune()
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *before[1:])
        assert gc.get_freeze_count() > 0
        gc.set_threshold(*before)
        tune()  # once per process: a second call changes nothing
        assert gc.get_threshold() == before
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
