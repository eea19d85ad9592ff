"""All KM rules over the TF1 corpora of ../shared/CORPORA.md (tensor2tensor==1.13.4,
stable-baselines==2.10.2): no crash, every output parses, a second run changes nothing, and no
TensorFlow path that TensorFlow 2.21 lacks is left unreported.

The last check is an independent census with `ast`, not the rules: in each output, every
attribute chain rooted at a name the file binds to `tensorflow` (or `tensorflow.compat.v1`) by
an import, and every `import tensorflow.x` / `from tensorflow.x import y`, is looked up in the
public-name table; a path TF 2.21 does not have must have a finding (any code) on its line when
kmigrate checks the output. Runs with --unsafe-fixes (the most code rewritten), two workers.
"""
from __future__ import annotations

import ast
from concurrent.futures import ProcessPoolExecutor

import pytest

from kmigrate.engine import FileError, Options, fix_text
from kmigrate.rule import select_rules

from tests.corpora import corpus, python_files

pytestmark = pytest.mark.corpus

_PRIVATE = ("python", "core", "tools", "_api", "include", "compiler", "tsl", "xla", "keras")


def missing_paths(text: str) -> list[tuple[int, str]]:
    """(line, path) of every public `tensorflow` path in `text` that TF 2.21 does not have."""
    from kmigrate.rules.tf1.missing_tensorflow_attribute import missing_part

    tree = ast.parse(text)
    roots: dict[str, str] = {}
    out = []

    def check(line: int, rel: str) -> None:
        if not rel or rel.split(".")[0] in _PRIVATE or rel.startswith(("compat.v1.keras", "compat.v2.keras")):
            return
        m = missing_part(rel)
        if m is not None:
            out.append((line, m))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "tensorflow" or a.name.startswith("tensorflow."):
                    check(node.lineno, a.name[len("tensorflow."):] if "." in a.name else "")
                    if a.asname and a.name in ("tensorflow", "tensorflow.compat.v1"):
                        roots[a.asname] = a.name
                    elif not a.asname:
                        roots["tensorflow"] = "tensorflow"
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and (node.module == "tensorflow" or node.module.startswith("tensorflow.")):
            base = node.module[len("tensorflow."):] if "." in node.module else ""
            check(node.lineno, base)
            for a in node.names:
                if a.name != "*":
                    check(node.lineno, f"{base}.{a.name}" if base else a.name)
    inner = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and id(node) not in inner:
            parts = []
            n = node
            while isinstance(n, ast.Attribute):
                parts.append(n.attr)
                inner.add(id(n.value))
                n = n.value
            if isinstance(n, ast.Name) and n.id in roots:
                prefix = "" if roots[n.id] == "tensorflow" else "compat.v1."
                check(node.lineno, prefix + ".".join(reversed(parts)))
    return out


def check_file(path: str) -> dict:
    text = open(path, encoding="utf-8").read()
    options = Options(rules=tuple(select_rules(["KM"], [])), unsafe_fixes=True)
    result = {"path": path, "error": None, "idempotent": True, "unreported": [], "changed": False, "findings": 0}
    try:
        out = fix_text(text, path, options)
        result["changed"] = out.text != text
        result["findings"] = len(out.findings)
        compile(out.text, path, "exec")
        again = fix_text(out.text, path, options)
        result["idempotent"] = again.text == out.text
        lines = {f.line for f in again.findings}
        result["unreported"] = [f"{line}: tf.{p}" for line, p in missing_paths(out.text) if line not in lines]
    except FileError as exc:
        if "syntax error" not in exc.message:  # Python 2 files in the sdists are not ours to fix
            result["error"] = exc.message
    except Exception as exc:  # a crash of any kind is a bug
        result["error"] = f"{type(exc).__name__}: {exc}"
    return result


def _files(name: str) -> list[str]:
    out = []
    for p in python_files(corpus(name)):
        if "tensorflow" in p.read_text(encoding="utf-8", errors="replace"):
            out.append(str(p))
    return out


@pytest.fixture(scope="module")
def results():
    files = _files("tensor2tensor") + _files("stable-baselines")
    with ProcessPoolExecutor(max_workers=2) as pool:
        return list(pool.map(check_file, files, chunksize=4))


def test_no_crash_and_outputs_parse(results):
    assert len(results) > 300
    assert [(r["path"], r["error"]) for r in results if r["error"]] == []
    assert sum(r["changed"] for r in results) > 200


def test_a_second_run_changes_nothing(results):
    assert [r["path"] for r in results if not r["idempotent"]] == []


def test_no_missing_tensorflow_path_left_unreported(results):
    unreported = [f"{r['path']}:{u}" for r in results for u in r["unreported"]]
    assert unreported == []


def test_census_finds_what_tf_2_21_lacks():
    """The census itself: it sees a missing path through each spelling."""
    text = ("import tensorflow as tf\nimport tensorflow.compat.v1 as v1\nfrom tensorflow.contrib import slim\n"
            "a = tf.placeholder\nb = v1.no_such\nc = tf.math.log\n")
    assert missing_paths(text) == [(3, "contrib"), (3, "contrib"), (4, "placeholder"), (5, "compat.v1.no_such")]
