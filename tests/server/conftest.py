"""A real LSP client (pytest-lsp) driving `python -m kmigrate server` over stdio."""
from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as T
from pygls.lsp.client import LanguageClient as _PlainClient  # noqa: F401  (pygls present: the extra)
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features
from pytest_lsp.protocol import LanguageClientProtocol  # noqa: F401
from pygls.protocol import default_converter

SERVER = [sys.executable, "-m", "kmigrate", "server"]

KERAS2 = '''import keras
from keras.models import Sequential
from keras.layers import Dense

model = Sequential()
model.add(Dense(32, input_dim=10, activation="relu"))
model.add(Dense(1, activation="sigmoid"))
model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.SGD(lr=0.01))
model.fit(x, y, nb_epoch=10)
'''


def record_diagnostics(client: LanguageClient, params: T.PublishDiagnosticsParams):
    client.diagnostics[params.uri] = params.diagnostics
    client.published.append(params)


def record_apply_edit(client: LanguageClient, params: T.ApplyWorkspaceEditParams):
    client.applied_edits.append(params)
    return T.ApplyWorkspaceEditResult(applied=True)


def make_client() -> LanguageClient:
    client = LanguageClient(converter_factory=default_converter)
    client.published = []
    client.applied_edits = []
    features = dict(DEFAULT_CLIENT_FEATURES)
    features[T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record_diagnostics
    features[T.WORKSPACE_APPLY_EDIT] = record_apply_edit
    register_lsp_features(client, features)
    return client


def capabilities() -> T.ClientCapabilities:
    caps = client_capabilities("visual-studio-code")  # what VS Code sends
    caps.notebook_document = T.NotebookDocumentClientCapabilities(
        synchronization=T.NotebookDocumentSyncClientCapabilities(execution_summary_support=True))
    return caps


def init_params(root: Path | None = None, **options) -> T.InitializeParams:
    return T.InitializeParams(
        capabilities=capabilities(),
        root_uri=root.as_uri() if root else None,
        workspace_folders=[T.WorkspaceFolder(uri=root.as_uri(), name=root.name)] if root else None,
        initialization_options=options or None,
    )


CONFIG = ClientServerConfig(server_command=SERVER, client_factory=make_client)


@pytest_lsp.fixture(config=CONFIG)
async def client(lsp_client: LanguageClient):
    """A fresh server per test, initialized without a workspace folder (each test's files carry
    their own pyproject.toml)."""
    await lsp_client.initialize_session(init_params())
    yield
    await _stop(lsp_client)


async def _stop(client: LanguageClient) -> None:
    """Shut the server down if the test did not (pygls' client.stop() waits for the server to
    exit, forever if it was never told to); kill it if it does not answer."""
    server = client._server
    if server is None or server.returncode is not None:
        return
    try:
        await asyncio.wait_for(client.shutdown_session(), 20)
        await asyncio.wait_for(server.wait(), 20)
    except Exception:
        server.kill()


@pytest_lsp.fixture(config=CONFIG)
async def bare_client(lsp_client: LanguageClient):
    """A fresh server the test initializes (and shuts down) itself."""
    yield
    await _stop(lsp_client)


async def wait_for(client, uri: str, version: int | None = None, *, final: bool = True, timeout: float = 60):
    """The diagnostics of the first publication for `uri` (at `version`) that matches; `final`:
    not from the fast path."""
    end = time.monotonic() + timeout
    seen = 0
    while time.monotonic() < end:
        for params in client.published[seen:]:
            seen += 1
            if params.uri != uri or (version is not None and params.version != version):
                continue
            if final and any((d.data or {}).get("provisional") for d in params.diagnostics):
                continue
            return params.diagnostics
        await asyncio.sleep(0.02)
    raise TimeoutError(f"no diagnostics for {uri} version {version}")


def open_python(client, path: Path, text: str, version: int = 1) -> str:
    uri = path.as_uri()
    client.published[:] = [p for p in client.published if p.uri != uri]
    client.text_document_did_open(T.DidOpenTextDocumentParams(
        text_document=T.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)))
    return uri


def apply_text_edits(text: str, edits) -> str:
    """What an editor does with a list of TextEdits (UTF-16 positions; LSP lines)."""
    from kmigrate.server.text import Lines

    lines = Lines(text)
    spans = sorted(((lines.offset(e.range.start.line, e.range.start.character),
                     lines.offset(e.range.end.line, e.range.end.character), e.new_text) for e in edits),
                   reverse=True)
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def edits_by_uri(edit: T.WorkspaceEdit) -> dict[str, list[T.TextEdit]]:
    if edit.document_changes:
        return {c.text_document.uri: list(c.edits) for c in edit.document_changes}
    return {uri: list(es) for uri, es in (edit.changes or {}).items()}


def codes(diagnostics) -> list[str]:
    return sorted(d.code for d in diagnostics)


@pytest.fixture
def project(tmp_path):
    """A folder with a pyproject.toml holding `[tool.kmigrate]` plus the given lines."""

    def make(*lines: str) -> Path:
        (tmp_path / "pyproject.toml").write_text("[tool.kmigrate]\n" + "".join(l + "\n" for l in lines))
        return tmp_path

    return make
