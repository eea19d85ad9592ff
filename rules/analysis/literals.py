"""New string literals in the quote style the code already uses: the statement's own strings
first, then the file's majority; `'` when the file has no strings. Tables keep their values as
source text (`"'channels_last'"`); `expression(value, quote)` writes them in that style."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from kmigrate.walk import walk

_MODULE_QUOTE: dict[int, tuple[cst.Module, str]] = {}  # one count per module object


def _count(node: cst.CSTNode) -> tuple[int, int]:
    single = double = 0
    for n in walk(node):
        if type(n) is cst.SimpleString:
            q = n.quote
            if q == "'":
                single += 1
            elif q == '"':
                double += 1
    return single, double


def module_quote(module: cst.Module) -> str:
    hit = _MODULE_QUOTE.get(id(module))
    if hit is not None and hit[0] is module:
        return hit[1]
    single, double = _count(module)
    quote = '"' if double > single else "'"
    if len(_MODULE_QUOTE) > 64:
        _MODULE_QUOTE.clear()
    _MODULE_QUOTE[id(module)] = (module, quote)
    return quote


def quote_for(node: Optional[cst.CSTNode], module: Optional[cst.Module] = None) -> str:
    """The quote style for a literal written into `node`'s statement."""
    if node is not None:
        single, double = _count(node)
        if single != double:
            return '"' if double > single else "'"
    return module_quote(module) if module is not None else "'"


def string_literal(value: str, quote: str = "'") -> cst.SimpleString:
    body = value.replace("\\", "\\\\").replace(quote, "\\" + quote).replace("\n", "\\n")
    return cst.SimpleString(f"{quote}{body}{quote}")


class _Requote(cst.CSTTransformer):
    def __init__(self, quote: str):
        super().__init__()
        self.quote = quote

    def leave_SimpleString(self, original: cst.SimpleString, updated: cst.SimpleString) -> cst.BaseExpression:
        value = updated.evaluated_value
        if updated.prefix or updated.quote == self.quote or not isinstance(value, str) or len(updated.quote) != 1:
            return updated
        return string_literal(value, self.quote)


def expression(source: str, quote: str = "'") -> cst.BaseExpression:
    """`cst.parse_expression(source)` with its plain string literals in `quote`."""
    expr = cst.parse_expression(source)
    return expr.visit(_Requote(quote)) if ("'" in source or '"' in source) else expr
