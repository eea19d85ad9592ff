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
from kmigrate.process import process_file
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
    import kmigrate.process as process
    import kmigrate.run as run_mod

    real = process.process_file

    def process_then_user_edits(path, options, *a, **k):
        result = real(path, options, *a, **k)
        Path(path).write_text(OLD + "# edited by the user meanwhile\n")
        return result

    monkeypatch.setattr(run_mod, "process_file", process_then_user_edits, raising=False)
    monkeypatch.setattr(process, "process_file", process_then_user_edits)
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


def test_very_long_lines(tmp_path):
    long_line = "x = [" + ", ".join(str(i) for i in range(5000)) + "]\n"  # ~30 kB on one line
    (tmp_path / "long.py").write_text(OLD + long_line)
    long_call = "y = Dense(3, init='uniform', name='" + "n" * 30000 + "')  # " + "c" * 5000 + "\n"
    (tmp_path / "long_call.py").write_text(OLD + long_call)
    res = run_cli("-q", tmp_path)
    assert res.exit_code == 0, res.output
    assert (tmp_path / "long.py").read_text() == NEW + long_line
    assert (tmp_path / "long_call.py").read_text() == NEW + long_call.replace("init=", "kernel_initializer=")


BIG_HEAD = ("import keras\nfrom keras.layers.core import Dense\nfrom keras.models import Model\n"
            "from keras.layers import Input\nfrom keras.optimizers import Adam\n")
BIG_HEAD_NEW = ("from tensorflow import keras\nfrom tensorflow.keras.layers import Dense\n"
                "from tensorflow.keras.models import Model\nfrom tensorflow.keras.layers import Input\n"
                "from tensorflow.keras.optimizers import Adam\n")


def _big_block(i: int, fixed: bool) -> str:
    """Keras 1 code with five findings (KM304, KM309 x2, KM325, KM320), or its expected fix."""
    init, inp, out, lr, epochs = (("kernel_initializer", "inputs", "outputs", "learning_rate", "epochs")
                                  if fixed else ("init", "input", "output", "lr", "nb_epoch"))
    return (f"def build_{i}(a, b):\n"
            f"    x = Input(shape=({i % 7 + 1},))\n"
            f"    y = Dense({i % 5 + 1}, {init}='uniform')(x)\n"
            f"    m = Model({inp}=x, {out}=y)\n"
            f"    m.compile(loss='mse', optimizer=Adam({lr}=0.1))\n"
            f"    m.fit(a, b, {epochs}={i % 9 + 1})\n"
            f"    return m\n")


def _big_filler(i: int) -> str:
    return "".join(f"v{i}_{j} = [{j}, {j * 3 % 17}]  # filler, untouched\n" for j in range(193))


def test_a_50000_line_file_with_keras_code_throughout(tmp_path):
    # 250 sections of 200 lines: a function of Keras 1 calls, then plain code that must not move
    old = BIG_HEAD + "".join(_big_block(i, False) + _big_filler(i) for i in range(250))
    expected = BIG_HEAD_NEW + "".join(_big_block(i, True) + _big_filler(i) for i in range(250))
    assert old.count("\n") == expected.count("\n") == 50005
    big = tmp_path / "big.py"
    big.write_text(old)
    res = run_cli("--format", "json", big)  # every default rule
    assert res.exit_code == 0, res.output[-2000:]
    found = findings(res)
    assert not [f for f in found if f["code"] == "KM000"]
    assert all(f["fix_applied"] for f in found)
    codes = [f["code"] for f in found]
    for code, n in {"KM304": 250, "KM309": 500, "KM320": 250, "KM325": 250}.items():
        assert codes.count(code) == n, (code, codes.count(code))
    out = big.read_text()
    compile(out, str(big), "exec")
    assert out == expected  # the fixes, and every other line byte for byte


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


