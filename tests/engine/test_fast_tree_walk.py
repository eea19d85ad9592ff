"""The fast tree readers agree with LibCST's own: children, traversal order, positions, visitors."""
from __future__ import annotations

import sys
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from kmigrate.meta import ModuleMeta, Positions
from kmigrate.names import NameResolver
from kmigrate.rule import FileContext, Rule, all_rules
from kmigrate.walk import WHITESPACE, children, code_children, traverse, walk
from tests.paths import ROOT

SOURCES = sorted((ROOT / "fixtures").rglob("*.py")) + sorted((ROOT / "kmigrate").rglob("*.py")) \
    + sorted((ROOT / "rules").rglob("*.py"))
ODD = [
    "x = 1",  # no final newline
    "x = 1\r",  # lone \r at the end
    "@dec\n@dec2(a)\ndef f(a, /, b=1, *c, d, **e) -> int:\n    '''doc'''\n    return (yield)\n",
    "async def f():\n    async with a as (b, c):\n        async for x in y:\n            await z\n",
    "match p:\n    case [1, *rest] if rest:\n        pass\n    case {'k': v, **kw}:\n        pass\n",
    "x = [i for i in range(3) if i]\ny = {k: v for k, v in d}\nz = lambda a, *b: a\n",
    "try:\n    pass\nexcept* E as e:\n    pass\nelse:\n    pass\nfinally:\n    pass\n",
    "f'{a!r:>{w}} {b=}'\nprint(*a, **b)\nx: int = 1\ny += 2\ndel z\nglobal g\n",
    "class C(B, metaclass=M):\n    def m(self):  # c\n        return self.x[1:2, ::3]\n",
]


def _modules():
    for path in SOURCES:
        yield path.name, cst.parse_module(path.read_text(encoding="utf-8"))
    for i, src in enumerate(ODD):
        yield f"odd{i}", cst.parse_module(src)


def _all_nodes(module):
    return list(walk(module, whitespace=True))


@pytest.mark.parametrize("name,module", list(_modules()), ids=lambda x: x if isinstance(x, str) else "")
def test_children_are_libcst_children_same_objects_same_order(name, module):
    for node in _all_nodes(module):
        mine, theirs = children(node), list(node.children)
        assert len(mine) == len(theirs) and all(a is b for a, b in zip(mine, theirs)), type(node).__name__


@pytest.mark.parametrize("name,module", list(_modules()), ids=lambda x: x if isinstance(x, str) else "")
def test_code_children_are_children_without_whitespace(name, module):
    """code_children skips the fields typed to hold only whitespace: same result as filtering."""
    for node in _all_nodes(module):
        assert code_children(node) == [k for k in children(node) if not isinstance(k, WHITESPACE)]


def test_visiting_order_read_from_source_as_inspect_reads_it():
    import inspect

    from kmigrate.walk import _FIELD, _NODE_TYPES, _source_of

    for cls in _NODE_TYPES:
        fn = cls._visit_and_replace_children
        assert _FIELD.findall(_source_of(fn)) == _FIELD.findall(inspect.getsource(fn)), cls.__name__


def test_whitespace_fields_are_known_by_their_types():
    from kmigrate.walk import _whitespace_fields

    assert {"whitespace_before", "whitespace_after"} <= _whitespace_fields(cst.Comma)
    assert "leading_lines" in _whitespace_fields(cst.SimpleStatementLine)
    assert "body" not in _whitespace_fields(cst.SimpleStatementLine)
    assert "lpar" not in _whitespace_fields(cst.Name)  # parentheses are code


@pytest.mark.parametrize("name,module", list(_modules()), ids=lambda x: x if isinstance(x, str) else "")
def test_positions_are_position_provider_s(name, module):
    # LibCST's provider recurses once per nesting level: the big generated tables need more than
    # the default limit outside pytest-xdist's workers
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 20000))
    try:
        theirs = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    finally:
        sys.setrecursionlimit(old)
    mine = Positions(module)
    for node in _all_nodes(module):
        assert mine.get(node) == theirs.get(node), type(node).__name__


