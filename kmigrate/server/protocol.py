"""The LSP front end: pygls 2 over stdio, lsprotocol's types. Imported only by `kmigrate server`.

Documents: .py files (text document sync, incremental), notebooks (LSP 3.17 notebook document
sync: each code cell is a text document; diagnostics are published per cell, at the cell's own
lines and columns as the CLI reports `nb.ipynb:cell 3:2:5`), and .ipynb files an editor opens as
JSON text (positions in the JSON, as SARIF gives them).

When: on open and save at once; on change after a short pause (`debounce`), first the fast
path (kmigrate/server/analysis.py `incremental`: only the changed top-level blocks are run),
then, after a longer pause (`fullDelay`), the full run that gives what the CLI gives. A change
cancels the document's pending and running work (kmigrate/server/worker.py). Both pauses can be
set in `initializationOptions` (milliseconds): `{"debounce": 30, "fullDelay": 250}`.

Code actions: a quick fix per fixable finding (from a run of that finding's rule alone over
the document: the edits on its lines plus the imports it adds), `source.fixAll.kmigrate` (every
fix the configuration allows), and `refactor.rewrite` "convert this model to functional /
Sequential" on a model KM401-KM403 can convert. Edits are minimal (a diff of old and new text).
Command `kmigrate.migrateWorkspace` fixes every .py/.ipynb file of the workspace (files on disk
as `kmigrate PATH` would, open documents through the editor) with work-done progress.
"""
from __future__ import annotations

import asyncio
import io
import logging
import os
import sys
from typing import Any, Optional

from lsprotocol import types as T
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from .. import __version__
from . import analysis as A
from .text import Edit, Lines
from .worker import StaleRun, Worker

log = logging.getLogger("kmigrate.server")

SOURCE = "kmigrate"
FIX_ALL = "source.fixAll.kmigrate"
MIGRATE_WORKSPACE = "kmigrate.migrateWorkspace"
STATUS = "kmigrate.serverStatus"
_SEVERITY = {"error": T.DiagnosticSeverity.Error, "warning": T.DiagnosticSeverity.Warning,
             "info": T.DiagnosticSeverity.Information}
_STYLES = {"functional": "functional", "sequential": "Sequential"}


_ANSWERED = object()  # a request already answered with an error while it was read


class _Protocol(LanguageServerProtocol):
    """pygls' protocol, plus an answer to a request whose params do not fit its method: pygls only
    logs it, and a client would wait for the answer forever."""

    def structure_message(self, data):
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if isinstance(data, dict) and "id" in data and isinstance(data.get("method"), str):
                self._send_response(data["id"], error=T.ResponseError(
                    code=JsonRpcInvalidParams.CODE, message=f"invalid params for {data['method']}: {exc}"))
                return _ANSWERED
            raise

    def handle_message(self, message):
        if message is _ANSWERED:
            return None
        return super().handle_message(message)


