"""kmigrate over the Keras-era packages of ../shared/CORPORA.md (downloaded, never committed).

For every file: no crash, output compiles, a second run changes nothing, no standalone `keras`
import is left unless reported, and every `tensorflow.keras` module and name the output imports
exists in the installed TensorFlow, or a remaining finding on that line says why.
"""
from __future__ import annotations

import ast
import importlib

import pytest

from kmigrate.config import Config
from kmigrate.process import process_file
from kmigrate.run import options_from
from kmigrate.source import Source

from tests.corpora import KERAS_ERA, corpus, python_files

pytestmark = [pytest.mark.corpus, pytest.mark.tf]


def _exists(module: str, name: str | None = None) -> bool:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return False
    return name is None or name == "*" or hasattr(mod, name) or _is_submodule(module, name)


def _is_submodule(module: str, name: str) -> bool:
    try:
        importlib.import_module(f"{module}.{name}")
        return True
    except ImportError:
        return False


def _imports(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                yield node.lineno, node.module, alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, None


@pytest.mark.parametrize("package", sorted(KERAS_ERA))
def test_corpus_migrates_cleanly(package, tmp_path):
    import shutil

    src = corpus(package)
    work = tmp_path / package
    shutil.copytree(src, work)
    options = options_from(Config())
    problems: list[str] = []
    processed = 0
    for path in python_files(work):
        first = process_file(str(path), options)
        crashes = [f for f in first.findings if f.code == "KM000" and "internal error" in f.message]
        assert not crashes, crashes
        if first.error:
            continue  # Python 2 / syntax errors are reported and left alone
        processed += 1
        text = Source.from_bytes(first.new if first.new is not None else first.old).text
        compile(text, str(path), "exec")
        if first.new is not None:
            path.write_bytes(first.new)
        second = process_file(str(path), options)
        assert second.new is None, f"{path}: second run changed the file"
        reported = {f.line for f in second.findings if not f.fix_applied}
        for line, module, name in _imports(ast.parse(text)):
            if module == "keras" or module.startswith("keras."):
                if line not in reported:
                    problems.append(f"{path.relative_to(work)}:{line}: standalone keras import left: {module}")
            elif module.startswith("tensorflow.keras") and not _exists(module, name) and line not in reported:
                problems.append(f"{path.relative_to(work)}:{line}: {module}.{name or ''} missing, not reported")
    assert processed > 0
    assert not problems, "\n".join(problems)
