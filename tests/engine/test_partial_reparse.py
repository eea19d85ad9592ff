"""Between passes only what the fixes changed is printed and parsed again: the fixed text is the
old text with the changed top-level statements printed anew (engine._code_after), and the tree
the next pass sees (kmigrate.reparse) must equal LibCST's parse of that text, node for node."""
from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from kmigrate import engine, process, reparse as partial
from kmigrate.codegen import code_of
from kmigrate.meta import Positions
from kmigrate.config import Config
from kmigrate.rule import all_rules
from kmigrate.run import options_from
from kmigrate.walk import walk

from tests.corpora import ALL, corpus, python_files
from tests.paths import ROOT


# Statements in blocks, with comments and blank lines where the parser has to decide who owns them.
SOURCES = [
    "class A:\n    def f(self):\n        x = 1\n        # about y\n        y = 2\n\n    def g(self):\n        pass\n",
    "def f():\n    if a:\n        b = 1\n    # dedented comment\n    elif c:\n        d = 2\n    else:\n        e = 3\n",
    "def f():\n    x = 1\n# column 0 comment\n    y = 2\n        # deeper comment\n    z = 3\n",
    "def f():\n\tfor i in r:\n\t\tx = i\n\t\t# trailing in block\n\n\t# after the loop\n\treturn x\n",
    "try:\n    a = 1\nexcept E as e:\n    b = 2\nelse:\n    c = 3\nfinally:\n    d = 4\n",
    "with open(p) as fh:\n    for line in fh:\n        if line:\n            print(line)  # c\n",
    "class B:\n  def m(self):\n      return 1\n  # end of class\n# end of file\n",
    "while x:\n    x -= 1\nelse:\n    done = True\n\n\n# footer\n",
    "def last():\n    value = 1\n    return value",  # no final newline
    "@dec\nclass C:\n    '''doc'''\n    a = 1\n    def f(self): return 2\n",
]


def _swap_each_statement(module: cst.Module):
    """For every statement inside a block: the module with it replaced by built nodes."""
    builds = [
        lambda s: cst.SimpleStatementLine([cst.Expr(cst.Name("replaced"))], leading_lines=s.leading_lines),
        lambda s: cst.If(cst.Name("cond"), cst.IndentedBlock([cst.SimpleStatementLine([cst.Pass()])]),
                         leading_lines=s.leading_lines),
        lambda s: s.deep_clone(),  # prints the same, new objects
    ]
    for node in walk(module):
        if type(node) is not cst.IndentedBlock:
            continue
        for stmt in node.body:
            for build in builds:
                new = build(stmt)
                spine = {n for n in walk(module) if stmt in walk(n)} - {stmt}
                yield module.visit(partial.Replace({stmt: new}, spine))


@pytest.mark.parametrize("src", SOURCES)
def test_statements_built_in_blocks_parse_back_as_a_full_parse(src):
    module = cst.parse_module(src)
    inner = 0
    for after in _swap_each_statement(module):
        text = after.code
        full = cst.parse_module(text)
        got = partial.reparse(module, after, text, cst.parse_module)
        assert got.code == text and got.deep_equals(full), text
        inner += got is not full and any(a is not b and a is not c for a, b, c in zip(got.body, after.body, full.body))
    assert inner, "no statement was parsed on its own"


def _checked_reparse(monkeypatch) -> dict:
    """Check every reparse of the engine against a full parse; count how it went (a failed
    check is recorded, not raised: process_file turns exceptions into KM000 findings)."""
    counts = {"calls": 0, "kept": 0, "inner": 0, "wrong": []}
    real, real_inner = engine._reparse, partial._inner_reparse

    def checked(before, after, text):
        out = real(before, after, text)
        full = cst.parse_module(text)
        if not (out.code == text and out.deep_equals(full)):
            counts["wrong"].append(text)
        counts["calls"] += 1
        counts["kept"] += out is not after and any(a is b for a, b in zip(out.body, after.body))
        return out

    def inner(new, old, module):
        out = real_inner(new, old, module)
        counts["inner"] += out is not None
        return out

    monkeypatch.setattr(engine, "_reparse", checked)
    monkeypatch.setattr(partial, "_inner_reparse", inner)
    return counts


