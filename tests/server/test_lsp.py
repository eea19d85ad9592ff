"""End to end: a real LSP client (pytest-lsp, VS Code's capabilities) and `kmigrate server` over
stdio. Initialize, open a Keras 2 file, diagnostics, code actions, apply them, diagnostics
again; configuration; hover; syntax errors and malformed requests; the workspace command."""
from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types as T
from pygls.exceptions import JsonRpcException

from .conftest import (KERAS2, apply_text_edits, codes, edits_by_uri, init_params, open_python, wait_for)

pytestmark = pytest.mark.asyncio


async def actions(client, uri, diagnostics, rng=None, only=None):
    rng = rng or (diagnostics[0].range if diagnostics else T.Range(T.Position(0, 0), T.Position(0, 0)))
    found = await client.text_document_code_action_async(T.CodeActionParams(
        text_document=T.TextDocumentIdentifier(uri=uri), range=rng,
        context=T.CodeActionContext(diagnostics=list(diagnostics), only=only)))
    return list(found or [])


async def change_and_save(client, uri, text, version):
    client.text_document_did_change(T.DidChangeTextDocumentParams(
        text_document=T.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[T.TextDocumentContentChangeWholeDocument(text=text)]))
    client.text_document_did_save(T.DidSaveTextDocumentParams(text_document=T.TextDocumentIdentifier(uri=uri)))
    return await wait_for(client, uri, version)


async def test_initialize_announces_what_the_server_does(bare_client):
    result = await bare_client.initialize_session(init_params())
    caps = result.capabilities
    assert result.server_info.name == "kmigrate"
    assert caps.text_document_sync.change == T.TextDocumentSyncKind.Incremental
    assert caps.text_document_sync.save
    (selector,) = caps.notebook_document_sync.notebook_selector
    assert [c.language for c in selector.cells] == ["python"]
    assert set(caps.code_action_provider.code_action_kinds) == {"quickfix", "source.fixAll.kmigrate", "refactor.rewrite"}
    assert caps.hover_provider
    assert set(caps.execute_command_provider.commands) == {"kmigrate.migrateWorkspace", "kmigrate.serverStatus"}
    await bare_client.shutdown_session()


async def test_keras2_file_diagnostics_fix_and_updated_diagnostics(client, project):
    root = project()
    path = root / "train.py"
    uri = open_python(client, path, KERAS2)
    diags = await wait_for(client, uri, 1)
    assert codes(diags) == ["KM101", "KM101", "KM101", "KM320", "KM325", "KM330"]
    by_code = {d.code: d for d in diags}
    km320 = by_code["KM320"]
    assert km320.source == "kmigrate" and km320.severity == T.DiagnosticSeverity.Error
    assert km320.range == T.Range(T.Position(8, 16), T.Position(8, 27))  # `nb_epoch=10` of model.fit(x, y, nb_epoch=10)
    assert km320.code_description.href.endswith("docs/rules/KM320.md")
    assert km320.data["fixable"] is True and km320.data["safety"] == "safe"

    # a quick fix for one finding: a minimal edit on its line, nothing else
    found = await actions(client, uri, [km320], only=[T.CodeActionKind.QuickFix])
    assert [a.title for a in found] == ["kmigrate: fix KM320 (fit-nb-epoch)"]
    assert found[0].kind == T.CodeActionKind.QuickFix and found[0].diagnostics[0].code == "KM320"
    (edits,) = edits_by_uri(found[0].edit).values()
    assert len(edits) == 1 and edits[0].range.start.line == edits[0].range.end.line == 8
    assert len(edits[0].new_text) < 10  # `nb_epoch` -> `epochs`, not the whole line or document
    text = apply_text_edits(KERAS2, edits)
    assert "model.fit(x, y, epochs=10)" in text and text.count("\n") == KERAS2.count("\n")

    diags = await change_and_save(client, uri, text, 2)
    assert codes(diags) == ["KM101", "KM101", "KM101", "KM325", "KM330"]

    # fix all: every safe fix, as `kmigrate train.py` would write it
    found = await actions(client, uri, diags, only=["source.fixAll.kmigrate"])
    assert [a.kind for a in found] == ["source.fixAll.kmigrate"]
    text = apply_text_edits(text, edits_by_uri(found[0].edit)[uri])
    from kmigrate.config import Config
    from kmigrate.engine import fix_text
    from kmigrate.run import options_from

    assert text == fix_text(KERAS2, str(path), options_from(Config())).text
    diags = await change_and_save(client, uri, text, 3)
    assert list(diags) == []


