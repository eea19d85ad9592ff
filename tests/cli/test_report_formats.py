"""CI report formats (SARIF, GitHub, JUnit, JSON lines), the progress bar and the closing summary."""
from __future__ import annotations

import io
import json
import os
import pty
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import nbformat
from click.testing import CliRunner

from kmigrate.cli import main
from kmigrate.config import Config
from kmigrate.progress import ProgressBar, for_terminal
from kmigrate.report.github import escape_data, escape_property
from kmigrate.rule import all_rules
from kmigrate.run import run
from tests.paths import ROOT

SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif" / "sarif-schema-2.1.0.json").read_text())

OLD = "import keras\nfrom keras.layers import Dense\n\nmodel = keras.Sequential([Dense(3)])\n"
NEW = "from tensorflow import keras\nfrom tensorflow.keras.layers import Dense\n\nmodel = keras.Sequential([Dense(3)])\n"
NB_CODE = "x = 1\nimport keras.backend as K"


def notebook() -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nb.cells = [nbformat.v4.new_markdown_cell("hi"), nbformat.v4.new_code_cell("print(1)"),
                nbformat.v4.new_code_cell(NB_CODE)]
    return nbformat.writes(nb) + "\n"


TREE = {
    "pkg/a.py": OLD,
    "pkg/clean.py": "x = 1\n",
    "pkg/bad.py": "import keras\nprint 'x'\n",
    "pkg/nb.ipynb": notebook(),
}


def cli(root, *args):
    old = os.getcwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(main, ["--no-cache", "--jobs", "1", *map(str, args)], catch_exceptions=False)
    finally:
        os.chdir(old)


def sarif(root, *args) -> dict:
    res = cli(root, "--format", "sarif", "-o", "out.sarif", *args, "pkg")
    assert res.exit_code == 2, res.output  # bad.py is a file error
    log = json.loads((root / "out.sarif").read_text())
    jsonschema.validate(log, SCHEMA)  # the official SARIF 2.1.0 schema
    return log


# ------------------------------------------------------------------------------------- SARIF


def test_sarif_is_valid_and_describes_every_rule(tmp_tree):
    log = sarif(tmp_tree(TREE), "--check")
    (run_,) = log["runs"]
    driver = run_["tool"]["driver"]
    ids = [r["id"] for r in driver["rules"]]
    assert ids == ["KM000", *all_rules()]
    for r in driver["rules"]:
        assert r["name"] and r["shortDescription"]["text"] and r["fullDescription"]["text"] and r["help"]["text"]
    km101 = driver["rules"][ids.index("KM101")]
    assert km101["fullDescription"]["text"].startswith("Rewrites imports of standalone `keras`")
    assert "## Fix safety" in km101["help"]["markdown"]
    for res in run_["results"]:
        assert driver["rules"][res["ruleIndex"]]["id"] == res["ruleId"]


def test_sarif_results_point_at_the_code_in_py_files_and_notebooks(tmp_tree):
    root = tmp_tree(TREE)
    log = sarif(root, "--check")
    results = log["runs"][0]["results"]
    by_file = {}
    for r in results:
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        by_file.setdefault(loc["artifactLocation"]["uri"], []).append((r, loc["region"]))
    assert set(by_file) == {"pkg/a.py", "pkg/bad.py", "pkg/nb.ipynb"}
    (err, region), = by_file["pkg/bad.py"]
    assert err["ruleId"] == "KM000" and err["level"] == "error" and region["startLine"] == 2
    r, region = by_file["pkg/a.py"][0]
    assert (r["ruleId"], r["level"], region["startLine"], region["startColumn"]) == ("KM101", "warning", 1, 1)
    (r, region), = by_file["pkg/nb.ipynb"]
    assert r["properties"]["cell"] == 2 and r["properties"]["cellLine"] == 2
    assert "(cell 2, line 2)" in r["message"]["text"]
    line = (root / "pkg/nb.ipynb").read_text().splitlines()[region["startLine"] - 1]
    assert line[region["startColumn"] - 1:].startswith("import keras.backend as K")
    assert line[: region["endColumn"] - 1].endswith("import keras.backend as K")
    assert log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == root.as_uri() + "/"


def _apply(text: str, replacements: list[dict]) -> str:
    unique = {(r["deletedRegion"]["charOffset"], r["deletedRegion"]["charLength"]): r for r in replacements}
    for (offset, length), r in sorted(unique.items(), reverse=True):
        text = text[:offset] + r.get("insertedContent", {}).get("text", "") + text[offset + length:]
    return text