def test_partial_reparse_is_libcst_s_parse(monkeypatch):
    """Over every fixture and rule example, with unsafe fixes, the tree equals a full parse."""
    counts = _checked_reparse(monkeypatch)
    options = options_from(Config(unsafe_fixes=True))
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "fixtures").rglob("*.py"))
             if not p.name.endswith(".fixed.py")]
    texts += [ex if isinstance(ex, str) else ex.before for r in all_rules().values() for ex in r.INVALID]
    for text in texts:
        try:
            engine.fix_text(text, "x.py", options)
        except engine.FileError:
            pass
    assert counts["wrong"] == []
    assert counts["kept"] >= 20  # statements kept, others parsed again
    assert counts["inner"] >= 10  # classes and functions kept around a line parsed on its own


@pytest.mark.corpus
@pytest.mark.filterwarnings("ignore::SyntaxWarning")
@pytest.mark.parametrize("package", sorted(ALL))
def test_partial_reparse_over_real_packages(monkeypatch, package):
    counts = _checked_reparse(monkeypatch)
    options = options_from(Config(unsafe_fixes=True))
    for f in python_files(corpus(package)):
        process.process_file(str(f), options)
    assert counts["wrong"] == []


# Top-level statements with what the text-copying has to get right around them.
TOP_LEVEL = [
    "#!/usr/bin/env python\n# header comment\n\nimport a\n\n\n# about f\n@dec  # c\n# between\ndef f():\n    pass\n"
    "    # inner footer\n\n# before x\nx = 1; y = 2\n# footer\n",
    "import a\r\nif a:\r\n    b = 1\r\n\r\nc = 2\r\n",  # CRLF
    "import a\rb = 1\r",  # lone CR
    '"""doc"""\n\x0c\nclass A:\n    x = (1,\n         2)\ny = [\n    3,\n]  # end\n',
    "x = 1\ny = 2",  # no final newline: printed whole
]


@pytest.mark.parametrize("src", TOP_LEVEL)
def test_fixed_text_copies_the_statements_left_alone(src):
    module = cst.parse_module(src)
    for i, stmt in enumerate(module.body):
        for new in (stmt.deep_clone(), cst.SimpleStatementLine([cst.Expr(cst.Name("z"))])):
            after = module.with_changes(body=[*module.body[:i], new, *module.body[i + 1:]])
            positions = Positions(module, src, None)
            assert engine._code_after(module, after, src, positions) == code_of(after)
    if module.has_trailing_newline:
        assert Positions(module, src, None).statement_spans() is not None


def test_fixed_text_over_fixtures_and_real_packages(monkeypatch):
    counts = {"calls": 0, "copied": 0, "wrong": []}
    real = engine._code_after

    def checked(before, after, text, positions):
        out = real(before, after, text, positions)
        counts["calls"] += 1
        counts["copied"] += positions.statement_spans() is not None
        if out != code_of(after):
            counts["wrong"].append(text)
        return out

    monkeypatch.setattr(engine, "_code_after", checked)
    options = options_from(Config(unsafe_fixes=True))
    files = sorted((ROOT / "fixtures").rglob("*.py")) + python_files(corpus("keras-rl"))
    for f in files:
        process.process_file(str(f), options)
    assert counts["wrong"] == []
    assert counts["copied"] >= counts["calls"] * 0.9 > 50


@pytest.mark.parametrize("src", SOURCES + TOP_LEVEL)
def test_fixed_text_prints_only_the_changed_statements_of_a_block(src):
    """A statement rebuilt inside a function or class: the fixed text is the old text with that
    statement printed anew (engine._spliced), the same as printing the whole module."""
    module = cst.parse_module(src)
    spliced = 0
    real = engine._spliced

    def counting(*args):
        nonlocal spliced
        out = real(*args)
        spliced += out is not None
        return out

    engine._spliced = counting
    try:
        for after in _swap_each_statement(module):
            positions = Positions(module, src, None)
            assert engine._code_after(module, after, src, positions) == code_of(after), after.code
    finally:
        engine._spliced = real
    assert spliced or not module.has_trailing_newline or not any(type(n) is cst.IndentedBlock for n in walk(module))
