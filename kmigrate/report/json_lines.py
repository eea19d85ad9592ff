"""`--format json-lines`: one JSON object per finding per line, written as each file finishes.

Each object is the finding's dict (as in `--format json`: path, line, column, end_line,
end_column, code, name, message, severity, fix_applied, fix_safety, and `cell` for notebooks).
"""
from __future__ import annotations

import json


class Writer:
    def __init__(self, stream):
        self.stream = stream

    def file_done(self, result) -> None:
        for f in result.findings:
            self.stream.write(json.dumps(f.to_dict(), ensure_ascii=False) + "\n")
        if result.findings:
            self.stream.flush()

    def close(self, summary) -> None:
        self.stream.flush()
