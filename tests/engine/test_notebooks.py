"""Notebooks: cells through the rules, IPython syntax kept exactly, the JSON file kept as it was."""
from __future__ import annotations

import copy
import json

import nbformat
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from kmigrate.cli import main
from kmigrate.process import process_file
from kmigrate.notebook import Notebook, mask_ipython
from kmigrate.testing import options_for

OPTIONS = options_for("KM1")  # the import rules: enough to change code in cells

OLD_CELL = "import keras\nfrom keras.layers import Dense\nmodel = keras.Sequential([Dense(2)])"
NEW_CELL = ("from tensorflow import keras\nfrom tensorflow.keras.layers import Dense\n"
            "model = keras.Sequential([Dense(2)])")

IPYTHON_CELL = """%tensorflow_version 1.x
!pip install keras==2.2.4
%matplotlib inline
files = !ls -la
a, b = %sx echo hi
model.fit?
keras.layers.Dense??
?keras
??keras.Model
%time x = 1
%timeit -n 3 \\
    sum(range(10))
try:
    %tensorflow_version 1.x
except Exception:
    !echo "not colab; it's fine"
import keras
if True:
    !nvidia-smi
    %load_ext autoreload
"""
IPYTHON_CELL_FIXED = IPYTHON_CELL.replace("import keras\nif", "from tensorflow import keras\nif")


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def make_nb(*sources, outputs=True, **meta) -> dict:
    nb = nbformat.v4.new_notebook()
    nb.metadata.update({"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                        "language_info": {"name": "python", "version": "3.11"}}, **meta)
    nb.cells.append(nbformat.v4.new_markdown_cell("# Old Keras notebook, caf\u00e9 \u2615",
                                                  attachments={"a.png": {"image/png": "iVBORw0KGgo="}}))
    for i, src in enumerate(sources):
        cell = nbformat.v4.new_code_cell(src, execution_count=i + 7)
        if outputs:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="Using TensorFlow backend.\n"),
                            nbformat.v4.new_output("execute_result", data={"text/plain": "<Model>"},
                                                   execution_count=i + 7)]
        cell.metadata = {"scrolled": True, "tags": ["train"]}
        nb.cells.append(cell)
    return json.loads(nbformat.writes(nb))  # a plain dict, with cell ids as nbformat writes them


def with_sources(nb: dict, sources: dict[int, str]) -> dict:
    """nb with the given code cells' (1-based) sources replaced, split as nbformat splits them."""
    out = copy.deepcopy(nb)
    code = [c for c in out["cells"] if c["cell_type"] == "code"]
    for n, text in sources.items():
        src = code[n - 1]["source"]
        code[n - 1]["source"] = text if isinstance(src, str) else text.splitlines(keepends=True)
    return out


def run_file(tmp_path, raw: bytes, name="nb.ipynb", options=OPTIONS):
    path = tmp_path / name
    path.write_bytes(raw)
    return process_file(str(path), options)


# ----------------------------------------------------------------------------- IPython syntax


def test_ipython_syntax_is_masked_to_python_and_restored_exactly():
    masked = mask_ipython(IPYTHON_CELL)
    compile(masked.text, "cell", "exec")  # what the rules see is plain Python
    assert masked.text.count("\n") == IPYTHON_CELL.count("\n")  # line numbers do not move
    for magic in ("%", "!", "?"):
        assert not any(l.lstrip().startswith(magic) for l in masked.text.splitlines())
    assert masked.restore(masked.text) == IPYTHON_CELL


@pytest.mark.parametrize("python", [
    "x = '''\n%not a magic\n!nor this\n'''\n",
    'y = (1\n     % 2)\nz = [a\n     != b for a, b in []]\n',
    "s = 'why?'  # really?\n# is this a question?\n",
    "x != 3\nw = x%2\n",
    "total = 1 + \\\n    2\n",
    "f'{x!r}'\n",
])
def test_python_that_looks_like_ipython_is_not_masked(python):
    masked = mask_ipython(python)
    assert masked.text == python and not masked.originals