def test_sarif_fixes_rebuild_exactly_what_kmigrate_writes(tmp_tree):
    root = tmp_tree(TREE)
    log = sarif(root, "--check")
    fixes: dict[str, list] = {}
    for r in log["runs"][0]["results"]:
        for fix in r.get("fixes", []):
            for change in fix["artifactChanges"]:
                fixes.setdefault(change["artifactLocation"]["uri"], []).extend(change["replacements"])
    assert set(fixes) == {"pkg/a.py", "pkg/nb.ipynb"}
    before = {u: (root / u).read_text() for u in fixes}
    cli(root, "pkg")  # now fix for real
    for u, reps in fixes.items():
        assert _apply(before[u], reps) == (root / u).read_text()
    assert (root / "pkg/a.py").read_text() == NEW


def test_sarif_after_fixing_marks_fixed_findings_and_offers_no_fix(tmp_tree):
    log = sarif(tmp_tree(TREE))
    results = log["runs"][0]["results"]
    fixed = [r for r in results if r["properties"].get("fixApplied")]
    assert fixed and all(r["kind"] == "informational" and r["level"] == "none" and "fixes" not in r for r in fixed)
    assert log["runs"][0]["properties"]["filesChanged"] == 2


# ------------------------------------------------------------------------------------- GitHub

_COMMAND = re.compile(r"::(error|warning|notice) file=([^,]+),line=(\d+),col=(\d+),endLine=(\d+),"
                      r"endColumn=(\d+),title=(KM\d{3})[^:]*::(.+)")


def test_github_workflow_commands(tmp_tree):
    root = tmp_tree(TREE)
    res = cli(root, "--check", "--format", "github", "pkg")
    lines = [l for l in res.output.splitlines() if l.startswith("::")]
    parsed = [_COMMAND.fullmatch(l) for l in lines]
    assert all(parsed), lines
    rows = {}
    for m in parsed:
        rows.setdefault((m[2], m[7]), m)
    bad = rows[("pkg/bad.py", "KM000")]
    assert bad[1] == "error" and bad[3] == "2"
    a = rows[("pkg/a.py", "KM101")]
    assert a[1] == "warning" and (a[3], a[4]) == ("1", "1") and "kmigrate fixes this" in a[8]
    nb = rows[("pkg/nb.ipynb", "KM101")]
    text = (root / "pkg/nb.ipynb").read_text().splitlines()[int(nb[3]) - 1]
    assert text[int(nb[4]) - 1:].startswith("import keras.backend") and "(cell 2, line 2)" in nb[8]
    assert res.output.splitlines()[-1].startswith("kmigrate: 4 files scanned")
    res = cli(root, "--format", "github", "pkg")  # fixing: what was fixed is a notice
    assert "::notice file=pkg/a.py,line=1,col=1" in res.output and "title=KM101 standalone-keras-import (fixed)" in res.output


def test_github_escaping():
    assert escape_data("50% done\nnext\r") == "50%25 done%0Anext%0D"
    assert escape_property("a,b:c%") == "a%2Cb%3Ac%25"


# ------------------------------------------------------------------------------------- JUnit


def test_junit_one_testcase_per_file(tmp_tree):
    root = tmp_tree(TREE)
    res = cli(root, "--check", "--format", "junit", "-o", "junit.xml", "pkg")
    assert res.exit_code == 2
    suites = ET.parse(root / "junit.xml").getroot()
    (suite,) = suites.findall("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {"pkg/a.py", "pkg/clean.py", "pkg/bad.py", "pkg/nb.ipynb"}
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "2", "1")
    assert list(cases["pkg/clean.py"]) == []
    assert cases["pkg/bad.py"].find("error").get("type") == "KM000"
    failure = cases["pkg/nb.ipynb"].find("failure")
    assert "KM101" in failure.get("message") and "pkg/nb.ipynb:cell 2:2:1: KM101 [fixable]" in failure.text
    res = cli(root, "--format", "junit", "-o", "junit.xml", "pkg")  # after fixing, a.py passes
    suite = ET.parse(root / "junit.xml").getroot().find("testsuite")
    assert suite.get("failures") == "0" and suite.get("errors") == "1"


# ------------------------------------------------------------------------------------- JSON lines


