"""Human-readable report: `path:line:col: CODE message`, then a summary."""
from __future__ import annotations


class Writer:
    def __init__(self, stream):
        self.stream = stream

    def file_done(self, result) -> None:
        for f in result.findings:
            if f.fix_applied and getattr(self, "mode", "fix") == "fix":
                mark = " [fixed]"
            else:  # [*]: kmigrate fixes it (with --check / --diff: would fix it)
                mark = " [*]" if f.fix_applied or f.fix_safety == "safe" else ""
            level = "" if f.severity == "warning" else f" ({f.severity})"
            self.stream.write(f"{f.location}: {f.code}{mark} {f.message}{level}\n")

    def close(self, summary) -> None:
        if summary.quiet:
            return
        from . import summary_text

        self.stream.write(summary_text(summary) + "\n")
