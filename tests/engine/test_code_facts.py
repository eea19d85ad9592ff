"""CodeFacts (kmigrate/code_facts.py) and the rule screens the engine applies with them: a rule
whose `needs_import` modules the file does not import, or whose `screen` says no, is not run,
and a file no rule is left for is not parsed with LibCST at all."""
from __future__ import annotations

import ast

import libcst as cst
import pytest

import kmigrate.engine as engine
from kmigrate.code_facts import CodeFacts
from kmigrate.engine import Options, fix_text
from kmigrate.rule import KERAS_OR_TF, Rule, Safety, all_rules

SOURCE = '''"""Module docstring mentioning keras."""
import a.b as x, os
from keras.layers import Dense as D
from . import keras
from .sibling import thing
from lib import *

class Net(keras.Model, base.Layer):
    """Class docstring: fit_generator."""

    def call(self, inputs, *rest, flag=None, **kw):
        y = D(4, activation="relu")(inputs)
        self.model.fit(y, epochs=2)
        try:
            pass
        except ValueError as err:
            del y
        global counter
        return [z for z in rest if (w := z)]

lam = lambda q: q + undefined_name
'''


def facts(text: str = SOURCE) -> CodeFacts:
    return CodeFacts(ast.parse(text))


def test_imports_are_absolute_module_paths():
    f = facts()
    assert f.imports == {"a.b", "os", "keras.layers", "keras.layers.Dense", "lib"}
    assert f.star
    assert f.imports_from("keras") and f.imports_from("a") and not f.imports_from("keras_cv", "tensorflow")
    assert not facts("import keras_cv\nfrom keras_hub.src import keras\n").imports_from(*KERAS_OR_TF)


def test_a_root_is_reached_by_an_import_or_by_a_binding_of_its_own_name():
    # kmigrate.names resolves `keras = importorskip("keras")` or a parameter `tf` by spelling.
    assert not facts("from keras_cv.backend import keras\nkeras.layers.Dense(3)\n").reaches(*KERAS_OR_TF)
    assert facts("import pytest\nkeras = pytest.importorskip('keras')\n").reaches(*KERAS_OR_TF)
    assert facts("def f(tf):\n    return tf.layers.dense(x, 3)\n").reaches("tensorflow", "tf")
    assert not facts("def f(tf):\n    pass\n").reaches("tensorflow")
    assert facts("import tensorflow.compat.v1 as tf\n").reaches("tensorflow")


def test_names_bound_and_read():
    f = facts()
    assert {"x", "os", "D", "keras", "thing", "Net", "call", "self", "inputs", "rest", "flag", "kw", "y",
            "err", "counter", "z", "w", "lam", "q"} <= f.bound
    assert {"D", "inputs", "keras", "base", "rest", "z", "undefined_name", "q", "self"} <= f.names
    assert "undefined_name" not in f.bound and "a" not in f.bound
    assert "D" not in f.local and "thing" not in f.local and {"y", "err", "lam", "q"} <= f.local


def test_calls_attributes_keywords_definitions():
    f = facts()
    assert {"D", "fit"} <= f.calls
    assert {"Model", "Layer", "model", "fit"} <= f.attrs
    assert f.keywords == {"activation", "epochs"}
    assert f.functions == {"call"}
    assert f.bases == {"Model", "Layer"}


def test_words_leave_docstrings_out():
    words = facts().words.split("\n")
    assert "relu" in words and "Dense" in words and "fit" in words
    assert not any("fit_generator" in w or "docstring" in w for w in words)


class _AnyCall(Rule):
    """Reports every call (a test rule)."""

    code = "KM999"
    name = "any-call"
    summary = "test"
    fix_safety = Safety.NONE
    triggers = ("keras",)
    needs_import = KERAS_OR_TF

    def visit_Call(self, node: cst.Call) -> None:
        self.report(node, "a call")


class _Screened(_AnyCall):
    needs_import = ()

    @classmethod
    def screen(cls, facts, context) -> bool:
        return "fit" in facts.calls


def _run(rule, text, monkeypatch):
    parsed = []
    real = engine._parse
    monkeypatch.setattr(engine, "_parse", lambda t: parsed.append(t) or real(t))
    out = fix_text(text, "m.py", Options(rules=(rule,)))
    return [f.line for f in out.findings], bool(parsed)


def test_a_file_without_the_needed_import_is_not_parsed(monkeypatch):
    assert _run(_AnyCall, "from keras_cv.backend import keras\nkeras.layers.Dense(3)\n", monkeypatch) == ([], False)
    assert _run(_AnyCall, "keras = load('keras')\nkeras.layers.Dense(3)\n", monkeypatch) == ([1, 2], True)
    assert _run(_AnyCall, "import keras\nkeras.layers.Dense(3)\n", monkeypatch) == ([2], True)
    assert _run(_AnyCall, "import tensorflow as tf\ntf.keras.layers.Dense(3)\n", monkeypatch) == ([2], True)


def test_a_screen_that_says_no_skips_the_rule(monkeypatch):
    assert _run(_Screened, "import keras\nkeras.layers.Dense(3)\n", monkeypatch) == ([], False)
    assert _run(_Screened, "import keras\nm = keras.Model()\nm.fit(1)\n", monkeypatch) == ([2, 3], True)


def test_screens_are_classmethods_that_take_facts_and_context():
    # The engine calls `rule.screen(facts, context)` on the class: an instance method would fail.
    for code, rule in all_rules().items():
        if rule.screen is not None:
            assert getattr(rule.screen, "__self__", None) is rule, f"{code}.screen is not a classmethod"
        assert set(rule.needs_import) <= set(KERAS_OR_TF), code


def _texts():
    from tests.paths import ROOT

    texts = [(p.read_text(encoding="utf-8"), p.name) for p in sorted((ROOT / "fixtures").rglob("*.py"))]
    for rule in all_rules().values():
        texts += [(ex if isinstance(ex, str) else ex.before, rule.code) for ex in [*rule.VALID, *rule.INVALID]]
    return texts


@pytest.mark.parametrize("shard", range(4))  # in four parts, for the test workers
def test_screens_hide_no_finding_of_any_fixture_or_example(monkeypatch, shard):
    """Every rule over every fixture and example (all rules at once, unsafe fixes on): the same
    findings and text with the screens as without them."""
    import kmigrate.precheck as precheck

    options = Options(rules=tuple(all_rules().values()), unsafe_fixes=True)
    screened = []
    for text, where in _texts()[shard::4]:
        try:
            with_screens = fix_text(text, "case.py", options)
        except engine.FileError:
            continue
        with monkeypatch.context() as m:
            m.setattr(precheck, "screened_out", lambda rule, facts, context: screened.append(rule) and False)
            without = fix_text(text, "case.py", options)
        assert (with_screens.text, with_screens.findings) == (without.text, without.findings), where
    assert len(screened) > 250  # the screens were asked on these texts