def test_cells_in_other_languages_are_skipped_python_cell_magics_are_not():
    assert mask_ipython("%%bash\nimport keras\n").skip == "%%bash"
    assert mask_ipython("\n%%html\n<b>keras</b>").skip == "%%html"
    assert mask_ipython("%%writefile notes.txt\nimport keras\n").skip
    for head in ("%%time", "%%capture out", "%%timeit -n 2", "%%writefile train.py"):
        masked = mask_ipython(f"{head}\nimport keras\n")
        assert masked.skip is None and masked.text.endswith("\nimport keras\n")
        assert masked.restore(masked.text) == f"{head}\nimport keras\n"


def test_placeholder_that_goes_missing_is_detected():
    masked = mask_ipython("!ls\nimport keras\n")
    assert masked.restore("import keras\n") is None


PY_LINES = ["import keras", "from keras.layers import Dense", "x = Dense(3)", "s = '''a", "%b", "c'''",
            "y = (1", "  % 2)", "# q?", "pass"]
IPY_LINES = ["%matplotlib inline", "!ls", "files = !ls", "obj?", "??obj", "%time f()", "!echo '", "%%time"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PY_LINES + IPY_LINES), max_size=12), st.sampled_from(["", "    "]))
def test_masking_round_trips_any_mix_of_lines(lines, indent):
    text = "\n".join(indent + l if l != "%%time" else l for l in lines)
    masked = mask_ipython(text)
    if masked.skip is None:
        assert masked.text.count("\n") == text.count("\n")
        assert masked.restore(masked.text) == text


# ----------------------------------------------------------------------------- whole notebooks


STYLES = [
    dict(indent=1, ensure_ascii=False, newline=True),  # as Jupyter writes
    dict(indent=2, ensure_ascii=True, newline=False),
    dict(indent=4, ensure_ascii=False, newline=True, sort_keys=True),
    dict(indent=None, ensure_ascii=True, newline=False),  # one line
]


@pytest.mark.parametrize("style", STYLES, ids=lambda s: f"indent{s['indent']}-ascii{s['ensure_ascii']}")
def test_only_changed_sources_change_byte_for_byte(tmp_path, style):
    style = dict(style)
    newline = "\n" if style.pop("newline") else ""
    nb = make_nb(OLD_CELL, "print('clean cell')", "%%bash\nimport keras", IPYTHON_CELL, "import keras")
    nb["cells"][-1]["source"] = "import keras"  # a source stored as one string stays a string
    raw = (json.dumps(nb, **style) + newline).encode()
    result = run_file(tmp_path, raw)
    assert not result.error, result.findings
    expected = with_sources(nb, {1: NEW_CELL, 4: IPYTHON_CELL_FIXED, 5: "from tensorflow import keras"})
    assert result.new == (json.dumps(expected, **style) + newline).encode()
    assert {f.cell for f in result.findings} == {1, 4, 5}  # nothing from the %%bash cell (3)
    nbformat.validate(nbformat.reads(result.new.decode(), as_version=4))


def test_findings_have_cell_line_column_and_point_into_the_file(tmp_path):
    nb = make_nb("x = 1", "import os\n\nif True:\n    from keras.layers import Dense\n")
    result = run_file(tmp_path, json.dumps(nb, indent=1).encode())
    (f,) = result.findings
    assert (f.cell, f.line, f.column, f.location) == (2, 4, 5, f"{tmp_path / 'nb.ipynb'}:cell 2:4:5")
    book = Notebook.from_bytes(result.old)
    line, col = book.file_position(f.cell, f.line, f.column)
    assert result.old.decode().splitlines()[line - 1][col - 1:].startswith("from keras.layers import Dense")
    line, col = book.file_position(f.cell, f.end_line, f.end_column)
    assert result.old.decode().splitlines()[line - 1][:col - 1].endswith("import Dense")


def test_file_position_in_a_one_string_source_with_escapes(tmp_path):
    nb = make_nb("s = '\u00e9\\t'\nimport keras")
    nb["cells"][1]["source"] = "s = '\u00e9\\t'\nimport keras"
    raw = json.dumps(nb, indent=1, ensure_ascii=True)
    book = Notebook.from_bytes(raw.encode())
    line, col = book.file_position(1, 2, 1)
    assert raw.splitlines()[line - 1][col - 1:].startswith("import keras")