@pytest.mark.parametrize("raw", [
    pytest.param(b"import keras\r\nx = 1\ny = 2\rz = 3\r\n", id="crlf-lf-cr-then-crlf-at-eof"),
    pytest.param(b"import keras\nx = 1\r\ny = 2\rz = 3\n", id="lf-crlf-cr-then-lf-at-eof"),
    pytest.param(b"import keras\rx = 1\ry = 2\r\nz = 3\r\n", id="cr-first-crlf-at-eof"),
    pytest.param(b"x = 1\r\ny = 2\rimport keras\nz = 3", id="fix-mid-file-no-final-newline"),
    pytest.param(b"import keras\r\nx = 1\ny = 2\r\n\r\rz = 3\r\n", id="blank-crlf-and-cr-lines"),
    pytest.param(b"import keras\nx = 1\r\ny = 2\rz = 3\r", id="lone-cr-at-eof"),
    pytest.param(b"import keras\rx = 1\r", id="only-cr-lone-cr-at-eof"),
    pytest.param(b"x = 1\ny = 2\r\nimport keras\r", id="fix-on-last-line-lone-cr-at-eof"),
    pytest.param(b"import keras\nx = 1\r\r", id="blank-cr-line-at-eof"),
    pytest.param(b"import keras\n\r", id="lf-then-blank-cr-line-at-eof"),
])
def test_mixed_line_endings_are_kept_exactly_when_a_fix_is_applied(tmp_path, raw):
    f = tmp_path / "m.py"
    f.write_bytes(raw)
    res = run_cli("--format", "json", f)
    assert res.exit_code == 0, res.output
    assert [x["code"] for x in findings(res)] == ["KM101"] and findings(res)[0]["fix_applied"]
    # the import line changes; every line ending, the fixed line's included, stays as it was
    assert f.read_bytes() == raw.replace(b"import keras", b"from tensorflow import keras")


@pytest.mark.parametrize("raw", [
    b"import os\r\nx = 1\ny = 2\rz = 3\r\n",
    b"import os\nx = 1\r\ny = 2\rz = 3\r",
    b"import os\rx = 1\r",
    b"\r\n\r\n\r",
    b"x = 1\r\r\r",
    # keras is there but nothing needs fixing: the rules run, the bytes stay
    b"from tensorflow import keras\rx = keras.layers.Dense(3)\r\ny = 2\nz = 3\r",
])
def test_mixed_line_endings_without_a_fix_are_byte_identical(tmp_path, raw):
    f = tmp_path / "m.py"
    f.write_bytes(raw)
    result = process_file(str(f), options_from(Config()))
    assert not result.error and result.new is None, result.findings
    res = run_cli(f)
    assert res.exit_code == 0, res.output
    assert f.read_bytes() == raw


@pytest.mark.parametrize("name,raw,line,message", [
    ("nul.py", b"import keras\nx = 1\x00\n", 2, "binary file (contains NUL bytes)"),
    ("nul_first.py", b"\x00\x01import keras\n", 1, "binary file (contains NUL bytes)"),
    ("latin1_no_cookie.py", "import keras\ns = 'caf\xe9'\n".encode("latin-1"), 2, "cannot decode as utf-8"),
    ("utf8_cookie_bad_bytes.py", b"# -*- coding: utf-8 -*-\nimport keras\n\ns = '\xff'\n", 4,
     "cannot decode as utf-8"),
    ("ascii_cookie_non_ascii.py", "# coding: ascii\nimport keras\ns = '\xe9'\n".encode("latin-1"), 3,
     "cannot decode as ascii"),
    ("unknown_cookie.py", b"# coding: no-such-codec\nimport keras\n", 1, "cannot detect encoding"),
    ("bom_and_latin1_cookie.py", b"\xef\xbb\xbf# coding: latin-1\nimport keras\n", 1, "cannot detect encoding"),
    ("utf16.py", "import keras\n".encode("utf-16"), 1, "binary file"),
])
def test_unreadable_bytes_are_a_clear_error_naming_file_and_line(tmp_path, name, raw, line, message):
    (tmp_path / name).write_bytes(raw)
    (tmp_path / "good.py").write_text(OLD)
    res = run_cli("--format", "json", tmp_path)
    assert res.exit_code == 2
    assert (tmp_path / name).read_bytes() == raw
    assert (tmp_path / "good.py").read_text() == NEW  # the rest of the run goes on
    errs = [f for f in findings(res) if f["code"] == "KM000"]
    assert len(errs) == 1 and errs[0]["path"].endswith(name), errs
    assert errs[0]["line"] == line and errs[0]["message"].startswith(message), errs[0]
    assert "internal error" not in errs[0]["message"]


