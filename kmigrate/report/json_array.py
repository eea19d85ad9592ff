"""`--format json`: one JSON array with an object per finding (file errors are code KM000)."""
from __future__ import annotations

import json


class Writer:
    def __init__(self, stream):
        self.stream = stream
        self.items: list[dict] = []

    def file_done(self, result) -> None:
        self.items.extend(f.to_dict() for f in result.findings)

    def close(self, summary) -> None:
        json.dump(self.items, self.stream, indent=2, ensure_ascii=False)
        self.stream.write("\n")
