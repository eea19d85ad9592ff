"""The command line as a user meets it: modes, options, exit codes, config, files, reports."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from kmigrate.cli import main

OLD = "import keras\nfrom keras.layers import Dense\n\nmodel = keras.Sequential([Dense(3)])\n"
NEW = "from tensorflow import keras\nfrom tensorflow.keras.layers import Dense\n\nmodel = keras.Sequential([Dense(3)])\n"


def cli(*args, cwd=None):
    runner = CliRunner()
    old = os.getcwd()
    try:
        if cwd:
            os.chdir(cwd)
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
    finally:
        os.chdir(old)


def test_fix_in_place_prints_findings_and_summary(tmp_tree):
    root = tmp_tree({"a.py": OLD, "clean.py": "x = 1\n"})
    res = cli("--jobs", "1", root)
    assert res.exit_code == 0, res.output
    assert (root / "a.py").read_text() == NEW
    assert (root / "clean.py").read_text() == "x = 1\n"
    assert f"{root / 'a.py'}:1:1: KM101 [fixed]" in res.output
    assert "2 files scanned; 1 changed" in res.output
    assert "KM101: 2" in res.output


def test_second_run_changes_nothing(tmp_tree):
    root = tmp_tree({"a.py": OLD})
    cli(root)
    res = cli(root)
    assert res.exit_code == 0
    assert (root / "a.py").read_text() == NEW
    assert "0 changed" in res.output


def test_diff_writes_nothing_and_applies_with_git(tmp_tree):
    root = tmp_tree({"pkg/a.py": OLD})
    res = cli("--diff", "pkg", cwd=root)
    assert res.exit_code == 1
    assert (root / "pkg/a.py").read_text() == OLD
    assert "--- a/pkg/a.py" in res.output and "+++ b/pkg/a.py" in res.output
    patch = res.output[res.output.index("--- a/"):]
    patch = patch[: patch.rindex("\n") + 1]
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    (root / "p.diff").write_text("".join(l for l in patch.splitlines(True) if not l.startswith(str(root))))
    subprocess.run(["git", "apply", "p.diff"], cwd=root, check=True)
    assert (root / "pkg/a.py").read_text() == NEW


def test_check_mode_exit_codes(tmp_tree):
    root = tmp_tree({"a.py": OLD, "b.py": NEW})
    assert cli("--check", root / "a.py").exit_code == 1
    assert (root / "a.py").read_text() == OLD
    assert cli("--check", root / "b.py").exit_code == 0


def test_select_and_ignore_by_prefix(tmp_tree):
    root = tmp_tree({"a.py": OLD})
    assert cli("--check", "--ignore", "KM1", root).exit_code == 0
    assert cli("--check", "--select", "KM2", root).exit_code == 0
    assert cli("--check", "--select", "KM1", root).exit_code == 1
    # the most specific prefix wins, as in Ruff
    assert cli("--check", "--ignore", "KM1", "--select", "KM101", root).exit_code == 1


def test_json_report_and_output_file(tmp_tree):
    root = tmp_tree({"a.py": OLD, "bad.py": "import keras\ndef f(:\n"})
    out = root / "report.json"
    res = cli("--check", "--format", "json", "--output", out, root / "a.py", root / "bad.py")
    assert res.exit_code == 2
    items = json.loads(out.read_text())
    keys = {"path", "line", "column", "end_line", "end_column", "code", "name", "message", "severity",
            "fix_applied", "fix_safety"}
    assert all(keys <= set(i) for i in items)
    codes = {i["code"] for i in items}
    assert codes == {"KM101", "KM000"}
    bad = next(i for i in items if i["code"] == "KM000")
    assert bad["path"].endswith("bad.py") and bad["line"] == 2 and bad["severity"] == "error"
    assert "syntax error" in bad["message"]


def test_target_keras_moves_code_the_other_way(tmp_tree):
    root = tmp_tree({"a.py": NEW})
    assert cli("--target", "keras", root).exit_code == 0
    assert (root / "a.py").read_text() == "import keras\nfrom keras.layers import Dense\n\nmodel = keras.Sequential([Dense(3)])\n"


def test_unsafe_fixes_flag_is_accepted(tmp_tree):
    root = tmp_tree({"a.py": OLD})
    assert cli("--unsafe-fixes", root).exit_code == 0


def test_rules_and_rule_docs():
    res = cli("rules")
    assert res.exit_code == 0
    assert "KM101" in res.output and "standalone-keras-import" in res.output and "safe" in res.output
    doc = cli("rule", "km101")
    assert "What it does" in doc.output and "Fix safety" in doc.output
    assert CliRunner().invoke(main, ["rule", "KM999"]).exit_code == 2


def test_usage_errors_exit_2(tmp_tree):
    root = tmp_tree({"a.py": OLD})
    assert CliRunner().invoke(main, ["--diff", "--check", str(root)]).exit_code == 2
    assert CliRunner().invoke(main, ["--format", "nope", str(root)]).exit_code == 2
    assert CliRunner().invoke(main, ["--target", "theano", str(root)]).exit_code == 2


# ---------------------------------------------------------------- configuration


def test_pyproject_config_and_cli_override(tmp_tree):
    root = tmp_tree({
        "pyproject.toml": '[tool.kmigrate]\nignore = ["KM101"]\nexclude = ["legacy/"]\n',
        "a.py": OLD,
        "legacy/old.py": OLD,
    })
    res = cli("--check", ".", cwd=root)
    assert res.exit_code == 0, res.output  # KM101 ignored by config; legacy excluded
    res = cli("--check", "--select", "KM101", "--ignore", "KM2", ".", cwd=root)
    assert res.exit_code == 1
    assert "legacy" not in res.output
    # an explicitly named file is processed even when excluded
    assert cli("--check", "--select", "KM101", "legacy/old.py", cwd=root).exit_code == 1


def test_pyproject_target_and_bad_key(tmp_tree):
    root = tmp_tree({"pyproject.toml": '[tool.kmigrate]\ntarget = "keras"\n', "a.py": NEW})
    cli(".", cwd=root)
    assert (root / "a.py").read_text().startswith("import keras\n")
    (root / "pyproject.toml").write_text('[tool.kmigrate]\nselekt = ["KM1"]\n')
    res = CliRunner().invoke(main, [str(root / "a.py")])
    assert res.exit_code == 2 and "selekt" in res.output


# ---------------------------------------------------------------- which files


def test_walk_skips_git_venvs_gitignored_and_symlinks(tmp_tree):
    root = tmp_tree({
        "a.py": OLD,
        ".git/hooks/x.py": OLD,
        "env/pyvenv.cfg": "home = /usr\n",
        "env/lib/m.py": OLD,
        "build/gen.py": OLD,
        ".gitignore": "build/\n*.gen.py\n",
        "pkg/t.gen.py": OLD,
        "nb.txt": OLD,
    })
    os.symlink(root / "a.py", root / "link.py")
    res = cli("--check", "--format", "json", root)
    paths = {os.path.basename(i["path"]) for i in json.loads(res.output)}
    assert paths == {"a.py"}


def test_explicit_symlink_is_an_error_and_untouched(tmp_tree):
    root = tmp_tree({"a.py": OLD})
    os.symlink(root / "a.py", root / "link.py")
    res = cli(root / "link.py")
    assert res.exit_code == 2
    assert "symbolic link" in res.output
    assert os.path.islink(root / "link.py") and (root / "a.py").read_text() == OLD


# ---------------------------------------------------------------- guarantees


@pytest.mark.parametrize("raw", [
    b"import keras\r\nx = keras.layers.Dense(3)\r\n",
    b"\xef\xbb\xbfimport keras\nx = 1\n",
    "# -*- coding: latin-1 -*-\nimport keras  # caf\xe9\n".encode("latin-1"),
    b"import keras\n\tx = 1  \nif x:\n\ty = 2   \n",
    b"import keras",
    b"import keras\r\nx = 1\ny = 2\r\n",
], ids=["crlf", "bom", "latin1", "tabs-trailing", "no-final-newline", "mixed-endings"])
def test_encoding_and_newlines_survive_a_fix(tmp_tree, raw):
    raw = raw.replace(b"\n\tx = 1", b"\nx = 1") if b"\tx" in raw else raw
    root = tmp_tree({"a.py": raw})
    res = cli(root / "a.py")
    assert res.exit_code == 0, res.output
    out = (root / "a.py").read_bytes()
    old_line = b"import keras"
    new_line = b"from tensorflow import keras"
    assert out == raw.replace(old_line, new_line)


@pytest.mark.parametrize("raw", [
    b"from tensorflow import keras\r\nx = 1\r\n",
    b"\xef\xbb\xbffrom tensorflow import keras\n",
    "# -*- coding: latin-1 -*-\nfrom tensorflow import keras  # caf\xe9\n".encode("latin-1"),
    b"from tensorflow import keras\nif True:\n\tx = 1   \n",
    b"from tensorflow import keras",
    b"",
    b"\n\n",
], ids=["crlf", "bom", "latin1", "tabs-trailing", "no-final-newline", "empty", "blank"])
def test_nothing_to_do_is_byte_identical(tmp_tree, raw):
    root = tmp_tree({"a.py": raw})
    before = os.stat(root / "a.py")
    res = cli(root / "a.py")
    assert res.exit_code == 0, res.output
    assert (root / "a.py").read_bytes() == raw
    assert os.stat(root / "a.py").st_mtime_ns == before.st_mtime_ns  # not even rewritten


def test_atomic_write_keeps_mode_and_leaves_no_temp_files(tmp_tree):
    root = tmp_tree({"a.py": OLD})
    os.chmod(root / "a.py", 0o751)
    cli(root)
    assert (root / "a.py").read_text() == NEW
    assert os.stat(root / "a.py").st_mode & 0o777 == 0o751
    assert sorted(os.listdir(root)) == [".kmigrate_cache", "a.py"]  # the results cache (gitignored)
    assert not [f for _, _, fs in os.walk(root) for f in fs if f.startswith((".tmp-", ".kmigrate-"))]


@pytest.mark.parametrize("name,raw,needle", [
    ("syntax.py", b"import keras\ndef f(:\n    pass\n", "syntax error"),
    ("py2.py", b"import keras\nprint 'hello'\n", "Python 2"),
    ("undecodable.py", b"import keras\nx = '\xff\xfe'\n", "cannot decode"),
    ("binary.py", b"import keras\x00\x01\x02", "binary"),
    ("badcookie.py", b"# -*- coding: klingon -*-\nimport keras\n", "encoding"),
])
def test_bad_files_are_reported_and_untouched_and_run_goes_on(tmp_tree, name, raw, needle):
    root = tmp_tree({name: raw, "good.py": OLD})
    res = cli("--format", "json", root)
    assert res.exit_code == 2
    assert (root / name).read_bytes() == raw
    assert (root / "good.py").read_text() == NEW
    errors = [i for i in json.loads(res.output) if i["code"] == "KM000"]
    assert len(errors) == 1 and errors[0]["path"].endswith(name)
    assert needle in errors[0]["message"]
    if name == "syntax.py":
        assert errors[0]["line"] == 2


def test_unreadable_and_missing_files(tmp_tree, monkeypatch):
    root = tmp_tree({"a.py": OLD})
    res = cli(root / "missing.py", root / "a.py")
    assert res.exit_code == 2 and "cannot read" in res.output
    assert (root / "a.py").read_text() == NEW

    from kmigrate import process
    from kmigrate.run import options_from
    from kmigrate.config import Config

    real_open = open

    def deny(path, *a, **k):
        if str(path).endswith("secret.py"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *a, **k)

    (root / "secret.py").write_text(OLD)
    monkeypatch.setattr("builtins.open", deny)
    result = process.process_file(str(root / "secret.py"), options_from(Config()))
    assert result.error and "Permission denied" in result.findings[0].message and result.new is None


def test_rule_crash_is_a_file_error_not_a_crash(tmp_tree, monkeypatch):
    from kmigrate.rule import all_rules

    rule = all_rules()["KM101"]

    def visit_Import(self, node):  # LibCST finds visitor methods by name
        raise RuntimeError("kaboom")

    monkeypatch.setattr(rule, "visit_Import", visit_Import)
    root = tmp_tree({"a.py": OLD})
    res = cli("--jobs", "1", root)
    assert res.exit_code == 2 and "kaboom" in res.output
    assert (root / "a.py").read_text() == OLD


def test_output_that_would_not_compile_is_not_written(tmp_tree, monkeypatch):
    from kmigrate.rule import all_rules
    import libcst as cst

    rule = all_rules()["KM101"]

    def bad_fix(self, node):
        self.report(node, "bad", cst.parse_statement("return 1").body[0])

    monkeypatch.setattr(rule, "_check", bad_fix)
    root = tmp_tree({"a.py": OLD})
    res = cli("--jobs", "1", root)
    assert res.exit_code == 2 and "would not compile" in res.output
    assert (root / "a.py").read_text() == OLD


def test_python_m_and_no_tensorflow_on_cli_path(tmp_tree):
    root = tmp_tree({"a.py": OLD})
    code = (
        "import sys, runpy\n"
        f"sys.argv = ['kmigrate', '--check', {str(root)!r}]\n"
        "try:\n    runpy.run_module('kmigrate', run_name='__main__')\n"
        "except SystemExit as e:\n    code = e.code\n"
        "assert 'tensorflow' not in sys.modules, 'TensorFlow imported on the CLI path'\n"
        "print('exit', code)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "exit 1" in proc.stdout
    assert "KM101" in proc.stdout


def test_noqa_lines_are_counted_as_python_counts_them(tmp_path):
    """A form feed or \\x1c inside a line is not a line break (str.splitlines says it is): the
    `# noqa` of the next line still applies to it."""
    f = tmp_path / "m.py"
    f.write_text("x = 1  # page \x0c break and \x1c separator\nimport keras  # noqa: KM101\nkeras.layers\n")
    out = CliRunner().invoke(main, ["--check", "--no-cache", "--select", "KM101", str(f)])
    assert "KM101" not in out.output, out.output
