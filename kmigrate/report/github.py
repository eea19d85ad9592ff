"""`--format github`: GitHub Actions workflow commands, one annotation per finding.

    ::error file=a.py,line=3,col=1,endLine=3,endColumn=13,title=KM101 standalone-keras-import::message

Notebook findings point at the line of the .ipynb file holding the code, and the message says
the cell and the line in the cell. Info findings, and findings already fixed in fix mode, are
notices. The closing summary is a plain log line (not an annotation).
"""
from __future__ import annotations

from . import summary_text
from ._where import Locator, cell_note, relative

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


class Writer:
    mode = "fix"

    def __init__(self, stream):
        self.stream = stream

    def file_done(self, result) -> None:
        if not result.findings:
            return
        where = Locator(result)
        path = relative(result.path) or result.path
        for f in result.findings:
            sl, sc, el, ec = where.region(f)
            level = _LEVEL.get(f.severity, "warning")
            title = f"{f.code} {f.name}"
            message = f.message + cell_note(f)
            if f.fix_applied and self.mode == "fix":
                level, title = "notice", title + " (fixed)"
            elif f.fix_applied:
                message += " [kmigrate fixes this]"
            props = {"file": path, "line": sl, "col": sc, "endLine": el, "endColumn": ec, "title": title}
            head = ",".join(f"{k}={escape_property(str(v))}" for k, v in props.items())
            self.stream.write(f"::{level} {head}::{escape_data(message)}\n")

    def close(self, summary) -> None:
        if not summary.quiet:
            self.stream.write("kmigrate: " + summary_text(summary).replace("\n", "; ") + "\n")
