"""Small helpers for reading and rewriting call arguments, shared by the rule families."""
from __future__ import annotations

from typing import Iterator, Optional, Sequence

import libcst as cst

from kmigrate.codegen import code_of  # noqa: F401  (re-exported to the rules)
from kmigrate.walk import walk as fast_walk


def kwarg(call: cst.Call, name: str) -> Optional[cst.Arg]:
    for a in call.args:
        if a.keyword is not None and a.keyword.value == name:
            return a
    return None


def positional(call: cst.Call) -> list[cst.Arg]:
    return [a for a in call.args if a.keyword is None and not a.star]


def has_star(call: cst.Call) -> bool:
    return any(a.star for a in call.args)


def make_kw(name: str, value: cst.BaseExpression, like: Optional[cst.Arg] = None) -> cst.Arg:
    """A keyword argument `name=value`; spacing around `=` copied from `like` if it is a keyword."""
    equal = like.equal if like is not None and like.keyword is not None else cst.AssignEqual(
        whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))
    comma = like.comma if like is not None else cst.MaybeSentinel.DEFAULT
    return cst.Arg(value=value, keyword=cst.Name(name), equal=equal, comma=comma)


def with_args(call: cst.Call, args: Sequence[cst.Arg]) -> cst.Call:
    """The call with a new argument list; commas normalised, the original trailing comma kept."""
    args = list(args)
    if not args:
        return call.with_changes(args=[])
    trailing = call.args[-1].comma if call.args else cst.MaybeSentinel.DEFAULT
    out = []
    for i, a in enumerate(args):
        if i < len(args) - 1:
            comma = a.comma if isinstance(a.comma, cst.Comma) else cst.Comma(
                whitespace_after=cst.SimpleWhitespace(" "))
            out.append(a.with_changes(comma=comma))
        else:
            out.append(a.with_changes(comma=trailing))
    return call.with_changes(args=out)


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """`node` and every node below it in source order (whitespace and comments skipped)."""
    return fast_walk(node)