async def test_each_fixable_finding_has_its_own_quick_fix(client, project):
    uri = open_python(client, project() / "a.py", KERAS2)
    diags = await wait_for(client, uri, 1)
    text = KERAS2
    for d in diags:
        found = await actions(client, uri, [d], only=[T.CodeActionKind.QuickFix])
        assert len(found) == 1, d
        fixed = apply_text_edits(text, edits_by_uri(found[0].edit)[uri])
        compile(fixed, "a.py", "exec")
        assert fixed != text
    # the three KM101 imports: each fix changes only its own line
    imports = [d for d in diags if d.code == "KM101"]
    lines = set()
    for d in imports:
        (edits,) = edits_by_uri((await actions(client, uri, [d]))[0].edit).values()
        lines |= {e.range.start.line for e in edits}
        assert {e.range.start.line for e in edits} == {d.range.start.line}
    assert lines == {0, 1, 2}


async def test_configuration_select_ignore_target_noqa_and_unsafe_fixes(client, project):
    root = project('ignore = ["KM101"]', 'target = "keras"')
    text = KERAS2.replace("model.fit(x, y, nb_epoch=10)", "model.fit(x, y, nb_epoch=10)  # noqa: KM320")
    uri = open_python(client, root / "a.py", text)
    diags = await wait_for(client, uri, 1)
    assert codes(diags) == ["KM325", "KM330"]  # KM101 ignored, KM320 under noqa; standalone keras is the target

    decay = "from tensorflow import keras\nopt = keras.optimizers.SGD(learning_rate=0.1, decay=1e-6)\n"
    safe_only = open_python(client, root / "b.py", decay)
    (d,) = await wait_for(client, safe_only, 1)
    assert d.code == "KM327" and d.data == {"name": "optimizer-decay", "fixable": False, "safety": "unsafe"}
    assert await actions(client, safe_only, [d], only=[T.CodeActionKind.QuickFix]) == []

    unsafe_root = root / "unsafe"
    unsafe_root.mkdir()
    (unsafe_root / "pyproject.toml").write_text("[tool.kmigrate]\nunsafe-fixes = true\n")
    unsafe = open_python(client, unsafe_root / "b.py", decay)
    (d,) = await wait_for(client, unsafe, 1)
    assert d.data["fixable"] is True
    (fix,) = await actions(client, unsafe, [d], only=[T.CodeActionKind.QuickFix])
    assert fix.title == "kmigrate: fix KM327 (optimizer-decay) (unsafe)" and not fix.is_preferred
    assert "InverseTimeDecay" in apply_text_edits(decay, edits_by_uri(fix.edit)[unsafe])


async def test_config_errors_are_one_diagnostic(client, project):
    root = project('target = "jax"')
    uri = open_python(client, root / "a.py", KERAS2)
    (d,) = await wait_for(client, uri, 1)
    assert d.code == "KM000" and "configuration error" in d.message and "target" in d.message


async def test_convert_this_model(client, project):
    root = project()
    text = ("from tensorflow import keras\n\nmodel = keras.Sequential([\n"
            "    keras.Input(shape=(4,)),\n"
            "    keras.layers.Dense(8, activation='relu'),\n"
            "    keras.layers.Dense(1),\n])\n")
    uri = open_python(client, root / "m.py", text)
    assert list(await wait_for(client, uri, 1)) == []  # KM4xx: opt-in, no diagnostics without `to`
    found = await actions(client, uri, [], rng=T.Range(T.Position(3, 4), T.Position(3, 4)),
                          only=[T.CodeActionKind.RefactorRewrite])
    assert [a.title for a in found] == ["kmigrate: convert this model to functional (KM401)"]
    converted = apply_text_edits(text, edits_by_uri(found[0].edit)[uri])
    assert "keras.Model(inputs=" in converted and "Sequential" not in converted
    diags = await change_and_save(client, uri, converted, 2)
    assert list(diags) == []
    back = await actions(client, uri, [], rng=T.Range(T.Position(3, 0), T.Position(6, 0)),
                         only=[T.CodeActionKind.RefactorRewrite])
    assert [a.title for a in back] == ["kmigrate: convert this model to Sequential (KM402)"]
    # nowhere near a model: nothing to offer
    assert await actions(client, uri, [], rng=T.Range(T.Position(0, 0), T.Position(0, 0)),
                         only=[T.CodeActionKind.RefactorRewrite]) == []


async def test_hover_shows_the_rule_documentation(client, project):
    uri = open_python(client, project() / "a.py", KERAS2)
    await wait_for(client, uri, 1)
    hover = await client.text_document_hover_async(T.HoverParams(
        text_document=T.TextDocumentIdentifier(uri=uri), position=T.Position(8, 20)))
    assert hover.contents.kind == T.MarkupKind.Markdown
    assert "**KM320** `fit-nb-epoch`" in hover.contents.value
    assert "What it does" in hover.contents.value and "docs/rules/KM320.md" in hover.contents.value
    nothing = await client.text_document_hover_async(T.HoverParams(
        text_document=T.TextDocumentIdentifier(uri=uri), position=T.Position(4, 2)))
    assert nothing is None