def test_a_cell_that_does_not_parse_is_reported_and_the_others_still_migrate(tmp_path):
    nb = make_nb(OLD_CELL, "import keras\nprint 'hello'\n", "import keras")
    result = run_file(tmp_path, json.dumps(nb, indent=1).encode())
    errors = [f for f in result.findings if f.code == "KM000"]
    assert [(e.cell, e.line) for e in errors] == [(2, 2)] and "syntax error" in errors[0].message
    assert result.error  # the run exits 2, as for a .py file that does not parse
    new = json.loads(result.new)
    code = [c for c in new["cells"] if c["cell_type"] == "code"]
    assert "".join(code[0]["source"]) == NEW_CELL
    assert "".join(code[1]["source"]) == "import keras\nprint 'hello'\n"
    assert "".join(code[2]["source"]) == "from tensorflow import keras"


@pytest.mark.parametrize("raw,needle", [
    (b'{"cells": [', "not JSON"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b'{"metadata": {}}', "no `cells`"),
    (b"[1, 2]", "not an object"),
    (b'{"cells": [{"cell_type": "code", "source": 3}]}', "not text"),
])
def test_an_invalid_notebook_is_an_error_for_that_file_only(tmp_tree, raw, needle):
    root = tmp_tree({"bad.ipynb": raw, "good.py": "import keras\n"})
    res = cli("--format", "json", "--no-cache", root)
    assert res.exit_code == 2
    items = json.loads(res.output)
    bad = [i for i in items if i["path"].endswith("bad.ipynb")]
    assert len(bad) == 1 and bad[0]["code"] == "KM000" and needle in bad[0]["message"], bad
    assert (root / "bad.ipynb").read_bytes() == raw
    assert (root / "good.py").read_text() == "from tensorflow import keras\n"


def test_notebooks_in_other_kernel_languages_are_skipped(tmp_path):
    nb = make_nb("import keras")
    nb["metadata"]["kernelspec"]["language"] = "R"
    nb["metadata"]["language_info"]["name"] = "R"
    result = run_file(tmp_path, json.dumps(nb).encode())
    assert result.findings == [] and not result.changed


def test_nbformat_3_notebooks_are_migrated(tmp_path):
    nb3 = {"metadata": {"name": ""}, "nbformat": 3, "nbformat_minor": 0, "worksheets": [{"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# hi"]},
        {"cell_type": "code", "collapsed": False, "input": ["import keras\n", "x = 1"], "language": "python",
         "metadata": {}, "outputs": [], "prompt_number": 1},
    ], "metadata": {}}]}
    result = run_file(tmp_path, json.dumps(nb3, indent=1).encode())
    expected = copy.deepcopy(nb3)
    expected["worksheets"][0]["cells"][1]["input"] = ["from tensorflow import keras\n", "x = 1"]
    assert result.new == json.dumps(expected, indent=1).encode()


def test_cli_fixes_notebooks_in_folders_and_second_run_is_a_noop(tmp_tree):
    nb = make_nb(OLD_CELL, "x = 1")
    root = tmp_tree({"sub/nb.ipynb": json.dumps(nb, indent=1) + "\n", "a.py": "import keras\n"})
    res = cli("--no-cache", root)
    assert res.exit_code == 0, res.output
    assert f"{root / 'sub' / 'nb.ipynb'}:cell 1:1:1: KM101" in res.output
    after = (root / "sub/nb.ipynb").read_text()
    assert after == json.dumps(with_sources(nb, {1: NEW_CELL}), indent=1) + "\n"
    res = cli("--no-cache", root)
    assert "0 changed" in res.output and (root / "sub/nb.ipynb").read_text() == after


