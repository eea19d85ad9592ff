"""The rule index (rules/_index.py) against the real rule classes.

The index is what a run's main process knows about the rules without importing them (each
rule module imports LibCST, ~0.25 s): code, module and class, name, summary, severity, fix
safety, triggers, code_triggers, opt-in, and what `wants(context)` needs as data. It is
generated from the classes; after adding or changing a rule, refresh it with

    python -m tests.engine.test_rule_index

These tests fail when it is out of date (a rule missing or extra, any attribute different),
and check the `wants` data against the real `wants()` over every `--to` / `--target`
combination and over every text the repository has (rule examples, fixtures, examples/).
"""
from __future__ import annotations

import itertools
import pprint
from pathlib import Path

import pytest
from tests.paths import ROOT

INDEX = ROOT / "rules" / "_index.py"

TOS = (None, "functional", "sequential")
TARGETS = ("tensorflow.keras", "keras")
# The other FileContext fields: `wants` must not depend on them (the index could not say so).
OTHERS = list(itertools.product((False, True), (False, True)))  # unsafe_fixes, is_notebook

# Rules whose `wants` also looks at the text: the strings it needs there, by the class that
# defines `wants` (module.qualname). Necessary conditions only: the index may let a file
# through that the real `wants` then refuses, never the other way (checked below). A new
# `wants` override must be added here; `to` / `target` conditions are found by probing.
WANTS_TEXT = {
    "kmigrate.rules.analysis.keras_facts.FactsRule": ("keras",),
    "kmigrate.rules.lint.model_in_loop_no_clear_session.ModelsInLoopWithoutClearSession": ("keras",),
    "kmigrate.rules.lint.call_shadows_input.CallShadowsInput": ("keras",),
    "kmigrate.rules.lint.sequential_layer_reused.SequentialLayerReuse": ("keras",),
    "kmigrate.rules.lint.rnn_stack_without_sequences.StackedRecurrentWithoutSequences": ("keras",),
    "kmigrate.rules.lint.accuracy_with_regression_loss.AccuracyWithRegressionLoss": ("keras",),
    "kmigrate.rules.lint.fit_without_compile.FitWithoutCompile": ("keras",),
    "kmigrate.rules.tf1.tf_layers_common.TFLayersRule": ("tensorflow",),
    "kmigrate.rules.tf1.tf_layers_contrib.ContribLayers": ("tensorflow",),
    "kmigrate.rules.convert.sequential_to_functional.SequentialToFunctional": (),
    "kmigrate.rules.convert.functional_to_sequential.FunctionalToSequential": (),
    "kmigrate.rules.convert.subclass_to_functional.SubclassToFunctional": (),
}

# A text every non-opt-in rule wants (with the settings it runs with), for probing.
UNIVERSAL = (
    "import tensorflow as tf\nimport keras\nfrom tensorflow import keras as tk\n"
    "from tensorflow.contrib import slim\nimport tensorflow.contrib.layers\n"
    "y = tf.layers.dense(x, 3)\nm = keras.Sequential()\nn = keras.Model(i, o)\n"
)


def _context(text, to, target, unsafe=False, notebook=False):
    from kmigrate.rule import FileContext

    return FileContext(path="x.py", text=text, target=target, to=to, unsafe_fixes=unsafe, is_notebook=notebook)


def _example_texts(rule) -> list[str]:
    out = []
    for ex in [*rule.VALID, *rule.INVALID]:
        out.append(ex if isinstance(ex, str) else ex.before)
    return out


def _wants_owner(rule) -> str:
    from kmigrate.rule import Rule

    owner = next(k for k in rule.__mro__ if "wants" in k.__dict__)
    return "" if owner is Rule else f"{owner.__module__}.{owner.__qualname__}"


def _wants_data(rule) -> dict:
    """`to`, `target` (None: any) and `requires`, from probing the real `wants`."""
    owner = _wants_owner(rule)
    if owner and owner not in WANTS_TEXT:
        raise AssertionError(f"{rule.code}: {owner}.wants is new: say in WANTS_TEXT (tests/engine/test_rule_index.py) "
                             "which strings it needs in the text (() if none)")
    requires = tuple(dict.fromkeys((*WANTS_TEXT.get(owner, ()), *getattr(rule, "requires", ()))))
    texts = [UNIVERSAL + "\n" + t for t in _example_texts(rule)] + [UNIVERSAL]
    allowed = set()
    for to, target in itertools.product(TOS, TARGETS):
        answers = {any(rule.wants(_context(t, to, target, u, nb)) for t in texts) for u, nb in OTHERS}
        if len(answers) != 1:
            raise AssertionError(f"{rule.code}: wants() depends on unsafe_fixes/is_notebook; "
                                 "kmigrate.precheck.RuleEntry cannot express that")
        if answers.pop():
            allowed.add((to, target))
    tos = tuple(t for t in TOS if any((t, g) in allowed for g in TARGETS))
    targets = tuple(g for g in TARGETS if any((t, g) in allowed for t in TOS))
    if allowed != set(itertools.product(tos, targets)):
        raise AssertionError(f"{rule.code}: wants() allows {sorted(allowed, key=str)}, not a product of "
                             "--to and --target values; kmigrate.precheck.RuleEntry cannot express that")
    return {
        "to": None if tos == TOS else tos,
        "target": None if targets == TARGETS else targets,
        "requires": requires,
    }


def build() -> dict[str, dict]:
    """The index, from the real classes: code -> the fields of kmigrate.precheck.RuleEntry."""
    from kmigrate.rule import all_rules

    out = {}
    for code, rule in all_rules().items():
        out[code] = {
            "module": rule.__module__,
            "cls": rule.__qualname__,
            "name": rule.name,
            "summary": rule.summary,
            "severity": rule.severity.value,
            "fix_safety": rule.fix_safety.value,
            "triggers": tuple(rule.triggers),
            "code_triggers": bool(getattr(rule, "code_triggers", True)),
            "trigger_pattern": rule.trigger_pattern,
            "opt_in": bool(rule.opt_in),
            **_wants_data(rule),
        }
    return out


