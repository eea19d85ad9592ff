"""docs/rules/ is generated from the rules (`python -m kmigrate.docs`): a stale page fails here,
as Ruff's generated rule pages do; the README's rule list and the help links follow the rules."""
from __future__ import annotations

import json
import re

from click.testing import CliRunner

from kmigrate import docs
from kmigrate.cli import main
from kmigrate.rule import all_rules
from tests.paths import ROOT

PAGES = ROOT / "docs" / "rules"
STALE = "docs/rules/ is out of date: run `python -m kmigrate.docs`"


def test_every_page_is_current_and_no_page_is_left_over():
    want = docs.pages()
    have = {p.name: p.read_text(encoding="utf-8") for p in PAGES.glob("*.md")}
    assert sorted(have) == sorted(want), STALE
    for name, text in want.items():
        assert have[name] == text, f"{name}: {STALE}"


def test_a_page_holds_the_docstring_sections_and_the_examples():
    for code, rule in all_rules().items():
        page = docs.rule_markdown(rule)
        assert page.startswith(f"# {code}: {rule.name}\n")
        for section in ("## What it does", "## Why is this bad", "## Fix safety"):
            assert section in page, f"{code}: {section} missing"
        for example in rule.INVALID:
            before = example if isinstance(example, str) else example.before
            assert before.rstrip("\n") in page, f"{code}: an INVALID example is not on its page"
        assert f"rules/{rule.__module__.split('kmigrate.rules.')[1].replace('.', '/')}.py" in page


def test_rule_command_prints_the_page_and_links_it():
    runner = CliRunner()
    out = runner.invoke(main, ["rule", "KM502", "--markdown"])
    assert out.exit_code == 0 and out.output == (PAGES / "KM502.md").read_text(encoding="utf-8")
    out = runner.invoke(main, ["rule", "km101"])
    assert out.exit_code == 0 and docs.rule_url("KM101") in out.output
    assert docs.rule_url("KM101").endswith("docs/rules/KM101.md")


def test_sarif_rules_link_their_pages(tmp_path):
    f = tmp_path / "a.py"
    f.write_text("import keras\n")
    out = CliRunner().invoke(main, ["--check", "--no-cache", "--format", "sarif", str(f)])
    log = json.loads(out.output)
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["KM101"]["helpUri"] == docs.rule_url("KM101")
    assert "helpUri" not in rules["KM000"]  # no page: a file kmigrate could not process


def test_readme_lists_every_rule_and_stays_short():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| (KM\d{3}) \|", readme, re.M))
    assert listed == set(all_rules()), "README's rule table must list every rule"
    assert len(readme.splitlines()) <= 250