# Statement starts the `ast` tree and LibCST may count differently: each must still be exact.
ODD_STARTS = [
    "# c\n\n@a  # x\n\n# between\n@b.c(1)\n\ndef f():\n    pass\n\n\nx = 1; y = 2\n# end\n",
    "x = 1\r\ny = (2,\r\n     3)\r\n\r\nclass A:\r\n    pass\r\n",
    "x = 1\ry = 2\r\rdef f():\r    return 3\r",
    "x = 1\n\x0c\ny = 2\nz = \\\n    3\n",
    "@(\n    dec\n)\ndef f():\n    pass\n(a\n).b = 1\n(\n  c)\n",
    '"""doc"""\nimport os\n\n\nasync def g():\n    pass\n\n\n@d\nasync def h():\n    await g()\ns = """a\nb"""\n',
    "if x:\n    pass\nelif y: z = 1\nelse:\n    pass\nfor i in x: pass\nwhile 0: pass\nwith a: pass\n",
    "x = 1\n\n# trailing comment, no newline",
    "# only a comment\n",
    "",
    # Nested blocks: each statement of a block is generated alone, with its blocks' indentation.
    "def f(x):\n  if x:  # two spaces\n    a = 1\n  # c\n  elif x > 1:\n     y = 2\n  elif x < 0: z = 3\n"
    "  else:\n    for i in x:\n      pass\n    else:\n      w = 4\n  return a\n",
    "class A(B):\n    # lead\n\n    @staticmethod\n    # between\n    @d(1)\n    def m():\n        while 1:\n"
    "            break\n        else:\n            pass\n\n    class C:\n        x = 1; y = 2\n",
    "async def g():\n    try:\n        async with a as b:\n            async for c in b:\n                await c\n"
    "    except* E:\n        pass\n    else:\n        match q:\n            case 1:\n                r = 1\n"
    "            case _:\n                pass\n    finally:\n        s = 2\n",
    "def h():\r\n    try:\r\n        x = 1\r\n    except (A,\r\n            B) as e:\r\n        y = 2\r\n"
    "    finally:\r\n        z = 3\r\n    if a: return 1\r\n    return [\r\n        i for i in x]\r\n",
]


@pytest.mark.parametrize("text", [p.read_text(encoding="utf-8") for p in SOURCES[:40]] + ODD + ODD_STARTS,
                         ids=lambda t: "")
@pytest.mark.parametrize("with_tree", [False, True])
def test_statement_positions_are_position_provider_s(text, with_tree):
    """Given the text, positions come statement by statement; nodes inside statements first."""
    import ast

    module = cst.parse_module(text)
    theirs = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    mine = Positions(module, text, ast.parse(text) if with_tree else None)
    everything = _all_nodes(module)
    code = [n for n in walk(module) if n is not module]  # whitespace, header and footer left out
    for node in reversed(code):
        assert mine.get(node) == theirs.get(node), type(node).__name__
    # Statement by statement unless a start could not be checked (a decorator in parentheses).
    assert not mine._whole or "@(" in text
    for node in everything:  # whitespace nodes: the whole module, same answers
        assert mine.get(node) == theirs.get(node), type(node).__name__


def test_statement_positions_generate_only_what_is_asked():
    text = (ROOT / "kmigrate" / "engine.py").read_text(encoding="utf-8")
    module = cst.parse_module(text)
    mine = Positions(module, text)
    last = module.body[-1]
    assert isinstance(last, cst.FunctionDef)
    deep = list(walk(last))[-1]
    assert mine.get(deep) is not None
    # Only the innermost statement holding it: a line of the last function, not the function.
    assert not mine._whole and len(mine._done) == 1
    (generated,) = mine._done
    assert generated in last.body.body
    assert mine.statement_index(deep) == len(module.body) - 1


def test_a_compound_statement_s_header_is_generated_without_its_body():
    text = "import tensorflow as tf\n\n\ndef f(x):\n    with tf.Session(  # open\n            ) as s:\n" \
           "        y = s.run(x)\n        z = 2\n    return y\n"
    module = cst.parse_module(text)
    theirs = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    mine = Positions(module, text)
    with_ = module.body[1].body.body[0]
    call = with_.items[0].item
    assert mine.get(call) == theirs[call]
    assert mine._done == {with_: False}  # the header only: no line of its body generated
    assert id(with_.body.body[0]) not in mine._ranges
    inner = with_.body.body[1]
    assert mine.get(inner) == theirs[inner] and mine._done[with_] is False
    assert mine.get(with_) == theirs[with_]  # the statement itself: its end is its body's end
    assert mine._done[with_] is True and not mine._whole


def test_traverse_knows_the_statements_it_is_in_and_positions_look_there_first():
    from kmigrate.walk import current_statements

    text = "class A:\n    def f(self, x):\n        if x:  # c\n            y = g(x)\n        return y\n\n\nz = A\n"
    module = cst.parse_module(text)
    seen = {}

    class Where(cst.BatchableCSTVisitor):
        def visit_Name(self, node):
            seen[node.value] = current_statements()

        def leave_If(self, node):
            seen["leave If"] = current_statements()

    traverse(module, [Where()])
    cls = module.body[0]
    fn = cls.body.body[0]
    if_ = fn.body.body[0]
    line = if_.body.body[0]
    assert seen["g"] == (cls, line) and seen["self"] == (cls, fn) and seen["leave If"] == (cls, if_)
    assert seen["z"] == (module.body[1], module.body[1])
    theirs = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    mine = Positions(module, text)
    g = line.body[0].value.func
    assert mine.get(g, hint=cls, statement=line) == theirs[g]
    assert not mine._mapped  # found in its own statement: the class was not mapped
    test = if_.test
    assert mine.get(test, hint=cls, statement=line) == theirs[test]  # a wrong hint: the class is mapped
    assert mine._mapped == {cls}


