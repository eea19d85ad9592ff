"""The Rule base class, Finding, Fix and its safety, examples, and the rule registry."""
from __future__ import annotations

import enum
import importlib
import pkgutil
import textwrap
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable, Optional, Sequence, Union

import libcst as cst
from .meta import _MISSING, ModuleMeta
from .walk import current_statements
from .result import Finding  # noqa: F401  (re-exported: it lives in a LibCST-free module)


class Safety(str, enum.Enum):
    SAFE = "safe"  # applied by default: behaviour is unchanged
    UNSAFE = "unsafe"  # applied only with --unsafe-fixes: may change behaviour
    NONE = "none"  # report only


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"  # never fails a run


@dataclass(frozen=True)
class ImportEdit:
    """An import the engine adds (or removes if unused) once, after node fixes are applied."""

    module: str
    obj: str | None = None
    asname: str | None = None
    remove: bool = False


# The module roots kmigrate.names resolves Keras and TensorFlow names under (KERAS_ROOTS,
# TF_LAYERS_ROOTS): `needs_import = KERAS_OR_TF` for a rule that reports only on such names.
KERAS_OR_TF = ("keras", "tensorflow", "tf_keras")

Replacement = Union[cst.CSTNode, cst.RemovalSentinel, cst.FlattenSentinel]


@dataclass
class Report:
    """What a rule said about one node during one pass (engine-internal)."""

    rule: "type[Rule]"  # the class, not the visitor: a report held by its visitor makes no cycle
    node: cst.CSTNode
    message: str
    severity: Severity
    safety: Safety
    replacement: Replacement | None = None
    imports: tuple[ImportEdit, ...] = ()
    anchor: cst.CSTNode | None = None  # where the finding points, if not at `node` (e.g. a block is replaced)
    top: cst.CSTNode | None = None  # the top-level statement the pass was in: where to look first
    statement: cst.CSTNode | None = None  # the innermost statement the pass was in: looked in before `top`

    @property
    def has_fix(self) -> bool:
        return self.safety is not Safety.NONE and (self.replacement is not None or bool(self.imports))


@dataclass(frozen=True)
class Example:
    """A rule example: `before` must produce a finding; `after` is the fixed source (None: unchanged)."""

    before: str
    after: str | None = None
    options: dict[str, Any] = field(default_factory=dict)  # e.g. {"unsafe_fixes": True, "target": "keras"}


@dataclass
class FileContext:
    """What a rule may know about the file and the run (no TensorFlow, no user code execution)."""

    path: str
    text: str
    target: str = "tensorflow.keras"  # or "keras"
    to: str | None = None  # "functional" | "sequential" | None
    unsafe_fixes: bool = False
    is_notebook: bool = False
    tf1_layers: str = "keras"  # "compat": TF1 layers go to tf.compat.v1.layers (tf-keras), not Keras layers


