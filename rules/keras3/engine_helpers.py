"""KM350: Keras 1/2 private helpers imported from `keras.engine.*` (`slice_X`, `make_batches`),
rewritten to the plain Python they computed."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from kmigrate.rule import KERAS_OR_TF, Example, ImportEdit, Safety, Severity
from kmigrate.rules.keras3.keras2_common import (KerasRule, code_of, name_bindings, positional, pure_expression,
                                                 removal_edits, walk)
from kmigrate.rules.tables.keras2_api import ENGINE_HELPERS


def _atom(node: cst.BaseExpression) -> str:
    """`node`'s code, parenthesized unless it binds tighter than a subscript."""
    text = code_of(node)
    if isinstance(node, (cst.Name, cst.Attribute, cst.Subscript, cst.Call, cst.List, cst.Tuple)) or node.lpar:
        return text
    return f"({text})"


class KerasEngineHelpers(KerasRule):
    """
    ## What it does
    Replaces calls of the Keras 1/2 private helpers of `keras.engine.training` by the Python
    they computed: `slice_X(X, start, stop)` -> `X[start:stop]` (each array sliced when `X` is a
    list: `[x[start:stop] for x in X]`, chosen at run time with `isinstance(X, list)` as the
    helper did; a literal list is sliced element by element), `make_batches(size, batch_size)` ->
    `[(i, min(size, i + batch_size)) for i in range(0, size, batch_size)]`. The import goes
    once nothing uses it. The other private helpers are reported.

    ## Why is this bad
    `keras.engine` is gone in Keras 3 (`ModuleNotFoundError: No module named 'keras.engine'`), and
    these helpers have no public home.

    ## Example
    ```python
    from keras.engine.training import slice_X
    batch = slice_X(X_train, 0, 32)
    ```
    becomes
    ```python
    batch = (X_train[0:32] if not isinstance(X_train, list) else [x[0:32] for x in X_train])
    ```

    ## Fix safety
    Safe: the helper's own code, inlined. `slice_X(X, indices)` with one index argument that is
    not known to be an int (an index array or an int: the helper did either; `len(...)`,
    `.shape[0]` and arithmetic of them, through names bound once, are ints) and arguments that are not
    simple names or literals (evaluated more than once) are reported.
    """

    code = "KM350"
    needs_import = KERAS_OR_TF
    name = "keras-engine-helpers"
    summary = "Private `keras.engine` helpers (`slice_X`, `make_batches`) are gone; inline them"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = tuple(ENGINE_HELPERS)
    requires = ("engine",)

    VALID = ["def slice_X(x, a, b):\n    return x[a:b]\ny = slice_X(x, 0, 3)\n"]
    INVALID = [
        Example("from keras.engine.training import slice_X\nb = slice_X([xa, xb], 0, 8)\n",
                "b = [xa[0:8], xb[0:8]]\n"),
        Example("from keras.engine.training import make_batches\nfor s, e in make_batches(n, 32):\n    pass\n",
                "for s, e in [(i, min(n, i + 32)) for i in range(0, n, 32)]:\n    pass\n"),
        Example("from keras.engine.training import slice_X\nb = slice_X(X, idx)\n"),
        Example("from keras.engine.training import slice_X\nsplit_at = len(X) - len(X) // 10\nv = slice_X(X, split_at)\n",
                "split_at = len(X) - len(X) // 10\nv = (X[split_at:] if not isinstance(X, list) else [x[split_at:] for x in X])\n"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else None
        if name not in ENGINE_HELPERS:
            return
        k = self.kname(func)
        if k is None:
            return
        message = f"`{name}` was a private helper of `keras.engine.training`, gone in Keras 3"
        new = self._inline(name, node)
        if new is None:
            self.report(node, message + f"; inline it by hand ({ENGINE_HELPERS[name]})")
            return
        imports = []
        if isinstance(func, cst.Name):
            q = self.names.import_name(func.value)
            if q:
                module, _, obj = q.rpartition(".")
                imports.extend(removal_edits(module, obj, func.value if func.value != obj else None))
        self.report(node, message + "; inlined", new, imports=imports)

    def _int_valued(self, node: cst.BaseExpression, depth: int = 0) -> bool:
        """An expression that is an int, not an index array: literals, `len(...)`, `.shape[i]`,
        `int(...)`, arithmetic of those, and names bound once to one (`split_at = len(X) - len(X) // 10`)."""
        if depth > 4:
            return False
        if isinstance(node, cst.Integer):
            return True
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
            return self._int_valued(node.expression, depth + 1)
        if isinstance(node, cst.BinaryOperation) and isinstance(
                node.operator, (cst.Add, cst.Subtract, cst.Multiply, cst.FloorDivide, cst.Modulo)):
            return self._int_valued(node.left, depth + 1) and self._int_valued(node.right, depth + 1)
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in ("len", "int"):
            return True
        if (isinstance(node, cst.Subscript) and isinstance(node.value, cst.Attribute)
                and node.value.attr.value == "shape" and len(node.slice) == 1
                and isinstance(node.slice[0].slice, cst.Index) and isinstance(node.slice[0].slice.value, cst.Integer)):
            return True
        if isinstance(node, cst.Name):
            found = self.assignments().get(node.value)
            return found is not None and self._int_valued(found, depth + 1)
        return False

    def assignments(self) -> dict[str, cst.BaseExpression]:
        """Names bound exactly once in the file, by a plain `name = value`: name -> value."""
        found = self.__dict__.get("_assignments")
        if found is None:
            bound = name_bindings(self.module)
            found = self._assignments = {}
            for n in walk(self.module):
                if isinstance(n, cst.Assign) and len(n.targets) == 1 and isinstance(n.targets[0].target, cst.Name):
                    name = n.targets[0].target.value
                    if len(bound.get(name, ())) == 1:
                        found[name] = n.value
        return found

    def _inline(self, name: str, node: cst.Call) -> Optional[cst.BaseExpression]:
        if any(a.star for a in node.args):
            return None
        args = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        pos = positional(node)
        taken = {n.value for n in walk(self.module) if isinstance(n, cst.Name)}
        var = next((v for v in ("x", "array", "x_", "_x") if v not in taken), None)
        if name == "slice_X":
            order = ("X", "start", "stop")
            for i, a in enumerate(pos):
                if i < len(order):
                    args.setdefault(order[i], a.value)
            X, start, stop = args.get("X"), args.get("start"), args.get("stop")
            if X is None or len(pos) + len([a for a in node.args if a.keyword]) > 3:
                return None
            if stop is None and not (start is None or self._int_valued(start)):
                return None  # an index array or an int: the helper did either
            for v in (start, stop):
                if v is not None and not pure_expression(v):
                    return None
            sl = f"{code_of(start) if start is not None else ''}:{code_of(stop) if stop is not None else ''}"
            if isinstance(X, (cst.List, cst.Tuple)):
                if any(isinstance(e, cst.StarredElement) for e in X.elements):
                    return None
                return cst.parse_expression("[" + ", ".join(f"{_atom(e.value)}[{sl}]" for e in X.elements) + "]")
            if not pure_expression(X) or var is None:
                return None
            xs = code_of(X)
            return cst.parse_expression(f"({xs}[{sl}] if not isinstance({xs}, list) else [{var}[{sl}] for {var} in {xs}])")
        if name == "make_batches":
            order = ("size", "batch_size")
            for i, a in enumerate(pos):
                if i < len(order):
                    args.setdefault(order[i], a.value)
            size, batch = args.get("size"), args.get("batch_size")
            if size is None or batch is None or not pure_expression(size) or not pure_expression(batch) or len(node.args) != 2:
                return None
            i = next((v for v in ("i", "start", "i_") if v not in taken), None)
            if i is None:
                return None
            s, b = code_of(size), code_of(batch)
            return cst.parse_expression(f"[({i}, min({s}, {i} + {b})) for {i} in range(0, {s}, {b})]")
        return None