class _Recorder(cst.BatchableCSTVisitor):
    def __init__(self):
        super().__init__()
        self.events: list[tuple[str, int]] = []

    def visit_Name(self, node):
        self.events.append(("visit", id(node)))

    def leave_Name(self, node):
        self.events.append(("leave", id(node)))

    def visit_Call(self, node):
        self.events.append(("call", id(node)))

    def leave_FunctionDef(self, node):
        self.events.append(("def", id(node)))


@pytest.mark.parametrize("name,module", list(_modules())[:40], ids=lambda x: x if isinstance(x, str) else "")
def test_traverse_calls_what_visit_batched_calls_in_the_same_order(name, module):
    mine, theirs = _Recorder(), _Recorder()
    traverse(module, [mine])
    cst.visit_batched(module, [theirs])
    assert mine.events == theirs.events


def test_rule_visitor_names_are_libcst_s():
    for rule in all_rules().values():
        instance = rule(FileContext(path="a.py", text=""))
        assert set(Rule.get_visitors(instance)) == set(cst.BatchableCSTVisitor.get_visitors(instance)), rule.code


class _Holder:
    def __init__(self, module):
        self.module = module


@pytest.mark.parametrize("src,expr,expected", [
    ("import keras\n", "keras.layers.Dense", {"keras.layers.Dense"}),
    ("import keras.layers as KL\n", "KL.Dense", {"keras.layers.Dense"}),
    ("from tensorflow.keras import layers\n", "layers.Dense", {"tensorflow.keras.layers.Dense"}),
    ("import tensorflow as tf\ntfl = tf.layers\n", "tfl.dense", {"tensorflow.layers.dense"}),
    ("import tensorflow as tf\ndef f():\n    import tensorflow.compat.v1 as tf1\n", "tf1.layers.dense",
     {"tensorflow.compat.v1.layers.dense"}),
    ("from . import keras\n", "keras.layers", {".keras.layers"}),
    ("x = 1\n", "len", {"builtins.len"}),
    ("model = make()\n", "model.fit", {"model.fit"}),
    ("import tensorflow as tf\ntfl = tf.layers\ntfl = other\n", "tfl.dense", {"tfl.dense"}),
    ("from keras.layers import *\n", "Dense", set()),
])
def test_names_resolve_through_imports_and_aliases(src, expr, expected):
    module = cst.parse_module(src + f"y = {expr}\n")
    node = module.body[-1].body[0].value
    assert NameResolver(_Holder(module)).qualified_names(node) == expected
    # asked for names under a package: the same answer when one can be under it, else nothing
    for package in ("tensorflow", "keras"):
        under = {q for q in expected if q == package or q.startswith(package + ".")}
        assert NameResolver(_Holder(module)).qualified_names(node, package) == (expected if under else set())


def test_function_scopes_see_the_function_alone():
    module = cst.parse_module("x = 1\ndef f(a):\n    b = a + x\n    return b\n")
    fn = module.body[1]
    scopes = ModuleMeta(module).function_scopes(fn)
    scope = scopes[fn.body.body[0]]
    assert {a.name for a in scope.assignments} >= {"a", "b"}
    assert len(scope.assignments["b"]) == 1 and len(next(iter(scope.assignments["b"])).references) == 1


def test_deep_trees_do_not_exhaust_the_stack():
    src = "y = " + "(" * 150 + "1" + ")" * 150 + "\n"
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 8000))  # LibCST's own parser needs it; walk/traverse do not recurse
    try:
        module = cst.parse_module(src)
    finally:
        sys.setrecursionlimit(old)
    assert sum(1 for _ in walk(module)) > 150
    traverse(module, [_Recorder()])


@pytest.mark.parametrize("name,module", list(_modules())[:60], ids=lambda x: x if isinstance(x, str) else "")
def test_ancestors_from_the_statements_equal_the_full_walk(name, module):
    """engine._ancestors walks only the statements that hold a target when the positions know them."""
    from kmigrate.engine import _ancestors

    nodes = [n for n in _all_nodes(module) if n is not module]
    if not nodes:
        return
    targets = nodes[len(nodes) // 3::max(1, len(nodes) // 7)]
    positions = Positions(module, module.code)
    for t in targets:
        positions.get(t)
    assert _ancestors(module, targets, positions) == _ancestors(module, targets)


@pytest.mark.parametrize("name,module", list(_modules()), ids=lambda x: x if isinstance(x, str) else "")
def test_code_of_is_libcst_s_code(name, module):
    from kmigrate.codegen import code_of

    assert code_of(module) == module.code
    for stmt in module.body:
        assert code_of(stmt, module) == module.code_for_node(stmt)