def test_diff_shows_readable_per_cell_diffs(tmp_tree, monkeypatch):
    nb = make_nb("x = 1", OLD_CELL, "print(2)", "import keras.backend as K")
    root = tmp_tree({"nb.ipynb": json.dumps(nb, indent=1)})
    monkeypatch.chdir(root)
    res = cli("--diff", "--no-cache", "nb.ipynb")
    assert res.exit_code == 1
    diff = res.output[res.output.index("--- a/"):]
    assert "--- a/nb.ipynb:cell 2\n+++ b/nb.ipynb:cell 2\n" in diff
    assert "-import keras\n-from keras.layers import Dense\n+from tensorflow import keras\n" in diff
    assert "--- a/nb.ipynb:cell 4\n+++ b/nb.ipynb:cell 4\n" in diff
    assert "cell 1" not in diff and "cell 3" not in diff
    assert '\\n",' not in diff  # code, not JSON
    assert (root / "nb.ipynb").read_text() == json.dumps(nb, indent=1)


def test_cells_see_the_imports_of_the_cells_above(tmp_path):
    nb = make_nb("%tensorflow_version 1.x\nimport tensorflow as tf", "%%time\nm = tf.keras.Sequential()",
                 "m = tf.keras.Sequential()", "n = tf2.keras.Sequential()")
    result = run_file(tmp_path, json.dumps(nb, indent=1).encode(), options=options_for("KM1", target="keras"))
    # cell 2 gets the import it needs (after its %%time line), cell 3 uses the one cell 2 added,
    # cell 4 uses a name nothing imports: left alone
    expected = with_sources(nb, {2: "%%time\nimport keras\n\nm = keras.Sequential()", 3: "m = keras.Sequential()"})
    assert result.new == json.dumps(expected, indent=1).encode()
    assert [(f.cell, f.line, f.column) for f in result.findings] == [(2, 2, 5), (3, 1, 5)]


def test_an_import_after_magics_is_recognised_not_duplicated(tmp_path):
    nb = make_nb("%matplotlib inline\n!nvidia-smi\nimport tensorflow as tf\nimport keras\nm = tf.keras.Sequential()")
    result = run_file(tmp_path, json.dumps(nb).encode(), options=options_for("KM1", target="keras"))
    expected = with_sources(nb, {1: "%matplotlib inline\n!nvidia-smi\nimport tensorflow as tf\nimport keras\n"
                                    "m = keras.Sequential()"})
    assert result.new == json.dumps(expected).encode()


def test_an_import_extended_by_a_fix_brings_only_the_new_names_into_the_cell():
    from kmigrate.notebook import _new_names

    imports = ["from tensorflow.keras.layers import Dense, Dropout", "import numpy as np"]
    assert _new_names("from tensorflow.keras.layers import Input, Dense, Dropout\n", imports) == [
        "from tensorflow.keras.layers import Input\n"]
    assert _new_names("import numpy as np\nimport keras\n", imports) == ["import keras\n"]
    assert _new_names("x = 1\n", imports) is None


def test_with_a_broken_cell_the_others_are_fixed_one_by_one_still_seeing_earlier_imports(tmp_path):
    nb = make_nb("import tensorflow as tf", "import keras\nprint 'x'", "%%time\nm = tf.keras.Sequential()")
    result = run_file(tmp_path, json.dumps(nb, indent=1).encode(), options=options_for("KM1", target="keras"))
    assert [(f.code, f.cell) for f in result.findings] == [("KM000", 2), ("KM101", 3)]
    expected = with_sources(nb, {3: "%%time\nimport keras\n\nm = keras.Sequential()"})
    assert result.new == json.dumps(expected, indent=1).encode()


def test_findings_map_back_to_their_cells_when_fixed_together(tmp_path, monkeypatch):
    import kmigrate.notebook

    monkeypatch.setattr(kmigrate.notebook, "_fix_cell", None)  # the one-parse path must be taken
    nb = make_nb("import keras", "x = 1\ny = 2", "%matplotlib inline\n\nfrom keras.layers import Dense")
    result = run_file(tmp_path, json.dumps(nb).encode())
    assert [(f.cell, f.line, f.column, f.end_line) for f in result.findings] == [(1, 1, 1, 1), (3, 3, 1, 3)]
