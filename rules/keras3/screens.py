"""What the KM3xx screens ask of a file's CodeFacts (kmigrate/code_facts.py), without LibCST.

A KM3xx rule reports on names that kmigrate.names resolves to Keras ('layers.Conv2D'). The last
word of such a name is always spelled in the code: as an attribute (`KL.Conv2D`, `C = KL.Conv2D`)
or as a part of an import path under a Keras root (`from keras.layers import Conv2D as C`); a
bare name resolves only through an import or such an alias. So a rule about `Conv2D` cannot
report in a file where neither spells it (`spelled`). The screens that need to know more (which
calls of a class, or of an alias of it, pass what; what module an attribute is taken of) look at
`nodes(facts)`: the calls, attributes, imports and assignments of the tree, gathered in one walk
the first time a screen asks, and shared by every screen of the file.
"""
from __future__ import annotations

import ast
from typing import Callable, Iterable, Optional

from kmigrate.names import KERAS_ROOTS, canonical_keras

_WORDS: tuple = (None, frozenset())  # (the last CodeFacts asked about, its Keras import words)


def keras_import_words(facts) -> frozenset:
    """Every part of the import paths under a Keras root (`keras.layers.merge` -> keras, layers, merge)."""
    global _WORDS
    last = _WORDS
    if last[0] is not facts:
        last = _WORDS = (facts, frozenset(p for m in facts.imports if canonical_keras(m) is not None
                                          for p in m.split(".")))
    return last[1]


def spelled(facts, words: Iterable[str]) -> bool:
    """One of `words` can be a part of a Keras name here: an attribute, or part of a Keras import."""
    return not facts.attrs.isdisjoint(words) or not keras_import_words(facts).isdisjoint(words)


def last_word(node: ast.AST) -> Optional[str]:
    """The last word of the dotted name a callee or value is (through calls and subscripts at its
    end, as kmigrate.names reads `Conv2D(8, 3)(x)` as a use of `Conv2D`); None if not one."""
    while True:
        kind = type(node)
        if kind is ast.Name:
            return node.id
        if kind is ast.Attribute:
            return node.attr
        if kind is ast.Call:
            node = node.func
        elif kind is ast.Subscript:
            node = node.value
        else:
            return None


class Nodes:
    """The nodes of an `ast` tree the screens look at, from one walk."""

    __slots__ = ("calls", "attributes", "imports", "assigns", "list_heads", "pairs")

    def __init__(self, tree: ast.AST):
        calls: dict = {}  # the last word of the callee (`last_word`) -> the calls
        attributes: dict = {}  # attribute name -> the Attribute nodes
        imports, assigns = [], []  # Import/ImportFrom nodes; Assign/AnnAssign nodes with a value
        list_heads = []  # the first element of a list, when a call: `[Dense(3, input_dim=4), ...]`
        pairs = []  # (name, the last word of what it is bound to): `import a.b as name`, `name = a.b`
        Call, Attribute, Name, Constant, Import, ImportFrom, Assign, AnnAssign, List = (
            ast.Call, ast.Attribute, ast.Name, ast.Constant, ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign,
            ast.List)
        leaves, AST = _LEAVES, ast.AST
        stack = [tree]
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind is Name or kind is Constant or kind in leaves:
                continue
            if kind is Call:
                word = last_word(node.func)
                found = calls.get(word)
                if found is None:
                    calls[word] = [node]
                else:
                    found.append(node)
            elif kind is Attribute:
                found = attributes.get(node.attr)
                if found is None:
                    attributes[node.attr] = [node]
                else:
                    found.append(node)
            elif kind is Import or kind is ImportFrom:
                imports.append(node)
                pairs.extend((a.asname, a.name.rpartition(".")[2]) for a in node.names if a.asname)
                continue
            elif (kind is Assign or kind is AnnAssign) and node.value is not None:
                assigns.append(node)
                value = node.value
                if type(value) is Name or type(value) is Attribute:
                    word = value.id if type(value) is Name else value.attr
                    pairs.extend((t.id, word) for t in (node.targets if kind is Assign else (node.target,))
                                 if type(t) is Name)
            elif kind is List:
                if node.elts and type(node.elts[0]) is Call:
                    list_heads.append(node.elts[0])
            for field in kind._fields:
                value = getattr(node, field, None)
                if type(value) is list:
                    stack.extend(v for v in value if isinstance(v, AST))
                elif value is not None and isinstance(value, AST):
                    stack.append(value)
        self.calls, self.attributes, self.imports, self.assigns = calls, attributes, imports, assigns
        self.list_heads, self.pairs = list_heads, pairs

    def aliases(self, words: Iterable[str]) -> set:
        """`words` and the names bound to one of them (`import a.w as x`, `x = a.w`, `y = x`, ...)."""
        found = set(words)
        grown = True
        while grown:
            grown = False
            for name, word in self.pairs:
                if word in found and name not in found:
                    found.add(name)
                    grown = True
        return found


