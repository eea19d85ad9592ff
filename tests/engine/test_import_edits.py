"""Import edits (kmigrate/imports.py): added where LibCST adds them, removed only when unused."""
from __future__ import annotations

import libcst as cst
import pytest

from kmigrate.imports import edit_imports
from kmigrate.rule import ImportEdit
from tests.paths import ROOT

REMOVE_MERGE = [ImportEdit("keras.layers", "merge", remove=True)]


@pytest.mark.parametrize("src,expected", [
    # unused: removed, also when a docstring or comment mentions the name
    ('"""uses merge()"""\nfrom keras.layers import Dense, merge\nDense(1)  # merge\n',
     '"""uses merge()"""\nfrom keras.layers import Dense\nDense(1)  # merge\n'),
    ("from keras.layers import merge\nx = 1\n", "x = 1\n"),
    # used as a name, in __all__, in a string annotation: kept
    ("from keras.layers import merge\ny = merge([a, b])\n", None),
    ("from keras.layers import merge\n__all__ = ['merge']\n", None),
    ("from keras.layers import merge\ndef f(x: 'merge'): pass\n", None),
    # an attribute or keyword of the same name is not a use
    ("from keras.layers import merge\ny = m.merge(a, merge=1)\n", "y = m.merge(a, merge=1)\n"),
    # inside a function, and in a try block
    ("def f():\n    from keras.layers import merge, Dense\n    return Dense\n",
     "def f():\n    from keras.layers import Dense\n    return Dense\n"),
    ("try:\n    from keras.layers import merge\nexcept ImportError:\n    pass\n",
     "try:\n    pass\nexcept ImportError:\n    pass\n"),
])
def test_remove_only_unused(src, expected):
    out = edit_imports(cst.parse_module(src), REMOVE_MERGE).code
    assert out == (src if expected is None else expected)


@pytest.mark.parametrize("src,edit,expected", [
    ('"""doc"""\nimport os\nfrom keras.layers import Dense\n\nx = 1\n', ImportEdit("keras.layers", "Add"),
     '"""doc"""\nimport os\nfrom keras.layers import Add, Dense\n\nx = 1\n'),
    ("import os\n\nx = 1\n", ImportEdit("tensorflow", asname="tf"), "import os\nimport tensorflow as tf\n\nx = 1\n"),
    ("import tensorflow as tf\nx = 1\n", ImportEdit("tensorflow", asname="tf"), "import tensorflow as tf\nx = 1\n"),
    ("x = 1\ndef f():\n    from keras.layers import Dense\n", ImportEdit("keras.layers", "Add"),
     "from keras.layers import Add\n\nx = 1\ndef f():\n    from keras.layers import Dense\n"),
])
def test_add_like_libcst(src, edit, expected):
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import AddImportsVisitor, ImportItem

    out = edit_imports(cst.parse_module(src), [edit]).code
    theirs = AddImportsVisitor(CodemodContext(), [ImportItem(edit.module, edit.obj, edit.asname)]) \
        .transform_module(cst.parse_module(src)).code
    assert out == theirs == expected


SOURCES = [
    "x = 1\n",
    '"""doc"""\n\n# comment\nimport os\nx = 1\n',
    "__strict__ = True\nimport os\n# about x\nx = 1\n",
    "from __future__ import annotations\nimport os\nfrom keras.layers import Dense as D, merge\n\n\nx = D(1)\n",
    "from keras.layers import *\nfrom keras import backend as K\nimport keras.layers\nx = 1\n",
    "from . import sibling\nfrom keras.layers import (\n    Dense,  # the layer\n    merge,  # gone\n    Add,\n)\ny = Dense(Add())\n",
    "import os, keras.layers as L, sys\nx = os.sep\n",
    "# only a comment\n",
]
EDITS = [
    [ImportEdit("keras.layers", "Add")],
    [ImportEdit("tensorflow", asname="tf"), ImportEdit("numpy")],
    [ImportEdit("keras.layers", "Dense", asname="D"), ImportEdit("keras.layers", "Conv2D"),
     ImportEdit("keras.models", "Model"), ImportEdit("__future__", "annotations")],
    [ImportEdit("keras.layers", "merge", remove=True), ImportEdit("keras.layers", "Dense", asname="D", remove=True)],
    [ImportEdit("keras.layers", asname="L", remove=True), ImportEdit("sys", remove=True)],
]


