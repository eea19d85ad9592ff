"""KM524: a name read in `call()` or in a model-building function that no scope binds."""
from __future__ import annotations

import ast
import builtins
from typing import Iterator, Optional

import libcst as cst

from kmigrate.rule import KERAS_OR_TF, Rule, Safety, Severity
from kmigrate.walk import code_children

from kmigrate.rules.analysis.keras_facts import ModuleIndex
from kmigrate.rules.analysis.shape_program import _assigned_names
from kmigrate.rules.lint import push_children, statements, statements_in

_BUILTINS = frozenset(dir(builtins)) | {
    "__file__", "__name__", "__doc__", "__spec__", "__loader__", "__package__", "__builtins__", "__path__",
    "__class__", "__annotations__", "__debug__",
    # IPython / Jupyter (notebook cells run there)
    "display", "get_ipython", "In", "Out", "exit", "quit",
}
# Calls that can bind names the file does not show: the rule stays silent on such files.
_DYNAMIC = frozenset({"globals", "locals", "vars", "exec", "eval", "execfile", "__import__"})
_MODEL_CTORS = frozenset({"Sequential", "models.Sequential", "Model", "models.Model", "Input", "layers.Input"})
_CTOR_NAMES = frozenset(c.rpartition(".")[2] for c in _MODEL_CTORS)
_MODEL_BASES = frozenset({"Model", "models.Model", "Sequential", "models.Sequential"})
_MODEL_METHODS = ("call", "build", "__init__")
# Arguments Keras gives `call()` by keyword when its signature has them (Layer.__call__)
_CALL_ARGS = frozenset({"training", "mask"})
_SKIP_PARENT_FIELDS = {
    cst.Attribute: "attr", cst.Arg: "keyword", cst.Param: "name", cst.FunctionDef: "name",
    cst.ClassDef: "name", cst.ImportAlias: "name", cst.AsName: "name", cst.NameItem: "name",
}


