"""Helpers shared by the generic tests: run the engine on a snippet or a fixture file.

Fixture layout (fixtures/<CODE>/):
  <case>.py + <case>.fixed.py   the rule fires and the fix gives exactly the .fixed.py text
  <case>.py alone               the rule fires and the file is left as is (report only / refusal)
  noop_<case>.py                the rule must not fire (near misses) and nothing changes
  <case>.messages (optional)    lines `LINE CODE text`: a finding at LINE with CODE whose
                                message contains `text` must exist
A first line `# kmigrate: select=KM101,KM102 target=keras to=functional unsafe_fixes`
sets options; by default only the folder's code is selected.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .engine import Options, TextResult, fix_text
from .rule import select_rules

_HEADER = re.compile(r"#\s*kmigrate:\s*(?P<opts>.*)")
_CODE_DIR = re.compile(r"[A-Z]+[0-9]+")  # fixtures/<CODE>/; other folders (fixtures/scripts/) are not rule cases


def options_for(code: str, **opts: Any) -> Options:
    select = opts.pop("select", [code])
    if isinstance(select, str):
        select = select.split(",")
    return Options(rules=tuple(select_rules(select, [])), target=opts.get("target", "tensorflow.keras"),
                   to=opts.get("to"), unsafe_fixes=bool(opts.get("unsafe_fixes", False)),
                   tf1_layers=opts.get("tf1_layers", "keras"))


def run_snippet(code: str, text: str, path: str = "example.py", **opts: Any) -> TextResult:
    return fix_text(text, path, options_for(code, **opts))


def header_options(text: str) -> dict[str, Any]:
    first = text.split("\n", 1)[0]
    m = _HEADER.match(first.strip())
    if not m:
        return {}
    out: dict[str, Any] = {}
    for part in m.group("opts").split():
        key, _, value = part.partition("=")
        out[key.replace("-", "_")] = value if value else True
    return out


@dataclass
class FixtureCase:
    code: str
    path: Path

    @property
    def id(self) -> str:
        return f"{self.code}/{self.path.stem}"

    @property
    def kind(self) -> str:
        if self.path.stem.startswith("noop_"):
            return "noop"
        return "fix" if self.fixed_path.exists() else "report"

    @property
    def fixed_path(self) -> Path:
        return self.path.with_name(self.path.stem + ".fixed.py")

    @property
    def messages_path(self) -> Path:
        return self.path.with_name(self.path.stem + ".messages")


def fixture_cases(root: Path) -> list[FixtureCase]:
    cases = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and _CODE_DIR.fullmatch(p.name)):
        for f in sorted(folder.glob("*.py")):
            if not f.name.endswith(".fixed.py"):
                cases.append(FixtureCase(folder.name, f))
    return cases
