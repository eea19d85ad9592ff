"""Report writers: one small module per format, all written from the same Finding type.

A writer is a class `Writer(stream)` with `file_done(result)` (called as each file finishes,
so a run streams) and `close(summary)`. Formats are looked up lazily so start-up stays fast.
"""
from __future__ import annotations

import importlib
from collections import Counter
from dataclasses import dataclass, field

FORMATS = {
    "text": "kmigrate.report.text",
    "json": "kmigrate.report.json_array",
    "json-lines": "kmigrate.report.json_lines",
    "sarif": "kmigrate.report.sarif",
    "github": "kmigrate.report.github",
    "junit": "kmigrate.report.junit",
}


@dataclass
class Summary:
    files: int = 0
    changed: int = 0
    errors: int = 0
    fixed: int = 0
    remaining: int = 0  # error/warning findings left (info excluded)
    by_code: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    mode: str = "fix"  # fix | diff | check
    quiet: bool = False  # findings only, no summary line

    def add(self, result) -> None:
        self.files += 1
        if result.error:
            self.errors += 1
        if result.changed:
            self.changed += 1
        for f in result.findings:
            self.by_code[f.code] += 1
            if f.fix_applied:
                self.fixed += 1
            elif f.severity != "info":
                self.remaining += 1


def writer(fmt: str, stream, mode: str = "fix"):
    try:
        module = importlib.import_module(FORMATS[fmt])
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}") from None
    w = module.Writer(stream)
    w.mode = mode  # fix | diff | check: whether a fixable finding was fixed or only could be
    return w


def summary_text(s: Summary) -> str:
    """The closing summary: files scanned, changed, findings fixed/remaining, errors, time, by code."""
    verb = {"fix": "Fixed", "diff": "Would fix", "check": "Would fix"}[s.mode]
    changed = {"fix": "changed", "diff": "would change", "check": "would change"}[s.mode]
    parts = [f"{s.files} file{'s' if s.files != 1 else ''} scanned", f"{s.changed} {changed}"]
    if s.fixed:
        parts.append(f"{verb.lower()} {s.fixed} finding{'s' if s.fixed != 1 else ''}")
    parts.append(f"{s.remaining} remaining")
    if s.errors:
        parts.append(f"{s.errors} file error{'s' if s.errors != 1 else ''}")
    codes = ", ".join(f"{c}: {n}" for c, n in sorted(s.by_code.items()))
    line = "; ".join(parts) + f" ({s.seconds:.2f}s)"
    return line + (f"\nBy code: {codes}" if codes else "")