@pytest.mark.parametrize("name,raw", [
    ("mixed.py", b"import keras\r\nx = 1\ny = 2\r\nz = 3\n"),
    ("bom.py", b"\xef\xbb\xbfimport keras\nx = '\xc3\xa9'\n"),
    ("latin1_cookie.py", "# coding: latin-1\nimport keras\ns = 'caf\xe9'\n".encode("latin-1")),
    ("cp1252_cookie.py", "# -*- coding: cp1252 -*-\nimport keras\ns = '\u20ac'\n".encode("cp1252")),
    ("shift_jis_cookie.py", "# coding: shift_jis\nimport keras\ns = '\u65e5\u672c'\n".encode("shift_jis")),
    ("utf8_cookie_line2.py", "#!/usr/bin/env python\n# coding: utf-8\nimport keras\ns = '\u2615'\n".encode()),
])
def test_odd_but_valid_bytes_are_fixed_in_their_own_encoding(tmp_path, name, raw):
    (tmp_path / name).write_bytes(raw)
    res = run_cli("--format", "json", tmp_path / name)
    assert res.exit_code == 0, res.output
    assert (tmp_path / name).read_bytes() == raw.replace(b"import keras", b"from tensorflow import keras")


def _nb(cells: str) -> bytes:
    return ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": %s}' % cells).encode()


@pytest.mark.parametrize("content,where", [
    (b"{not json", "line 1 column 2"),
    (b'{\n "cells": [],\n "metadata": {},\n}\n', "line 4 column 1"),
    (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "no `cells`"),
    (_nb('{"a": 1}'), "no `cells`"),
    (_nb('[{"cell_type": "code", "source": 42}]'), "code cell 1"),
    (_nb('[{"cell_type": "code", "source": "x = 1"}, {"cell_type": "code", "source": ["import keras\\n", 3]}]'),
     "code cell 2"),
    (_nb('[{"cell_type": "code", "source": null}]'), "code cell 1"),
    (_nb('[{"cell_type": "code", "source": {"text": "import keras"}}]'), "code cell 1"),
    (b"", "not JSON"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b"[1, 2]", "not an object"),
    (_nb('["import keras"]'), "cell 1 is not an object"),
], ids=["invalid-json", "invalid-json-line-4", "missing-cells", "cells-not-a-list", "non-string-source",
        "non-string-item-in-source-list", "null-source", "dict-source", "empty", "binary", "json-array",
        "cell-not-an-object"])
def test_broken_notebooks_are_errors_for_that_file_only(tmp_path, content, where):
    (tmp_path / "bad.ipynb").write_bytes(content)
    (tmp_path / "good.py").write_text(OLD)
    res = run_cli("--format", "json", tmp_path)
    assert res.exit_code == 2
    assert (tmp_path / "bad.ipynb").read_bytes() == content
    assert (tmp_path / "good.py").read_text() == NEW
    errs = [f for f in findings(res) if f["code"] == "KM000"]
    assert len(errs) == 1 and errs[0]["path"].endswith("bad.ipynb")
    assert "internal error" not in errs[0]["message"]
    assert errs[0]["message"].startswith("invalid notebook") and where in errs[0]["message"], errs[0]
    if where.startswith("line "):  # a JSON error: the finding points at that line of the file
        assert errs[0]["line"] == int(where.split()[1]), errs[0]


@pytest.mark.parametrize("source,line", [
    ('"import keras\\nx = 1\\u0000\\n"', 2),
    ('["import keras\\n", "x = (1,\\n", "  2\\n"]', 2),
    ('"print \'python 2\'\\nimport keras\\n"', 1),
])
def test_a_notebook_cell_that_cannot_be_read_names_its_cell_and_line(tmp_path, source, line):
    content = _nb('[{"cell_type": "code", "metadata": {}, "source": "import keras\\n"},'
                  ' {"cell_type": "code", "metadata": {}, "source": %s}]' % source)
    (tmp_path / "nb.ipynb").write_bytes(content)
    res = run_cli("--format", "json", tmp_path / "nb.ipynb")
    assert res.exit_code == 2, res.output
    errs = [f for f in findings(res) if f["code"] == "KM000"]
    assert len(errs) == 1 and errs[0]["cell"] == 2, errs
    assert "internal error" not in errs[0]["message"]
    # the readable cell is still migrated; the broken one is kept byte for byte
    out = (tmp_path / "nb.ipynb").read_bytes()
    assert out == content.replace(b'"source": "import keras\\n"', b'"source": "from tensorflow import keras\\n"', 1)
    assert errs[0]["line"] == line, errs[0]


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
