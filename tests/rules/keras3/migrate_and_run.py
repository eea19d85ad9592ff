"""What the Keras 1 build tests share: migrate an old program in memory (checking that a second
run changes nothing) and execute the migrated text under TensorFlow to get at its objects."""
from __future__ import annotations

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
