"""The results cache: hits give the same results, every input of a result invalidates it,
--no-cache neither reads nor writes, entries are atomic under concurrent runs."""
from __future__ import annotations

import io
import json
import multiprocessing
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import kmigrate.cache as cache_mod
import kmigrate.process as process
from kmigrate.cache import Cache
from kmigrate.config import Config
from kmigrate.result import FileResult, Finding
from kmigrate.run import options_from, results, run

KERAS = "import keras\nfrom keras.layers import Dense\nmodel = keras.models.Sequential([Dense(1)])\n"
FIXED = "from tensorflow import keras\nfrom tensorflow.keras.layers import Dense\nmodel = keras.models.Sequential([Dense(1)])\n"
PLAIN = "import os\nprint(os.sep)\n"
SYNTAX = "import keras\ndef f(:\n    pass\n"


@pytest.fixture
def tree(tmp_tree):
    return tmp_tree({"pkg/a.py": KERAS, "pkg/b.py": PLAIN, "pkg/c.py": SYNTAX,
                     "pkg/d.py": "from keras.layers.core import Dense\n"})


@pytest.fixture
def counted(monkeypatch):
    """Count the files the engine really processes (a cache hit never reaches it)."""
    seen: list[str] = []
    real = process.process_file

    def spy(path, options, display=None):
        seen.append(os.path.basename(path))
        return real(path, options, display)

    monkeypatch.setattr(process, "process_file", spy)
    return seen


def config_for(root: Path, **changes) -> Config:
    return replace(Config(root=str(root), cache_dir=str(root / "cachedir")), **changes)


def files_of(root: Path) -> list[str]:
    return sorted(str(p) for p in (root / "pkg").glob("*.py"))


def snapshot(res: list[FileResult]):
    return [(r.path, r.error, r.changed, r.new, r.diff, [f.to_dict() for f in r.findings]) for r in res]


def go(root: Path, config: Config, jobs: int = 1, files=None):
    return list(results(files or files_of(root), lambda: options_from(config), jobs, Cache.for_config(config)))


def test_hit_returns_the_same_results_without_processing(tree, counted):
    config = config_for(tree)
    first = go(tree, config)
    assert sorted(counted) == ["a.py", "c.py", "d.py"]  # b.py has no trigger: pre-checked away
    assert any(r.changed for r in first) and any(r.error for r in first)
    counted.clear()
    second = go(tree, config)
    assert counted == []  # everything answered from the cache, the syntax error too
    assert snapshot(second) == snapshot(first)
    assert second[0].new == FIXED.encode() and second[0].old == KERAS.encode()


def test_cached_findings_take_the_current_display_path(tree, monkeypatch):
    config = config_for(tree)
    monkeypatch.chdir(tree)
    first = go(tree, config, files=["pkg/a.py"])
    second = go(tree, config, files=[str(tree / "pkg" / "a.py")])
    assert first[0].findings and {f.path for f in second[0].findings} == {str(tree / "pkg" / "a.py")}


def test_content_change_invalidates(tree, counted):
    config = config_for(tree)
    go(tree, config)
    (tree / "pkg" / "a.py").write_text(PLAIN + "import keras\n")
    counted.clear()
    again = go(tree, config)
    assert counted == ["a.py"]
    assert [f.line for f in again[0].findings] == [3]


@pytest.mark.parametrize("changes", [
    {"select": ["KM101"]}, {"ignore": ["KM102"]}, {"extend_select": ["KM4"]}, {"target": "keras"},
    {"unsafe_fixes": True}, {"to": "functional"},
], ids=lambda c: next(iter(c)))
def test_settings_change_invalidates(tree, counted, changes):
    go(tree, config_for(tree))
    counted.clear()
    go(tree, config_for(tree, **changes))
    assert sorted(counted) == ["a.py", "c.py", "d.py"]


def test_settings_that_do_not_change_results_share_the_cache(tree, counted):
    go(tree, config_for(tree))
    counted.clear()
    go(tree, config_for(tree, format="json", jobs=2, exclude=["x/"]))
    assert counted == []