class KmigrateServer(LanguageServer):
    def __init__(self):
        super().__init__(
            "kmigrate", __version__,
            protocol_cls=_Protocol,
            text_document_sync_kind=T.TextDocumentSyncKind.Incremental,
            notebook_document_sync=T.NotebookDocumentSyncOptions(
                notebook_selector=[T.NotebookDocumentFilterWithCells(
                    notebook="*", cells=[T.NotebookCellLanguage(language="python")])],
                save=True,
            ),
        )
        self.settings = A.Settings()
        self.worker = Worker()
        self.debounce = 0.03
        self.full_delay = 0.25
        self.tasks: dict[str, asyncio.Task] = {}
        self.previous: dict[str, tuple[str, A.Outcome]] = {}  # key -> (text, outcome) last published (.py)
        self.full: dict[str, tuple[tuple, A.Snapshot, A.Outcome]] = {}  # key -> (versions, snapshot, outcome)
        self.rule_runs: dict[tuple, A.Outcome] = {}  # (key, versions, codes, to) -> outcome, for code actions
        self.published: dict[str, list[tuple[T.Range, Any]]] = {}  # part URI -> (range, finding)
        self.loop: Optional[asyncio.AbstractEventLoop] = None  # the server's event loop (set on initialize)
        self.code_cache = None  # kmigrate/server/codecache.py, until initialized
        self.stats = {"full runs": 0, "fast runs": 0, "published": 0}

    def report_server_error(self, error: Exception, source) -> None:
        """Errors outside a request (a frame that is not JSON, a bad notification) go to the log
        (stderr and the editor's log), not to a pop-up; the server goes on."""
        log.error("%s: %s", getattr(source, "__name__", source), error)

    # ------------------------------------------------------------------ documents

    @property
    def encoding(self) -> str:
        enc = self.workspace.position_encoding if self.protocol._workspace is not None else None
        return str(getattr(enc, "value", enc) or "utf-16")

    def key_of(self, uri: str) -> str:
        """The document a URI belongs to: the notebook for a cell, else the URI itself."""
        nb = self.workspace.get_notebook_document(cell_uri=uri)
        return nb.uri if nb is not None else uri

    def snapshot(self, key: str) -> Optional[A.Snapshot]:
        ws = self.workspace
        root = ws.root_path
        nb = ws.get_notebook_document(notebook_uri=key)
        if nb is not None:
            parts = []
            for cell in nb.cells:
                if cell.kind != T.NotebookCellKind.Code:
                    continue
                doc = ws.text_documents.get(cell.document)
                if doc is None:
                    continue
                lang = doc.language_id
                parts.append(A.Part(cell.document, doc.source,
                                    None if not lang or lang.lower() in ("python", "ipython") else lang, doc.version))
            return A.Snapshot(key, A.path_of(key), A.NOTEBOOK, parts, nb.version, root)
        doc = ws.text_documents.get(key)
        if doc is None:
            return None
        path = A.path_of(key)
        name = (path or key).lower()
        if name.endswith(".ipynb"):
            kind = A.IPYNB
        elif (doc.language_id or "").lower() == "python" or name.endswith(".py"):
            kind = A.PYTHON
        else:
            return None
        return A.Snapshot(key, path, kind, [A.Part(key, doc.source, None, doc.version)], doc.version, root)

    @staticmethod
    def versions(snap: A.Snapshot) -> tuple:
        return (snap.version,) + tuple(p.version for p in snap.parts)

    def current(self, snap: A.Snapshot) -> bool:
        now = self.snapshot(snap.key)
        return now is not None and self.versions(now) == self.versions(snap) and now.texts() == snap.texts()

    # ------------------------------------------------------------------ scheduling

    def schedule(self, key: str, changed: bool) -> None:
        """Analyse `key` again: after a change with the pauses, else (open, save) at once."""
        self.cancel(key)
        self.tasks[key] = asyncio.get_running_loop().create_task(self._analyse(key, changed))

    def cancel(self, key: str) -> None:
        task = self.tasks.pop(key, None)
        if task is not None:
            task.cancel()
        self.worker.cancel(key)

    async def _submit(self, key, fn, *args, cancellable=True):
        return await asyncio.wrap_future(self.worker.submit(key, fn, *args, cancellable=cancellable))

    async def _analyse(self, key: str, changed: bool) -> None:
        try:
            if changed:
                await asyncio.sleep(self.debounce)
                snap = self.snapshot(key)
                if snap is None:
                    return
                fast = None
                if snap.kind == A.PYTHON and key in self.previous:
                    fast = await self._submit(key, A.incremental, snap, self.previous[key], self.settings)
                    self.stats["fast runs"] += fast is not None
                    if fast is not None and self.current(snap):
                        self.publish(snap, fast)
                if fast is not None:  # else only the full run can answer (it stops early on a syntax error)
                    await asyncio.sleep(self.full_delay)
            snap = self.snapshot(key)
            if snap is None:
                return
            out = await self._submit(key, A.run, snap, self.settings)
            self.stats["full runs"] += 1
            if self.current(snap):
                self.full[key] = (self.versions(snap), snap, out)
                self.publish(snap, out)
        except (asyncio.CancelledError, StaleRun):
            pass
        except Exception:
            log.exception("analysing %s", key)
        finally:
            if self.tasks.get(key) is asyncio.current_task():
                del self.tasks[key]

    async def full_outcome(self, snap: A.Snapshot) -> A.Outcome:
        """The full run of this exact snapshot (the one published, or a new one)."""
        found = self.full.get(snap.key)
        if found is not None and found[0] == self.versions(snap) and found[1].texts() == snap.texts():
            return found[2]
        out = await self._submit(snap.key, A.run, snap, self.settings)
        if self.current(snap):
            self.full[snap.key] = (self.versions(snap), snap, out)
        return out

    async def rule_run(self, snap: A.Snapshot, codes: tuple, to: Optional[str] = "config") -> Optional[A.Outcome]:
        """A run of some rules only (a finding's rule; the KM4xx rules with `to`), cached per version."""
        cache_key = (snap.key, self.versions(snap), codes, to)
        found = self.rule_runs.get(cache_key)
        if found is not None:
            return found

        def job():
            options = self.settings.options(self.settings.config(snap), codes=codes, to=to)
            if not options.rules:
                return None
            return A.run(snap, self.settings, options)

        out = await self._submit(snap.key, job)
        if len(self.rule_runs) > 64:
            self.rule_runs.clear()
        self.rule_runs[cache_key] = out
        return out

    # ------------------------------------------------------------------ diagnostics

    def range_of(self, lines: Lines, f) -> T.Range:
        start = lines.offset_of(f.line, f.column)
        if f.code == "KM000" or (f.end_line, f.end_column) <= (f.line, f.column):
            end = max(start, lines.line_end(f.line))
        else:
            end = max(start, lines.offset_of(f.end_line, f.end_column))
        return self.lsp_range(lines, start, end)

    def lsp_range(self, lines: Lines, start: int, end: int) -> T.Range:
        a, b = lines.position(start, self.encoding), lines.position(end, self.encoding)
        return T.Range(T.Position(*a), T.Position(*b))

    def diagnostic(self, lines: Lines, f, provisional: bool = False) -> T.Diagnostic:
        url = A.doc_url(f.code) if f.code != "KM000" else None
        data = {"name": f.name, "fixable": bool(f.fix_applied), "safety": f.fix_safety}
        if provisional:  # from the fast path; the full run's diagnostics follow
            data["provisional"] = True
        return T.Diagnostic(
            range=self.range_of(lines, f),
            message=f.message,
            severity=_SEVERITY.get(f.severity, T.DiagnosticSeverity.Warning),
            code=f.code,
            code_description=T.CodeDescription(href=url) if url else None,
            source=SOURCE,
            data=data,
        )

    def publish(self, snap: A.Snapshot, out: A.Outcome) -> None:
        if snap.kind == A.PYTHON and not any(f.code == "KM000" for _, f in out.all()):
            # the fast path starts from the last text kmigrate could read (not from a half-typed line)
            self.previous[snap.key] = (snap.parts[0].text, out)
        for part in snap.parts:
            lines = Lines(part.text)
            pairs = [(self.diagnostic(lines, f, out.provisional), f) for f in out.findings.get(part.uri, [])]
            self.published[part.uri] = [(d.range, f) for d, f in pairs]
            self.stats["published"] += 1
            self.text_document_publish_diagnostics(T.PublishDiagnosticsParams(
                uri=part.uri, diagnostics=[d for d, _ in pairs], version=part.version))

    def forget(self, uris: list[str]) -> None:
        for uri in uris:
            self.cancel(uri)
            self.previous.pop(uri, None)
            self.full.pop(uri, None)
            if self.published.pop(uri, None) is not None:
                self.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    # ------------------------------------------------------------------ edits

    def workspace_edit(self, snap: A.Snapshot, edits: dict[str, list[Edit]]) -> T.WorkspaceEdit:
        texts = {p.uri: p for p in snap.parts}
        per_uri = {}
        for uri, es in edits.items():
            lines = Lines(texts[uri].text)
            per_uri[uri] = [T.TextEdit(range=self.lsp_range(lines, e.start, e.end), new_text=e.text)
                            for e in sorted(es, key=lambda e: e.start)]
        caps = self.client_capabilities.workspace
        if caps and caps.workspace_edit and caps.workspace_edit.document_changes:
            return T.WorkspaceEdit(document_changes=[
                T.TextDocumentEdit(text_document=T.OptionalVersionedTextDocumentIdentifier(
                    uri=uri, version=texts[uri].version), edits=es) for uri, es in per_uri.items()])
        return T.WorkspaceEdit(changes=per_uri)


