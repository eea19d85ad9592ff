"""LibCST's code generation, without its per-node context-manager cost.

Every expression's codegen enters `CodegenState.record_syntactic_position`, a generator-based
context manager that does nothing unless positions are recorded; here it is one shared no-op
object, which makes printing about a third faster. Same text: tests/engine/test_fast_tree_walk.py.
"""
from __future__ import annotations

from contextlib import nullcontext
from typing import Optional, Sequence

import libcst as cst
from libcst._nodes.internal import CodegenState

_NOTHING = nullcontext()


class _State(CodegenState):
    def record_syntactic_position(self, node, *, start_node=None, end_node=None):
        return _NOTHING


_DEFAULTS = cst.Module(body=())


def code_of(node: cst.CSTNode, module: Optional[cst.Module] = None, indents: Sequence[str] = ()) -> str:
    """`module.code_for_node(node)` (a module's own code when `node` is the module); `indents`:
    the indentation of the blocks a statement is in, to print it as it stands there."""
    if module is None:
        module = node if isinstance(node, cst.Module) else _DEFAULTS
    state = _State(default_indent=module.default_indent, default_newline=module.default_newline)
    if indents:
        state.indent_tokens = list(indents)
    node._codegen(state)
    return "".join(state.tokens)
