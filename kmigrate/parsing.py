"""LibCST's parser without its per-node validation.

Every node LibCST builds runs `_validate()` from `__post_init__`; for the parser's own output
that is about a seventh of a parse, and the nodes pass by construction (LibCST notes the same
in `CSTNode.__post_init__`: "avoid validating the tree when parsing a file"). Nodes built by
the rules' fixes are still validated: the check is off only while `parse_module` runs.
"""
from __future__ import annotations

from typing import Optional

import libcst as cst
from libcst._nodes.base import CSTNode

_VALIDATE = CSTNode.__post_init__


def _trusted(self) -> None:
    pass


def parse_module(text: str, config: Optional[cst.PartialParserConfig] = None) -> cst.Module:
    """`cst.parse_module(text, config)`: the same tree, built without validating each node."""
    CSTNode.__post_init__ = _trusted
    try:
        return cst.parse_module(text) if config is None else cst.parse_module(text, config)
    finally:
        CSTNode.__post_init__ = _VALIDATE