def render(rules: dict[str, dict]) -> str:
    lines = [
        '"""The rule index: per rule code, what listing, selection and the text pre-check need',
        "(kmigrate/precheck.py), as plain data: importing it loads no rule module and no LibCST.",
        "",
        "Generated from the rule classes by `python -m tests.engine.test_rule_index`; do not edit (that",
        'test module fails when it is out of date)."""',
        "",
        "RULES = {",
    ]
    for code, fields in rules.items():
        lines.append(f"    {code!r}: {{")
        for key, value in fields.items():
            text = pprint.pformat(value, width=88 - 8 - len(repr(key)) - 2)
            text = text.replace("\n", "\n" + " " * (8 + len(repr(key)) + 2))
            lines.append(f"        {key!r}: {text},")
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> None:
    INDEX.write_text(render(build()), encoding="utf-8")
    print(f"wrote {INDEX.relative_to(ROOT)}")


# ------------------------------------------------------------------------------ tests


@pytest.fixture(scope="module")
def real():
    from kmigrate.rule import all_rules

    return all_rules()


@pytest.fixture(scope="module")
def built():
    return build()


def test_every_rule_is_in_the_index_and_nothing_else(real):
    from kmigrate.rules._index import RULES

    assert sorted(RULES) == sorted(real), "rule index out of date: run `python -m tests.engine.test_rule_index`"


def test_every_attribute_equals_the_real_class(real):
    from kmigrate.precheck import index

    entries = index()
    for code, rule in real.items():
        e = entries[code]
        assert e.load() is rule
        assert (e.module, e.cls) == (rule.__module__, rule.__qualname__)
        got = (e.name, e.summary, e.severity, e.fix_safety, e.triggers, e.code_triggers, e.trigger_pattern,
               e.opt_in)
        want = (rule.name, rule.summary, rule.severity.value, rule.fix_safety.value, tuple(rule.triggers),
                getattr(rule, "code_triggers", True), rule.trigger_pattern, rule.opt_in)
        assert got == want, f"{code}: rule index out of date: run `python -m tests.engine.test_rule_index`"


def test_index_file_is_what_the_generator_writes(built):
    assert INDEX.read_text(encoding="utf-8") == render(built), \
        "rules/_index.py is out of date: run `python -m tests.engine.test_rule_index`"


def _corpus() -> list[str]:
    from kmigrate.rule import all_rules

    texts = {UNIVERSAL}
    for rule in all_rules().values():
        texts.update(_example_texts(rule))
    for folder in ("fixtures", "examples"):
        for p in sorted((ROOT / folder).rglob("*.py")):
            texts.add(p.read_text(encoding="utf-8", errors="replace"))
    return sorted(texts)


def test_wants_data_exact_for_to_and_target(real):
    """For each --to/--target: the entry allows it iff the real `wants` does (on some text)."""
    from kmigrate.precheck import index

    texts = _corpus()
    entries = index()
    for code, rule in real.items():
        e = entries[code]
        for to, target in itertools.product(TOS, TARGETS):
            real_any = any(rule.wants(_context(UNIVERSAL + "\n" + t, to, target)) for t in [""] + texts)
            entry_any = (e.to is None or to in e.to) and (e.target is None or target in e.target)
            assert real_any == entry_any, (code, to, target)


def test_wants_data_never_says_no_where_the_rule_says_yes(real):
    """Over every text of the repository and every --to/--target: real wants => entry wants."""
    from kmigrate.precheck import Context, index

    texts = _corpus()
    entries = index()
    checked = 0
    for code, rule in real.items():
        e = entries[code]
        for to, target in itertools.product(TOS, TARGETS):
            for t in texts:
                if rule.wants(_context(t, to, target)):
                    checked += 1
                    assert e.wants(Context(path="x.py", text=t, target=target, to=to)), (code, to, target, t[:200])
    assert checked > 1000


def test_requires_are_needed_by_the_real_wants(real):
    """Each required string matters: without it in the text the real rule does not run."""
    from kmigrate.precheck import index

    for code, e in index().items():
        for word in e.requires:
            text = UNIVERSAL.replace(word, "x" * len(word))
            for to, target in itertools.product(e.to or TOS, e.target or TARGETS):
                assert not real[code].wants(_context(text, to, target)), (code, word)


@pytest.mark.parametrize("select,ignore", [
    (["KM"], []), (["KM1"], []), (["KM101"], []), (["KM", "KM4"], ["KM1"]), (["KM3"], ["KM32", "KM325"]),
    (["KM"], ["KM"]), (["KM1"], ["KM101"]), (["KM101"], ["KM1"]), ([], []), (["KM5", "KM4"], ["KM50"]),
])
def test_selection_equals_select_rules(select, ignore):
    from kmigrate.precheck import rule_classes
    from kmigrate.precheck import select as select_entries
    from kmigrate.rule import select_rules

    entries = select_entries(select, ignore)
    assert rule_classes(entries) == select_rules(select, ignore)


def test_rules_listing_uses_the_index_and_matches_the_classes(real):
    from click.testing import CliRunner

    from kmigrate.cli import main as cli

    out = CliRunner().invoke(cli, ["rules"])
    assert out.exit_code == 0
    want = "".join(
        f"{code}  {r.name:<34} {r.fix_safety.value:<7} {r.summary}{' (opt-in)' if r.opt_in else ''}\n"
        for code, r in real.items()
    )
    assert out.output == want


if __name__ == "__main__":
    main()
