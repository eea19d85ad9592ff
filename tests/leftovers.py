"""Find uses of removed Keras APIs in (migrated) source, independently of kmigrate's rules.

A plain `ast` pass resolves import aliases (`import keras.backend as K`, `from tensorflow.keras
import layers`), then asks the installed TensorFlow (2.21, `tf.keras` = Keras 3) whether each
Keras name a file uses exists, and whether each keyword a Keras class or function is called with
is accepted by its signature. Model methods that are gone (`fit_generator`, `predict_classes`,
...) and their removed keywords (`nb_epoch=`, `workers=`, ...) are found by name.

Used by tests/rules/keras3/test_no_removed_api_left_in_corpora.py and benchmarks/corpus_migration.py (both import
TensorFlow; the kmigrate command line never does).
"""
from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator, Optional

from kmigrate.names import canonical_keras

GONE_METHODS = {"fit_generator", "evaluate_generator", "predict_generator", "predict_classes"}
FIT_METHODS = {"fit", "evaluate", "predict", *GONE_METHODS}
KERAS_FIT_HINTS = {"epochs", "nb_epoch", "steps_per_epoch", "validation_data", "callbacks", "validation_split",
                   "samples_per_epoch", "nb_val_samples", "validation_steps", "initial_epoch"}


@dataclass(frozen=True)
class Leftover:
    line: int
    end_line: int
    what: str
    import_line: int = 0  # the import that binds the name used (a finding there tells the user too)


def _tf_keras():
    import tensorflow as tf

    return tf.keras


@lru_cache(maxsize=None)
def lookup(canonical: str):
    """The tf.keras object for a canonical Keras name ('layers.Dense'), or raise AttributeError."""
    obj = _tf_keras()
    for part in canonical.split("."):
        if part:
            obj = getattr(obj, part)
    return obj


