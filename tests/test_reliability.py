"""Never lose a byte: interrupted runs, hostile trees, odd files, and no execution of user code."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from kmigrate.cli import main
from kmigrate.config import Config
from kmigrate.engine import process_file
from kmigrate.run import options_from

OLD = "import keras\nfrom keras.layers.core import Dense\nx = Dense(3)\n"
NEW = "from tensorflow import keras\nfrom tensorflow.keras.layers import Dense\nx = Dense(3)\n"


def run_cli(*args):
    return CliRunner().invoke(main, ["--no-cache", "--jobs", "1", *map(str, args)], catch_exceptions=False)


def findings(res) -> list[dict]:
    return json.loads(res.output)


# ---------------------------------------------------------------- interrupted runs


def _kmigrate_cmd(*args) -> list[str]:
    return [sys.executable, "-m", "kmigrate", "--no-cache", *map(str, args)]


@pytest.mark.parametrize("seed", range(3))
def test_sigkill_mid_run_leaves_every_file_old_or_new(tmp_path, seed):
    rng = random.Random(seed)
    tree = tmp_path / "tree"
    originals = {}
    for i in range(60):
        body = OLD + "".join(f"v{j} = keras.layers.Dense({j})\n" for j in range(rng.randrange(1, 20)))
        p = tree / f"d{i % 7}" / f"m{i}.py"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(body)
        originals[p] = body
    proc = subprocess.Popen(_kmigrate_cmd("--quiet", "--jobs", "2", tree), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(rng.uniform(1.0, 4.0))
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    changed = 0
    for p, body in originals.items():
        now = p.read_text()
        expected_new = body.replace(OLD, NEW)
        assert now in (body, expected_new), f"{p} is partial"
        changed += now == expected_new
    # stale temp files of the killed run are ignored by the next run, which completes the job
    res = subprocess.run(_kmigrate_cmd("--quiet", tree), capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    assert all(p.read_text() == body.replace(OLD, NEW) for p, body in originals.items())
    leftovers = [p for p in tree.rglob(".kmigrate-*")]
    for p in leftovers:  # only temp files of the killed run may remain, never .py files
        assert p.suffix == ".tmp"


def test_normal_run_leaves_no_temp_files(tmp_path):
    for i in range(20):
        (tmp_path / f"m{i}.py").write_text(OLD)
    assert run_cli("-q", tmp_path).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"m{i}.py" for i in range(20))


# ---------------------------------------------------------------- hostile trees


def test_symlink_loops_and_links_outside_root_are_not_followed(tmp_path):
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    (root / "pkg").mkdir(parents=True)
    outside.mkdir()
    (root / "pkg" / "a.py").write_text(OLD)
    (outside / "secret.py").write_text(OLD)
    os.symlink(root, root / "pkg" / "loop")  # a loop
    os.symlink(outside, root / "escape")  # a folder outside the root
    os.symlink(outside / "secret.py", root / "pkg" / "secret_link.py")
    res = run_cli("--format", "json", root)
    assert res.exit_code == 0, res.output
    assert (root / "pkg" / "a.py").read_text() == NEW
    assert (outside / "secret.py").read_text() == OLD
    assert {Path(f["path"]).name for f in findings(res)} == {"a.py"}


def test_file_vanishing_during_run_is_reported(tmp_path):
    (tmp_path / "gone.py").write_text(OLD)
    result = process_file(str(tmp_path / "gone.py"), options_from(Config()))
    os.unlink(tmp_path / "gone.py")
    from kmigrate.source import atomic_write

    with pytest.raises(OSError):
        atomic_write(tmp_path / "gone.py", result.new, expected_old=result.old)
    assert not (tmp_path / "gone.py").exists()
    res = run_cli(tmp_path / "gone.py")
    assert res.exit_code == 2 and "cannot read" in res.output


def test_file_changed_during_run_is_not_overwritten(tmp_path, monkeypatch):
    target = tmp_path / "a.py"
    target.write_text(OLD)
    import kmigrate.engine as engine
    import kmigrate.run as run_mod

    real = engine.process_file

    def process_then_user_edits(path, options, *a, **k):
        result = real(path, options, *a, **k)
        Path(path).write_text(OLD + "# edited by the user meanwhile\n")
        return result

    monkeypatch.setattr(run_mod, "process_file", process_then_user_edits, raising=False)
    monkeypatch.setattr(engine, "process_file", process_then_user_edits)
    res = run_cli(target)
    assert res.exit_code == 2, res.output
    assert "changed on disk" in res.output
    assert target.read_text() == OLD + "# edited by the user meanwhile\n"


def test_read_only_file_and_folder_are_clear_errors(tmp_path):
    ro_file = tmp_path / "ro.py"
    ro_file.write_text(OLD)
    os.chmod(ro_file, 0o444)
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "b.py").write_text(OLD)
    os.chmod(folder, 0o555)
    try:
        res = run_cli("--format", "json", ro_file, folder / "b.py")
        assert res.exit_code == 2
        msgs = {Path(f["path"]).name: f["message"] for f in findings(res) if f["code"] == "KM000"}
        assert "read-only file" in msgs["ro.py"] and "read-only folder" in msgs["b.py"]
        assert ro_file.read_text() == OLD and (folder / "b.py").read_text() == OLD
    finally:
        os.chmod(folder, 0o755)


def test_very_long_lines_and_a_20000_line_file(tmp_path):
    long_line = "x = [" + ", ".join(str(i) for i in range(5000)) + "]\n"  # ~30 kB on one line
    (tmp_path / "long.py").write_text(OLD + long_line)
    big = OLD + "".join(f"v{i} = {i % 50}\n" for i in range(20000))
    (tmp_path / "big.py").write_text(big)
    # import rules only: the point is size, and the whole catalogue on 50,000 lines takes minutes
    res = run_cli("-q", "--select", "KM1", tmp_path)
    assert res.exit_code == 0, res.output
    assert (tmp_path / "long.py").read_text() == NEW + long_line
    assert (tmp_path / "big.py").read_text() == big.replace(OLD, NEW)


@pytest.mark.parametrize("depth", [150, 199, 5000])
def test_deep_nesting_is_handled_or_a_clear_error(tmp_path, depth):
    src = OLD + "y = " + "f(" * depth + "1" + ")" * depth + "\n"
    (tmp_path / "deep.py").write_text(src)
    res = run_cli("--format", "json", tmp_path / "deep.py")
    if depth < 200:
        assert res.exit_code == 0, res.output
        assert (tmp_path / "deep.py").read_text() == src.replace(OLD, NEW)
    else:
        assert res.exit_code == 2
        assert (tmp_path / "deep.py").read_text() == src
        assert findings(res)[0]["code"] == "KM000"


@pytest.mark.parametrize("name,raw", [
    ("nul.py", b"import keras\nx = 1\x00\n"),
    ("mixed.py", b"import keras\r\nx = 1\ny = 2\r\nz = 3\n"),
    ("latin1_cookie.py", "# coding: latin-1\nimport keras\ns = 'caf\xe9'\n".encode("latin-1")),
    ("latin1_no_cookie.py", "import keras\ns = 'caf\xe9'\n".encode("latin-1")),
    ("cp1252_cookie.py", "# -*- coding: cp1252 -*-\nimport keras\ns = '\u20ac'\n".encode("cp1252")),
])
def test_odd_bytes(tmp_path, name, raw):
    (tmp_path / name).write_bytes(raw)
    res = run_cli("--format", "json", tmp_path / name)
    out = (tmp_path / name).read_bytes()
    if name in ("nul.py", "latin1_no_cookie.py"):
        assert res.exit_code == 2 and out == raw
        assert findings(res)[0]["code"] == "KM000"
    else:
        assert res.exit_code == 0, res.output
        assert out == raw.replace(b"import keras", b"from tensorflow import keras")


@pytest.mark.parametrize("content", [
    b"{not json",
    b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}',
    b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "source": 42}]}',
    b"",
    b"\xff\xfe\x00garbage",
], ids=["invalid-json", "missing-cells", "non-string-source", "empty", "binary"])
def test_broken_notebooks_are_errors_for_that_file_only(tmp_path, content):
    (tmp_path / "bad.ipynb").write_bytes(content)
    (tmp_path / "good.py").write_text(OLD)
    res = run_cli("--format", "json", tmp_path)
    assert res.exit_code == 2
    assert (tmp_path / "bad.ipynb").read_bytes() == content
    assert (tmp_path / "good.py").read_text() == NEW
    errs = [f for f in findings(res) if f["code"] == "KM000"]
    assert len(errs) == 1 and errs[0]["path"].endswith("bad.ipynb")
    assert "internal error" not in errs[0]["message"]


# ---------------------------------------------------------------- never runs user code


def test_kmigrate_never_imports_or_executes_the_code_it_reads(tmp_path):
    marker = tmp_path / "MARKER"
    payload = f"open({str(marker)!r}, 'w').write('ran')\n"
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("import keras\n" + payload)
    (pkg / "model.py").write_text(OLD + payload)
    (pkg / "conftest.py").write_text(payload)
    (pkg / "setup.py").write_text(payload)
    (pkg / "__main__.py").write_text(payload)
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                     "source": ["import keras\n", payload]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (pkg / "nb.ipynb").write_text(json.dumps(nb, indent=1))
    for args in (["--quiet", pkg], ["--diff", pkg], ["--check", pkg], ["--to", "functional", pkg]):
        subprocess.run(_kmigrate_cmd(*args), cwd=tmp_path, capture_output=True, timeout=120)
        assert not marker.exists(), f"kmigrate executed user code with {args}"
    assert "from tensorflow import keras" in (pkg / "model.py").read_text()