async def test_a_file_with_a_syntax_error_gives_one_diagnostic_and_the_server_goes_on(client, project):
    root = project()
    broken = open_python(client, root / "broken.py", "import keras\nprint 'hello'\n")
    (d,) = await wait_for(client, broken, 1)
    assert d.code == "KM000" and d.severity == T.DiagnosticSeverity.Error
    assert "syntax error" in d.message and d.range.start.line == 1
    assert await actions(client, broken, [d]) == []
    good = open_python(client, root / "good.py", KERAS2)
    assert "KM320" in codes(await wait_for(client, good, 1))
    # typing the fix in the broken file brings its findings back
    diags = await change_and_save(client, broken, "import keras\nprint('hello')\n", 2)
    assert codes(diags) == ["KM101"]


async def test_typing_through_a_syntax_error(client, project):
    uri = open_python(client, project() / "t.py", KERAS2)
    await wait_for(client, uri, 1)
    texts = [KERAS2 + "model.evaluate(x, y\n",  # half typed: one KM000
             KERAS2 + "model.evaluate(x, y)\nmodel.fit(x, y, nb_epoch=2)\n"]  # done: back from the fast path
    for version, text in enumerate(texts, 2):
        client.text_document_did_change(T.DidChangeTextDocumentParams(
            text_document=T.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[T.TextDocumentContentChangeWholeDocument(text=text)]))
        diags = await wait_for(client, uri, version, final=False)
        if version == 2:
            assert codes(diags) == ["KM000"]
    assert codes(diags).count("KM320") == 2
    assert all(d.data.get("provisional") for d in diags)  # the fast path answered first
    assert codes(await wait_for(client, uri, 3)) == codes(diags)  # and the full run agrees
    status = await client.workspace_execute_command_async(T.ExecuteCommandParams(command="kmigrate.serverStatus"))
    assert status["fast runs"] >= 1


async def test_malformed_requests_get_errors_and_the_server_keeps_serving(project):
    from .rawclient import RawClient

    root = project()
    c = RawClient(root)
    try:
        c.send({"id": 1, "method": "initialize", "params": {"processId": None, "rootUri": None, "capabilities": {}}})
        assert "capabilities" in c.response(1)["result"]
        c.send({"method": "initialized", "params": {}})
        c.raw(b"{this is not json")  # a frame that does not parse
        c.send({"id": 2, "method": "textDocument/codeAction", "params": {"textDocument": 3, "range": "x"}})
        assert c.response(2)["error"]["code"] in (-32602, -32603)  # invalid params
        c.send({"id": 3, "method": "kmigrate/noSuchMethod", "params": {}})
        assert c.response(3)["error"]["code"] == -32601  # method not found
        c.send({"id": 4, "method": "workspace/executeCommand", "params": {"command": "kmigrate.nope"}})
        assert "error" in c.response(4)
        c.send({"method": "textDocument/didChange", "params": {"textDocument": {"uri": 5}}})  # bad notification
        c.send({"method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file:///x.py"}}})
        unknown = (root / "never_opened.py").as_uri()
        c.send({"id": 5, "method": "textDocument/hover", "params": {
            "textDocument": {"uri": unknown}, "position": {"line": 10**6, "character": 10**6}}})
        assert c.response(5).get("result") is None
        c.send({"id": 6, "method": "textDocument/codeAction", "params": {
            "textDocument": {"uri": unknown}, "range": {"start": {"line": 0, "character": 0},
                                                       "end": {"line": 0, "character": 0}},
            "context": {"diagnostics": []}}})
        assert not c.response(6).get("result")
        # and still serving: a Keras 2 file gets its diagnostics, a code action far past its end is fine
        uri = (root / "ok.py").as_uri()
        c.send({"method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": KERAS2}}})
        diags = c.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                       and m["params"]["uri"] == uri)["params"]["diagnostics"]
        assert "KM320" in [d["code"] for d in diags]
        c.send({"id": 7, "method": "textDocument/codeAction", "params": {
            "textDocument": {"uri": uri}, "range": {"start": {"line": 500, "character": 3},
                                                   "end": {"line": 900, "character": 0}},
            "context": {"diagnostics": [diags[0]]}}})
        assert "result" in c.response(7)
        assert c.close() == 0
    finally:
        if c.proc.poll() is None:
            c.proc.kill()


async def test_unknown_methods_and_commands_get_error_answers(client, project):
    with pytest.raises(JsonRpcException):
        await client.protocol.send_request_async("kmigrate/noSuchMethod", {})
    with pytest.raises(JsonRpcException):
        await client.workspace_execute_command_async(T.ExecuteCommandParams(command="kmigrate.nope"))
    uri = open_python(client, project() / "ok.py", KERAS2)
    assert "KM320" in codes(await wait_for(client, uri, 1))


