"""The notebooks shipped in the CORPORA.md packages (hyperas examples, tensor2tensor's
visualization notebook), through every default rule: only code-cell sources may change."""
from __future__ import annotations

import json

import nbformat
import pytest

from kmigrate.config import Config
from kmigrate.process import process_file
from kmigrate.notebook import Notebook, mask_ipython
from kmigrate.run import options_from

from tests.corpora import corpus

pytestmark = pytest.mark.corpus


def _notebooks():
    found = []
    for name in ("hyperas", "tensor2tensor"):
        found += sorted(p for p in corpus(name).rglob("*.ipynb") if p.is_file())
    return found


def _outside_sources(nb: Notebook) -> str:
    """The notebook's text with every code cell's source value cut out."""
    spans = sorted(nb.spans[c.path + (c.key,)] for c in nb.cells if c.path + (c.key,) in nb.spans)
    out, last = [], 0
    for start, end in spans:
        out.append(nb.text[last:start])
        last = end
    return "".join(out) + nb.text[last:]


def test_corpus_notebooks_change_only_code(tmp_path):
    options = options_from(Config(cache=False))
    notebooks = _notebooks()
    assert len(notebooks) >= 3
    changed = 0
    for path in notebooks:
        raw = path.read_bytes()
        copy = tmp_path / path.name
        copy.write_bytes(raw)
        result = process_file(str(copy), options)
        try:
            json.loads(raw)
        except ValueError:  # hyperas ships a Python file named .ipynb: an error for that file only
            assert result.error and [f.code for f in result.findings] == ["KM000"]
            assert "not JSON" in result.findings[0].message and result.new is None
            continue
        assert not [f for f in result.findings if f.code == "KM000"], (path, result.findings)
        old = Notebook.from_bytes(raw)
        for f in result.findings:  # every finding points into its cell's source in the file
            line, _ = old.file_position(f.cell, f.line, f.column)
            cell = next(c for c in old.cells if c.number == f.cell)
            start, end = old.spans[cell.path + (cell.key,)]
            assert old.text.count("\n", 0, start) < line <= old.text.count("\n", 0, end) + 1
        if result.new is None:
            continue
        changed += 1
        new = Notebook.from_bytes(result.new)
        assert _outside_sources(new) == _outside_sources(old)  # outputs, metadata, layout: byte-for-byte
        nbformat.validate(nbformat.reads(result.new.decode(), as_version=4))
        for cell in new.cells:
            masked = mask_ipython(cell.text)
            if not masked.skip and cell.language is None:
                compile(masked.text, str(path), "exec")
        copy.write_bytes(result.new)
        again = process_file(str(copy), options)
        assert again.new is None, f"second run changed {path.name}: {again.diff}"
    assert changed >= 1
