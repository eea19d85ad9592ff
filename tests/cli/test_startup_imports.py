"""Start-up: `kmigrate --version`, a tree where no file touches Keras, a run answered from the
cache and `kmigrate rules` never import LibCST (~0.25 s) nor any rule module.

Each case runs the real `python -m kmigrate ...` in a fresh interpreter and lists the modules
it imported; the pre-check works on the rule index (kmigrate/precheck.py, rules/_index.py).
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import ROOT

KERAS = "import keras\nfrom keras.layers import Dense\nm = keras.Sequential([Dense(1)])\n"
PLAIN = "import os\n\ndef home():\n    return os.path.expanduser('~')\n"

_RUN = """
import json, runpy, sys
out, sys.argv = sys.argv[1], ["kmigrate", *sys.argv[2:]]
try:
    runpy.run_module("kmigrate", run_name="__main__", alter_sys=True)
    code = 0
except SystemExit as exc:
    code = exc.code
with open(out, "w") as fh:
    json.dump({"exit": code, "modules": sorted(sys.modules)}, fh)
"""


def kmigrate(cwd: Path, *args: str):
    """(exit code, stdout, heavy modules imported): LibCST, rule modules, engine, TensorFlow."""
    out = cwd.parent / f"{cwd.name}-modules.json"
    proc = subprocess.run([sys.executable, "-c", _RUN, str(out), *args], cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    heavy = [m for m in data["modules"]
             if m.split(".")[0] in ("libcst", "tensorflow")
             or (m.startswith("kmigrate.rules.") and m != "kmigrate.rules._index")
             or m in ("kmigrate.engine", "kmigrate.rule")]
    return data["exit"], proc.stdout, heavy


@pytest.fixture
def tree(tmp_path) -> Path:
    root = tmp_path / "proj"
    (root / "pkg").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.kmigrate]\n")
    for i in range(6):  # more than 4 files: the parallel path of the pipeline
        (root / "pkg" / f"util{i}.py").write_text(PLAIN + f"X = {i}  # no Keras here (not even tensorflow)\n")
    (root / "model.py").write_text(KERAS)
    return root


def test_version_imports_nothing_heavy(tree):
    code, out, heavy = kmigrate(tree, "--version")
    assert code == 0 and "kmigrate" in out
    assert heavy == []


def test_a_file_without_keras_imports_no_libcst(tree):
    code, out, heavy = kmigrate(tree, "--check", "--no-cache", "pkg/util0.py")
    assert code == 0 and "1 file scanned" in out
    assert heavy == []


def test_a_tree_without_keras_imports_no_libcst_with_two_jobs(tree):
    code, out, heavy = kmigrate(tree, "--check", "--no-cache", "-j", "2", "pkg")
    assert code == 0 and "6 files scanned" in out
    assert heavy == []


def test_a_keras_file_needs_libcst_but_not_once_cached(tree):
    first = kmigrate(tree, "--check", "model.py")
    assert first[0] == 1 and "KM101" in first[1]
    assert "libcst" in first[2] and "kmigrate.engine" in first[2]  # the check above sees imports
    second = kmigrate(tree, "--check", "model.py")
    assert second[0] == first[0]
    assert re.sub(r"\(\d+\.\d+s\)", "", second[1]) == re.sub(r"\(\d+\.\d+s\)", "", first[1])  # the summary's time aside
    assert second[2] == []


def test_opt_in_and_selection_settings_are_precheck_only_too(tree):
    # --to and --select change the selection and the wants() data, still without the classes
    code, out, heavy = kmigrate(tree, "--check", "--no-cache", "--to", "functional", "--select", "KM4,KM5",
                                "--target", "keras", "pkg")
    assert code == 0 and heavy == []


def test_rules_listing_imports_no_libcst(tree):
    code, out, heavy = kmigrate(tree, "rules")
    assert code == 0 and "KM101" in out and "(opt-in)" in out
    assert heavy == []


def test_pre_check_on_the_index_gives_the_engine_s_answers(tmp_path):
    """Files the index-based pre-check answers are exactly those with no finding and no change."""
    from kmigrate.config import Config
    from kmigrate.process import process_file
    from kmigrate.precheck import needs_parsing
    from kmigrate.run import options_from, precheck_options_from

    import email
    import json as json_package
    import logging

    root = ROOT
    files = sorted(p for folder in ("fixtures", "examples") for p in (root / folder).rglob("*.py"))
    assert len(files) > 100
    # and code that never mentions Keras (the Python standard library's), which the pre-check skips
    files += sorted(p for m in (email, json_package, logging) for p in Path(m.__file__).parent.rglob("*.py"))
    for config in (Config(), Config(to="functional", target="keras", unsafe_fixes=True),
                   Config(select=["KM2", "KM5"]), Config(to="sequential", ignore=["KM1"])):
        pre, options = precheck_options_from(config), options_from(config)
        skipped = 0
        for f in files:
            text = f.read_text(encoding="utf-8", errors="replace")
            if not needs_parsing(text, str(f), pre):
                skipped += 1
                result = process_file(str(f), options)
                assert result.findings == [] and result.new is None and not result.error, f
            # the index never lets less through than the real classes would
            assert needs_parsing(text, str(f), pre) >= needs_parsing(text, str(f), options), f
        assert skipped >= 10
