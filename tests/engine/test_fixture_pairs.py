"""fixtures/<CODE>/*.py: before/after pairs, report-only cases and noops, one generic test."""
from __future__ import annotations

import pytest

from kmigrate.testing import fixture_cases, header_options, run_snippet

from tests.conftest import FIXTURES

CASES = fixture_cases(FIXTURES)


def test_there_are_fixtures():
    assert len(CASES) > 10


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fixture(case):
    before = case.path.read_text(encoding="utf-8")
    opts = header_options(before)
    out = run_snippet(case.code, before, path=str(case.path), **opts)
    own = [f for f in out.findings if f.code == case.code and f.severity != "info"]
    if case.kind == "noop":
        assert own == [], [f"{f.line}: {f.message}" for f in own]
        assert out.text == before
    elif case.kind == "fix":
        assert own or any(f.code == case.code for f in out.findings), "rule did not fire"
        assert out.text == case.fixed_path.read_text(encoding="utf-8")
    else:
        assert any(f.code == case.code for f in out.findings), "rule did not fire"
        assert out.text == before, "a report-only case must leave the file as it was"
    if case.messages_path.exists():
        for line in case.messages_path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            lineno, code, text = line.split(" ", 2)
            assert any(f.line == int(lineno) and f.code == code and text in f.message for f in out.findings), (
                f"no {code} at line {lineno} saying {text!r}; got "
                + "; ".join(f"{f.line} {f.code} {f.message}" for f in out.findings)
            )
    again = run_snippet(case.code, out.text, path=str(case.path), **opts)
    assert again.text == out.text, "not idempotent"
