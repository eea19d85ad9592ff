"""What the tests that run migrated programs share: migrate an old program in memory (checking
that a second run changes nothing), then execute the migrated text under TensorFlow, in this
process to get at its objects (`run`) or as a script of its own (`run_script`)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Optional, Sequence

from kmigrate.engine import Options, fix_text
from kmigrate.rule import all_rules, select_rules


def migrate(source: str, filename: str, codes: Optional[Sequence[str]] = None):
    """`source` fixed with unsafe fixes on, by the rules `codes` (every rule when None); asserts the
    fix is idempotent, and with `codes` that none of those rules reports anything afterwards."""
    rules = tuple(select_rules(list(codes), [])) if codes is not None else tuple(all_rules().values())
    opts = Options(rules=rules, unsafe_fixes=True)
    out = fix_text(source, filename, opts)
    again = fix_text(out.text, filename, opts)
    assert again.text == out.text
    if codes is not None:
        assert [f for f in again.findings if f.code in codes] == []
    return out


def run(migrated, filename: str) -> dict:
    """The namespace of the migrated program after executing it (TensorFlow imported first)."""
    import tensorflow as tf  # noqa: F401

    namespace: dict = {}
    exec(compile(migrated.text, filename, "exec"), namespace)
    return namespace


def migrate_all(source: str, filename: str):
    """(first run, second run) of every default rule with unsafe fixes on over `source`; asserts
    the second run changes nothing (`migrate` takes a subset of rules)."""
    opts = Options(rules=tuple(r for r in all_rules().values() if not r.opt_in), unsafe_fixes=True)
    out = fix_text(source, filename, opts)
    again = fix_text(out.text, filename, opts)
    assert again.text == out.text
    return out, again


def run_script(text: str, folder: Path, filename: str) -> None:
    """Run `text` as a script of its own (CPU only) in `folder`; it must print CASE-OK."""
    path = folder / filename
    path.write_text(text, encoding="utf-8")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "-1"}
    proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=600,
                          cwd=folder, env=env)
    assert "CASE-OK" in proc.stdout, f"{proc.stderr[-3000:]}\nran:\n{text}"