server = KmigrateServer()


# ---------------------------------------------------------------------- lifecycle


@server.feature(T.INITIALIZE)
def initialize(ls: KmigrateServer, params: T.InitializeParams) -> None:
    ls.loop = asyncio.get_event_loop()
    opts = params.initialization_options if isinstance(params.initialization_options, dict) else {}
    for name, attr in (("debounce", "debounce"), ("fullDelay", "full_delay")):
        value = opts.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 10_000:
            setattr(ls, attr, value / 1000)


@server.feature(T.INITIALIZED)
def initialized(ls: KmigrateServer, params: T.InitializedParams) -> None:
    if ls.code_cache is not None:  # start-up is over (initialize answered): compile() as usual again
        ls.code_cache.uninstall()
        ls.code_cache = None
    # The engine and the rules load in the analysis thread while the editor opens its files.
    ls.worker.submit("warm-up", A.warm_up, cancellable=False)


@server.feature(T.SHUTDOWN)
def shutdown(ls: KmigrateServer, params: None) -> None:
    for key in list(ls.tasks):
        ls.cancel(key)
    ls.worker.close()


# ---------------------------------------------------------------------- text documents


@server.feature(T.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: KmigrateServer, params: T.DidOpenTextDocumentParams) -> None:
    ls.previous.pop(params.text_document.uri, None)
    ls.schedule(params.text_document.uri, changed=False)


