"""A change arriving while a document is being analysed cancels that (stale) run: its result is
never published, and the run for the new text starts at once."""
from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types as T

from .conftest import init_params, open_python, wait_for

pytestmark = pytest.mark.asyncio


BLOCKS = 120  # a full run of seconds (0.4 s at 40 blocks on an idle machine: too short to interrupt)


def long_keras_file(blocks: int = BLOCKS) -> str:
    head = "import keras\nfrom keras.models import Sequential\nfrom keras.layers import Dense\n"
    body = "".join(f'''

def build_{i}(x, y):
    model = Sequential()
    model.add(Dense(8, input_dim=4))
    model.compile(loss="mse", optimizer=keras.optimizers.SGD(lr=0.1))
    model.fit(x, y, nb_epoch={i + 1})
    return model
''' for i in range(blocks))
    return head + body


async def test_a_change_during_a_run_cancels_it(bare_client, project):
    client = bare_client
    await client.initialize_session(init_params(debounce=0, fullDelay=0))
    root = project()
    warm = open_python(client, root / "small.py", "import keras\n")
    await wait_for(client, warm, 1)  # the engine and rules are loaded: the next run starts at once
    text = long_keras_file()
    uri = open_python(client, root / "long.py", text)
    status = await client.workspace_execute_command_async(T.ExecuteCommandParams(command="kmigrate.serverStatus"))
    assert status["interrupted"] == 0
    await asyncio.sleep(0.3)  # the open's full run is under way (it takes seconds on this file)
    assert not [p for p in client.published if p.uri == uri]
    edited = text.replace("nb_epoch=1)", "epochs=1)")
    client.text_document_did_change(T.DidChangeTextDocumentParams(
        text_document=T.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[T.TextDocumentContentChangeWholeDocument(text=edited)]))
    diags = await wait_for(client, uri, 2)
    assert sum(d.code == "KM320" for d in diags) == BLOCKS - 1
    status = await client.workspace_execute_command_async(T.ExecuteCommandParams(command="kmigrate.serverStatus"))
    assert status["interrupted"] >= 1
    assert {p.version for p in client.published if p.uri == uri} == {2}  # version 1's result never came
    await client.shutdown_session()