def test_json_lines_match_the_json_report(tmp_tree):
    root = tmp_tree(TREE)
    lines = cli(root, "--check", "--format", "json-lines", "pkg").output.splitlines()
    array = json.loads(cli(root, "--check", "--format", "json", "pkg").output)
    assert [json.loads(l) for l in lines] == array
    assert any(i.get("cell") == 2 for i in array)


# ------------------------------------------------------------------------------------- progress


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_progress_bar_draws_after_delay_throttles_and_clears():
    out, clock = io.StringIO(), Clock()
    bar = ProgressBar(out, delay=0.5, interval=0.1, clock=clock, width=80)
    bar(1, 10)
    assert out.getvalue() == ""  # a quick run never shows a bar
    clock.t = 1.0
    bar(2, 10)
    assert "2/10 files  2.0 files/s  4s left" in out.getvalue()
    done, todo = re.search(r"\[(#*)(-*)\]", out.getvalue()).groups()
    assert len(done) == (len(done) + len(todo)) // 5
    before = out.getvalue()
    clock.t = 1.05
    bar(3, 10)
    assert out.getvalue() == before  # at most ten redraws a second
    clock.t = 2.0
    bar(10, 10)
    assert out.getvalue().endswith("10/10 files  5.0 files/s")
    bar.close()
    assert out.getvalue().endswith("\r" + " " * 79 + "\r")
    assert all(len(x) <= 80 for x in out.getvalue().split("\r"))


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_only_on_a_terminal_and_not_quiet():
    assert for_terminal(io.StringIO()) is None
    assert for_terminal(FakeTTY(), quiet=True) is None
    assert isinstance(for_terminal(FakeTTY()), ProgressBar)


def test_run_reports_progress_and_clears_the_bar_before_terminal_output(tmp_tree):
    root = tmp_tree({f"m{i}.py": OLD if i % 2 else "x = 1\n" for i in range(6)})
    calls = []

    class Recorder:
        def __call__(self, done, total):
            calls.append((done, total))

        def clear(self):
            calls.append("clear")

        def close(self):
            calls.append("close")

    report = FakeTTY()
    run([str(root)], Config(jobs=1, cache=False), mode="check", report_stream=report, progress=Recorder())
    assert [c for c in calls if isinstance(c, tuple)] == [(i, 6) for i in range(1, 7)]
    assert calls.count("clear") == 3 and calls[-1] == "close"  # before each file with findings, then done
    calls.clear()
    run([str(root)], Config(jobs=1, cache=False), mode="check", report_stream=io.StringIO(), progress=Recorder())
    assert "clear" not in calls  # output to a file or pipe: the bar stays put


def _in_pty(args, cwd, env):
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    proc.wait()
    os.close(master)
    return proc.returncode, out.decode()


def test_cli_on_a_terminal_shows_the_bar_and_a_summary(tmp_tree):
    root = tmp_tree({f"m{i}.py": OLD for i in range(5)})
    env = dict(os.environ, KMIGRATE_PROGRESS_DELAY="0")
    cmd = [sys.executable, "-m", "kmigrate", "--check", "--no-cache", "-j", "1", "--format", "json", "-o", "r.json", "."]
    code, out = _in_pty(cmd, root, env)
    assert code == 1
    assert "5/5 files" in out and "files/s" in out
    assert "5 files scanned; 5 would change; would fix 10 findings; 0 remaining" in out
    assert "By code: KM101: 10" in out
    code, out = _in_pty(cmd + ["--quiet"], root, env)
    assert "files/s" not in out and "scanned" not in out
    piped = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    assert piped.stderr == ""  # not a terminal: no bar, no summary next to a machine report


def test_text_summary_has_files_changed_errors_time_and_codes(tmp_tree):
    root = tmp_tree(TREE)
    res = cli(root, "--check", "pkg")
    summary = res.output.strip().splitlines()[-2:]
    assert re.fullmatch(r"4 files scanned; 2 would change; would fix 3 findings; \d+ remaining; "
                        r"1 file error \(\d+\.\d\ds\)", summary[0]), summary
    assert summary[1].startswith("By code: KM000: 1, KM101: ")


def test_text_marks_what_was_fixed_and_what_would_be(tmp_tree):
    root = tmp_tree({"pkg/a.py": OLD})
    check = cli(root, "--check", "pkg").output
    assert "pkg/a.py:1:1: KM101 [*] " in check and "[fixed]" not in check
    assert "pkg/a.py:1:1: KM101 [fixed] " in cli(root, "pkg").output
