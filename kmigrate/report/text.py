"""Human-readable report: `path:line:col: CODE message`, then a summary."""
from __future__ import annotations


class Writer:
    def __init__(self, stream):
        self.stream = stream

    def file_done(self, result) -> None:
        for f in result.findings:
            mark = " [fixed]" if f.fix_applied else (" [*]" if f.fix_safety == "safe" else "")
            level = "" if f.severity == "warning" else f" ({f.severity})"
            self.stream.write(f"{f.location}: {f.code}{mark} {f.message}{level}\n")

    def close(self, summary) -> None:
        s = summary
        if s.quiet:
            return
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
        self.stream.write(line + (f"\nBy code: {codes}" if codes else "") + "\n")
