"""KM347: Keras 1's `K.image_dim_ordering()` ('th'/'tf') and `K.set_image_dim_ordering()`, rewritten
to `image_data_format()` ('channels_first'/'channels_last') wherever the value can be followed."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from kmigrate.rule import KERAS_OR_TF, Example, Safety, Severity
from kmigrate.rules.keras3.keras2_common import (
    KerasRule, name_bindings, name_loads, positional, string_literal, walk,
)
from kmigrate.rules.analysis.keras_facts import ModuleIndex
from kmigrate.rules.tables.keras1_layers import DIM_ORDERING_VALUES

GET_OLD = "backend.image_dim_ordering"
GET_NEW = "backend.image_data_format"
SET_OLD = "backend.set_image_dim_ordering"
# What the old getter returned -> what the new one returns.
VALUES = {k: v for k, v in DIM_ORDERING_VALUES.items() if v is not None}
NEW_VALUES = frozenset(VALUES.values())


def ordering_names(rule: KerasRule, module: cst.Module) -> dict[str, cst.Call]:
    """Names bound exactly once in the file, to `K.image_dim_ordering()` or `K.image_data_format()`
    (the call they hold). KM306 turns `dim_ordering=<such a name>` into `data_format=<name>`."""
    out = {}
    bindings = name_bindings(module)
    for n in walk(module):
        if (isinstance(n, cst.Assign) and len(n.targets) == 1 and isinstance(n.targets[0].target, cst.Name)
                and _getter(rule, n.value)):
            name = n.targets[0].target.value
            if len(bindings.get(name, ())) == 1:
                out[name] = n.value
    return out


def _getter(rule: KerasRule, node: cst.BaseExpression) -> Optional[str]:
    """'old'/'new' for a call `K.image_dim_ordering()` / `K.image_data_format()` without arguments."""
    if isinstance(node, cst.Call) and not node.args and isinstance(node.func, cst.Attribute):
        k = rule.kname(node.func)
        if k == GET_OLD:
            return "old"
        if k == GET_NEW:
            return "new"
    return None


def _renamed(call: cst.Call) -> cst.Call:
    return call.with_changes(func=call.func.with_changes(attr=cst.Name("image_data_format")))


class ImageDimOrdering(KerasRule):
    """
    ## What it does
    Rewrites Keras 1's `K.image_dim_ordering()` to `K.image_data_format()` together with the
    values it is compared with (`'th'` -> `'channels_first'`, `'tf'` -> `'channels_last'`): in
    `==`/`!=` comparisons, `in`/`not in` a tuple or list of literals, `if`/`else` and ternaries,
    and through a name the value is assigned to (`ordering = K.image_dim_ordering()` then
    `if ordering == 'th'`, or `dim_ordering=ordering`, which KM306 makes `data_format=ordering`).
    `K.set_image_dim_ordering('th')` becomes `K.set_image_data_format('channels_first')`.

    ## Why is this bad
    Both functions are gone from Keras 3 (`AttributeError: module 'keras.api.backend' has no
    attribute 'image_dim_ordering'`), and the replacement returns other strings: renaming the
    call alone would make every `== 'th'` silently false.

    ## Example
    ```python
    if K.image_dim_ordering() == 'th':
        shape = (3, 32, 32)
    ```
    becomes
    ```python
    if K.image_data_format() == 'channels_first':
        shape = (3, 32, 32)
    ```

    ## Fix safety
    Safe: the same test on the same setting. A value that flows somewhere the file does not show
    (returned, passed to a function, compared with a non-literal, a name bound more than once) is
    reported, and none of its uses is rewritten.
    """

    code = "KM347"
    needs_import = KERAS_OR_TF
    name = "image-dim-ordering"
    summary = "`K.image_dim_ordering()`/`set_image_dim_ordering()` ('th'/'tf') are gone; use `image_data_format()`"
    severity = Severity.ERROR
    fix_safety = Safety.SAFE
    triggers = ("dim_ordering",)
    requires = ("keras",)

    VALID = [
        "from keras import backend as K\nif K.image_data_format() == 'channels_first':\n    pass\n",
        "def image_dim_ordering():\n    return 'th'\nx = image_dim_ordering() == 'th'\n",
    ]
    INVALID = [
        Example("from keras import backend as K\nif K.image_dim_ordering() == 'th':\n    axis = 1\n",
                "from keras import backend as K\nif K.image_data_format() == 'channels_first':\n    axis = 1\n"),
        Example("from keras import backend as K\naxis = 1 if K.image_dim_ordering() != \"tf\" else -1\n",
                "from keras import backend as K\naxis = 1 if K.image_data_format() != \"channels_last\" else -1\n"),
        Example("import keras.backend as K\no = K.image_dim_ordering()\nchannels_first = o in ('th',)\n",
                "import keras.backend as K\no = K.image_data_format()\nchannels_first = o in ('channels_first',)\n"),
        Example("from keras import backend as K\nK.set_image_dim_ordering('th')\n",
                "from keras import backend as K\nK.set_image_data_format('channels_first')\n"),
        Example("from keras import backend as K\nprint(K.image_dim_ordering())\n"),
    ]

    def visit_Module(self, node: cst.Module) -> None:
        index = ModuleIndex.of(self)  # the module's walk, shared: its calls and parent map
        calls = [n for n in index.calls if isinstance(n.func, cst.Attribute)
                 and n.func.attr.value in ("image_dim_ordering", "image_data_format", "set_image_dim_ordering")]
        if not calls:
            return
        parents = index.parent
        bindings = None
        done: set[int] = set()
        for call in calls:
            k = self.kname(call.func)
            if k == SET_OLD:
                self._setter(call)
                continue
            kind = _getter(self, call)
            if kind is None or id(call) in done:
                continue
            parent = parents.get(call)
            if isinstance(parent, cst.Comparison):
                fix = self._comparison(parent, kind)
                if fix is True:
                    continue
                if fix is not None:
                    self.report(parent, self._message(), fix)
                elif kind == "old":
                    self.report(call, self._message() + "; it is compared with something other than 'th'/'tf': "
                                "rewrite by hand")
                continue
            if isinstance(parent, cst.Arg) and parent.keyword is not None and parent.keyword.value == "dim_ordering":
                continue  # KM306: dim_ordering=K.image_dim_ordering() -> data_format=K.image_data_format()
            if isinstance(parent, cst.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name):
                if bindings is None:
                    bindings = name_bindings(node)
                name = parent.targets[0].target.value
                if len(bindings.get(name, ())) == 1:
                    if self._through_name(node, parents, call, name, kind):
                        continue
            if kind == "old":
                self.report(call, self._message() + "; its value goes where kmigrate cannot follow it: "
                            "map the values by hand ('th' -> 'channels_first', 'tf' -> 'channels_last')")

    @staticmethod
    def _message() -> str:
        return ("`image_dim_ordering()` is gone from Keras 3: `image_data_format()` returns "
                "'channels_first'/'channels_last' where it returned 'th'/'tf'")

    def _literal(self, node: cst.BaseExpression):
        """The mapped literal for a 'th'/'tf' string, True for an already new value, None otherwise."""
        if isinstance(node, cst.SimpleString):
            value = node.evaluated_value
            if value in VALUES:
                return string_literal(VALUES[value], like=node)
            if value in NEW_VALUES:
                return True
        return None

    def _mapped_operand(self, node: cst.BaseExpression):
        """(new node, changed) for the non-getter side of a comparison, or None if not literal."""
        m = self._literal(node)
        if m is True:
            return node, False
        if m is not None:
            return m, True
        if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
            elements, changed = [], False
            for e in node.elements:
                if isinstance(e, cst.StarredElement):
                    return None
                m = self._literal(e.value)
                if m is None:
                    return None
                if m is not True:
                    changed = True
                    e = e.with_changes(value=m)
                elements.append(e)
            return node.with_changes(elements=elements), changed
        return None

    def _comparison(self, comp: cst.Comparison, kind: str, getter: Optional[cst.BaseExpression] = None):
        """The rewritten comparison; True when nothing needs to change; None when it cannot be done.

        `getter`: the node holding the value (the call, or a name bound to it)."""
        operands = [comp.left] + [t.comparator for t in comp.comparisons]
        if len(operands) != 2:
            return None
        getter = getter if getter is not None else next(
            (o for o in operands if isinstance(o, cst.Call) and _getter(self, o)), None)
        if getter is None:
            return None
        other = operands[1] if operands[0] is getter else operands[0]
        op = comp.comparisons[0].operator
        if not isinstance(op, (cst.Equal, cst.NotEqual, cst.In, cst.NotIn)):
            return None
        if isinstance(op, (cst.In, cst.NotIn)) and other is not operands[1]:
            return None
        mapped = self._mapped_operand(other)
        if mapped is None:
            return None
        new_other, changed = mapped
        new_getter = _renamed(getter) if isinstance(getter, cst.Call) and kind == "old" else getter
        if not changed and new_getter is getter:
            return True
        if operands[0] is getter:
            return comp.with_changes(left=new_getter, comparisons=[comp.comparisons[0].with_changes(comparator=new_other)])
        return comp.with_changes(left=new_other, comparisons=[comp.comparisons[0].with_changes(comparator=new_getter)])

    def _through_name(self, module, parents, call: cst.Call, name: str, kind: str) -> bool:
        """Rewrite the binding and every use of `name`; False (nothing reported) when a use cannot be followed."""
        fixes = []
        for load in name_loads(module, parents, name):
            parent = parents.get(load)
            if isinstance(parent, cst.Comparison):
                fix = self._comparison(parent, kind, getter=load)
                if fix is None:
                    return False
                if fix is not True:
                    fixes.append((parent, fix))
            elif isinstance(parent, cst.Arg) and parent.keyword is not None and parent.keyword.value in (
                    "dim_ordering", "data_format"):
                continue  # KM306 maps dim_ordering=<name> to data_format=<name>
            else:
                return False
        if kind == "old":
            self.report(call, self._message(), _renamed(call))
        for comp, fix in fixes:
            self.report(comp, f"`{name}` holds `image_data_format()` (was `image_dim_ordering()`): compare it "
                        "with 'channels_first'/'channels_last'", fix)
        return True

    def _setter(self, call: cst.Call) -> None:
        pos = positional(call)
        message = "`set_image_dim_ordering()` is gone from Keras 3; use `set_image_data_format()`"
        if len(call.args) == 1 and len(pos) == 1 and isinstance(pos[0].value, cst.SimpleString):
            value = pos[0].value.evaluated_value
            if value in VALUES:
                new = call.with_changes(func=call.func.with_changes(attr=cst.Name("set_image_data_format")),
                                        args=[pos[0].with_changes(value=string_literal(VALUES[value], like=pos[0].value))])
                self.report(call, message + f" ('{value}' is '{VALUES[value]}')", new)
                return
        self.report(call, message + " with 'channels_first' ('th') or 'channels_last' ('tf'): rewrite by hand")
