"""KM356: the Keras 2 GAN recipe `discriminator.trainable = False` after compiling it, which Keras 3
reads at every training step instead of at compile time: the discriminator stops training."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from kmigrate.rule import Example, Safety, Severity
from kmigrate.rules.analysis.keras_facts import ModuleIndex
from kmigrate.rules.keras3.keras2_common import KerasRule, code_of, enclosing_line, walk


def _receiver(node) -> Optional[str]:
    """`d` / `self.discriminator` for a name or a dotted name of names; None otherwise."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute) and _receiver(node.value) is not None:
        return code_of(node)
    return None


def _method_call(node, method: str) -> Optional[str]:
    """The receiver of `<receiver>.<method>(...)`."""
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == method:
        return _receiver(node.func.value)
    return None


def _trainable_assign(stmt) -> Optional[tuple[str, str]]:
    """(receiver, value code) for a line `<receiver>.trainable = <value>`."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    a = stmt.body[0]
    if (isinstance(a, cst.Assign) and len(a.targets) == 1 and isinstance(a.targets[0].target, cst.Attribute)
            and a.targets[0].target.attr.value == "trainable"):
        receiver = _receiver(a.targets[0].target.value)
        if receiver is not None:
            return receiver, code_of(a.value)
    return None


class GanTrainableAfterCompile(KerasRule):
    """
    ## What it does
    Finds the Keras 2 GAN recipe: `discriminator.compile(...)`, then `discriminator.trainable =
    False`, then the combined model (generator + discriminator) built and compiled, and in the
    training loop `discriminator.train_on_batch(...)` and `combined.train_on_batch(...)`.

    Where both `train_on_batch` calls are lines of their own in the same loop body, and the
    combined model is compiled after the `trainable = False` line, it sets
    `discriminator.trainable = True` before the discriminator's `train_on_batch` and `False`
    before the combined model's. Elsewhere (the calls in `if` blocks or other functions, no
    combined model compiled there) it reports the discriminator's `train_on_batch`.

    ## Why is this bad
    Keras 2 read `trainable` when a model was compiled: the discriminator, compiled while
    trainable, went on training in its own `train_on_batch`, and the combined model, compiled
    after `trainable = False`, left it alone. Keras 3 (TensorFlow 2.21) reads `trainable` at
    every step, so the discriminator's own `train_on_batch` updates nothing (only a warning,
    "The model does not have any trainable weights"): the GAN trains its generator against a
    discriminator that never learns.

    ## Example
    ```python
    discriminator.compile(loss="binary_crossentropy", optimizer="adam")
    discriminator.trainable = False
    combined = Model(z, discriminator(generator(z)))
    combined.compile(loss="binary_crossentropy", optimizer="adam")
    for step in range(steps):
        d_loss = discriminator.train_on_batch(x, y)
        g_loss = combined.train_on_batch(noise, valid)
    ```
    becomes (with `--unsafe-fixes`)
    ```python
    for step in range(steps):
        discriminator.trainable = True
        d_loss = discriminator.train_on_batch(x, y)
        discriminator.trainable = False
        g_loss = combined.train_on_batch(noise, valid)
    ```

    The receivers may be names or `self.` attributes (a GAN class whose `__init__` compiles and
    whose `train` method loops), matched in the same function, or the same class for `self.`.
    Files that set the discriminator's `trainable` to anything else, or compile it again after
    `trainable = False`, are left alone.

    ## Fix safety
    Unsafe: it gives each model the trainable weights Keras 2 compiled it with (checked in
    TensorFlow: the discriminator's weights change in its own step, the combined model's step
    leaves them as they were, the generator's change), but a `BatchNormalization` layer in the
    discriminator now also runs in inference mode during the combined model's step, as
    `trainable = False` makes it do in Keras 3, and code between the two calls that reads
    `trainable` sees the new values.
    """

    code = "KM356"
    name = "gan-trainable-after-compile"
    summary = "`discriminator.trainable = False` after compiling it: Keras 3 stops training the discriminator"
    severity = Severity.ERROR
    fix_safety = Safety.UNSAFE
    requires = ("keras",)
    triggers = ("train_on_batch",)
    trigger_pattern = r"\.trainable\s*=\s*False"

    @classmethod
    def screen(cls, facts, context) -> bool:
        # by method and attribute names (no import needed)
        return "trainable" in facts.attrs and "compile" in facts.calls and "train_on_batch" in facts.calls

    VALID = [
        "from keras.models import Model\nd.trainable = False\nd.compile(loss='mse', optimizer='sgd')\n"
        "for i in range(3):\n    d.train_on_batch(x, y)\n",
        "from keras.models import Model\nd.compile(loss='mse', optimizer='sgd')\nd.trainable = False\n"
        "gan.compile(loss='mse', optimizer='sgd')\nfor i in range(3):\n    d.trainable = True\n"
        "    d.train_on_batch(x, y)\n    d.trainable = False\n    gan.train_on_batch(z, y)\n",
    ]
    INVALID = [
        Example("from keras.models import Model\nd.compile(loss='mse', optimizer='sgd')\nd.trainable = False\n"
                "gan = Model(z, d(g(z)))\ngan.compile(loss='mse', optimizer='sgd')\nfor i in range(3):\n"
                "    # discriminator step\n    d.train_on_batch(x, y)\n    gan.train_on_batch(z, y)\n",
                "from keras.models import Model\nd.compile(loss='mse', optimizer='sgd')\nd.trainable = False\n"
                "gan = Model(z, d(g(z)))\ngan.compile(loss='mse', optimizer='sgd')\nfor i in range(3):\n"
                "    # discriminator step\n    d.trainable = True\n    d.train_on_batch(x, y)\n"
                "    d.trainable = False\n    gan.train_on_batch(z, y)\n",
                {"unsafe_fixes": True}),
        Example("from keras.models import Model\nd.compile(loss='mse', optimizer='sgd')\nd.trainable = False\n"
                "gan = Model(z, d(g(z)))\ngan.compile(loss='mse', optimizer='sgd')\nfor i in range(3):\n"
                "    if i % 2:\n        d.train_on_batch(x, y)\n    gan.train_on_batch(z, y)\n"),
    ]

    def visit_Module(self, node: cst.Module) -> None:
        index = ModuleIndex.of(self)  # the module's walk, shared: parents, calls, `.trainable` nodes
        parents = index.parent
        frozen: dict[tuple, list] = {}  # (receiver, owner) -> [(block body, index of the `= False` line)]
        others: set[str] = set()  # receivers whose `trainable` is set to something else, somewhere
        seen: set[int] = set()
        for attr in index.attributes.get("trainable", ()):
            n = enclosing_line(attr, parents)
            if n is None or id(n) in seen:
                continue
            seen.add(id(n))
            found = _trainable_assign(n)
            if found is None:
                continue
            receiver, value = found
            if value != "False":
                others.add(receiver)
                continue
            block = parents.get(n)
            if not isinstance(block, (cst.Module, cst.IndentedBlock)):
                continue
            body = list(block.body)
            i = body.index(n)
            if any(_method_call(c, "compile") == receiver for stmt in body[:i] for c in walk(stmt)):
                frozen.setdefault((receiver, self._owner(n, receiver, parents)), []).append((body, i))
        if not frozen:
            return
        calls = [c for c in index.calls if _method_call(c, "train_on_batch") is not None]
        for (receiver, owner), places in frozen.items():
            if receiver in others or len(places) != 1:
                continue
            body, i = places[0]
            if any(_method_call(c, "compile") == receiver for stmt in body[i + 1:] for c in walk(stmt)):
                continue  # compiled again while frozen: Keras 2 froze it too
            combined = {r for stmt in body[i + 1:] for c in walk(stmt)
                        if (r := _method_call(c, "compile")) is not None and r != receiver}
            own = [c for c in calls if _method_call(c, "train_on_batch") == receiver
                   and self._same_object(c, receiver, owner, parents)]
            done: set = set()
            for call in own:
                loop = self._fix(call, receiver, combined, parents)
                if loop is None:
                    self.report(call, self._message(receiver) + "; set `trainable = True` before this call and "
                                "`False` before the combined model's, by hand", safety=Safety.NONE)
                elif loop[0] not in done:
                    done.add(loop[0])
                    self.report(loop[0], self._message(receiver) + f"; `{receiver}.trainable` is set to True before "
                                "its `train_on_batch` and to False before the combined model's, as Keras 2 compiled "
                                "them", loop[1], at=call)

    @staticmethod
    def _message(receiver: str) -> str:
        return (f"`{receiver}.trainable = False` after `{receiver}.compile(...)`: Keras 2 kept training it in its own "
                "`train_on_batch` (trainable was read at compile time); Keras 3 reads it at every step, so "
                f"`{receiver}` stops learning")

    @staticmethod
    def _owner(node, receiver: str, parents: dict):
        """The class (for `self.` receivers) or function (module) whose code `node` is."""
        kinds = (cst.ClassDef,) if receiver.startswith("self.") else (cst.FunctionDef, cst.Lambda, cst.ClassDef)
        p = parents.get(node)
        while p is not None and not isinstance(p, kinds):
            p = parents.get(p)
        return p

    def _same_object(self, call, receiver: str, owner, parents: dict) -> bool:
        """Whether `receiver` at `call` is the object frozen in `owner`: the same class for `self.`;
        for a name, code inside `owner` whose functions between do not bind the name themselves."""
        if receiver.startswith("self."):
            return self._owner(call, receiver, parents) is owner
        from kmigrate.rules.keras3.keras2_common import name_bindings

        functions = []
        p = parents.get(call)
        while p is not None and p is not owner:
            if isinstance(p, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                functions.append(p)
            p = parents.get(p)
        if p is not owner:
            return False
        if not functions:
            return True
        root = receiver.split(".")[0]
        for b in name_bindings(self.module).get(root, ()):
            q = parents.get(b)
            while q is not None:
                if any(q is f for f in functions):
                    return False
                q = parents.get(q)
        return True

    def _fix(self, call: cst.Call, receiver: str, combined: set, parents: dict):
        """(the loop body, its new version) when the loop body's lines train the discriminator and a
        combined model compiled after it was frozen, each on a line of its own; None otherwise."""
        line = enclosing_line(call, parents)
        block = parents.get(line) if line is not None else None
        if not isinstance(block, cst.IndentedBlock) or not isinstance(parents.get(block), (cst.For, cst.While)):
            return None
        roles = []
        for stmt in block.body:
            trained = {r for c in walk(stmt) if (r := _method_call(c, "train_on_batch")) is not None}
            trained &= combined | {receiver}
            if not trained:
                roles.append(None)
                continue
            if len(trained) != 1 or not isinstance(stmt, cst.SimpleStatementLine):
                return None
            roles.append("True" if receiver in trained else "False")
        if "False" not in roles or any(_trainable_assign(s) for s in block.body):
            return None
        new, state = [], None
        for stmt, role in zip(block.body, roles):
            if role is not None and role != state:
                toggle = cst.parse_statement(f"{receiver}.trainable = {role}\n")
                new.append(toggle.with_changes(leading_lines=stmt.leading_lines))
                stmt = stmt.with_changes(leading_lines=())
                state = role
            new.append(stmt)
        return block, block.with_changes(body=new)
