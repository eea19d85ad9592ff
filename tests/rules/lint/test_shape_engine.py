"""The shape engine itself (rules/analysis/shape_program.py, data_shapes.py): what it knows about
data and models, that unknown stays unknown, that it never raises, that its findings settle
after the fixes, and that it never imports TensorFlow."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import libcst as cst
import pytest

from kmigrate.engine import Options, fix_text
from kmigrate.names import NameResolver
from kmigrate.rule import select_rules
from kmigrate.rules.analysis.data_shapes import Array
from kmigrate.rules.analysis.shape_program import ModelV, ShapeProgram, TensorV

from tests.conftest import FIXTURES, ROOT

CODES = ["KM520", "KM521", "KM522", "KM523", "KM524", "KM525"]


class _Holder:
    def __init__(self, module):
        self.module = module


def names(src: str) -> dict:
    module = cst.parse_module(textwrap.dedent(src))
    program = ShapeProgram(module, NameResolver(_Holder(module)), lambda node: 0)
    program.run()
    return program.top.vars


def shape(src: str, name: str):
    v = names(src)[name]
    assert isinstance(v, (Array, TensorV)), v
    return v.shape


PRELUDE = "import numpy as np\nfrom tensorflow import keras\nfrom tensorflow.keras import layers\n"


@pytest.mark.parametrize("code,name,expected", [
    ("(x, y), (xt, yt) = keras.datasets.mnist.load_data()", "x", (60000, 28, 28)),
    ("(x, y), (xt, yt) = keras.datasets.mnist.load_data()", "yt", (10000,)),
    ("(x, y), _ = keras.datasets.cifar10.load_data()", "y", (50000, 1)),
    ("(x, y), _ = keras.datasets.mnist.load_data()\nz = x.reshape(-1, 784)", "z", (60000, 784)),
    ("(x, y), _ = keras.datasets.mnist.load_data()\nz = x.reshape((60000, 28, 28, 1))", "z", (60000, 28, 28, 1)),
    ("(x, y), _ = keras.datasets.mnist.load_data()\nz = x[..., None]", "z", (60000, 28, 28, 1)),
    ("(x, y), _ = keras.datasets.mnist.load_data()\nz = x[:, :, :, np.newaxis]", "z", (60000, 28, 28, 1)),
    ("(x, y), _ = keras.datasets.mnist.load_data()\nz = np.expand_dims(x, axis=1)", "z", (60000, 1, 28, 28)),
    ("(x, y), _ = keras.datasets.mnist.load_data()\nz = x[:1000]", "z", (1000, 28, 28)),
    ("(x, y), _ = keras.datasets.mnist.load_data()\nz = x[0]", "z", (28, 28)),
    ("(x, y), _ = keras.datasets.mnist.load_data()\nz = x[100:-100:2]", "z", (29900, 28, 28)),
    ("(x, y), _ = keras.datasets.mnist.load_data()\nz = keras.utils.to_categorical(y, 10)", "z", (60000, 10)),
    ("(x, y), _ = keras.datasets.cifar10.load_data()\nz = keras.utils.to_categorical(y)", "z", (50000, 10)),
    ("(x, y), _ = keras.datasets.cifar10.load_data()\nz = np.eye(10)[y]", "z", (50000, 1, 10)),
    ("z = np.zeros((5, 3))", "z", (5, 3)),
    ("z = np.array([[0.2, 0.4, 0.9]])", "z", (1, 3)),
    ("z = np.array([1, 2, 3, 4])", "z", (4,)),
    ("z = np.ones(7)", "z", (7,)),
    ("z = np.random.rand(4, 2, 3)", "z", (4, 2, 3)),
    ("z = np.random.random((4, 2))", "z", (4, 2)),
    ("z = np.random.normal(0, 1, size=(9, 2))", "z", (9, 2)),
    ("z = np.random.randint(0, 5, (100, 1))", "z", (100, 1)),
    ("n = 12\nz = np.zeros((n * 2, n))", "z", (24, 12)),
    ("z = np.zeros((10, 6)).astype('float32') / 255", "z", (10, 6)),
    ("from sklearn.model_selection import train_test_split\n"
     "a, b, c, d = train_test_split(np.zeros((10, 3)), np.zeros((10,)))", "b", (None, 3)),
    ("i = keras.Input(shape=(28, 28, 1))\nz = layers.Conv2D(8, 3)(i)", "z", (None, 26, 26, 8)),
    ("i = keras.Input(shape=(10, 4))\nz = layers.Bidirectional(layers.LSTM(8, return_sequences=True))(i)",
     "z", (None, 10, 16)),
    ("i = keras.Input(shape=(10,))\nz = layers.Embedding(100, 8)(i)\nz = layers.GlobalAveragePooling1D()(z)",
     "z", (None, 8)),
    ("a = keras.Input(shape=(4,))\nb = keras.Input(shape=(6,))\nz = layers.Concatenate()([a, b])", "z", (None, 10)),
    ("i = keras.Input(shape=(5, 3))\nz = layers.TimeDistributed(layers.Dense(2))(i)", "z", (None, 5, 2)),
    # an Embedding on a length-1 input keeps the axis; merges broadcast it as Keras 3 does
    ("i = keras.Input(shape=(1,), dtype='int32')\nz = layers.Embedding(10, 100)(i)", "z", (None, 1, 100)),
    ("m = keras.Sequential([layers.Embedding(10, 8, input_length=5)])\nz = layers.Embedding(10, 8)("
     "keras.Input(shape=(5,)))", "z", (None, 5, 8)),
    ("a = keras.Input(shape=(100,))\nb = layers.Embedding(10, 100)(keras.Input(shape=(1,)))\n"
     "z = layers.multiply([a, b])", "z", (None, 1, 100)),
    ("a = keras.Input(shape=(100,))\nb = layers.Embedding(10, 100)(keras.Input(shape=(1,)))\n"
     "z = layers.Add()([b, a])", "z", (None, 1, 100)),
    ("a = keras.Input(shape=(4, 1))\nb = keras.Input(shape=(1, 5))\nz = layers.add([a, b])", "z", (None, 4, 5)),
    ("a = keras.Input(shape=(3, 4))\nb = keras.Input(shape=(2, 4))\nz = layers.concatenate([a, b], axis=1)",
     "z", (None, 5, 4)),
    # a builder's parameter: the rank is known, the size is not
    ("def f(n):\n    return keras.Input(shape=(n,))\nz = f(k)", "z", (None, None)),
])
def test_known_shapes(code, name, expected):
    assert shape(PRELUDE + code, name) == expected


def test_labels_and_pixels():
    v = names(PRELUDE + "(x, y), _ = keras.datasets.mnist.load_data()\nh = keras.utils.to_categorical(y, 10)\n"
                        "s = x / 255.0\nr = x.astype('float32')\n")
    assert v["y"].labels == "int" and v["y"].classes == 10
    assert v["h"].labels == "onehot" and v["h"].width == 10
    assert v["x"].raw_pixels and v["r"].raw_pixels and not v["s"].raw_pixels


@pytest.mark.parametrize("code", [
    "z = np.load('x.npy')",  # a file
    "z = f(np.zeros((3, 4)))",  # an unknown function
    "z = np.zeros((3, 4))\nif c:\n    z = z.reshape(12)",  # a branch
    "z = np.zeros((3, 4))\nfor i in range(3):\n    z = z[1:]",  # a loop
    "z = np.zeros(shape)",  # an unknown size
    "z = np.zeros((3, 4))\nz, w = map(f, [z, z])",  # unpacking an unknown value
    "z = np.zeros((3, 4))\n[z, *w] = g()",
    "def g(a):\n    return a\nz = np.zeros((3, 4))\nz = g",  # not an array
])
def test_unknown_stays_unknown(code):
    v = names(PRELUDE + code).get("z")
    assert not isinstance(v, (Array, TensorV)) or v.shape is None


@pytest.mark.parametrize("code", [
    "m = keras.Sequential()\nfor i in range(3):\n    m.add(layers.Dense(8))\n",  # a loop
    "m = keras.Sequential([layers.Dense(8)])\nif c:\n    m.add(layers.Dense(8))\n",  # a branch
    "m = keras.Sequential([layers.Dense(8), layers.Dense(2)])\nm.pop()\n",  # pop()
    "m = keras.Sequential([layers.Dense(8)])\nextend(m)\n",  # handed to a function
])
def test_a_changed_sequential_loses_its_layers(code):
    v = names(PRELUDE + code)
    assert isinstance(v["m"], ModelV) and not v["m"].certain


def test_a_read_sequential_keeps_its_layers():
    v = names(PRELUDE + "m = keras.Sequential([layers.Dense(8)])\nm.add(layers.Dense(2))\nm.summary()\n"
                        "m.compile(loss='mse')\nprint(m.count_params())\n")
    assert v["m"].certain and len(v["m"].layers) == 2


# Odd but valid Python: the engine must treat it as unknown, never raise (KM000 is a bug).
ODD = [
    "x = np.zeros(())\ny = x[..., ..., None]\nz = x.reshape(-1, -1)\nw = np.zeros((2, 3))[5]\n",
    "x = np.zeros((4, 0))\ny = x.reshape(0, -1)\nk = layers.Reshape((0, -1))(keras.Input(shape=(0,)))\n",
    "m = keras.Sequential([*ls])\nm.add()\nm.fit()\nm.fit(*a, **k)\nkeras.Model()(x)\n",
    "i = keras.Input(shape=(3,))\nz = layers.Dense(units=None)(i)\nz = layers.Conv2D('a', 'b')(z)\n",
    "i = keras.Input(shape=(2, 2, 2))\nz = layers.MaxPooling2D(pool_size=(0, 0))(i)\nz = layers.Conv2D(1, 3, strides=0)(i)\n",
    "def f(x):\n    return f(x)\nm = f(1)\n",
    "class M(keras.Model):\n    def __init__(self):\n        super().__init__()\n        self.a = self\n"
    "    def call(self, x):\n        return self.a(x)\nm = M()\nm.fit(np.zeros((3, 2)), np.zeros((3,)))\n",
    "z = np.random.randint(10 ** 100, size=(3, 2))\nq = np.eye(-1)[z]\ny = keras.utils.to_categorical(z, -5)\n",
    "x = [1][0:1:0]\ny = (1,)[:]\nlayers.Concatenate(axis=5)([keras.Input((2,)), keras.Input((2,))])\n",
    "async def f():\n    async with a as b:\n        pass\nmatch x:\n    case [a, *b]:\n        pass\n",
]


@pytest.mark.parametrize("code", ODD)
def test_never_raises(code):
    out = fix_text(PRELUDE + code, "odd.py", Options(rules=tuple(select_rules(CODES, []))))
    assert not [f for f in out.findings if f.code == "KM000"]
    names(PRELUDE + code)  # and the engine directly


def test_every_fixture_without_internal_error():
    """All fixtures of every rule (old Keras, TF1, notebooks' code...) through the KM52x rules."""
    options = Options(rules=tuple(select_rules(CODES, [])))
    count = 0
    for path in sorted(FIXTURES.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        try:
            compile(text, str(path), "exec")
        except SyntaxError:
            continue
        out = fix_text(text, str(path), options)
        assert not [f for f in out.findings if f.code == "KM000"], path
        count += 1
    assert count > 200


@pytest.mark.parametrize("path", sorted(p for d in CODES for p in (FIXTURES / d).glob("*.py")
                                        if not p.name.endswith(".fixed.py")), ids=lambda p: p.stem)
def test_findings_settle(path):
    """Linting the output reports exactly what the run said remains (unfixed findings)."""
    text = path.read_text(encoding="utf-8")
    options = Options(rules=tuple(select_rules(CODES, [])), unsafe_fixes="unsafe_fixes" in text.split("\n", 1)[0])
    out = fix_text(text, str(path), options)
    again = fix_text(out.text, str(path), options)
    remaining = sorted(((f.written[0] if f.written else f.line), f.code) for f in out.findings if not f.fix_applied)
    assert sorted((f.line, f.code) for f in again.findings) == remaining
    assert again.text == out.text


@pytest.mark.parametrize("code", CODES)
def test_noop_fixtures_quiet_at_every_severity(code):
    options = Options(rules=tuple(select_rules([code], [])))
    noops = sorted((FIXTURES / code).glob("noop_*.py"))
    assert noops
    for path in noops:
        out = fix_text(path.read_text(encoding="utf-8"), str(path), options)
        assert out.findings == [], (path, [(f.line, f.message) for f in out.findings])


def test_no_tensorflow_at_run_time():
    script = ("import sys\nfrom kmigrate.engine import Options, fix_text\nfrom kmigrate.rule import select_rules\n"
              f"text = open({str(FIXTURES / 'shape_bugs' / 'km520_onehot_dense1_sigmoid.py')!r}).read()\n"
              f"out = fix_text(text, 'a.py', Options(rules=tuple(select_rules({CODES!r}, []))))\n"
              "assert out.findings\n"
              "assert not [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'numpy')]\n")
    subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT)


def _flow(src: str, name: str = "m"):
    module = cst.parse_module(textwrap.dedent(PRELUDE + src))
    program = ShapeProgram(module, NameResolver(_Holder(module)), lambda node: 0)
    program.run()
    return program.flow(program.top.vars[name], None)


@pytest.mark.parametrize("code,declared,out", [
    ("m = keras.Sequential([layers.Dense(8, batch_input_shape=(None, 5)), layers.Dense(2)])", (None, 5), (None, 2)),
    ("m = keras.Sequential([layers.InputLayer(input_shape=(4, 3)), layers.LSTM(6), layers.Dense(1)])",
     (None, 4, 3), (None, 1)),
    ("m = keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Conv2D(4, 3), layers.MaxPooling2D(),"
     " layers.Flatten()])", (None, 28, 28, 1), (None, 676)),
    ("m = keras.Sequential()\nm.add(layers.Embedding(50, 8, input_length=12))\nm.add(layers.GlobalAveragePooling1D())",
     (None, 12), (None, 8)),
    ("m = keras.Sequential([layers.Dense(3)])\nm.build((None, 7))", (None, 7), (None, 3)),
    ("i = keras.Input(shape=(6,))\nm = keras.Model(inputs=i, outputs=layers.Dense(2)(layers.Dense(4)(i)))",
     (None, 6), (None, 2)),
])
def test_model_flows(code, declared, out):
    flow = _flow(code)
    assert flow.declared == declared and flow.out.shape == out


def test_subclassed_model_runs_its_call_on_the_data():
    code = ("class Net(keras.Model):\n    def __init__(self, n):\n        super().__init__()\n"
            "        self.conv = layers.Conv2D(8, 3)\n        self.pool = layers.GlobalAveragePooling2D()\n"
            "        self.out = layers.Dense(n)\n    def call(self, x):\n        return self.out(self.pool(self.conv(x)))\n"
            "m = Net(7)\n")
    module = cst.parse_module(PRELUDE + code)
    program = ShapeProgram(module, NameResolver(_Holder(module)), lambda node: 0)
    program.run()
    data = Array((100, 32, 32, 3), module)
    flow = program.flow(program.top.vars["m"], data)
    assert flow.out.shape == (None, 7)


def _found(src: str) -> list:
    text = textwrap.dedent(src)
    return [(f.code, f.line) for f in fix_text(text, "a.py", Options(rules=tuple(select_rules(CODES, [])))).findings]


_CIFAR = ("from tensorflow import keras\nfrom tensorflow.keras import layers\n"
          "(x, y), _ = keras.datasets.cifar10.load_data()\n"  # line 3
          "x = x / 255.0\n")


@pytest.mark.parametrize("code,expected", [
    # a width given by a name bound once to a number and read only there: reported where it is written
    ("n_out = 1\nm = keras.Sequential([layers.Flatten(input_shape=(32, 32, 3)), layers.Dense(n_out)])\n"
     "m.compile(loss='sparse_categorical_crossentropy')\nm.fit(x, y)\n", [("KM520", 5)]),
    ("n_out = 1\nm = keras.Sequential([layers.Flatten(input_shape=(32, 32, 3)), layers.Dense(units=n_out)])\n"
     "m.compile(loss='sparse_categorical_crossentropy')\nm.fit(x, y)\n", [("KM520", 5)]),
    # read twice (a hidden layer's size too): the constant is not the fact to change, the layer is
    ("n = 1\nm = keras.Sequential([layers.Flatten(input_shape=(32, 32, 3)), layers.Dense(n),\n"
     "                         layers.Dense(n)])\nm.compile(loss='sparse_categorical_crossentropy')\nm.fit(x, y)\n",
     [("KM520", 7)]),
    # bound twice: at the layer
    ("n = 3\nn = 1\nm = keras.Sequential([layers.Flatten(input_shape=(32, 32, 3)), layers.Dense(n)])\n"
     "m.compile(loss='sparse_categorical_crossentropy')\nm.fit(x, y)\n", [("KM520", 7)]),
    # computed from the name: the layer is where the number is made
    ("n = 10\nm = keras.Sequential([layers.Flatten(input_shape=(32, 32, 3)), layers.Dense(n - 9)])\n"
     "m.compile(loss='sparse_categorical_crossentropy')\nm.fit(x, y)\n", [("KM520", 6)]),
])
def test_units_from_a_constant(code, expected):
    assert _found(_CIFAR + code) == expected


_FUNC = "from tensorflow import keras\nfrom tensorflow.keras import layers\ni = keras.Input(shape=(20,))\n"


@pytest.mark.parametrize("code,expected", [
    # two branches of different widths: the one written later
    ("a = layers.Dense(64)(i)\nb = layers.Dense(32)(i)\nz = layers.Add()([a, b])\n", [("KM523", 5)]),
    ("a = layers.Dense(64)(i)\nb = layers.Dense(32)(i)\nz = layers.Add()([b, a])\n", [("KM523", 5)]),
    # through a same-shape layer (Dropout, activation) the width is still the Dense's
    ("a = layers.Dense(64)(i)\nb = layers.Dropout(0.2)(layers.Dense(32)(i))\nz = layers.Multiply()([a, b])\n",
     [("KM523", 5)]),
    # a branch that is the input itself: its width is stated by no layer, the other one breaks it
    ("b = layers.Dense(32)(i)\nz = layers.Add()([i, b])\n", [("KM523", 4)]),
    # three inputs: the odd one out
    ("b = layers.Dense(20)(i)\nc = layers.Dense(8)(i)\nz = layers.Average()([i, c, b])\n", [("KM523", 5)]),
    # both on one line: nothing to prefer, reported at the merge
    ("z = layers.Add()([layers.Dense(64)(i), layers.Dense(32)(i)])\n", [("KM523", 4)]),
    # a width from a constant read once: at the constant
    ("w = 32\na = layers.Dense(64)(i)\nb = layers.Dense(w)(i)\nz = layers.Add()([a, b])\n", [("KM523", 4)]),
    # agreeing widths, broadcasting 1, or concatenation on the last axis: quiet
    ("a = layers.Dense(32)(i)\nb = layers.Dense(32)(i)\nz = layers.Add()([a, b])\n", []),
    ("a = layers.Dense(32)(i)\nb = layers.Dense(1)(i)\nz = layers.Multiply()([a, b])\n", []),
    ("a = layers.Dense(64)(i)\nb = layers.Dense(32)(i)\nz = layers.Concatenate()([a, b])\n", []),
    # a width that is not known: unknown stays unknown
    ("a = layers.Dense(64)(i)\nb = layers.Dense(units)(i)\nz = layers.Add()([a, b])\n", []),
])
def test_merge_of_different_widths(code, expected):
    assert _found(_FUNC + code) == expected


_MNIST = ("import numpy as np\nfrom tensorflow import keras\nfrom tensorflow.keras import layers\n"
          "(x, y), _ = keras.datasets.mnist.load_data()\n")  # line 4


@pytest.mark.parametrize("code,expected", [
    # the data's added axis first, the declared one last: the data's layout is the mistake
    ("x = np.expand_dims(x, axis=1) / 255.0\n"
     "m = keras.Sequential([layers.Conv2D(8, 3, input_shape=(28, 28, 1)), layers.Flatten(), layers.Dense(10)])\n"
     "m.compile(loss='sparse_categorical_crossentropy')\nm.fit(x, y)\n", [("KM522", 5)]),
    ("x = x.reshape(60000, 1, 28, 28) / 255.0\ni = keras.Input(shape=(28, 28, 1))\n"
     "m = keras.Model(i, layers.Dense(10)(layers.Flatten()(layers.Conv2D(8, 3)(i))))\n"
     "m.compile(loss='sparse_categorical_crossentropy')\nm.fit(x, y)\n", [("KM522", 5)]),
    # the declared input channels first and the data channels last: the model side
    ("x = x[..., None] / 255.0\n"
     "m = keras.Sequential([layers.Conv2D(8, 3, input_shape=(1, 28, 28)), layers.Flatten(), layers.Dense(10)])\n"
     "m.compile(loss='sparse_categorical_crossentropy')\nm.fit(x, y)\n", [("KM522", 6)]),
    # a file that may set channels first: the layout is not judged at the data
    ("keras.backend.set_image_data_format('channels_first')\nx = np.expand_dims(x, axis=1) / 255.0\n"
     "m = keras.Sequential([layers.Conv2D(8, 3, input_shape=(28, 28, 1)), layers.Flatten(), layers.Dense(10)])\n"
     "m.compile(loss='sparse_categorical_crossentropy')\nm.fit(x, y)\n", [("KM522", 7)]),
])
def test_channel_axis_placement(code, expected):
    assert _found(_MNIST + code) == expected


@pytest.mark.parametrize("code,expected", [
    # Flatten straight into a Conv: the Flatten is the mistake
    ("i = keras.Input(shape=(28, 28, 1))\nz = layers.Flatten()(i)\nz = layers.Dropout(0.1)(z)\n"
     "z = layers.Conv2D(8, 3)(z)\n", [("KM523", 6)]),
    # Flatten whose vector a Dense uses (an autoencoder's bottleneck): the Conv lacks a Reshape
    ("i = keras.Input(shape=(28, 28, 1))\nz = layers.Flatten()(i)\nz = layers.Dense(16)(z)\n"
     "z = layers.Dense(784)(z)\nz = layers.Conv2DTranspose(8, 3)(z)\n", [("KM523", 9)]),
    # a recurrent layer's rank is a switch: still reported there, Dense or not in between
    ("i = keras.Input(shape=(10, 3))\nz = layers.LSTM(8)(i)\nz = layers.Dense(4)(z)\nz = layers.LSTM(4)(z)\n",
     [("KM523", 6)]),
])
def test_rank_cause_or_missing_reshape(code, expected):
    assert _found(_MNIST + code) == expected


_CALLS = "from tensorflow import keras\nfrom tensorflow.keras import layers\n"


@pytest.mark.parametrize("code,expected", [
    # another rank, another size: at the call
    ("m = keras.Sequential([layers.Dense(4, input_shape=(100,))])\nm(keras.Input(shape=(1, 100)))\n",
     [("KM523", 4)]),
    ("i = keras.Input(shape=(8,))\nm = keras.Model(i, layers.Dense(2)(i))\nm(keras.Input(shape=(9,)))\n",
     [("KM523", 5)]),
    # a model built and called in a builder function whose sizes are parameters: the rank suffices
    ("def g(n):\n    m = keras.Sequential()\n    m.add(layers.Dense(4, input_dim=n))\n"
     "    v = layers.Embedding(10, n)(keras.Input(shape=(1,)))\n"
     "    return m(layers.multiply([keras.Input(shape=(n,)), v]))\n", [("KM523", 7)]),
    # matching, adjusted by Keras (a trailing 1), unknown, or no declared input: quiet
    ("m = keras.Sequential([layers.Dense(4, input_shape=(100,))])\nm(keras.Input(shape=(100,)))\n", []),
    ("m = keras.Sequential([layers.Dense(4, input_shape=(100,))])\nm(keras.Input(shape=(100, 1)))\n", []),
    ("m = keras.Sequential([layers.Dense(4, input_shape=(100,))])\nm(f())\n", []),
    ("m = keras.Sequential([layers.Dense(4)])\nm(keras.Input(shape=(1, 100)))\n", []),
    ("m = keras.Sequential([layers.Dense(4, input_shape=s)])\nm(keras.Input(shape=(1, 100)))\n", []),
])
def test_model_called_on_a_tensor(code, expected):
    assert _found(_CALLS + code) == expected


@pytest.mark.parametrize("code,expected", [
    ("    def call(self, inputs):\n        return self.drop(inputs, training=training)\n", [("KM524", 7)]),
    ("    def call(self, inputs):\n        return self.drop(inputs) * mask\n", [("KM524", 7)]),
    # other names stay reported where they are read
    ("    def call(self, inputs):\n        return self.drop(inputs) * scale\n", [("KM524", 8)]),
    ("    def call(self, inputs, training=None):\n        return self.drop(inputs, training=training)\n", []),
])
def test_keras_call_arguments_missing_from_the_signature(code, expected):
    head = ("from tensorflow import keras\nfrom tensorflow.keras import layers\nclass M(keras.Model):\n"
            "    def __init__(self):\n        super().__init__()\n        self.drop = layers.Dropout(0.5)\n")
    assert _found(head + code) == expected