@pytest.mark.parametrize("edits", EDITS, ids=lambda e: ",".join(f"{x.module}:{x.obj}" for x in e))
@pytest.mark.parametrize("src", SOURCES)
def test_edits_are_libcst_s(src, edits):
    """Where LibCST's own visitors decide the same (unused means unused here), the same text."""
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import AddImportsVisitor, ImportItem, RemoveImportsVisitor

    out = edit_imports(cst.parse_module(src), edits).code
    module = cst.parse_module(src)
    adds = [ImportItem(e.module, e.obj, e.asname) for e in edits if not e.remove]
    removes = [(e.module, e.obj, e.asname) for e in edits if e.remove]
    if adds:
        module = AddImportsVisitor(CodemodContext(), adds).transform_module(module)
    if removes:
        module = RemoveImportsVisitor(CodemodContext(), removes).transform_module(module)
    assert out == module.code


KL = "tensorflow.keras.layers"


@pytest.mark.parametrize("src,added,expected", [
    # a later pass renamed the first line to the module of the line a pass wrote: one line
    (f"from {KL} import Dense, Dropout\nfrom {KL} import Input\n\nx = 1\n", [(KL, (("Input", None),))],
     f"from {KL} import Input, Dense, Dropout\n\nx = 1\n"),
    # written as keras.layers, renamed since, and imported by the renamed line already: dropped
    (f"from {KL} import Conv1D, MaxPooling1D\nfrom {KL} import Conv1D\nx = 1\n",
     [("keras.layers", (("Conv1D", None),))], f"from {KL} import Conv1D, MaxPooling1D\nx = 1\n"),
    # another import of the name in between: the order matters, left alone
    (f"from {KL} import Dense\nfrom mylib import Input\nfrom {KL} import Input\n", [(KL, (("Input", None),))], None),
    # a comment before the written line, or lines the user wrote: left alone
    (f"from {KL} import Dense\n# why\nfrom {KL} import Input\n", [(KL, (("Input", None),))], None),
    (f"from {KL} import Dense\nfrom {KL} import Input\n", [], None),
    (f"from {KL} import Dense\nfrom {KL} import Input, Flatten\n", [(KL, (("Input", None),))], None),
])
def test_written_import_lines_join_renamed_ones(src, added, expected):
    from kmigrate.imports import leading_import_code, tidy_imports

    module = cst.parse_module(src)
    out = tidy_imports(module, added, leading_import_code(module)).code
    assert out == (src if expected is None else expected)


def test_a_rewritten_line_that_repeats_an_earlier_one_is_dropped():
    from kmigrate.imports import tidy_imports

    src = f"from {KL} import Conv2D, Dense\nfrom {KL} import Conv2D\nx = 1\n"
    module = cst.parse_module(src)
    rewritten = tidy_imports(module, [], {f"from {KL} import Conv2D, Dense\n"}).code
    assert rewritten == f"from {KL} import Conv2D, Dense\nx = 1\n"
    # the same lines as the user wrote them stay
    assert tidy_imports(module, [], {f"from {KL} import Conv2D, Dense\n", f"from {KL} import Conv2D\n"}).code == src


def test_the_readme_example_imports_each_name_once():
    from pathlib import Path

    from kmigrate.config import Config
    from kmigrate.engine import fix_text
    from kmigrate.run import options_from

    examples = ROOT / "examples" / "old_keras"
    for name, line in [("mnist_mlp_keras1.py", "Input, Dense, Dropout, Activation"),
                       ("cifar_cnn_keras2.py", "Input, Conv2D, Dense, Flatten, MaxPooling2D")]:
        path = examples / name
        out = fix_text(path.read_text(encoding="utf-8"), str(path), options_from(Config())).text
        assert f"from {KL} import {line}\n" in out
        assert out.count(f"from {KL} import") == 1