@server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: KmigrateServer, params: T.DidChangeTextDocumentParams) -> None:
    ls.schedule(ls.key_of(params.text_document.uri), changed=True)


@server.feature(T.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: KmigrateServer, params: T.DidSaveTextDocumentParams) -> None:
    ls.schedule(ls.key_of(params.text_document.uri), changed=False)


@server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: KmigrateServer, params: T.DidCloseTextDocumentParams) -> None:
    ls.forget([params.text_document.uri])


# ---------------------------------------------------------------------- notebooks


@server.feature(T.NOTEBOOK_DOCUMENT_DID_OPEN)
def nb_did_open(ls: KmigrateServer, params: T.DidOpenNotebookDocumentParams) -> None:
    ls.schedule(params.notebook_document.uri, changed=False)


@server.feature(T.NOTEBOOK_DOCUMENT_DID_CHANGE)
def nb_did_change(ls: KmigrateServer, params: T.DidChangeNotebookDocumentParams) -> None:
    structure = params.change.cells.structure if params.change.cells else None
    if structure and structure.did_close:
        gone = [c.uri for c in structure.did_close]
        for uri in gone:
            if ls.published.pop(uri, None) is not None:
                ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
    ls.schedule(params.notebook_document.uri, changed=True)


@server.feature(T.NOTEBOOK_DOCUMENT_DID_SAVE)
def nb_did_save(ls: KmigrateServer, params: T.DidSaveNotebookDocumentParams) -> None:
    ls.schedule(params.notebook_document.uri, changed=False)


@server.feature(T.NOTEBOOK_DOCUMENT_DID_CLOSE)
def nb_did_close(ls: KmigrateServer, params: T.DidCloseNotebookDocumentParams) -> None:
    ls.cancel(params.notebook_document.uri)
    ls.full.pop(params.notebook_document.uri, None)
    ls.forget([c.uri for c in params.cell_text_documents])


# ---------------------------------------------------------------------- hover


@server.feature(T.TEXT_DOCUMENT_HOVER)
def hover(ls: KmigrateServer, params: T.HoverParams) -> Optional[T.Hover]:
    pos = params.position
    here = [(r, f) for r, f in ls.published.get(params.text_document.uri, [])
            if (r.start.line, r.start.character) <= (pos.line, pos.character) <= (r.end.line, r.end.character)]
    if not here:
        return None
    parts = []
    for _, f in here:
        info = A.rule_info(f.code) or {}
        head = f"**{f.code}** `{f.name}`: {f.message}"
        if f.fix_applied:
            head += f"  \n*fix available ({f.fix_safety})*"
        body = info.get("doc", "")
        link = f"\n\n[{f.code} documentation]({info['url']})" if info.get("url") else ""
        parts.append(f"{head}\n\n```text\n{body.strip()}\n```{link}")
    return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)),
                   range=here[0][0])


# ---------------------------------------------------------------------- code actions


def _wanted(only, kind: str) -> bool:
    return not only or any(kind == o or kind.startswith(str(o) + ".") for o in map(str, only))