class Rule(cst.BatchableCSTVisitor):
    """Base class. Subclasses set the class attributes and implement visit_*/leave_* methods.

    The docstring is the rule's documentation page and must have the sections
    *What it does*, *Why is this bad*, *Example*, *Fix safety*.
    """

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    severity: ClassVar[Severity] = Severity.WARNING
    fix_safety: ClassVar[Safety] = Safety.SAFE
    # True for rules that keep facts of the original text on the context across passes: the
    # engine's last check of the fixed text must run them afresh (as --check on it would).
    remembers_original: ClassVar[bool] = False
    # Substrings of which at least one must occur in the source for the rule to run at all.
    triggers: ClassVar[tuple[str, ...]] = ("keras",)
    # True: identifier-like triggers must also occur in the code (names, attributes, imports,
    # keywords, non-docstring strings), not only in comments or docstrings (checked with `ast`).
    # A rule that looks at comments or docstrings sets it to False.
    code_triggers: ClassVar[bool] = True
    # A finer trigger, as a regular expression the text must match (re.search), for rules whose
    # trigger words are common elsewhere (`workers` in `num_workers`): files without a match
    # are not parsed for this rule. Must hold for every text the rule could report on.
    trigger_pattern: ClassVar[Optional[str]] = None
    # Strings that must all occur in the text for the rule to run (e.g. ("keras",) for a rule
    # that only fires on names resolved to Keras, which needs an import spelling it).
    requires: ClassVar[tuple[str, ...]] = ()
    # Module roots of which the file must import one for the rule to report anything (e.g.
    # ("keras", "tensorflow", "tf_keras") for a rule that only reports on names resolved to Keras,
    # which kmigrate.names resolves from imports, and from other bindings of a root's own name).
    # A file whose code reaches none of them (CodeFacts.reaches, from `ast`) is not parsed for
    # the rule.
    needs_import: ClassVar[tuple[str, ...]] = ()
    # Opt-in rules (model-style conversion) run only when `wants(context)` says so.
    opt_in: ClassVar[bool] = False
    VALID: ClassVar[Sequence[Union[str, Example]]] = ()
    INVALID: ClassVar[Sequence[Example]] = ()

    # Metadata is computed lazily by the engine (kmigrate.meta), when `get_metadata` first asks.
    METADATA_DEPENDENCIES = ()

    def __init__(self, context: FileContext):
        super().__init__()
        self.context = context
        self.meta: ModuleMeta | None = None  # the module's lazily computed metadata; set by the engine
        self.module: cst.Module = cst.Module(body=())  # the module being visited; set by the engine
        self.reports: list[Report] = []

    def start(self, meta: ModuleMeta) -> "Rule":
        """Called by the engine before the module is visited."""
        self.meta, self.module = meta, meta.module
        return self

    def get_metadata(self, key, node, default=_MISSING):
        """PositionProvider, ScopeProvider, ... for `node`, computed on first use per module."""
        return self.meta.get(key, node, default)

    @property
    def resolver(self):
        """The alias-proof name resolver (kmigrate.names), built on first use per rule instance."""
        r = self.__dict__.get("_name_resolver")
        if r is None:
            from .names import NameResolver

            r = self._name_resolver = NameResolver(self)
        return r

    def get_visitors(self):
        """LibCST's version runs inspect.getmembers on the instance, which evaluates every
        property (some walk the whole module); the visit_/leave_ names are per class."""
        cls = type(self)
        names = cls.__dict__.get("_visitor_names")
        if names is None:
            names = tuple(n for n in dir(cls) if n.startswith(("visit_", "leave_"))
                          and callable(getattr(cls, n, None)) and not getattr(getattr(cls, n), "_is_no_op", False))
            cls._visitor_names = names
        return {n: getattr(self, n) for n in names}

    @classmethod
    def wants(cls, context: FileContext) -> bool:
        """Whether the rule runs for this file at all (beyond triggers); opt-in rules override."""
        return not cls.opt_in and all(w in context.text for w in cls.requires)

    def report(
        self,
        node: cst.CSTNode,
        message: str,
        replacement: Replacement | None = None,
        *,
        imports: Iterable[ImportEdit] = (),
        safety: Safety | None = None,
        severity: Severity | None = None,
        at: cst.CSTNode | None = None,
    ) -> None:
        """`at`: the node the finding points to when it is not `node` (the replaced node)."""
        imports = tuple(imports)
        if safety is None:
            safety = self.fix_safety if (replacement is not None or imports) else Safety.NONE
        elif self.fix_safety is Safety.NONE and safety is not Safety.NONE:
            # The engine runs a report-only rule again only to see its findings still stand.
            raise TypeError(f"{self.code} has fix_safety none and cannot report a fix")
        self.reports.append(
            Report(type(self), node, message, severity or self.severity, safety, replacement, imports, at,
                   *current_statements())
        )

    # screen(facts, context) -> bool, a classmethod a rule may define: given what the file's code
    # holds (kmigrate.code_facts.CodeFacts, from `ast`), False only when the rule cannot report
    # anything in this file whatever else is true of it (True when unsure). A rule screened out
    # is not run; a file every rule is screened out of is never parsed with LibCST.
    screen: ClassVar[Optional[Any]] = None

    @classmethod
    def documentation(cls) -> str:
        doc = textwrap.dedent(cls.__doc__ or "").strip()
        head = f"{cls.code} ({cls.name})\n\n{cls.summary}\n\nFix safety: {cls.fix_safety.value}"
        return f"{head}\n\n{doc}\n"


# ---------------------------------------------------------------------------- registry

_REGISTRY: dict[str, type[Rule]] | None = None


def all_rules() -> dict[str, type[Rule]]:
    """Every rule class in kmigrate.rules (family packages, one module per rule or tight family), by code."""
    global _REGISTRY
    if _REGISTRY is None:
        import kmigrate.rules as pkg

        found: dict[str, type[Rule]] = {}
        # Rules live in one package per family (rules/lint/, rules/tf1/, ...); tables hold data only.
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            if info.ispkg or ".tables." in info.name:
                continue
            module = importlib.import_module(info.name)
            for obj in vars(module).values():
                if isinstance(obj, type) and issubclass(obj, Rule) and obj.code and obj.__module__ == module.__name__:
                    if obj.code in found:
                        raise RuntimeError(f"duplicate rule code {obj.code}")
                    found[obj.code] = obj
        _REGISTRY = dict(sorted(found.items()))
    return _REGISTRY


def select_rules(select: Sequence[str], ignore: Sequence[str]) -> list[type[Rule]]:
    """Codes or prefixes; the most specific matching prefix wins (as in Ruff), ignore on ties.

    The same choice as `kmigrate.precheck.select` makes on the rule index (without the classes).
    """
    from .precheck import selected

    return [rule for code, rule in all_rules().items() if selected(code, select, ignore)]
