"""Notebooks over LSP 3.17 notebook sync: diagnostics per cell at the cells' own positions (the
CLI's `nb.ipynb:cell N:line:col`), quick fixes and fix-all as edits on the cells, updated
diagnostics after the edits, cells added and removed; an .ipynb opened as JSON text."""
from __future__ import annotations

import json

import pytest
from lsprotocol import types as T

from .conftest import apply_text_edits, codes, edits_by_uri, wait_for

pytestmark = pytest.mark.asyncio

CELLS = [
    ("code", "%matplotlib inline\nimport keras\nfrom keras.layers import Dense\n"),
    ("markdown", "# Training\nThe model, `model.fit(x, y, nb_epoch=3)`.\n"),
    ("code", "model = keras.Sequential([Dense(1)])\n!nvidia-smi\nmodel.compile(loss='mse', optimizer='adam')\n"
             "model.fit(x, y, nb_epoch=3)\n"),
    ("code", "%%bash\necho keras.layers\n"),
]


def cell_uri(path, k: int) -> str:
    return f"vscode-notebook-cell:{path.as_posix()}#C{k}"


def open_notebook(client, path, cells=CELLS):
    uri = path.as_uri()
    client.notebook_document_did_open(T.DidOpenNotebookDocumentParams(
        notebook_document=T.NotebookDocument(
            uri=uri, notebook_type="jupyter-notebook", version=1,
            cells=[T.NotebookCell(kind=T.NotebookCellKind.Code if kind == "code" else T.NotebookCellKind.Markup,
                                  document=cell_uri(path, k)) for k, (kind, _) in enumerate(cells)]),
        cell_text_documents=[T.TextDocumentItem(uri=cell_uri(path, k), version=1, text=text,
                                                language_id="python" if kind == "code" else "markdown")
                             for k, (kind, text) in enumerate(cells)]))
    return uri, [cell_uri(path, k) for k in range(len(cells))]