@server.feature(T.TEXT_DOCUMENT_CODE_ACTION, T.CodeActionOptions(
    code_action_kinds=[T.CodeActionKind.QuickFix, FIX_ALL, T.CodeActionKind.RefactorRewrite]))
async def code_action(ls: KmigrateServer, params: T.CodeActionParams):
    uri = params.text_document.uri
    snap = ls.snapshot(ls.key_of(uri))
    if snap is None or uri not in snap.texts():
        return None
    only = params.context.only
    actions: list[T.CodeAction] = []
    try:
        if _wanted(only, T.CodeActionKind.QuickFix):
            actions += await _quick_fixes(ls, snap, uri, params)
        if _wanted(only, FIX_ALL):
            out = await ls.full_outcome(snap)
            edits = {u: es for u, es in A.edits_of(snap, out).items() if es}
            if edits:
                actions.append(T.CodeAction(title="kmigrate: fix all auto-fixable findings", kind=FIX_ALL,
                                            edit=ls.workspace_edit(snap, edits)))
        if _wanted(only, T.CodeActionKind.RefactorRewrite):
            actions += await _conversions(ls, snap, uri, params.range)
    except StaleRun:  # the document changed meanwhile: the editor asks again
        return []
    return actions


async def _quick_fixes(ls: KmigrateServer, snap: A.Snapshot, uri: str, params: T.CodeActionParams):
    out = []
    seen = set()
    for d in params.context.diagnostics:
        data = d.data if isinstance(d.data, dict) else {}
        if d.source != SOURCE or not data.get("fixable") or not isinstance(d.code, str):
            continue
        run = await ls.rule_run(snap, (d.code,))
        if run is None:
            continue
        found = A.fix_for_finding(snap, run, uri, d.code, d.range.start.line + 1, d.range.end.line + 1, d.message)
        if found is None:
            continue
        finding, edits = found
        key = tuple(sorted((u, tuple(es)) for u, es in edits.items()))
        if key in seen:
            continue
        seen.add(key)
        unsafe = " (unsafe)" if finding.fix_safety == "unsafe" else ""
        out.append(T.CodeAction(title=f"kmigrate: fix {d.code} ({finding.name}){unsafe}",
                                kind=T.CodeActionKind.QuickFix, diagnostics=[d],
                                is_preferred=not unsafe, edit=ls.workspace_edit(snap, edits)))
    return out


async def _conversions(ls: KmigrateServer, snap: A.Snapshot, uri: str, rng: T.Range):
    from ..rule import all_rules

    codes = tuple(c for c in all_rules() if c.startswith("KM4"))
    out = []
    for style, label in _STYLES.items():
        run = await ls.rule_run(snap, codes, to=style)
        if run is None:
            continue
        for f in run.findings.get(uri, []):
            if not f.fix_applied or not (f.line <= rng.end.line + 1 and f.end_line >= rng.start.line + 1):
                continue
            found = A.fix_for_finding(snap, run, uri, f.code, f.line, f.end_line, f.message)
            if found is None:
                continue
            out.append(T.CodeAction(title=f"kmigrate: convert this model to {label} ({f.code})",
                                    kind=T.CodeActionKind.RefactorRewrite,
                                    edit=ls.workspace_edit(snap, found[1])))
    return out


# ---------------------------------------------------------------------- commands


@server.command(STATUS)
def status(ls: KmigrateServer, *args) -> dict:
    """Counters, for troubleshooting: runs done, runs a newer change interrupted, documents."""
    return {**ls.stats, "interrupted": ls.worker.interrupted, "documents": len(ls.previous) + len(ls.full),
            "version": __version__}


