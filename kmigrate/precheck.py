"""The text pre-check, without LibCST: which rules could have anything to say about a file.

A rule runs on a file only if it wants the run's settings (`wants(context)`: opt-in rules,
`--to`, `--target`, words the text must hold) and one of its trigger strings occurs in the
text; given the file's `ast` tree, identifier-like triggers must also occur in the code (not
only in comments or docstrings). No rule left: the file needs no parsing at all.

Everything here works on anything shaped like a rule (`code`, `triggers`, `code_triggers`,
`wants(context)`):
- the real rule classes (kmigrate.rule.Rule subclasses), as the engine has them: the engine's
  `fix_text` calls `active_rules` with its Options and gets classes back;
- the entries of the rule index (`RuleEntry`, read from the generated module
  kmigrate.rules._index, plain data): the main process of a run pre-checks files with them,
  so a file no rule can match, and a run answered from the cache, never import a rule module
  or LibCST. `rule_classes(entries)` imports the rule modules, only when called.

The index is generated from the real classes by `python -m tests.engine.test_rule_index`; the same
test module fails when it is out of date.
"""
from __future__ import annotations

import ast
import functools
import importlib
import re
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence, Union

from .code_facts import CodeFacts

INDEX_COMMAND = "python -m tests.engine.test_rule_index"


@dataclass(frozen=True)
class RuleEntry:
    """One rule of the index: what listing, selection and the pre-check need, no class."""

    code: str
    module: str  # e.g. "kmigrate.rules.imports.keras_imports"
    cls: str  # the class name in `module`
    name: str
    summary: str
    severity: str  # Severity value
    fix_safety: str  # Safety value
    triggers: tuple[str, ...]
    code_triggers: bool = True
    trigger_pattern: Optional[str] = None
    opt_in: bool = False
    # What the rule's `wants(context)` needs, as data (checked against the real classes):
    to: Optional[tuple[Optional[str], ...]] = None  # the `--to` values it runs with (None: any)
    target: Optional[tuple[str, ...]] = None  # the targets it runs with (None: any)
    requires: tuple[str, ...] = ()  # strings that must all occur in the text

    def wants(self, context: Any) -> bool:
        """Never False where the real class's `wants` is True (it may be True where that is not)."""
        return ((self.to is None or context.to in self.to)
                and (self.target is None or context.target in self.target)
                and all(w in context.text for w in self.requires))

    def load(self) -> type:
        """The real rule class (imports its module, and so LibCST)."""
        cls = getattr(importlib.import_module(self.module), self.cls, None)
        if cls is None or getattr(cls, "code", None) != self.code:
            raise RuntimeError(f"the rule index is out of date ({self.code}: no {self.module}.{self.cls} "
                               f"with that code); regenerate it with `{INDEX_COMMAND}`")
        return cls


@dataclass(frozen=True)
class PrecheckOptions:
    """The part of the engine's Options the pre-check reads, with index entries as rules."""

    rules: tuple[Any, ...]  # RuleEntry (or rule classes)
    target: str = "tensorflow.keras"
    to: Optional[str] = None
    unsafe_fixes: bool = False


@dataclass
class Context:
    """The fields of kmigrate.rule.FileContext, without importing it (it imports LibCST)."""

    path: str
    text: str
    target: str = "tensorflow.keras"
    to: Optional[str] = None
    unsafe_fixes: bool = False
    is_notebook: bool = False


# ------------------------------------------------------------------------------ the index

_INDEX: Optional[dict[str, RuleEntry]] = None


def index() -> dict[str, RuleEntry]:
    """Every rule of kmigrate.rules._index, by code (sorted), without importing any rule."""
    global _INDEX
    if _INDEX is None:
        from kmigrate.rules._index import RULES

        _INDEX = {code: RuleEntry(code=code, **fields) for code, fields in sorted(RULES.items())}
    return _INDEX


def selected(code: str, select: Sequence[str], ignore: Sequence[str]) -> bool:
    """Codes or prefixes; the most specific matching prefix wins (as in Ruff), ignore on ties."""

    def best(prefixes: Sequence[str]) -> int:
        return max((len(p) for p in prefixes if code.startswith(p)), default=-1)

    s, i = best(select), best(ignore)
    return s >= 0 and s > i