def test_version_and_code_changes_invalidate(tree, counted, monkeypatch):
    config = config_for(tree)
    go(tree, config)
    monkeypatch.setattr(cache_mod, "__version__", "999.0")
    counted.clear()
    go(tree, config)
    assert sorted(counted) == ["a.py", "c.py", "d.py"]
    real = cache_mod.code_fingerprint()
    monkeypatch.setattr(cache_mod, "code_fingerprint", lambda: real + "-a-rule-was-edited")
    counted.clear()
    go(tree, config)
    assert sorted(counted) == ["a.py", "c.py", "d.py"]


def test_code_fingerprint_follows_the_rule_files(tmp_path, monkeypatch):
    import importlib.util

    before = cache_mod.code_fingerprint()
    rules_dir = Path(importlib.util.find_spec("kmigrate.rules").submodule_search_locations[0])
    probe = rules_dir / "tables" / "__init__.py"
    st = os.stat(probe)
    try:
        os.utime(probe, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
        assert cache_mod.code_fingerprint() != before
    finally:
        os.utime(probe, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert cache_mod.code_fingerprint() == before


def test_corrupt_or_truncated_entries_are_misses(tree, counted):
    config = config_for(tree)
    first = go(tree, config)
    entries = [p for p in (tree / "cachedir").rglob("*") if p.is_file() and p.parent.name != "cachedir"]
    assert entries
    for p in entries:
        data = p.read_bytes()
        p.write_bytes(data[: len(data) // 2] if len(data) > 4 else b"{")
    counted.clear()
    second = go(tree, config)
    assert sorted(counted) == ["a.py", "c.py", "d.py"]
    assert snapshot(second) == snapshot(first)


def test_cache_folder_is_gitignored_and_tagged(tree):
    config = config_for(tree, cache_dir=".kmigrate_cache")
    subprocess.run(["git", "init", "-q", str(tree)], check=True)
    go(tree, config)
    folder = tree / ".kmigrate_cache"
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (folder / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    status = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--untracked-files=all"],
                            capture_output=True, text=True, check=True).stdout
    assert "pkg/a.py" in status and ".kmigrate_cache" not in status


def test_unusable_cache_folder_turns_the_cache_off(tree):
    (tree / "blocker").write_text("a file where the cache folder should be")
    config = config_for(tree, cache_dir=str(tree / "blocker" / "sub"))
    out = go(tree, config)
    assert snapshot(out) == snapshot(list(results(files_of(tree), options_from(config), 1)))


def poison(tree: Path, config: Config) -> None:
    """Replace a.py's entry with a finding no rule makes: only a cache read can report it."""
    cache = Cache.for_config(config)
    raw = (tree / "pkg" / "a.py").read_bytes()
    fake = Finding(path="x", line=1, column=1, end_line=1, end_column=1, code="KM999",
                   name="from-the-cache", message="served from the cache")
    cache.put(cache.digest(str(tree / "pkg" / "a.py"), raw), FileResult("x", [fake], old=raw))


def cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "kmigrate", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_no_cache_neither_reads_nor_writes(tree):
    (tree / "pyproject.toml").write_text("[tool.kmigrate]\ncache-dir = 'cachedir'\n")
    config = replace(config_for(tree), root=str(tree), cache_dir="cachedir")
    poison(tree, config)
    served = cli("--check", "-q", "pkg", cwd=tree)
    assert "KM999" in served.stdout  # the poisoned entry is what a cached run reports
    before = sorted(p for p in (tree / "cachedir").rglob("*"))
    fresh = cli("--check", "-q", "--no-cache", "pkg", cwd=tree)
    assert "KM999" not in fresh.stdout and "KM101" in fresh.stdout
    assert sorted(p for p in (tree / "cachedir").rglob("*")) == before  # nothing written


def test_no_cache_creates_no_folder(tree):
    res = cli("--check", "-q", "--no-cache", "pkg", cwd=tree)
    assert res.returncode == 2 and "KM101" in res.stdout  # 2: c.py has a syntax error
    assert not (tree / ".kmigrate_cache").exists()


def test_fix_from_cache_writes_the_cached_output(tree):
    config = config_for(tree)
    run([str(tree / "pkg")], config, mode="diff", report_stream=io.StringIO(), diff_stream=io.StringIO())
    outcome = run([str(tree / "pkg")], config, mode="fix", report_stream=io.StringIO())
    assert (tree / "pkg" / "a.py").read_text() == FIXED
    assert outcome.summary.changed == 2 and outcome.summary.errors == 1


_SCRIPT = """
import io, sys
import kmigrate.cache as c
c.code_fingerprint = lambda: "fixed-for-this-test"  # other work on the tree must not count
from kmigrate.config import load
from kmigrate.run import run
out = io.StringIO()
outcome = run([sys.argv[1]], load(sys.argv[1]), mode="check", report_stream=out)
print(sorted(m for m in sys.modules if m.split(".")[0] in ("libcst", "tensorflow")))
print(outcome.exit_code, outcome.summary.files, outcome.summary.remaining, out.getvalue().count("KM"))
"""


def test_a_run_answered_from_the_cache_imports_no_libcst(tree):
    first = subprocess.run([sys.executable, "-c", _SCRIPT, "pkg"], cwd=tree, capture_output=True, text=True)
    second = subprocess.run([sys.executable, "-c", _SCRIPT, "pkg"], cwd=tree, capture_output=True, text=True)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "libcst" in first.stdout.splitlines()[0]
    assert second.stdout.splitlines()[0] == "[]"
    assert second.stdout.splitlines()[1] == first.stdout.splitlines()[1]


# ------------------------------------------------------------------------------ concurrency

BIG = FileResult("p", [Finding("p", 1, 1, 1, 5, "KM101", "n", "m" * 50)], old=b"x", new=b"y" * 300_000)
SMALL = FileResult("p", [], old=b"x", new=b"z")


def _writer(folder: str, key: str, n: int, big: bool) -> None:
    cache = Cache(folder, key)
    for i in range(n):
        cache.put("ab" * 32, BIG if (i % 2) == big else SMALL)


def test_entries_are_atomic_under_concurrent_writers(tmp_path):
    cache = Cache(tmp_path / "c", "k" * 64)
    cache.put("ab" * 32, SMALL)
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path / "c"), "k" * 64, 150, b)) for b in (True, False)]
    for p in procs:
        p.start()
    reads = 0
    while any(p.is_alive() for p in procs) or reads < 50:
        got = cache.get("ab" * 32, "p", b"x")
        assert got is not None  # a reader never sees a missing or partial entry
        assert (got.new, len(got.findings)) in ((BIG.new, 1), (SMALL.new, 0))
        reads += 1
    for p in procs:
        p.join()
        assert p.exitcode == 0
    leftovers = [f for _, _, fs in os.walk(tmp_path) for f in fs if f.startswith(".tmp-")]
    assert leftovers == []


def test_concurrent_runs_on_one_tree_agree(tmp_tree):
    files = {f"pkg/m{i}.py": (KERAS if i % 3 else PLAIN) + f"x{i} = {i}\n" for i in range(24)}
    files["pkg/bad.py"] = SYNTAX
    root = tmp_tree(files)
    cmd = [sys.executable, "-m", "kmigrate", "--check", "--format", "json", "-q", "-j", "2", "pkg"]
    procs = [subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    outs = [(p.communicate(timeout=180), p.returncode) for p in procs]
    reference = subprocess.run(cmd[:-1] + ["--no-cache", "pkg"], cwd=root, capture_output=True)
    after = subprocess.run(cmd, cwd=root, capture_output=True)  # answered from what they wrote
    expected = json.loads(reference.stdout)
    assert len(expected) > 16
    for (stdout, stderr), code in outs:
        assert code == reference.returncode == 2, stderr
        assert json.loads(stdout) == expected
    assert json.loads(after.stdout) == expected
    leftovers = [f for _, _, fs in os.walk(root) for f in fs if f.startswith((".tmp-", ".kmigrate-"))]
    assert leftovers == []
