"""`--format sarif`: SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.

One run; `tool.driver.rules` lists every rule (id, name, short and full description, help text
and markdown, default level, fix safety) plus KM000 for files kmigrate could not process.
Each finding is a result with ruleId/ruleIndex, level, message and a physical location whose
region is in the file itself (for notebooks: the lines of the .ipynb JSON holding the code; the
cell and the line in the cell are in the message and in `properties`). Paths are relative to
`%SRCROOT%`, the folder kmigrate ran in. With --check / --diff, findings kmigrate can fix carry
a SARIF `fix`: the text replacements (by character offset) of the changes in their lines; an
edit no finding overlaps (an added import) goes with the nearest fixable finding. Columns count
Unicode code points (`columnKind`).
"""
from __future__ import annotations

import difflib
import json
import re

from .. import __version__
from ._where import Locator, cell_note, srcroot_uri, uri

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


class Writer:
    mode = "fix"

    def __init__(self, stream):
        self.stream = stream
        self.results: list[dict] = []
        self.rule_index: dict[str, int] = {}
        self.rules: list[dict] = []

    # ------------------------------------------------------------------ rules

    def _load_rules(self) -> None:
        if self.rules:
            return
        from ..rule import all_rules  # the registry imports LibCST: only for this format

        self.rules.append(_descriptor("KM000", "file-error", "A file (or notebook cell) kmigrate could not process",
                                      "The file is reported with the reason (syntax error, undecodable bytes, "
                                      "invalid notebook, ...) and left byte-for-byte as it was.",
                                      "error", "none", None))
        for code, rule in all_rules().items():
            doc = rule.documentation()
            self.rules.append(_descriptor(code, rule.name, rule.summary, _section(rule.__doc__ or "", "What it does")
                                          or rule.summary, _LEVEL.get(rule.severity.value, "warning"),
                                          rule.fix_safety.value, doc, rule.__doc__))
        self.rule_index = {r["id"]: i for i, r in enumerate(self.rules)}

    # ------------------------------------------------------------------ results

    def file_done(self, result) -> None:
        if not result.findings:
            return
        self._load_rules()
        where = Locator(result)
        location_uri, base = uri(result.path)
        artifact = {"uri": location_uri}
        if base:
            artifact["uriBaseId"] = base
        regions = [where.region(f) for f in result.findings]
        fixes = _fixes_by_finding(result, regions) if self.mode != "fix" else {}
        for k, (f, (sl, sc, el, ec)) in enumerate(zip(result.findings, regions)):
            fixed = f.fix_applied and self.mode == "fix"
            item = {
                "ruleId": f.code,
                "message": {"text": ("(fixed) " if fixed else "") + f.message + cell_note(f)},
                "locations": [{"physicalLocation": {
                    "artifactLocation": dict(artifact),
                    "region": {"startLine": sl, "startColumn": sc, "endLine": el, "endColumn": ec},
                }}],
            }
            if f.code in self.rule_index:
                item["ruleIndex"] = self.rule_index[f.code]
            if fixed:  # the problem was there and is gone: informational, no level
                item["kind"], item["level"] = "informational", "none"
            else:
                item["level"] = _LEVEL.get(f.severity, "warning")
            props = {"fixSafety": f.fix_safety, "fixApplied": fixed}
            if f.cell is not None:
                props.update(cell=f.cell, cellLine=f.line, cellColumn=f.column)
            item["properties"] = props
            if k in fixes:
                item["fixes"] = [{
                    "description": {"text": f"kmigrate fix for {f.code} ({f.fix_safety})"},
                    "artifactChanges": [{"artifactLocation": dict(artifact), "replacements": fixes[k]}],
                }]
            self.results.append(item)

    def close(self, summary) -> None:
        self._load_rules()
        log = {
            "$schema": SCHEMA,
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "kmigrate",
                    "version": __version__,
                    "semanticVersion": __version__,
                    "rules": self.rules,
                }},
                "originalUriBaseIds": {"%SRCROOT%": {"uri": srcroot_uri()}},
                "invocations": [{"executionSuccessful": True}],
                "columnKind": "unicodeCodePoints",
                "results": self.results,
                "properties": {
                    "mode": summary.mode, "filesScanned": summary.files, "filesChanged": summary.changed,
                    "fileErrors": summary.errors, "findingsFixed": summary.fixed,
                    "findingsRemaining": summary.remaining, "findingsByCode": dict(sorted(summary.by_code.items())),
                    "seconds": round(summary.seconds, 3),
                },
            }],
        }
        json.dump(log, self.stream, indent=2, ensure_ascii=False)
        self.stream.write("\n")


def _descriptor(code, name, summary, full, level, safety, doc, markdown=None) -> dict:
    d = {
        "id": code,
        "name": name,
        "shortDescription": {"text": summary},
        "fullDescription": {"text": full},
        "defaultConfiguration": {"level": level},
        "properties": {"fixSafety": safety, "tags": ["keras", "tensorflow"]},
    }
    d["help"] = {"text": doc or full}
    if code != "KM000":
        from ..docs import rule_url

        d["helpUri"] = rule_url(code)  # the rule's generated page, docs/rules/<code>.md
    if markdown:
        d["help"]["markdown"] = _dedent(markdown)
    return d


def _dedent(doc: str) -> str:
    import textwrap

    return textwrap.dedent(doc).strip()


def _section(doc: str, title: str) -> str:
    """The text of a `## title` section of a rule docstring, joined into one paragraph."""
    m = re.search(rf"^\s*#+\s*{re.escape(title)}\s*$(.*?)(?=^\s*#+\s|\Z)", _dedent(doc), re.M | re.S)
    return " ".join(m.group(1).split()) if m else ""


# ---------------------------------------------------------------------- fixes


def _decode(raw: bytes, notebook: bool) -> str | None:
    if notebook:
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None
    from ..source import Source, SourceError

    try:
        return Source.from_bytes(raw).text
    except SourceError:
        return None


def _fixes_by_finding(result, regions) -> dict[int, list[dict]]:
    """Finding index -> SARIF replacements of the changes (old -> new) in its lines."""
    if not result.changed:
        return {}
    raw = result.old
    if raw is None:  # not kept by the run: the file on disk still holds it (nothing was written)
        try:
            with open(result.path, "rb") as fh:
                raw = fh.read()
        except OSError:
            return {}
    nb = result.path.endswith(".ipynb")
    old, new = _decode(raw, nb), _decode(result.new, nb)
    if old is None or new is None:
        return {}
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    starts = [0]
    for line in old_lines:
        starts.append(starts[-1] + len(line))
    fixable = [k for k, f in enumerate(result.findings) if f.fix_applied]
    if not fixable:
        return {}
    out: dict[int, list[dict]] = {}
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        replacement = {"deletedRegion": {"charOffset": starts[i1], "charLength": starts[i2] - starts[i1]}}
        inserted = "".join(new_lines[j1:j2])
        if inserted:
            replacement["insertedContent"] = {"text": inserted}
        first, last = i1 + 1, max(i2, i1 + 1)  # 1-based old lines the edit touches
        owners = [k for k in fixable if regions[k][0] <= last and regions[k][2] >= first]
        if not owners:
            owners = [min(fixable, key=lambda k: min(abs(regions[k][0] - first), abs(regions[k][2] - first)))]
        for k in owners:
            out.setdefault(k, []).append(replacement)
    return out
