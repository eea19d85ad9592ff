"""What a run produces per file: Finding and FileResult. No LibCST here.

These types live apart from rule.py / engine.py (which import LibCST, ~0.3 s) so that a run
answered from the cache, and the report writers, never pay for importing LibCST.
`kmigrate.rule.Finding` and `kmigrate.engine.error_finding` are the same objects.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ERROR_CODE = "KM000"


@dataclass
class Finding:
    """One diagnostic, the single internal type every report format is written from."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    name: str
    message: str
    severity: str = "warning"  # Severity.WARNING.value
    fix_safety: str = "none"  # Safety.NONE.value
    fix_applied: bool = False
    cell: int | None = None  # 1-based code-cell number for notebooks
    # A fixing run: where the finding is in the fixed text (line, column, end_line, end_column),
    # for findings that remain; the run reports these positions once it has written the file.
    written: tuple[int, int, int, int] | None = None
    after_fix: bool = False  # found only in the fixed text: a fix uncovered (or caused) it

    def to_dict(self) -> dict[str, Any]:
        d = {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "code": self.code,
            "name": self.name,
            "message": self.message,
            "severity": self.severity,
            "fix_applied": self.fix_applied,
            "fix_safety": self.fix_safety,
        }
        if self.cell is not None:
            d["cell"] = self.cell
        if self.after_fix:
            d["after_fix"] = True
        return d

    def move_to_written(self) -> None:
        """Point at the written file: called once the fixed text is on disk."""
        if self.written is not None:
            self.line, self.column, self.end_line, self.end_column = self.written
            self.written = None

    @property
    def location(self) -> str:
        cell = f"cell {self.cell}:" if self.cell is not None else ""
        return f"{self.path}:{cell}{self.line}:{self.column}"


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    old: bytes | None = None  # the bytes read (workers drop them when nothing changed)
    new: bytes | None = None  # None: nothing to write
    error: bool = False
    diff: str | None = None  # readable diff (notebooks give per-cell diffs)

    @property
    def changed(self) -> bool:
        return self.new is not None and self.new != self.old


def error_finding(path: str, message: str, line: int = 1, column: int = 1, cell: int | None = None) -> Finding:
    return Finding(path=path, line=line, column=column, end_line=line, end_column=column,
                   code=ERROR_CODE, name="file-error", message=message,
                   severity="error", cell=cell)
