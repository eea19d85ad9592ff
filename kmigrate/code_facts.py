"""What a file's code holds, read off its `ast` tree in one walk (no LibCST).

The engine checks syntax with `ast` before it parses with LibCST; the same tree answers, far more
cheaply than LibCST can, the questions a rule's `screen` asks (kmigrate.rule.Rule.screen): is
anything imported from `keras`, is `fit_generator` called, is every name read also bound? A rule
whose screen says no is not run on the file, and a file no rule is left for is never parsed with
LibCST (on today's Keras code, most files: see docs/benchmarks.md).

Every set holds plain identifiers or dotted module paths, from the code only: comments and
docstrings are not code (strings are kept apart, in `words`).
"""
from __future__ import annotations

import ast
from typing import Optional

_DOC_OWNERS = frozenset({ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef})
# Nodes whose str fields bind a name, and statements whose list of names declares them.
_BINDS_NAME = frozenset({ast.ExceptHandler, ast.MatchAs, ast.MatchStar, ast.MatchMapping})
_DECLARES = frozenset({ast.Global, ast.Nonlocal})


class CodeFacts:
    """One walk over an `ast` tree.

    words     every identifier and string literal (docstrings excluded), one per line: what
              identifier-like triggers are looked up in
    imports   absolute module paths imported: `import a.b as x` -> a.b; `from a.b import c` ->
              a.b and a.b.c (relative imports are left out: they never name keras or tensorflow)
    star      True when some `from m import *` is there (names may come from anywhere)
    names     identifiers read (Name in a load context)
    bound     identifiers bound anywhere: assigned, deleted, imported (as), def/class/lambda
              parameter names, except/as, global/nonlocal, match captures
    local     the identifiers of `bound` bound otherwise than by an import
    attrs     attribute names (`x.attr`)
    calls     the last word of every callee (`f(...)` -> f, `a.b.fit(...)` -> fit)
    keywords  keyword argument names of calls (`f(k=1)` -> k)
    functions def names (functions and methods)
    bases     the last word of every class base (`class M(keras.Model)` -> Model)
    strings   True when the code holds a non-docstring string literal
    tree      the `ast` tree itself, for a screen that needs structure (walk only what it needs)
    """

    __slots__ = ("words", "imports", "star", "names", "bound", "local", "attrs", "calls", "keywords", "functions",
                 "bases", "strings", "tree")

    def __init__(self, tree: ast.AST):
        self.tree = tree
        words: list[str] = []
        imports: set[str] = set()
        names: set[str] = set()
        bound: set[str] = set()  # not by imports (`local`); imported names are added at the end
        imported: set[str] = set()
        attrs: set[str] = set()
        calls: set[str] = set()
        keywords: set[str] = set()
        functions: set[str] = set()
        bases: set[str] = set()
        star = strings = False
        A, Name, Attribute, Call, Constant, Expr, Load = (ast.AST, ast.Name, ast.Attribute, ast.Call, ast.Constant,
                                                          ast.Expr, ast.Load)
        arg_kind, Import, ImportFrom, ClassDef = ast.arg, ast.Import, ast.ImportFrom, ast.ClassDef
        owners, lists = _DOC_OWNERS, list
        stack: list = [tree]
        while stack:  # one pass over each node's fields (ast.walk reads them twice)
            node = stack.pop()
            kind = type(node)
            if kind is Name:
                words.append(node.id)
                (names if type(node.ctx) is Load else bound).add(node.id)
                continue
            if kind is Constant:
                if type(node.value) is str:
                    words.append(node.value)
                    strings = True
                continue
            if kind is Attribute:
                attrs.add(node.attr)
                words.append(node.attr)
                stack.append(node.value)
                continue
            if kind is Call:
                f = node.func
                fk = type(f)
                if fk is Name:
                    calls.add(f.id)
                elif fk is Attribute:
                    calls.add(f.attr)
                for k in node.keywords:
                    if k.arg is not None:
                        keywords.add(k.arg)
            elif kind is arg_kind:
                bound.add(node.arg)
            elif kind is Import:
                for a in node.names:
                    imports.add(a.name)
                    imported.add(a.asname or a.name.split(".", 1)[0])
            elif kind is ImportFrom:
                for a in node.names:
                    if a.name == "*":
                        star = True
                    else:
                        imported.add(a.asname or a.name)
                        if not node.level and node.module:
                            imports.add(f"{node.module}.{a.name}")
                if not node.level and node.module:
                    imports.add(node.module)
            elif kind in owners:
                if kind is not ast.Module:
                    bound.add(node.name)
                    if kind is ClassDef:
                        for b in node.bases:
                            while type(b) is ast.Subscript:
                                b = b.value
                            if type(b) is Name:
                                bases.add(b.id)
                            elif type(b) is Attribute:
                                bases.add(b.attr)
                    else:
                        functions.add(node.name)
            for field in kind._fields:
                value = getattr(node, field, None)
                vt = type(value)
                if vt is str:
                    words.append(value)
                    if kind in _BINDS_NAME:
                        bound.add(value)  # except ... as name, match captures
                elif vt is lists:
                    if kind in owners and field == "body" and value and type(value[0]) is Expr \
                            and type(value[0].value) is Constant and type(value[0].value.value) is str:
                        value = value[1:]  # the docstring
                    for v in value:  # nodes, or names (global, nonlocal, match keywords), or None
                        if type(v) is str:
                            words.append(v)
                            if kind in _DECLARES:
                                bound.add(v)
                        elif v is not None:
                            stack.append(v)
                elif value is not None and isinstance(value, A):
                    stack.append(value)
        self.words = "\n".join(words)
        self.imports, self.star, self.names = frozenset(imports), star, frozenset(names)
        self.local, self.bound = frozenset(bound), frozenset(bound | imported)
        self.attrs, self.calls, self.keywords = frozenset(attrs), frozenset(calls), frozenset(keywords)
        self.functions, self.bases, self.strings = frozenset(functions), frozenset(bases), strings

    def imports_from(self, *roots: str) -> bool:
        """Some import of a module under one of `roots` (`keras` covers keras.layers, not keras_hub)."""
        return any(m == r or m.startswith(r + ".") for m in self.imports for r in roots)

    def reaches(self, *roots: str) -> bool:
        """The code can name something under one of the module `roots` (as kmigrate.names resolves
        names): it imports one, or binds a root's own name otherwise (`keras = importorskip("keras")`,
        a parameter `tf`: names resolves any such binding by its spelling)."""
        return self.imports_from(*roots) or any(r.split(".", 1)[0] in self.local for r in roots)

    def mentions(self, *identifiers: str) -> bool:
        """One of `identifiers` is a name, attribute, import part, keyword or def name of the code."""
        return any(i in self.names or i in self.attrs or i in self.bound or i in self.keywords
                   or i in self.calls for i in identifiers) or any(
            i in m.split(".") for m in self.imports for i in identifiers)


def facts_of(tree: Optional[ast.AST]) -> Optional[CodeFacts]:
    return None if tree is None else CodeFacts(tree)
