"""Positions and minimal edits between texts, as LSP counts them (no pygls here).

LSP lines end at `\\n`, `\\r\\n` or `\\r` (as Python's tokenizer and LibCST count them; not at
`\\f` or `\\u2028` as `str.splitlines` does), and a position's `character` counts code units of
the negotiated encoding: UTF-16 by default, UTF-8 or UTF-32 when client and server agree.
kmigrate's findings count lines from 1 and columns in code points from 1.

An edit is `(start, end, new_text)` over character offsets of the old text. `minimal_edits`
diffs two texts line by line (difflib) and trims each changed block to the characters that
differ, so a one-word fix is a one-word edit, never the whole document.
"""
from __future__ import annotations

import bisect
import difflib
from typing import Iterable, NamedTuple, Sequence

from ..source import LINE_BREAK, line_starts


class Edit(NamedTuple):
    start: int  # offset in the old text
    end: int
    text: str
    first_line: int  # 1-based old lines the changed block spans (for matching findings)
    last_line: int


def units(s: str, encoding: str = "utf-16") -> int:
    """Length of `s` in the code units of an LSP position encoding."""
    if encoding == "utf-32" or s.isascii():
        return len(s)
    if encoding == "utf-8":
        return len(s.encode("utf-8", "surrogatepass"))
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


def _chars_for_units(s: str, count: int, encoding: str) -> int:
    """How many characters of `s` make up `count` code units (clamped to the line)."""
    if encoding == "utf-32" or s.isascii():
        return min(max(count, 0), len(s))
    seen = 0
    for i, ch in enumerate(s):
        if seen >= count:
            return i
        seen += units(ch, encoding)
    return len(s)


class Lines:
    """Offsets <-> LSP positions for one text."""

    def __init__(self, text: str):
        self.text = text
        self.starts = line_starts(text)

    def line_text(self, line0: int) -> str:
        """Line `line0` (0-based) without its line break."""
        if line0 < 0 or line0 >= len(self.starts):
            return ""
        start = self.starts[line0]
        end = self.starts[line0 + 1] if line0 + 1 < len(self.starts) else len(self.text)
        m = LINE_BREAK.search(self.text, start, end)
        return self.text[start:m.start() if m else end]

    def offset(self, line0: int, character: int, encoding: str = "utf-16") -> int:
        """The offset of an LSP position (clamped into the text)."""
        if line0 < 0:
            return 0
        if line0 >= len(self.starts):
            return len(self.text)
        return self.starts[line0] + _chars_for_units(self.line_text(line0), character, encoding)

    def position(self, offset: int, encoding: str = "utf-16") -> tuple[int, int]:
        """(line, character) of an offset, 0-based, in code units of `encoding`."""
        offset = min(max(offset, 0), len(self.text))
        line0 = bisect.bisect_right(self.starts, offset) - 1
        start = self.starts[line0]
        return line0, units(self.text[start:offset], encoding)

    def offset_of(self, line: int, column: int) -> int:
        """The offset of a finding's 1-based line and 1-based column in code points (clamped)."""
        line0 = min(max(line - 1, 0), len(self.starts) - 1)
        return self.starts[line0] + min(max(column - 1, 0), len(self.line_text(line0)))

    def line_end(self, line: int) -> int:
        """The offset where 1-based `line`'s text ends (before its line break)."""
        line0 = min(max(line - 1, 0), len(self.starts) - 1)
        return self.starts[line0] + len(self.line_text(line0))


def split_lines(text: str) -> list[str]:
    """Lines with their line breaks, as LSP counts lines."""
    starts = line_starts(text)
    out = [text[a:b] for a, b in zip(starts, starts[1:])]
    if starts[-1] < len(text):
        out.append(text[starts[-1]:])
    return out


def minimal_edits(old: str, new: str) -> list[Edit]:
    """The edits turning `old` into `new`: changed line blocks, trimmed to what differs."""
    if old == new:
        return []
    a, b = split_lines(old), split_lines(new)
    starts = [0]
    for line in a:
        starts.append(starts[-1] + len(line))
    out: list[Edit] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:  # line for line: one edit per changed line
            pairs = [(i, i + 1, j, j + 1) for i, j in zip(range(i1, i2), range(j1, j2)) if a[i] != b[j]]
        else:
            pairs = [(i1, i2, j1, j2)]
        for p1, p2, q1, q2 in pairs:
            out.append(_trimmed(starts, "".join(a[p1:p2]), "".join(b[q1:q2]), p1, p2))
    return out


def _trimmed(starts: list[int], before: str, after: str, i1: int, i2: int) -> Edit:
    """The edit replacing old lines i1..i2 (0-based, end excluded) by `after`, without the
    characters both sides start and end with."""
    p = 0
    limit = min(len(before), len(after))
    while p < limit and before[p] == after[p]:
        p += 1
    s = 0
    while s < limit - p and before[len(before) - 1 - s] == after[len(after) - 1 - s]:
        s += 1
    return Edit(starts[i1] + p, starts[i2] - s, after[p:len(after) - s], i1 + 1, max(i2, i1 + 1))


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """`text` with non-overlapping edits applied."""
    out, last = [], 0
    for e in sorted(edits, key=lambda e: (e.start, e.end)):
        out.append(text[last:e.start])
        out.append(e.text)
        last = e.end
    out.append(text[last:])
    return "".join(out)


def edits_for_lines(edits: Sequence[Edit], spans: Sequence[tuple[int, int]], first: int, last: int) -> list[Edit]:
    """The edits a finding on 1-based lines first..last owns: those whose changed lines meet its
    lines, plus the edits no finding's lines meet (an added import line), which a fix needs."""
    def meets(e: Edit, a: int, b: int) -> bool:
        return e.first_line <= b and e.last_line >= a

    return [e for e in edits if meets(e, first, last) or not any(meets(e, a, b) for a, b in spans)]
