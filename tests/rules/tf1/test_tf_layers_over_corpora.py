"""KM2xx over tensor2tensor==1.13.4 and stable-baselines==2.10.2 (../shared/CORPORA.md).

Every `tf.layers.*` / `tf.compat.v1.layers.*` / `tf.contrib.layers.*` use in the code (found by an
independent `ast` census, not by the rules) gets a KM2xx finding on its line, converted or reported;
every output compiles; a second run changes nothing. Runs with --unsafe-fixes so that the most
code is rewritten, on two worker processes.
"""
from __future__ import annotations

import ast
from concurrent.futures import ProcessPoolExecutor

import pytest

from kmigrate.engine import Options, fix_text
from kmigrate.rule import select_rules

from tests.corpora import corpus, python_files
from tests.paths import ROOT

pytestmark = pytest.mark.corpus

_ROOTS = ("tf.layers.", "tf.compat.v1.layers.", "tf.contrib.layers.", "tensorflow.layers.")


def census(text: str) -> list[tuple[int, str]]:
    """(line, dotted) of every outermost `tf.layers.X` / `tf.contrib.layers.X` attribute in code."""
    out = []
    inner = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Attribute) and id(node) not in inner:
            dotted = _dotted(node)
            if dotted and dotted.startswith(_ROOTS):
                out.append((node.lineno, dotted))
                n = node.value
                while isinstance(n, ast.Attribute):
                    inner.add(id(n))
                    n = n.value
    return out


def _dotted(node) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def check(path: str) -> dict:
    text = open(path, encoding="utf-8").read()
    options = Options(rules=tuple(select_rules(["KM2"], [])), unsafe_fixes=True)
    out = fix_text(text, path, options)
    result = {"path": path, "uses": 0, "missed": [], "fixed": 0, "reported": 0, "idempotent": True}
    lines = {f.line for f in out.findings if f.code.startswith("KM2")}
    for line, dotted in census(text):
        result["uses"] += 1
        if line not in lines:
            result["missed"].append(f"{line}: {dotted}")
    for f in out.findings:
        result["fixed" if f.fix_applied else "reported"] += 1
    if out.text != text:
        compile(out.text, path, "exec")
        result["idempotent"] = fix_text(out.text, path, options).text == out.text
    return result


def _files(name: str) -> list[str]:
    files = []
    for p in python_files(corpus(name)):
        t = p.read_text(encoding="utf-8", errors="replace")
        if "layers" in t and "tensorflow" in t:
            files.append(str(p))
    return files


@pytest.fixture(scope="module")
def results():
    files = _files("tensor2tensor") + _files("stable-baselines")
    with ProcessPoolExecutor(max_workers=2) as pool:
        return list(pool.map(check, files, chunksize=4))


def test_every_tf_layers_use_is_converted_or_reported(results):
    missed = [f"{r['path']}:{m}" for r in results for m in r["missed"]]
    assert missed == []
    uses = sum(r["uses"] for r in results)
    assert uses > 250, uses  # CORPORA.md: about 250 tf.layers lines in tensor2tensor alone


def test_outputs_compile_and_a_second_run_changes_nothing(results):
    assert [r["path"] for r in results if not r["idempotent"]] == []
    assert sum(r["fixed"] for r in results) > 100
