"""KM605: TF1 `tf.nn.rnn_cell.*` cells and `tf.nn.dynamic_rnn` -> Keras cells in `tf.keras.layers.RNN`."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from kmigrate.rule import Example, Safety, Severity
from kmigrate.rules.tf1.tf1_common import TF1Rule, code_of

_CELL_MODULES = ("nn.rnn_cell.", "compat.v1.nn.rnn_cell.", "contrib.rnn.")
# TF1 cell -> (Keras cell, extra keywords that keep TF1's computation where Keras differs)
CELLS = {
    "BasicRNNCell": ("SimpleRNNCell", ()),
    "GRUCell": ("GRUCell", (("reset_after", "False"),)),
    "BasicLSTMCell": ("LSTMCell", ()),
    "LSTMCell": ("LSTMCell", ()),
}
_CELL_KEYWORDS = {"num_units": "units", "activation": "activation", "name": "name"}
_DROPPED = {"state_is_tuple": ("True",), "forget_bias": ("1.0", "1"), "dtype": None}
_RNN_DROPPED = ("dtype", "parallel_iterations", "swap_memory", "scope")
_DYNAMIC_RNN = ("nn.dynamic_rnn", "compat.v1.nn.dynamic_rnn")


def cell_kind(path: Optional[str]) -> Optional[str]:
    if not path:
        return None
    for m in _CELL_MODULES:
        if path.startswith(m) and path[len(m):] in CELLS:
            return path[len(m):]
    return None


class TF1DynamicRNN(TF1Rule):
    """
    ## What it does
    Rewrites TensorFlow 1 recurrent cells (`tf.nn.rnn_cell.BasicRNNCell`, `GRUCell`,
    `BasicLSTMCell`, `LSTMCell`, also under `tf.contrib.rnn`) into Keras cells
    (`SimpleRNNCell`, `GRUCell(reset_after=False)`, `LSTMCell`), and
    `outputs, state = tf.nn.dynamic_rnn(cell, x, dtype=...)` into
    `outputs, state = tf.keras.layers.RNN(cell, return_sequences=True, return_state=True)(x)`
    (for an LSTM: `outputs, _, _ = ...` when the state is not used). Keras layers run in
    `tf.compat.v1` graph code.

    Reported, not rewritten: `sequence_length=` and `initial_state=` (Keras masks carry the last
    output forward, TF1 wrote zeros), `time_major=True`, an LSTM whose state is used (TF1 gave
    `LSTMStateTuple(c, h)`, Keras gives `h, c`), a cell that is not built in the file, and cell
    arguments with no Keras counterpart (`reuse=`, `num_proj=`, ...).

    ## Why is this bad
    TensorFlow 2.21 has no `tf.nn.rnn_cell` (it was Keras 2), and `tf.compat.v1.nn.dynamic_rnn`
    fails on Keras 3 cells ("get_initial_state() got an unexpected keyword argument 'inputs'").

    ## Example
    ```python
    cell = tf.nn.rnn_cell.GRUCell(32)
    outputs, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    ```
    becomes
    ```python
    cell = tf.keras.layers.GRUCell(32, reset_after=False)
    outputs, state = tf.keras.layers.RNN(cell, return_sequences=True, return_state=True)(x)
    ```

    ## Fix safety
    Unsafe: the same recurrence, but initial weights differ (Keras uses an orthogonal recurrent
    kernel; TF1's GRU started its gate biases at 1, its BasicLSTMCell added `forget_bias` at
    each step where Keras initialises the forget bias to 1) and variables are named by Keras
    (`rnn/gru_cell/kernel`), so TF1 checkpoints do not restore by name.
    """

    code = "KM605"
    name = "tf1-dynamic-rnn"
    summary = "TF1 RNN cell or `tf.nn.dynamic_rnn`; use a Keras cell in `tf.keras.layers.RNN`"
    severity = Severity.ERROR
    fix_safety = Safety.UNSAFE
    triggers = ("rnn_cell", "dynamic_rnn", "contrib")

    VALID = [
        "import tensorflow as tf\nrnn = tf.keras.layers.RNN(tf.keras.layers.GRUCell(3))\n",
        "import tensorflow as tf\ncell = mylib.nn.rnn_cell.GRUCell(3)\n",
    ]
    INVALID = [
        Example("import tensorflow as tf\ncell = tf.nn.rnn_cell.GRUCell(8)\n"
                "outputs, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)\n",
                "import tensorflow as tf\ncell = tf.keras.layers.GRUCell(8, reset_after=False)\n"
                "outputs, state = tf.keras.layers.RNN(cell, return_sequences=True, return_state=True)(x)\n",
                {"unsafe_fixes": True}),
        Example("import tensorflow as tf\noutputs, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(8), x, dtype=tf.float32)\n",
                "import tensorflow as tf\noutputs, _, _ = tf.keras.layers.RNN(tf.keras.layers.LSTMCell(8), "
                "return_sequences=True, return_state=True)(x)\n", {"unsafe_fixes": True}),
        Example("import tensorflow as tf\ncell = tf.nn.rnn_cell.LSTMCell(8)\n"
                "outputs, state = tf.nn.dynamic_rnn(cell, x, sequence_length=n, dtype=tf.float32)\n"),
    ]

    def visit_Arg(self, node) -> None:
        self.skip_non_references(node)

    def visit_Attribute(self, node) -> None:
        self.skip_non_references(node)

    def visit_Call(self, node: cst.Call) -> None:
        if not self.tf_rooted(node.func):
            return
        kind = cell_kind(self.tf_path(node.func))
        if kind is not None:
            self._cell(node, kind)

    def _cell(self, call: cst.Call, kind: str) -> None:
        keras, extra = CELLS[kind]
        path = self.tf_path(call.func) or ""
        spelled = "tf." + (path[len("compat.v1."):] if path.startswith("compat.v1.") else path)
        args: list[cst.Arg] = []
        for i, a in enumerate(call.args):
            if a.star or (a.keyword is None and i > 0):
                return self.report(call, f"`{spelled}(...)`: no Keras `{keras}` form for these arguments; rewrite by hand")
            if a.keyword is None:
                args.append(a.with_changes(comma=cst.MaybeSentinel.DEFAULT))
                continue
            k = a.keyword.value
            if k in _CELL_KEYWORDS:
                args.append(a.with_changes(keyword=cst.Name(_CELL_KEYWORDS[k]), comma=cst.MaybeSentinel.DEFAULT))
            elif k in _DROPPED and (_DROPPED[k] is None or code_of(a.value) in _DROPPED[k]):
                continue
            else:
                return self.report(call, f"`{spelled}(..., {k}=...)`: no Keras `{keras}` counterpart; rewrite by hand")
        func, edits = self.spell(call.func, f"keras.layers.{keras}")
        if func is None:
            return
        for k, v in extra:
            args.append(cst.Arg(cst.parse_expression(v), keyword=cst.Name(k), equal=_EQ))
        self._skip.add(id(call.func))
        self.report(call, f"`{spelled}` is gone with Keras 3: use `tf.keras.layers.{keras}`",
                    call.with_changes(func=func, args=_commas(args)), imports=edits)

    def visit_Assign(self, node: cst.Assign) -> None:
        call = node.value
        if not isinstance(call, cst.Call) or not isinstance(call.func, (cst.Attribute, cst.Name)):
            return
        if self.tf_path(call.func) not in _DYNAMIC_RNN:
            return
        spelled = "tf.nn.dynamic_rnn"  # the same message before and after KM601's tf.compat.v1

        def refuse(why: str) -> None:
            self.report(call, f"`{spelled}` fails with Keras 3 cells: use `tf.keras.layers.RNN(cell, "
                        f"return_sequences=True, return_state=True)(inputs)`; not rewritten: {why}")

        if any(a.star for a in call.args) or len([a for a in call.args if a.keyword is None]) != 2:
            return refuse("arguments other than `cell, inputs, dtype=`")
        cell, inputs = call.args[0].value, call.args[1].value
        for a in call.args[2:]:
            k = a.keyword.value
            if k == "time_major" and code_of(a.value) == "False":
                continue
            if k not in _RNN_DROPPED:
                return refuse(f"`{k}=` has no Keras counterpart with the same result")
        kind = self._kind_of(cell)
        if kind is None:
            return refuse("the cell is not built in this file")
        if len(node.targets) != 1 or not isinstance(node.targets[0].target, cst.Tuple) \
                or len(node.targets[0].target.elements) != 2:
            return refuse("the result is not unpacked as `outputs, state`")
        elements = node.targets[0].target.elements
        target = None
        if CELLS[kind][0] == "LSTMCell":
            state = elements[1].value
            if not (isinstance(state, cst.Name) and state.value == "_"):
                return refuse("an LSTM state is used (TF1: LSTMStateTuple(c, h); Keras: h, c)")
            target = node.targets[0].target.with_changes(elements=[
                elements[0], elements[1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                cst.Element(cst.Name("_"))])
        rnn, edits = self.spell(call.func, "keras.layers.RNN")
        if rnn is None:
            return
        layer = cst.Call(rnn, _commas([cst.Arg(cell), cst.Arg(cst.Name("True"), keyword=cst.Name("return_sequences"), equal=_EQ),
                                       cst.Arg(cst.Name("True"), keyword=cst.Name("return_state"), equal=_EQ)]))
        new_value = cst.Call(layer, [cst.Arg(inputs)])
        new = node.with_changes(value=new_value)
        if target is not None:
            new = new.with_changes(targets=[node.targets[0].with_changes(target=target)])
        self._skip.add(id(call.func))
        self.report(node, f"`{spelled}` fails with Keras 3 cells: use `tf.keras.layers.RNN(cell, "
                    "return_sequences=True, return_state=True)(inputs)`", new, imports=edits, at=call)

    def _kind_of(self, cell: cst.BaseExpression) -> Optional[str]:
        if isinstance(cell, cst.Call) and isinstance(cell.func, (cst.Attribute, cst.Name)):
            path = self.names.qualified_names(cell.func)
            return _kind_from_qnames(path)
        if isinstance(cell, cst.Name):
            values = self.names.bindings.others.get(cell.value, [])
            if len(values) == 1 and isinstance(values[0], cst.Call) and cell.value not in self.names.bindings.imports:
                return _kind_from_qnames(self.names.qualified_names(values[0].func))
        return None


def _kind_from_qnames(qnames) -> Optional[str]:
    for q in qnames:
        if q.startswith("tensorflow."):
            kind = cell_kind(q[len("tensorflow."):])
            if kind:
                return kind
        for keras, name in (("tensorflow.keras.layers.", None), ("keras.layers.", None)):
            if q.startswith(keras):
                rest = q[len(keras):]
                for k, (kc, _) in CELLS.items():
                    if rest == kc:
                        return k
    return None


_EQ = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))


def _commas(args: list[cst.Arg]) -> list[cst.Arg]:
    out = []
    for i, a in enumerate(args):
        out.append(a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) if i < len(args) - 1
                   else a.with_changes(comma=cst.MaybeSentinel.DEFAULT))
    return out