class UndefinedNameInModel(Rule):
    """
    ## What it does
    In `call()`, `build()` and `__init__()` of a Keras `Model`/`Layer` subclass, and in any
    function that builds a model (it calls `Sequential`, `Model` or `Input`), reports a name
    that is read but bound by no scope Python would look in: not a parameter or local of the
    function, not a name of an enclosing function, not bound at module level (assignment,
    import, `def`, `class`, `for`, `with`, `global` anywhere), and not a builtin. Names of a class
    body are not visible in its methods, and are not counted. A file with `import *`,
    `globals()`, `exec` or `eval` is skipped: it can bind names the text does not show.

    ## Why is this bad
    Python raises `NameError` the first time the code runs: on the first call of the model
    (`h = self.right(hidden)` where nothing defines `hidden`), or when the builder runs, often
    after minutes of data loading. KM501 covers a local read before its assignment; this is a
    name that nothing binds at all (a renamed variable, a constructor argument used in `call()`
    without `self.`). `training` or `mask` read in `call()` without being parameters is reported
    at the `def`: Keras passes them only to a `call()` that declares them.

    ## Example
    ```python
    class Net(keras.Model):
        def __init__(self, num_classes):
            super().__init__()
            self.hidden = layers.Dense(64, activation="relu")
            self.out = layers.Dense(num_classes)

        def call(self, inputs):
            h = self.hidden(inputs)
            return self.out(hiden)      # KM524: `hiden` is bound nowhere
    ```

    ## Fix safety
    No fix: which name was meant is for the author to say.
    """

    code = "KM524"
    name = "undefined-name-in-model"
    summary = "A name read in `call()` or a model-building function that no scope binds (NameError)"
    severity = Severity.ERROR
    fix_safety = Safety.NONE
    triggers = ("def ",)
    requires = ("keras",)
    needs_import = KERAS_OR_TF

    @classmethod
    def screen(cls, facts, context) -> bool:
        # a name read in `call`/`build`/`__init__` of a class with a base, or in a function that
        # calls `Sequential`/`Model`/`Input`, that the names bound for it (as the rule counts them) lack
        return not facts.star and _unbound_read(facts.tree, not facts.calls.isdisjoint(_CTOR_NAMES))

    VALID = [
        "from tensorflow import keras\nfrom tensorflow.keras import layers\nUNITS = 8\n"
        "class M(keras.Model):\n    def __init__(self, n):\n        super().__init__()\n"
        "        self.d = layers.Dense(n)\n    def call(self, inputs):\n        return self.d(inputs) * UNITS\n",
        # a name defined later at module level is bound when the function runs
        "from tensorflow import keras\ndef build():\n    return keras.Sequential([keras.layers.Dense(units)])\n"
        "units = 4\nmodel = build()\n",
        # star imports may bind anything
        "from tensorflow import keras\nfrom helpers import *\ndef build():\n"
        "    return keras.Sequential([keras.layers.Dense(units)])\n",
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "class M(keras.Model):\n    def __init__(self):\n        super().__init__()\n"
        "        self.drop = layers.Dropout(0.5)\n    def call(self, inputs, training=None):\n"
        "        return self.drop(inputs, training=training)\n",
    ]
    INVALID = [
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "class M(keras.Model):\n    def __init__(self):\n        super().__init__()\n"
        "        self.left = layers.Dense(8)\n        self.right = layers.Dense(1)\n"
        "    def call(self, inputs):\n        x = self.left(inputs)\n        return self.right(hidden)\n",
        # a constructor argument used in call() without self.
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "class M(keras.Model):\n    def __init__(self, num_classes):\n        super().__init__()\n"
        "        self.d = layers.Dense(8)\n    def call(self, inputs):\n"
        "        return layers.Dense(num_classes)(self.d(inputs))\n",
        "import keras\ndef build_model():\n    model = keras.Sequential()\n"
        "    model.add(keras.layers.Dense(64, input_dim=input_dim))\n    return model\n",
        # `training` used but not declared: Keras passes it only to a call() that has it
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "class M(keras.Model):\n    def __init__(self):\n        super().__init__()\n"
        "        self.drop = layers.Dropout(0.5)\n    def call(self, inputs):\n"
        "        return self.drop(inputs, training=training)\n",
    ]

    def visit_Module(self, node: cst.Module) -> None:
        index = ModuleIndex.of(self)  # the module's walk, shared with the other lint rules
        if index.star_import or index.template_sets:
            return  # `from x import *`; `{{uniform(0, 1)}}`: a template (hyperas) filled in before it runs
        parents = index.parent
        functions = index.functions[::-1]  # the order of a walk of its own (last first)
        classes = index.classes[::-1]
        names_called = {n.func.value for n in index.calls if isinstance(n.func, cst.Name)}
        if names_called & _DYNAMIC or not functions:
            return
        walrus = index.named_exprs > 0  # no `:=` in the file: the binding scans skip expressions
        module_names = _module_bindings(node, walrus)
        for n in parents:  # `global x` in a function binds x at module level
            if type(n) is cst.Global:
                module_names.update(a.name.value for a in n.names)
        targets = self._targets(functions, classes, parents, index.calls)
        for fn, what in targets:
            visible = set(module_names)
            p = parents.get(fn)
            while p is not None:
                if isinstance(p, (cst.FunctionDef, cst.Lambda)):
                    visible |= _function_bindings(p, walrus)
                p = parents.get(p)
            names, bound = _scan(fn, walrus)
            visible |= bound
            seen: set[str] = set()
            for name in names:
                v = name.value
                if v in visible or v in _BUILTINS or v in seen or not _is_read(name, parents, fn):
                    continue
                seen.add(v)
                if v in _CALL_ARGS and fn.name.value == "call" and what.startswith("`call()`"):
                    self.report(fn.name, f"`{v}` is read in {what} (line {self._line(name)}) but is not a parameter: "
                                         f"Keras passes `{v}` to `call()` only when its signature declares it; "
                                         f"add `{v}=None` to `def call(...)` (NameError the first time it runs)")
                    continue
                self.report(name, f"`{v}` is read in {what} but nothing binds it (not a parameter or local, "
                                  f"not an enclosing or module-level name, an import or a builtin): "
                                  f"NameError the first time it runs")

    def _line(self, node) -> str:
        from libcst.metadata import PositionProvider

        try:
            return str(self.get_metadata(PositionProvider, node).start.line)
        except Exception:
            return "?"

    def _targets(self, functions, classes, parents, calls) -> list[tuple[cst.FunctionDef, str]]:
        keras_classes: dict[str, cst.ClassDef] = {}
        by_name = {c.name.value: c for c in classes}
        changed = True
        while changed:
            changed = False
            for c in classes:
                if c.name.value in keras_classes:
                    continue
                for b in c.bases:
                    if b.keyword is not None:
                        continue
                    k = self.resolver.keras_name(b.value)
                    local = b.value.value if isinstance(b.value, cst.Name) else None
                    if (k is not None and (k in _MODEL_BASES or k.startswith("layers."))) or (
                            local in keras_classes and by_name.get(local) is not c):
                        keras_classes[c.name.value] = c
                        changed = True
                        break
        out = []
        keras_nodes = set(map(id, keras_classes.values()))
        builders = self._builders(calls, parents)
        for fn in functions:
            owner = parents.get(parents.get(fn))  # IndentedBlock -> ClassDef
            if isinstance(owner, cst.ClassDef) and id(owner) in keras_nodes and fn.name.value in _MODEL_METHODS:
                out.append((fn, f"`{fn.name.value}()` of `{owner.name.value}`"))
            elif id(fn) in builders:
                out.append((fn, f"`{fn.name.value}()`, which builds a model,"))
        return out

    def _builders(self, calls, parents) -> set[int]:
        """ids of the functions whose own body (nested functions and classes apart) calls
        `Sequential`, `Model` or `Input`: found from the module's calls, not by walking each function."""
        out: set[int] = set()
        for call in calls:
            func = call.func
            last = func.value if type(func) is cst.Name else func.attr.value if type(func) is cst.Attribute else None
            if last not in _CTOR_NAMES or self.resolver.keras_name(func) not in _MODEL_CTORS:
                continue
            child, p = call, parents.get(call)
            while p is not None and type(p) not in (cst.FunctionDef, cst.ClassDef):
                child, p = p, parents.get(p)
            if type(p) is cst.FunctionDef and child is p.body:  # not a default or a decorator
                out.add(id(p))
        return out


