"""What remains after a fixing run: the findings of the original text matched with those of
the fixed text, so that the run's "remaining" is exactly what `--check` finds on its output.

- an original finding a fix removed (its own rule's or another's) counts as fixed;
- an original finding still in the fixed text remains, at its original place, and carries
  where it is in the fixed text (`written`, used once the file is written);
- an original finding that left the fixed text although its own lines are unchanged and its
  own fix was not applied was hidden, not solved (a rule that judged the original file from its
  imports, which a fix renamed): it remains, marked so; this is the one kind of remaining finding
  `--check` on the output cannot see;
- a finding of the fixed text that no original finding accounts for (a fix uncovered or caused
  it: `keras.engine` imports renamed to `tensorflow.keras.engine`) is added, marked `after_fix`,
  placed on the original line the fixed line came from.

Matching is by rule code, then by place (lines the fixes left alone map exactly) and by the
message with its numbers ignored (a message may cite a line that moved).
"""
from __future__ import annotations

import difflib
import re
from dataclasses import replace
from typing import Optional

from .result import Finding
from .source import LINE_BREAK

AFTER_FIX_NOTE = " (found in the fixed code)"
HIDDEN_NOTE = " (still there, but hidden from kmigrate by the other fixes: fix it by hand)"
_NUMBER = re.compile(r"\d+")


def line_map(old: str, new: str) -> list[Optional[int]]:
    """For each line of `old` (1-based index; [0] unused), its line in `new`; a line the
    fixes changed maps to the first line of what replaced it, negated (approximate)."""
    a, b = LINE_BREAK.split(old), LINE_BREAK.split(new)  # lines as LibCST counts them
    out: list[Optional[int]] = [None] * (len(a) + 2)
    # autojunk (on from 200 lines): without it, files of repeated blocks (a model per function)
    # take quadratic time, seconds on 1,400 lines; the junk lines still match beside unique ones
    matcher = difflib.SequenceMatcher(None, a, b)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for i in range(i1, i2):
            out[i + 1] = (j1 + (i - i1) + 1) if tag == "equal" else -(min(j1, max(len(b) - 1, 0)) + 1)
    out[len(a) + 1] = len(b) + 1
    return out


def _at(mapping: list[Optional[int]], line: int) -> tuple[int, bool]:
    """(mapped line, exact?)"""
    if 0 < line < len(mapping) and mapping[line] is not None:
        m = mapping[line]
        return abs(m), m > 0
    return max(line, 1), False


def _unchanged(f: Finding, forward: list, old_lines: list[str], new_lines: list[str]) -> bool:
    for line in range(f.line, f.end_line + 1):
        m = forward[line] if line < len(forward) else None
        if m is None or m <= 0 or old_lines[line - 1] != new_lines[m - 1]:
            return False
    return True


def _key(message: str) -> str:
    return _NUMBER.sub("#", message)


def reconcile(originals: list[Finding], final: list[Finding], old: str, new: str) -> list[Finding]:
    forward, back = line_map(old, new), line_map(new, old)
    out = [f for f in originals if f.fix_applied]
    open_ = [f for f in originals if not f.fix_applied]
    pool = list(final)
    taken: set[int] = set()
    matched: dict[int, Finding] = {}

    def match(test) -> None:
        for k, f in enumerate(open_):
            if k in matched:
                continue
            for i, g in enumerate(pool):
                if i not in taken and g.code == f.code and test(f, g):
                    taken.add(i)
                    matched[k] = g
                    break

    def same_place(f: Finding, g: Finding) -> bool:
        line, exact = _at(forward, f.line)
        return exact and g.line == line and g.column == f.column

    def same_line(f: Finding, g: Finding) -> bool:
        return g.line == _at(forward, f.line)[0]

    match(lambda f, g: same_place(f, g) and g.message == f.message)
    match(same_place)
    match(lambda f, g: same_line(f, g) and _key(g.message) == _key(f.message))
    match(lambda f, g: _key(g.message) == _key(f.message))
    match(same_line)
    old_lines, new_lines = LINE_BREAK.split(old), LINE_BREAK.split(new)
    for k, f in enumerate(open_):
        g = matched.get(k)
        if g is None and _unchanged(f, forward, old_lines, new_lines):
            out.append(replace(f, message=f.message + HIDDEN_NOTE))
        elif g is None:
            out.append(replace(f, fix_applied=True))  # gone from the fixed text: the fixes solved it
        else:
            out.append(replace(f, written=(g.line, g.column, g.end_line, g.end_column)))
    for i, g in enumerate(pool):
        if i in taken:
            continue
        line, exact = _at(back, g.line)
        end = line + (g.end_line - g.line)
        out.append(replace(g, fix_applied=False, line=line, column=g.column if exact else 1, end_line=end,
                           end_column=g.end_column if exact else 1, message=g.message + AFTER_FIX_NOTE,
                           after_fix=True, written=(g.line, g.column, g.end_line, g.end_column)))
    return out
