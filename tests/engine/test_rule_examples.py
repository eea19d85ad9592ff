"""Every rule's VALID / INVALID examples become test cases (Fixit style), plus its docs."""
from __future__ import annotations

import pytest

from kmigrate.rule import Example, all_rules
from kmigrate.testing import run_snippet

RULES = all_rules()


def _cases(kind):
    for code, rule in RULES.items():
        for i, ex in enumerate(getattr(rule, kind)):
            yield pytest.param(code, ex if isinstance(ex, Example) else Example(ex), id=f"{code}-{i}")


@pytest.mark.parametrize("code,example", list(_cases("VALID")))
def test_valid_examples_do_not_fire(code, example):
    out = run_snippet(code, example.before, **example.options)
    assert [f for f in out.findings if f.code == code and f.severity != "info"] == []
    assert out.text == example.before


@pytest.mark.parametrize("code,example", list(_cases("INVALID")))
def test_invalid_examples_fire_and_fix(code, example):
    out = run_snippet(code, example.before, **example.options)
    assert any(f.code == code for f in out.findings), out.findings
    expected = example.before if example.after is None else example.after
    assert out.text == expected
    again = run_snippet(code, out.text, **example.options)
    assert again.text == out.text, "second run changed the output"


@pytest.mark.parametrize("code", list(RULES))
def test_rule_has_docs_and_examples(code):
    rule = RULES[code]
    doc = rule.documentation()
    for section in ("What it does", "Why is this bad", "Example", "Fix safety"):
        assert section in doc, f"{code} docs lack '{section}'"
    assert rule.name and rule.summary and rule.INVALID, code
    assert rule.VALID or rule.opt_in, f"{code} needs near-miss (VALID) examples"