def _own(fn: cst.FunctionDef, in_order: bool = False) -> Iterator[cst.CSTNode]:
    """The nodes of a function's body, nested functions and classes not entered (in source
    order when `in_order`: depth first, each node before its children)."""
    stack = code_children(fn.body)
    if in_order:
        stack.reverse()
    while stack:
        n = stack.pop()
        yield n
        if type(n) in (cst.FunctionDef, cst.ClassDef):
            continue
        kids = code_children(n)
        if in_order:
            kids.reverse()
        stack.extend(kids)


def _function_bindings(fn, walrus: bool = True) -> set[str]:
    return _scan(fn, walrus)[1]


def _scan(fn, walrus: bool = True) -> tuple[list[cst.Name], set[str]]:
    """One walk over a function's own body: its names in source order (those under an import
    left out) and the names it binds (parameters, assignments, and lambda parameters and
    comprehension targets: their own scopes, over-approximated)."""
    params = fn.params
    out = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            out.add(star.name.value)
    if isinstance(fn, cst.Lambda):
        return [], out
    out |= _assigned_names(fn.body, walrus)
    names: list[cst.Name] = []
    skip_under: set[int] = set()
    for n in _own(fn, in_order=True):
        kind = type(n)
        if kind is cst.Name:
            if id(n) not in skip_under:
                names.append(n)
        elif kind is cst.Lambda:
            out |= _function_bindings(n, walrus)
        elif kind is cst.CompFor:
            for m in _all(n.target):
                if type(m) is cst.Name:
                    out.add(m.value)
        elif kind is cst.Import or kind is cst.ImportFrom:
            skip_under.update(id(m) for m in _all(n))
    return names, out


def _module_bindings(module: cst.Module, walrus: bool = True) -> set[str]:
    out: set[str] = set()
    for stmt in module.body:
        out |= _assigned_names(stmt, walrus)
    return out


def _is_read(n: cst.Name, parents: dict, fn: cst.FunctionDef) -> bool:
    """A name of the function's body (`_scan`) that is read: not an attribute's or keyword's
    name, not in an annotation, not guarded by `except NameError`."""
    p = parents.get(n)
    skip = _SKIP_PARENT_FIELDS.get(type(p))
    if skip is not None and getattr(p, skip, None) is n:
        return False
    return not (_in_annotation(n, parents, fn) or _guarded(n, parents, fn))