@lru_cache(maxsize=None)
def _accepted(canonical: str) -> Optional[frozenset]:
    """Keywords the callable accepts; None if it takes any keyword (or has no signature)."""
    obj = lookup(canonical)
    import keras

    if inspect.isclass(obj):
        names: set[str] = set()
        for klass in obj.__mro__:
            init = klass.__dict__.get("__init__")
            if init is None:
                continue
            try:
                sig = inspect.signature(init)
            except (TypeError, ValueError):
                return None
            names |= {p.name for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
            if not any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
                break
        if issubclass(obj, keras.layers.Layer):
            names |= {"input_shape", "input_dim"}  # accepted with a warning
        if issubclass(obj, keras.Model):
            from keras.src.models.functional import Functional  # Model(inputs, outputs) builds one

            names |= set(inspect.signature(Functional.__init__).parameters)
        return frozenset(names - {"self"})
    if callable(obj):
        try:
            sig = inspect.signature(obj)
        except (TypeError, ValueError):
            return None
        if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
            return None
        return frozenset(sig.parameters)
    return None


@lru_cache(maxsize=None)
def _model_method_keywords(method: str) -> frozenset:
    tfk = _tf_keras()
    return frozenset(inspect.signature(getattr(tfk.Model, method)).parameters)


_IMPORT_LINES: dict[str, int] = {}


def _aliases(tree: ast.AST) -> dict[str, str]:
    names: dict[str, str] = {}
    _IMPORT_LINES.clear()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    names[a.asname] = a.name
                    _IMPORT_LINES[a.asname] = node.lineno
                else:
                    head = a.name.split(".")[0]
                    names[head] = head
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                if a.name != "*":
                    names[a.asname or a.name] = f"{node.module}.{a.name}"
                    _IMPORT_LINES[a.asname or a.name] = node.lineno
    return names


def _import_line(node: ast.AST) -> int:
    dotted = _dotted(node) or ""
    return _IMPORT_LINES.get(dotted.partition(".")[0], 0)


def _dotted(node: ast.AST) -> Optional[str]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _keras_name(node: ast.AST, aliases: dict[str, str]) -> Optional[str]:
    dotted = _dotted(node)
    if dotted is None:
        return None
    head, _, rest = dotted.partition(".")
    if head not in aliases:
        return None
    full = aliases[head] + ("." + rest if rest else "")
    if full.startswith("tensorflow.") and not full.startswith(("tensorflow.keras", "tensorflow.python.keras")):
        return None
    canonical = canonical_keras(full)
    if canonical is None or canonical.startswith("src") or not canonical:
        return None
    return canonical


def find(text: str) -> list[Leftover]:
    """Every use of a removed Keras API in `text` (Python source)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    aliases = _aliases(tree)
    out: list[Leftover] = []
    seen_attr: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            out.extend(_call(node, aliases, seen_attr))
        elif isinstance(node, ast.Attribute) and id(node) not in seen_attr:
            parent_chain = node
            name = _keras_name(parent_chain, aliases)
            if name is not None:
                _mark_chain(node, seen_attr)
                hit = _missing(name)
                if hit:
                    out.append(Leftover(node.lineno, node.end_lineno or node.lineno, hit, _import_line(node)))
            if node.attr == "lr" and isinstance(node.value, ast.Attribute) and node.value.attr == "optimizer":
                out.append(Leftover(node.lineno, node.end_lineno or node.lineno, "optimizer `.lr`"))
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                if a.name == "*":
                    continue
                name = canonical_keras(f"{node.module}.{a.name}")
                if name and not name.startswith("src") and node.module.split(".")[0] in ("keras", "tensorflow"):
                    hit = _missing(name)
                    if hit:
                        out.append(Leftover(node.lineno, node.end_lineno or node.lineno, f"import: {hit}"))
    return sorted(set(out), key=lambda x: (x.line, x.what))


def _mark_chain(node: ast.AST, seen: set[int]) -> None:
    while isinstance(node, ast.Attribute):
        seen.add(id(node))
        node = node.value


def _missing(canonical: str) -> Optional[str]:
    try:
        lookup(canonical)
    except AttributeError:
        return f"`{canonical}` does not exist in tf.keras"
    return None


def _call(node: ast.Call, aliases: dict[str, str], seen_attr: set[int]) -> Iterator[Leftover]:
    line, end = node.lineno, node.end_lineno or node.lineno
    kws = {k.arg for k in node.keywords if k.arg}
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr in FIT_METHODS and _keras_name(func, aliases) is None:
        if func.attr in GONE_METHODS:
            yield Leftover(line, end, f"model method `{func.attr}`")
        elif kws & KERAS_FIT_HINTS or func.attr != "fit":
            bad = kws - _model_method_keywords(func.attr)
            if func.attr != "fit" and not kws & KERAS_FIT_HINTS:
                bad &= {"workers", "use_multiprocessing", "max_queue_size", "nb_worker", "pickle_safe", "max_q_size"}
            for kw in sorted(bad):
                yield Leftover(line, end, f"`{func.attr}({kw}=)`")
        return
    name = _keras_name(func, aliases)
    if name is None:
        return
    _mark_chain(func, seen_attr)
    hit = _missing(name)
    if hit:
        yield Leftover(line, end, hit, _import_line(func))
        return
    accepted = _accepted(name)
    if accepted is None:
        return
    for kw in sorted(kws - accepted):
        yield Leftover(line, end, f"`{name}({kw}=)` is not accepted")
    missing = _missing_required(name, node)
    if missing:
        yield Leftover(line, end, f"`{name}` needs `{missing}`")


def _missing_required(canonical: str, node: ast.Call) -> Optional[str]:
    """A required parameter a layer constructor is not given (`AveragePooling2D()`)."""
    import keras

    obj = lookup(canonical)
    if not (inspect.isclass(obj) and issubclass(obj, keras.layers.Layer)):
        return None
    if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
        return None
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    try:
        sig.bind(*node.args, **{k.arg: k.value for k in node.keywords if k.arg in sig.parameters})
    except TypeError as exc:
        return str(exc).split("'")[1] if "'" in str(exc) else str(exc)
    return None