_LEAVES = frozenset({ast.Load, ast.Store, ast.Del, ast.alias, *ast.operator.__subclasses__(),
                     *ast.unaryop.__subclasses__(), *ast.cmpop.__subclasses__(), *ast.boolop.__subclasses__()})
_NODES: tuple = (None, None)  # (the last CodeFacts asked about, its Nodes)


def nodes(facts) -> Nodes:
    """The Nodes of the file's tree (computed once per CodeFacts; the screens of a file share them)."""
    global _NODES
    last = _NODES
    if last[0] is not facts:
        last = _NODES = (facts, Nodes(facts.tree))
    return last[1]


def scan(facts, words: Iterable[str], *, call: Optional[Callable[[ast.Call], bool]] = None,
         attrs: Iterable[str] = (), method: Optional[Callable[[ast.Call], bool]] = None) -> bool:
    """Some call whose callee may name one of `words` (an alias included) and that passes `call`,
    or some attribute `x.a` (`a` in `attrs`) whose `x` may name one of `words` (with `method`: only
    as the callee of a call that passes it)."""
    ns = nodes(facts)
    found = ns.aliases(words)
    if call is not None and any(call(c) for w in found for c in ns.calls.get(w, ())):
        return True
    if method is not None:
        return any(type(c.func) is ast.Attribute and last_word(c.func.value) in found and method(c)
                   for a in attrs for c in ns.calls.get(a, ()))
    return any(last_word(n.value) in found for a in attrs for n in ns.attributes.get(a, ()))


def called_with(facts, words: Iterable[str], keywords: Iterable[str]) -> bool:
    """Some call of one of `words` (an alias included) passes one of `keywords` by name."""
    keywords = frozenset(keywords)
    return not facts.keywords.isdisjoint(keywords) and spelled(facts, words) and scan(
        facts, words, call=lambda c: any(k.arg in keywords for k in c.keywords))


def used(facts, names: Iterable[str]) -> bool:
    """One of the canonical `names` ('losses.mse') may be used here: imported from its Keras module
    (`from keras.losses import mse`), or as an attribute of that module (`keras.losses.mse`,
    `L.mse` with `from keras import losses as L`, an alias of an alias...)."""
    pairs = [(_MODULE_WORDS.get(module, (module.rpartition(".")[2],)), last)
             for module, _, last in (name.rpartition(".") for name in names)]
    for m in facts.imports:  # under any root (import_from_names also reads tensorflow.contrib.keras)
        module, _, last = m.rpartition(".")
        if any(last == name and module.rpartition(".")[2] in words for words, name in pairs):
            return True
    pairs = [(words, name) for words, name in pairs if name in facts.attrs and spelled(facts, words)]
    return bool(pairs) and scan(facts, {w for words, _ in pairs for w in words}, attrs={name for _, name in pairs})


# kmigrate.names.canonical_keras moves these Keras 1 modules: `keras.objectives.x` is 'losses.x'.
_MODULE_WORDS = {"losses": ("losses", "objectives"), "initializers": ("initializers", "initializations")}

ROOT_HEADS = frozenset(r.split(".", 1)[0] for r in KERAS_ROOTS)  # keras, tensorflow, tf_keras


def _keras_path(path: str) -> bool:
    """An import path under a Keras root, or one a Keras root is under (`tensorflow`)."""
    return canonical_keras(path) is not None or any(r.startswith(path + ".") for r in KERAS_ROOTS)


def keras_call_with(facts, keywords: Iterable[str]) -> bool:
    """Some call passing one of `keywords` by name whose callee may resolve to a Keras name: a
    dotted name whose head is bound by an import from Keras (or TensorFlow) or to a dotted name
    (`Dense = layers.Dense`), or is a root's own name bound otherwise (`keras = importorskip('keras')`,
    as kmigrate.names reads it); `self.helper(...)`, a local function or one imported from elsewhere
    cannot."""
    keywords = frozenset(keywords)
    if facts.keywords.isdisjoint(keywords):
        return False
    ns = nodes(facts)
    callees = [c.func for found in ns.calls.values() for c in found if any(k.arg in keywords for k in c.keywords)]
    if not callees:
        return False
    heads = set(ROOT_HEADS & facts.local)
    heads.update(name for name, _ in ns.pairs if name in facts.local)  # `D = layers.Dense` (imports: below)
    for n in ns.imports:
        if type(n) is ast.Import:
            heads.update(a.asname or a.name.split(".", 1)[0] for a in n.names
                         if _keras_path(a.name if a.asname else a.name.split(".", 1)[0]))
        elif not n.level and n.module:
            heads.update(a.asname or a.name for a in n.names if _keras_path(f"{n.module}.{a.name}"))
    for f in callees:
        while type(f) is ast.Call or type(f) is ast.Subscript:  # `Dense(3)(x, ...)`: the name read is Dense
            f = f.func if type(f) is ast.Call else f.value
        while type(f) is ast.Attribute:
            f = f.value
        if type(f) is ast.Name and f.id in heads:
            return True
    return False
