"""`--format junit`: JUnit XML with one test case per file (GitLab, Jenkins, Azure read it).

A file passes when nothing is left to do in it. It fails (`<failure>`) when findings remain,
or, with --check / --diff, when kmigrate would change it; the failure text lists the findings
as `path:line:col: CODE message` (`path:cell N:line:col` in notebooks). A file kmigrate could
not process (KM000) is an `<error>`.
"""
from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timezone


class Writer:
    mode = "fix"

    def __init__(self, stream):
        self.stream = stream
        self.cases: list[ET.Element] = []
        self.failures = self.errors = 0
        self.started = datetime.now(timezone.utc)
        self.last = time.perf_counter()

    def file_done(self, result) -> None:
        now = time.perf_counter()
        case = ET.Element("testcase", classname="kmigrate", name=_x(result.path), file=_x(result.path),
                          time=f"{now - self.last:.3f}")
        self.last = now
        errors = [f for f in result.findings if f.code == "KM000"]
        left = [f for f in result.findings if f.code != "KM000" and f.severity != "info"
                and (not f.fix_applied or self.mode != "fix")]
        would_change = result.changed and self.mode != "fix"
        if errors:
            self.errors += 1
            el = ET.SubElement(case, "error", message=_x(errors[0].message), type="KM000")
            el.text = _lines(result.findings, self.mode)
        elif left or would_change:
            self.failures += 1
            codes = sorted({f.code for f in left})
            n = len(left)
            message = f"{n} finding{'s' if n != 1 else ''}" + (f" ({', '.join(codes)})" if codes else "")
            if would_change:
                message += "; kmigrate would change this file"
            el = ET.SubElement(case, "failure", message=_x(message), type=codes[0] if codes else "kmigrate")
            el.text = _lines(result.findings, self.mode)
        elif result.findings:
            ET.SubElement(case, "system-out").text = _lines(result.findings, self.mode)
        self.cases.append(case)

    def close(self, summary) -> None:
        suites = ET.Element("testsuites", name="kmigrate", tests=str(len(self.cases)),
                            failures=str(self.failures), errors=str(self.errors), time=f"{summary.seconds:.3f}")
        suite = ET.SubElement(suites, "testsuite", name="kmigrate", tests=str(len(self.cases)),
                              failures=str(self.failures), errors=str(self.errors), skipped="0",
                              time=f"{summary.seconds:.3f}",
                              timestamp=self.started.strftime("%Y-%m-%dT%H:%M:%S"))
        suite.extend(self.cases)
        ET.indent(suites)
        self.stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        self.stream.write(ET.tostring(suites, encoding="unicode") + "\n")


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _x(text: str) -> str:
    """Text XML 1.0 can hold (control characters and lone surrogates become U+FFFD)."""
    return _NOT_XML.sub("\ufffd", text)


def _lines(findings, mode: str) -> str:
    out = []
    for f in findings:
        mark = (" [fixed]" if mode == "fix" else " [fixable]") if f.fix_applied else ""
        out.append(f"{f.location}: {f.code}{mark} {f.message} ({f.severity})")
    return _x("\n".join(out) + "\n")