@server.command(MIGRATE_WORKSPACE)
async def migrate_workspace(ls: KmigrateServer, *args) -> dict:
    """Fix every .py / .ipynb file of the workspace folders (or the folders given as arguments)."""
    from ..files import iter_files

    folders = [A.path_of(a) for a in args if isinstance(a, str)] or \
        [A.path_of(f.uri) for f in ls.workspace.folders.values()] or [ls.workspace.root_path]
    folders = [f for f in folders if f and os.path.isdir(f)]
    open_keys = {}
    for key in list(ls.workspace.notebook_documents) + list(ls.workspace.text_documents):
        path = A.path_of(key)
        if path and ls.workspace.get_notebook_document(cell_uri=key) is None:
            open_keys[os.path.normcase(os.path.abspath(path))] = key

    token = f"kmigrate-migrate-{id(args)}-{asyncio.get_running_loop().time()}"
    progress = bool(ls.client_capabilities.window and ls.client_capabilities.window.work_done_progress)
    if progress:
        try:
            await ls.work_done_progress.create_async(token)
        except Exception:
            progress = False
    if progress:
        ls.work_done_progress.begin(token, T.WorkDoneProgressBegin(
            title="kmigrate: migrating the workspace", percentage=0, cancellable=True))
    loop = asyncio.get_running_loop()
    summary = {"files": 0, "changed": 0, "fixed": 0, "remaining": 0, "errors": 0, "documents": 0}

    def report(done: int, total: int, what: str) -> None:
        if progress:
            future = ls.work_done_progress.tokens.get(token)
            if future is not None and future.cancelled():
                raise KeyboardInterrupt  # stops the run between two files; what was written stays
            loop.call_soon_threadsafe(ls.work_done_progress.report, token, T.WorkDoneProgressReport(
                message=f"{what} {done}/{total}", percentage=int(100 * done / max(total, 1))))

    def on_disk() -> None:
        from .. import config as cfg
        from ..run import run as run_paths

        for folder in folders:
            config = cfg.load(folder)
            # one process: worker processes forked from this threaded server could inherit held locks
            config = cfg.merge(config, jobs=1)
            files = [f for f in iter_files([folder], config.exclude, config.respect_gitignore)
                     if os.path.normcase(os.path.abspath(f)) not in open_keys]
            if not files:
                continue
            outcome = run_paths(files, config, mode="fix", report_stream=io.StringIO(), quiet=True,
                                progress=lambda done, total: report(done, total, "files"))
            s = outcome.summary
            summary["files"] += s.files
            summary["changed"] += s.changed
            summary["fixed"] += s.fixed
            summary["remaining"] += s.remaining
            summary["errors"] += s.errors

    try:
        try:
            await loop.run_in_executor(None, on_disk)
        except KeyboardInterrupt:
            summary["cancelled"] = True
        # open documents: through the editor, so unsaved changes are fixed too and undo works
        for key in open_keys.values():
            snap = ls.snapshot(key)
            if snap is None or (folders and not any(_inside(snap.path, f) for f in folders)):
                continue
            out = await ls.full_outcome(snap)
            edits = {u: es for u, es in A.edits_of(snap, out).items() if es}
            summary["documents"] += 1
            if edits:
                result = await ls.workspace_apply_edit_async(T.ApplyWorkspaceEditParams(
                    edit=ls.workspace_edit(snap, edits), label="kmigrate: migrate workspace"))
                if result.applied:
                    summary["changed"] += 1
                    summary["fixed"] += sum(1 for _, f in out.all() if f.fix_applied)
    except Exception as exc:
        log.exception("migrating the workspace")
        summary["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        if progress:
            ls.work_done_progress.end(token, T.WorkDoneProgressEnd(
                message=f"{summary['changed']} changed, {summary['fixed']} findings fixed, "
                        f"{summary['remaining']} remaining"))
    return summary


def _inside(path: Optional[str], folder: str) -> bool:
    if not path:
        return False
    try:
        return os.path.commonpath([os.path.abspath(path), os.path.abspath(folder)]) == os.path.abspath(folder)
    except ValueError:
        return False


# ---------------------------------------------------------------------- entry


class _ToClient(logging.Handler):
    """kmigrate's errors also go to the editor's log (window/logMessage)."""

    def __init__(self, ls: KmigrateServer):
        super().__init__(logging.ERROR)
        self.ls = ls

    def emit(self, record: logging.LogRecord) -> None:
        try:
            loop = self.ls.loop
            params = T.LogMessageParams(type=T.MessageType.Error, message=self.format(record))
            if loop is not None and loop.is_running():
                loop.call_soon_threadsafe(self.ls.window_log_message, params)
            else:
                self.ls.window_log_message(params)
        except Exception:
            pass


def serve(code_cache=None) -> None:
    server.code_cache = code_cache
    level = os.environ.get("KMIGRATE_LOG", "WARNING").upper()
    logging.basicConfig(stream=sys.stderr, level=getattr(logging, level, logging.WARNING),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    log.addHandler(_ToClient(server))
    server.start_io()