async def test_debounce_and_only_the_last_of_quick_changes_is_published(bare_client, project):
    client = bare_client
    await client.initialize_session(init_params(debounce=300, fullDelay=50))
    uri = open_python(client, project() / "a.py", KERAS2)
    await wait_for(client, uri, 1)
    client.published.clear()
    text = KERAS2
    for version in range(2, 7):  # five keystrokes, well inside the pause
        text = text.replace("nb_epoch=10", f"nb_epoch=1{version}")
        client.text_document_did_change(T.DidChangeTextDocumentParams(
            text_document=T.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[T.TextDocumentContentChangeWholeDocument(text=text)]))
        await asyncio.sleep(0.01)
    diags = await wait_for(client, uri, 6)
    assert "KM320" in codes(diags)
    await asyncio.sleep(0.3)
    assert {p.version for p in client.published} == {6}
    await client.shutdown_session()


async def test_open_and_save_analyse_at_once(bare_client, project):
    client = bare_client
    await client.initialize_session(init_params(debounce=5000, fullDelay=5000))
    root = project()
    uri = open_python(client, root / "a.py", KERAS2)
    await wait_for(client, uri, 1, timeout=4)  # not held by the 5 s pauses
    client.text_document_did_change(T.DidChangeTextDocumentParams(
        text_document=T.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[T.TextDocumentContentChangeWholeDocument(text="import keras\n")]))
    client.text_document_did_save(T.DidSaveTextDocumentParams(text_document=T.TextDocumentIdentifier(uri=uri)))
    assert codes(await wait_for(client, uri, 2, timeout=4)) == ["KM101"]
    # the configuration is read again when pyproject.toml changes
    (root / "pyproject.toml").write_text('[tool.kmigrate]\nignore = ["KM1"]\n')
    client.text_document_did_save(T.DidSaveTextDocumentParams(text_document=T.TextDocumentIdentifier(uri=uri)))
    await asyncio.sleep(0.05)
    client.published.clear()
    client.text_document_did_save(T.DidSaveTextDocumentParams(text_document=T.TextDocumentIdentifier(uri=uri)))
    assert list(await wait_for(client, uri, 2, timeout=4)) == []
    # closing clears the document's diagnostics
    client.text_document_did_close(T.DidCloseTextDocumentParams(text_document=T.TextDocumentIdentifier(uri=uri)))
    await client.shutdown_session()


async def test_workspace_command_migrates_files_on_disk_and_open_documents(bare_client, tmp_path):
    client = bare_client
    (tmp_path / "pyproject.toml").write_text("[tool.kmigrate]\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "one.py").write_text(KERAS2)
    (tmp_path / "pkg" / "two.py").write_text("import os\n")
    (tmp_path / "open.py").write_text("import keras\n")
    await client.initialize_session(init_params(tmp_path))
    uri = open_python(client, tmp_path / "open.py", "import keras\nx = keras.layers.Dense(3)\n")
    await wait_for(client, uri, 1)
    summary = await client.workspace_execute_command_async(T.ExecuteCommandParams(command="kmigrate.migrateWorkspace"))
    assert summary["files"] == 2 and summary["documents"] == 1 and summary["changed"] == 2
    assert "from tensorflow import keras" in (tmp_path / "pkg" / "one.py").read_text()
    assert "nb_epoch" not in (tmp_path / "pkg" / "one.py").read_text()
    assert (tmp_path / "pkg" / "two.py").read_text() == "import os\n"
    assert (tmp_path / "open.py").read_text() == "import keras\n"  # open: changed in the editor, not on disk
    (applied,) = client.applied_edits
    assert edits_by_uri(applied.edit)[uri][0].new_text.startswith("from tensorflow")
    (reports,) = client.progress_reports.values()
    kinds = [r.kind for r in reports]
    assert kinds[0] == "begin" and kinds[-1] == "end" and "report" in kinds
    await client.shutdown_session()


async def test_the_tf1_layers_choice_of_the_config_is_the_servers_too(client, project):
    root = project('tf1-layers = "compat"')
    text = "import tensorflow as tf\nx = tf.placeholder(tf.float32, [None, 3])\nh = tf.layers.dense(x, 4)\n"
    uri = open_python(client, root / "a.py", text)
    diags = await wait_for(client, uri, 1)
    assert "KM606" in codes(diags)
    (fix_all,) = await actions(client, uri, diags, only=["source.fixAll.kmigrate"])
    fixed = apply_text_edits(text, edits_by_uri(fix_all.edit)[uri])
    assert "tf.compat.v1.layers.dense(x, 4)" in fixed and 'os.environ["TF_USE_LEGACY_KERAS"] = "1"' in fixed