def _all(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(code_children(n))


def _guarded(n: cst.CSTNode, parents: dict, stop: cst.CSTNode) -> bool:
    """Inside `try:` with `except NameError` (or a bare `except`): the code expects it."""
    child, p = n, parents.get(n)
    while p is not None and p is not stop:
        if type(p) is cst.Try and child is p.body:
            for h in p.handlers:
                if h.type is None or any(type(m) is cst.Name and m.value in ("NameError", "Exception",
                                                                           "BaseException")
                                         for m in _all(h.type)):
                    return True
        child, p = p, parents.get(p)
    return False


def _in_annotation(n: cst.CSTNode, parents: dict, stop: cst.CSTNode) -> bool:
    p: Optional[cst.CSTNode] = parents.get(n)
    while p is not None and p is not stop:
        if type(p) is cst.Annotation:
            return True
        p = parents.get(p)
    return False


# ---------------------------------------------------------------------------- screen (`ast`)
# What visit_Module reads, from the `ast` tree: the names of each function it checks (all of
# them, not only those it finds read), against fewer bindings than it counts (no `:=`, no
# enclosing lambda): a name it reports is one of these.

_AST_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
_AST_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _unbound_read(tree: ast.Module, builders: bool) -> bool:
    """Whether some function the rule checks reads a name bound nowhere it looks. `builders`:
    the file calls `Sequential`, `Model` or `Input` (else only methods are checked)."""
    module = _ast_bindings(tree.body, set())
    for s in statements(tree):
        if type(s) is ast.Global:  # `global x` in a function binds x at module level
            module.update(s.names)
    module |= _BUILTINS
    own: dict = {}  # function -> the names it binds (parameters, assignments...)

    def bindings(fn) -> set:
        found = own.get(fn)
        if found is None:
            found = own[fn] = _ast_bindings(fn.body, _ast_params(fn.args, set()))
        return found

    todo: list = [(tree.body, (), False)]  # (block, its enclosing functions, a class body with bases)
    while todo:
        body, enclosing, keras_class = todo.pop()
        for s in _block_statements(body):
            kind = type(s)
            if kind is ast.ClassDef:
                todo.append((s.body, enclosing, bool(s.bases)))  # a class's own names are not visible in its methods
            elif kind in _AST_DEFS:
                target = keras_class and s.name in _MODEL_METHODS and any(s is x for x in body)
                if target or builders:
                    names, calls, bound = _own_names(s)
                    if target or not calls.isdisjoint(_CTOR_NAMES):
                        names -= module
                        names -= bindings(s)
                        names -= bound
                        for f in enclosing:
                            names -= bindings(f)
                        if names:
                            return True
                todo.append((s.body, (*enclosing, s), False))
    return False


def _block_statements(body: list) -> list:
    """The statements of a block and of the blocks of its compound statements (defs and classes
    are listed, not entered)."""
    return statements_in(body, _AST_SCOPES)


def _ast_bindings(body: list, out: set) -> set:
    """`_assigned_names` of the block, on `ast` (without `:=`)."""
    for s in _block_statements(body):
        kind = type(s)
        if kind is ast.Assign or kind is ast.Delete:
            for t in s.targets:
                _ast_targets(t, out)
        elif kind is ast.AugAssign or kind is ast.AnnAssign or kind is ast.For or kind is ast.AsyncFor:
            _ast_targets(s.target, out)
        elif kind is ast.With or kind is ast.AsyncWith:
            for item in s.items:
                if item.optional_vars is not None:
                    _ast_targets(item.optional_vars, out)
        elif kind in _AST_SCOPES:
            out.add(s.name)
        elif kind is ast.Import:
            out.update(a.asname or a.name.split(".")[0] for a in s.names)
        elif kind is ast.ImportFrom:
            out.update(a.asname or a.name for a in s.names if a.name != "*")
        elif kind is ast.Global or kind is ast.Nonlocal:
            out.update(s.names)
        elif kind is ast.Try or kind.__name__ == "TryStar":
            out.update(h.name for h in s.handlers if h.name)
        elif kind.__name__ == "Match":
            for case in s.cases:
                for p in ast.walk(case.pattern):
                    name = getattr(p, "name", None) or getattr(p, "rest", None)
                    if type(name) is str:
                        out.add(name)
    return out


def _ast_targets(t: ast.AST, out: set) -> None:
    kind = type(t)
    if kind is ast.Name:
        out.add(t.id)
    elif kind is ast.Tuple or kind is ast.List:
        for el in t.elts:
            _ast_targets(el, out)
    elif kind is ast.Starred:
        _ast_targets(t.value, out)


def _ast_params(args: ast.arguments, out: set) -> set:
    out.update(a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs))
    for star in (args.vararg, args.kwarg):
        if star is not None:
            out.add(star.arg)
    return out


def _own_names(fn) -> tuple[set, set, set]:
    """The names of a function's body (nested defs and classes not entered), the last words of its
    callees, and the parameters of its lambdas and its comprehension targets."""
    names: set = set()
    calls: set = set()
    bound: set = set()
    stack: list = list(fn.body)
    Name, Call, Attribute = ast.Name, ast.Call, ast.Attribute
    while stack:
        n = stack.pop()
        kind = type(n)
        if kind is Name:
            names.add(n.id)
            continue
        if kind in _AST_SCOPES or kind is ast.Import or kind is ast.ImportFrom:
            continue
        if kind is Call:
            f = n.func
            calls.add(f.id if type(f) is Name else f.attr if type(f) is Attribute else "")
        elif kind is ast.Lambda:
            _ast_params(n.args, bound)
        elif kind is ast.comprehension:
            bound.update(m.id for m in ast.walk(n.target) if type(m) is Name)
        push_children(stack, n, kind)
    return names, calls, bound
