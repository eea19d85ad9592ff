"""`kmigrate server`: a language server (LSP over stdio) with kmigrate's diagnostics and fixes.

Installed by the optional extra `pip install "kmigrate[server]"` (pygls, lsprotocol). Nothing
here imports pygls until `serve()` runs, so the CLI's start-up does not pay for it.

- text.py      positions (UTF-16/8/32, LSP lines) and minimal edits (difflib), no pygls
- analysis.py  documents through the engine with the CLI's configuration, the fast path, fixes
- worker.py    the analysis thread, whose stale runs a newer change cancels
- codecache.py the code attrs and cattrs generate at start-up, compiled once and kept on disk
- protocol.py  the pygls server: sync, diagnostics, hover, code actions, workspace command
"""
from __future__ import annotations


def serve() -> None:
    """Run the server on stdin/stdout until the client says exit."""
    from .codecache import CodeCache, cache_file

    code_cache = CodeCache(cache_file())  # what attrs/cattrs generate, compiled once (codecache.py)
    code_cache.install()
    try:
        from .protocol import serve as _serve
    except BaseException:
        code_cache.uninstall()
        raise
    _serve(code_cache)
