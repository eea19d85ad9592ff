"""KM513: `def call(self, input)` shadows the builtin `input` in a Keras Layer/Model subclass."""
from __future__ import annotations

import libcst as cst

from kmigrate.rule import KERAS_OR_TF, Example, Rule, Safety, Severity

from kmigrate.rules.analysis.model_facts import SCOPE_NODES, ModuleFacts, walk


class CallShadowsInput(Rule):
    """
    ## What it does
    Finds the `call` method of a Keras `Layer` or `Model` subclass (the base class must be
    visible in the file) whose parameter is named `input`, as in the course's LeNet:
    `def call(self, input):`.

    ## Why is this bad
    `input` is a Python builtin; the parameter hides it inside the method, and readers (and
    linters) stumble over it. Keras itself calls the first argument `inputs`, as do its
    documentation and error messages. It is a style issue (info level), not a failure.

    ## Example
    ```python
    class LeNet(tf.keras.Model):
        def call(self, input):
            x = self.conv2d_1(input)
    ```
    becomes, with `--unsafe-fixes`,
    ```python
    class LeNet(tf.keras.Model):
        def call(self, inputs):
            x = self.conv2d_1(inputs)
    ```

    ## Fix safety
    Unsafe: the parameter and its uses in the method are renamed to `inputs`, which breaks a
    caller that passes it by keyword (`layer(input=x)`). No fix is offered when `inputs` is
    already used in the method or when a nested function or class also uses `input`.
    """

    code = "KM513"
    name = "call-shadows-input"
    summary = "`call(self, input)` shadows the builtin `input`; name it `inputs`"
    severity = Severity.INFO
    fix_safety = Safety.UNSAFE
    triggers = ("def call",)  # and `keras` (wants)
    needs_import = KERAS_OR_TF

    @classmethod
    def screen(cls, facts, context) -> bool:
        # a method `call` with a parameter `input`
        return "call" in facts.functions and "input" in facts.local

    @classmethod
    def wants(cls, context) -> bool:
        return super().wants(context) and "keras" in context.text

    VALID = [
        "import tensorflow as tf\nclass M(tf.keras.Model):\n    def call(self, inputs):\n        return inputs\n",
        # not a Keras class (its base is not visible as one)
        "import keras\nfrom mylib import Base\nclass M(Base):\n    def call(self, input):\n        return input\n",
        # another method
        "import keras\nclass L(keras.layers.Layer):\n    def build(self, input):\n        pass\n",
    ]
    INVALID = [
        Example("import tensorflow as tf\nclass M(tf.keras.Model):\n    def call(self, input, training=None):\n"
                "        x = self.d(input)\n        return x.input + f(input=input)\n",
                "import tensorflow as tf\nclass M(tf.keras.Model):\n    def call(self, inputs, training=None):\n"
                "        x = self.d(inputs)\n        return x.input + f(input=inputs)\n",
                {"unsafe_fixes": True}),
        # `inputs` already taken: reported, not renamed
        Example("import keras\nclass L(keras.layers.Layer):\n    def call(self, input):\n"
                "        inputs = [input]\n        return inputs\n", options={"unsafe_fixes": True}),
    ]

    def visit_Module(self, node: cst.Module) -> None:
        facts = ModuleFacts.of(self)
        for klass in facts.classes.values():
            if klass.kind is None:
                continue
            method = klass.methods.get("call")
            if method is None:
                continue
            params = method.params
            names = [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]
            if "input" not in names:
                continue
            fix = _renamed(method)
            self.report(
                method,
                f"`{klass.name}.call` names its parameter `input`, which shadows the Python builtin "
                f"`input()`; name it `inputs`, as Keras does",
                fix,
            )


def _renamed(method: cst.FunctionDef):
    """The method with `input` renamed to `inputs`, or None when that is not clearly safe."""
    for n in walk(method, into_scopes=True):
        if isinstance(n, cst.Name) and n.value == "inputs":
            return None
        if isinstance(n, SCOPE_NODES) and any(isinstance(x, cst.Name) and x.value == "input"
                                              for x in walk(n, into_scopes=True)):
            return None
        if isinstance(n, (cst.Global, cst.Nonlocal)):
            return None
    return method.visit(_Rename())


class _Rename(cst.CSTTransformer):
    def leave_Attribute(self, original_node, updated_node):
        return updated_node.with_changes(attr=original_node.attr)  # `x.input` stays

    def leave_Arg(self, original_node, updated_node):
        return updated_node.with_changes(keyword=original_node.keyword)  # `f(input=...)` stays

    def leave_Name(self, original_node, updated_node):
        return updated_node.with_changes(value="inputs") if original_node.value == "input" else updated_node