def cli_findings(tmp_path, cells=CELLS):
    """What `kmigrate --check nb.ipynb` reports: (cell, line, column, code)."""
    from kmigrate.config import Config
    from kmigrate.run import options_from
    try:
        from kmigrate.process import process_file
    except ImportError:  # before kmigrate/process.py
        from kmigrate.engine import process_file

    nb = {"cells": [{"cell_type": kind, "metadata": {}, "source": text,
                     **({"outputs": [], "execution_count": None} if kind == "code" else {})} for kind, text in cells],
          "metadata": {"kernelspec": {"language": "python", "name": "python3", "display_name": "Python 3"}},
          "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "cli.ipynb"
    path.write_text(json.dumps(nb, indent=1))
    result = process_file(str(path), options_from(Config()))
    return sorted((f.cell, f.line, f.column, f.code) for f in result.findings)


def change_cell(client, nb_uri, cell, text, nb_version, cell_version):
    client.notebook_document_did_change(T.DidChangeNotebookDocumentParams(
        notebook_document=T.VersionedNotebookDocumentIdentifier(uri=nb_uri, version=nb_version),
        change=T.NotebookDocumentChangeEvent(cells=T.NotebookDocumentCellChanges(text_content=[
            T.NotebookDocumentCellContentChanges(
                document=T.VersionedTextDocumentIdentifier(uri=cell, version=cell_version),
                changes=[T.TextDocumentContentChangeWholeDocument(text=text)])]))))
    client.notebook_document_did_save(T.DidSaveNotebookDocumentParams(
        notebook_document=T.NotebookDocumentIdentifier(uri=nb_uri)))


async def test_notebook_diagnostics_per_cell_as_the_cli_reports_them(client, project):
    root = project()
    nb_uri, cells = open_notebook(client, root / "nb.ipynb")
    first = await wait_for(client, cells[0], 1)
    third = await wait_for(client, cells[2], 1)
    assert codes(first) == ["KM101", "KM101"] and codes(third) == ["KM320"]
    assert cells[1] not in client.diagnostics and cells[3] in client.diagnostics  # markdown never, %%bash: none
    assert list(client.diagnostics[cells[3]]) == []
    # code cell N of the CLI = the Nth code cell of the notebook; lines and columns within the cell
    got = sorted([(1, d.range.start.line + 1, d.range.start.character + 1, d.code) for d in first]
                 + [(2, d.range.start.line + 1, d.range.start.character + 1, d.code) for d in third])
    assert got == cli_findings(root)
    (km320,) = third
    assert km320.range.start.line == 3  # after the `!nvidia-smi` line, which IPython syntax keeps

    # a quick fix is an edit of that cell only
    fixes = await client.text_document_code_action_async(T.CodeActionParams(
        text_document=T.TextDocumentIdentifier(uri=cells[2]), range=km320.range,
        context=T.CodeActionContext(diagnostics=[km320], only=[T.CodeActionKind.QuickFix])))
    (fix,) = fixes
    edits = edits_by_uri(fix.edit)
    assert list(edits) == [cells[2]]
    fixed = apply_text_edits(CELLS[2][1], edits[cells[2]])
    assert fixed == CELLS[2][1].replace("nb_epoch=3", "epochs=3")
    change_cell(client, nb_uri, cells[2], fixed, 2, 2)
    assert list(await wait_for(client, cells[2], 2)) == []
    assert codes(await wait_for(client, cells[0], 1)) == ["KM101", "KM101"]

    # fix all from any cell: the imports cell changes; `%matplotlib` stays
    fixes = await client.text_document_code_action_async(T.CodeActionParams(
        text_document=T.TextDocumentIdentifier(uri=cells[0]), range=first[0].range,
        context=T.CodeActionContext(diagnostics=[], only=["source.fixAll.kmigrate"])))
    (fix_all,) = fixes
    edits = edits_by_uri(fix_all.edit)
    assert list(edits) == [cells[0]]
    new_first = apply_text_edits(CELLS[0][1], edits[cells[0]])
    assert new_first.startswith("%matplotlib inline\n") and "from tensorflow import keras" in new_first
    change_cell(client, nb_uri, cells[0], new_first, 3, 2)
    assert list(await wait_for(client, cells[0], 2)) == []


async def test_cells_added_and_removed(client, project):
    root = project()
    nb_uri, cells = open_notebook(client, root / "nb.ipynb", CELLS[:1])
    assert codes(await wait_for(client, cells[0], 1)) == ["KM101", "KM101"]
    new = cell_uri(root / "nb.ipynb", 9)
    client.notebook_document_did_change(T.DidChangeNotebookDocumentParams(
        notebook_document=T.VersionedNotebookDocumentIdentifier(uri=nb_uri, version=2),
        change=T.NotebookDocumentChangeEvent(cells=T.NotebookDocumentCellChanges(
            structure=T.NotebookDocumentCellChangeStructure(
                array=T.NotebookCellArrayChange(start=1, delete_count=0, cells=[
                    T.NotebookCell(kind=T.NotebookCellKind.Code, document=new)]),
                did_open=[T.TextDocumentItem(uri=new, language_id="python", version=1,
                                             text="Dense(4, init='uniform')\n")])))))
    (d,) = await wait_for(client, new, 1)
    assert d.code == "KM304" and d.range.start.line == 0  # `init=` of Keras 1, known through cell 1's import
    client.published.clear()
    client.notebook_document_did_change(T.DidChangeNotebookDocumentParams(
        notebook_document=T.VersionedNotebookDocumentIdentifier(uri=nb_uri, version=3),
        change=T.NotebookDocumentChangeEvent(cells=T.NotebookDocumentCellChanges(
            structure=T.NotebookDocumentCellChangeStructure(
                array=T.NotebookCellArrayChange(start=1, delete_count=1),
                did_close=[T.TextDocumentIdentifier(uri=new)])))))
    assert list(await wait_for(client, new, None)) == []  # a removed cell's diagnostics are cleared


async def test_a_cell_that_does_not_parse_and_the_others(client, project):
    root = project()
    cells = [("code", "import keras\n"), ("code", "def f(:\n"), ("code", "model.fit(x, y, nb_epoch=1)\n")]
    _, uris = open_notebook(client, root / "nb.ipynb", cells)
    (bad,) = await wait_for(client, uris[1], 1)
    assert bad.code == "KM000" and "cell not processed" in bad.message
    assert codes(await wait_for(client, uris[0], 1)) == ["KM101"]
    assert codes(await wait_for(client, uris[2], 1)) == ["KM320"]


async def test_an_ipynb_opened_as_json_text(client, project):
    root = project()
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                     "source": ["import keras\n", "model.fit(x, y, nb_epoch=3)\n"]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    text = json.dumps(nb, indent=1) + "\n"
    path = root / "plain.ipynb"
    uri = path.as_uri()
    client.text_document_did_open(T.DidOpenTextDocumentParams(
        text_document=T.TextDocumentItem(uri=uri, language_id="json", version=1, text=text)))
    diags = await wait_for(client, uri, 1)
    lines = text.splitlines()
    assert codes(diags) == ["KM101", "KM320"]
    for d in diags:  # at the JSON lines holding the code
        assert ("import keras" if d.code == "KM101" else "nb_epoch") in lines[d.range.start.line]
    (fix_all,) = await client.text_document_code_action_async(T.CodeActionParams(
        text_document=T.TextDocumentIdentifier(uri=uri), range=diags[0].range,
        context=T.CodeActionContext(diagnostics=[], only=["source.fixAll.kmigrate"])))
    fixed = apply_text_edits(text, edits_by_uri(fix_all.edit)[uri])
    assert json.loads(fixed)["cells"][0]["source"] == ["from tensorflow import keras\n",
                                                       "model.fit(x, y, epochs=3)\n"]