def select(select: Sequence[str], ignore: Sequence[str]) -> list[RuleEntry]:
    """The index entries `select_rules(select, ignore)` would give the classes of, in code order."""
    return [e for code, e in index().items() if selected(code, select, ignore)]


def rule_classes(entries: Iterable[Any]) -> list[type]:
    """The real classes of index entries (classes are passed through); imports their modules."""
    return [e.load() if isinstance(e, RuleEntry) else e for e in entries]


# ------------------------------------------------------------------------------ the pre-check


def active_rules(text: str, options: Any, context: Any, tree: Union[ast.AST, CodeFacts, None] = None,
                 among: Optional[Sequence[Any]] = None) -> list:
    """Cheap pre-check: a rule runs only if one of its trigger strings occurs in the text (and
    its `trigger_pattern`, if it has one, matches).

    `options.rules` (or `among`, rules this text already passed for) are rule classes or index
    entries; the same kind comes back. Given the
    file's `ast` tree too (the syntax check builds it anyway), a rule whose triggers are
    identifier-like (`keras`, `fit_generator`) and whose `code_triggers` is true (the default)
    also needs one of them in the code: in a name, attribute, import, keyword or a string
    literal that is not a docstring, not only in comments or docstrings; so do the identifier-like
    words it `requires`; a rule with `needs_import` needs one of those modules imported; and a
    rule with a `screen` must pass it (kmigrate/code_facts.py: what
    the code imports, calls, binds...). `tree` may be the tree's CodeFacts already. Only the
    rules left need LibCST and their metadata.
    """
    has = _Memo(text)  # many rules share a word ("keras"): scan the text once per word
    rules = among if among is not None else [
        r for r in options.rules if all(has(w) for w in r.requires) and any(has(t) for t in r.triggers)
        and _pattern_found(r, text) and r.wants(context)]
    if not rules or tree is None:
        return list(rules)
    facts = tree if isinstance(tree, CodeFacts) else None
    out = []
    for r in rules:
        if getattr(r, "code_triggers", True):
            # identifier-like triggers (one of them, unless another trigger is present) and required
            # words (all) must be in the code: `keras` in a docstring builds no model
            other_triggers, all_of = _word_kinds(r)
            any_of = [] if any(has(t) for t in other_triggers) else [t for t in r.triggers if has(t)]
            if any_of or all_of:
                facts = facts or CodeFacts(tree)
                words = facts.words
                if not ((not any_of or any(t in words for t in any_of)) and all(w in words for w in all_of)):
                    continue
        if getattr(r, "needs_import", ()) or getattr(r, "screen", None) is not None:
            facts = facts or CodeFacts(tree)
            if screened_out(r, facts, context):
                continue
        out.append(r)
    return out


def screened_out(rule: Any, facts: CodeFacts, context: Any) -> bool:
    """The rule cannot report on this code: it reaches none of the modules the rule `needs_import`,
    or the rule's `screen` says no."""
    needs, screen = getattr(rule, "needs_import", ()), getattr(rule, "screen", None)
    return bool(needs and not facts.reaches(*needs)) or (screen is not None and not screen(facts, context))


@functools.lru_cache(maxsize=None)
def _word_kinds(rule: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The rule's triggers that are not identifier-like, and its identifier-like required words."""
    return (tuple(t for t in rule.triggers if not _IDENTIFIER.fullmatch(t)),
            tuple(w for w in rule.requires if _IDENTIFIER.fullmatch(w)))


def needs_parsing(text: str, path: str, options: Any, *, is_notebook: bool = False) -> bool:
    """The text pre-check alone: False means the engine's `fix_text` would return the text as it is."""
    context = Context(path=path, text=text, target=options.target, to=options.to,
                      unsafe_fixes=options.unsafe_fixes, is_notebook=is_notebook)
    return bool(active_rules(text, options, context))


class _Memo(dict):
    """`word in text`, answered once per word."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def __missing__(self, word: str) -> bool:
        found = self[word] = word in self.text
        return found

    __call__ = dict.__getitem__


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _pattern_found(rule: Any, text: str) -> bool:
    pattern = getattr(rule, "trigger_pattern", None)
    return pattern is None or _compiled(pattern).search(text) is not None


@functools.lru_cache(maxsize=None)
def _compiled(pattern: str) -> "re.Pattern[str]":
    return re.compile(pattern, re.MULTILINE)
