"""Parallel runs: --jobs 2 gives exactly what --jobs 1 gives, in file order, streaming with a
bounded read-ahead; the pre-check skips LibCST only where no rule can match."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import kmigrate.engine as engine
import kmigrate.pipeline as pipeline
from kmigrate.config import Config
from kmigrate.engine import fix_text
from kmigrate.process import process_file
from kmigrate.run import options_from, results
from tests.paths import ROOT

NOTEBOOK = {
    "cells": [{"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {}, "outputs": [],
               "source": ["import keras\n", "from keras.layers.core import Dense\n"]}],
    "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
}


@pytest.fixture(scope="module")
def mixed_tree(tmp_path_factory) -> Path:
    """Every fixture of the repository, plus files the engine must refuse or skip."""
    root = tmp_path_factory.mktemp("mixed")
    for folder in sorted(p for p in (ROOT / "fixtures").iterdir() if p.is_dir()):
        cases = [f for f in sorted(folder.rglob("*.py")) if not f.name.endswith(".fixed.py")]
        for f in cases[:2]:  # two per rule keeps the test fast and still covers every rule's fixes
            dest = root / folder.name / f.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest)
    extra = {
        "plain/no_keras.py": b"import os\nprint(os.getcwd())\n",
        "plain/comment_only.py": b"# works with keras too\nx = 1\n",
        "plain/docstring_only.py": b'"""A helper, not Keras-specific (keras users welcome)."""\nx = 2\n',
        "bad/syntax.py": b"import keras\ndef f(:\n  pass\n",
        "bad/binary.py": b"import keras\x00\n",
        "bad/latin1.py": b"import keras\nx = '\xff'\n",
        "nb/book.ipynb": json.dumps(NOTEBOOK, indent=1).encode() + b"\n",
        "nb/plain.ipynb": json.dumps({**NOTEBOOK, "cells": [{**NOTEBOOK["cells"][0], "source": "x = 1\n"}]}).encode(),
        "nb/broken.ipynb": b'{"cells": [',
    }
    for rel, data in extra.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def all_files(root: Path) -> list[str]:
    return sorted(str(p) for p in root.rglob("*") if p.suffix in (".py", ".ipynb"))


def snapshot(res):
    return [(r.path, r.error, r.changed, r.new, r.diff, [f.to_dict() for f in r.findings]) for r in res]


@pytest.fixture(scope="module")
def runs(mixed_tree):
    files = all_files(mixed_tree)
    options = options_from(Config())
    return files, list(results(files, options, 1)), list(results(files, options, 2))


def test_two_jobs_equal_one_job(runs):
    files, one, two = runs
    assert len(files) > 15
    assert [r.path for r in two] == files  # file order, whatever finishes first
    assert snapshot(two) == snapshot(one)
    assert sum(r.changed for r in one) > 5 and sum(r.error for r in one) >= 3


def test_pipeline_equals_the_engine_file_by_file(runs):
    files, one, _ = runs
    options = options_from(Config())
    direct = [process_file(f, options) for f in files]
    assert snapshot(one) == snapshot(direct)


def test_two_jobs_equal_one_job_with_unsafe_fixes_and_cache(mixed_tree, tmp_path):
    from dataclasses import replace

    from kmigrate.cache import Cache

    config = replace(Config(), unsafe_fixes=True, extend_select=["KM4"], cache_dir=str(tmp_path / "c"))
    files = all_files(mixed_tree)
    one = list(results(files, options_from(config), 1))
    cold = list(results(files, lambda: options_from(config), 2, Cache.for_config(config)))
    warm = list(results(files, lambda: options_from(config), 2, Cache.for_config(config)))
    assert snapshot(cold) == snapshot(one) == snapshot(warm)


def test_cli_reports_are_identical_for_any_jobs(mixed_tree):
    outs = []
    for jobs in ("1", "2"):
        res = subprocess.run([sys.executable, "-m", "kmigrate", "--check", "--no-cache", "--format", "json",
                              "-q", "-j", jobs, str(mixed_tree)], capture_output=True, text=True, timeout=300)
        assert res.returncode == 2, res.stderr  # the bad/ files are errors
        outs.append(json.loads(res.stdout))
    assert outs[0] == outs[1] and len(outs[0]) > 10


def test_unchanged_results_do_not_carry_the_file_bytes(runs):
    for r in runs[1] + runs[2]:
        assert (r.old is not None) == r.changed


def test_results_stream_with_bounded_read_ahead(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "LOOKAHEAD", 6)
    monkeypatch.setattr(pipeline, "CHUNK_FILES", 2)
    for i in range(40):
        (tmp_path / f"m{i:02d}.py").write_text(f"import keras\nx = {i}\n" if i % 2 else f"y = {i}\n")
    consumed = []

    def lazy():
        for p in sorted(tmp_path.glob("*.py")):
            consumed.append(p)
            yield str(p)

    stream = results(lazy(), options_from(Config()), 2)
    first = next(stream)
    assert first.path.endswith("m00.py")
    assert len(consumed) <= 6 + 2 * 3 * 2  # read-ahead + tasks in flight, not the whole tree
    rest = list(stream)
    assert len(rest) == 39 and len(consumed) == 40
    assert [Path(r.path).name for r in [first, *rest]] == [f"m{i:02d}.py" for i in range(40)]


def test_notebooks_without_triggers_need_no_engine(tmp_path, monkeypatch):
    """The pre-check reads a notebook's code cells (IPython lines masked, markdown ignored)."""
    plain = json.loads(json.dumps(NOTEBOOK))
    plain["cells"][0]["source"] = ["import numpy as np\n", "%matplotlib inline\n", "!pip install keras\n"]
    plain["cells"].append({"cell_type": "markdown", "metadata": {}, "source": ["We use keras here."]})
    (tmp_path / "plain.ipynb").write_text(json.dumps(plain))
    (tmp_path / "keras.ipynb").write_text(json.dumps(NOTEBOOK))
    (tmp_path / "broken.ipynb").write_text("{not json")
    seen = []
    real = pipeline._process

    def spy(path, *a):
        seen.append(Path(path).name)
        return real(path, *a)

    monkeypatch.setattr(pipeline, "_process", spy)
    files = sorted(str(p) for p in tmp_path.glob("*.ipynb"))
    options = options_from(Config())
    out = list(results(files, options, 1))
    assert seen == ["broken.ipynb", "keras.ipynb"]
    engine_says = [process_file(f, options) for f in files]
    assert snapshot(out) == snapshot(engine_says)


def test_no_worker_pool_when_no_file_needs_parsing(tmp_path, monkeypatch):
    for i in range(10):
        (tmp_path / f"m{i}.py").write_text(f"# mentions keras only in a comment? no: plain\nx = {i}\n".replace("keras", "k"))

    def boom(*a, **k):
        raise AssertionError("a worker pool was started")

    import concurrent.futures

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", boom)  # the pipeline imports it when needed
    out = list(results(sorted(str(p) for p in tmp_path.glob("*.py")), options_from(Config()), 2))
    assert len(out) == 10 and not any(r.findings or r.changed for r in out)


# ------------------------------------------------------------------------------ pre-check


@pytest.fixture
def parses(monkeypatch):
    seen = []
    real = engine._parse

    def spy(text):
        seen.append(text)
        return real(text)

    monkeypatch.setattr(engine, "_parse", spy)
    return seen


@pytest.mark.parametrize("text", [
    "# this works with keras as well\nx = 1\n",
    '"""Compatible with keras models."""\nx = 1\n',
    'def f():\n    """Build a keras-like thing."""\n    return 1\n',
    "class A:\n    '''keras'''\n",
    "import numpy as np\n",
    "x = 'keras'\n",  # code, but no rule that reads it can report without a keras or tensorflow import
    "from keras_cv.backend import keras\nkeras.layers.Dense(1)\n",  # not Keras to kmigrate.names
])
def test_texts_no_rule_can_report_on_skip_libcst(parses, text):
    out = fix_text(text, "x.py", options_from(Config()))
    assert out.findings == [] and out.text == text
    assert parses == []


@pytest.mark.parametrize("text", [
    "import keras\n",
    "from tensorflow import keras\nkeras.layers.Dense(1)\n",
    "import tensorflow as tf\nm = tf.keras.Sequential()\n",
    "keras = importlib.import_module('keras')\nkeras.layers.Dense(1)\n",  # resolved by its spelling
    "model.predict_classes(x)  # keras\n",  # KM322 reads the method name alone
])
def test_triggers_in_code_reach_libcst(parses, text):
    fix_text(text, "x.py", options_from(Config()))
    assert parses


def test_pre_check_does_not_change_results_on_fixtures(mixed_tree):
    """The ast stage is an optimisation: with it switched off every result is the same."""
    options = options_from(Config(extend_select=["KM4"]))
    files = [f for f in all_files(mixed_tree) if f.endswith(".py")]
    with_stage = [process_file(f, options) for f in files]
    real = engine.active_rules
    try:
        engine.active_rules = lambda text, options, context, tree=None, among=None: real(text, options, context)
        without = [process_file(f, options) for f in files]
    finally:
        engine.active_rules = real
    assert snapshot(with_stage) == snapshot(without)


def test_code_triggers_false_keeps_comment_only_files():
    from kmigrate.engine import Options, active_rules
    from kmigrate.rule import FileContext, Rule

    class CommentRule(Rule):
        code = "KM999"
        triggers = ("keras",)
        code_triggers = False

    class CodeRule(Rule):
        code = "KM998"
        triggers = ("keras",)

    text = "# keras\nx = 1\n"
    import ast

    opts = Options(rules=(CommentRule, CodeRule))
    ctx = FileContext(path="x.py", text=text)
    assert active_rules(text, opts, ctx) == [CommentRule, CodeRule]
    assert active_rules(text, opts, ctx, ast.parse(text)) == [CommentRule]


# Words that also occur in code that is not Keras: the rules' trigger patterns keep these files
# away from LibCST (tensor2tensor and stable-baselines have hundreds of them).
@pytest.mark.parametrize("text", [
    "def data_generator(n):\n    yield n\nproblem_generator = data_generator\n",  # KM321: *_generator
    "import multiprocessing\nnum_workers = multiprocessing.cpu_count()\n",  # KM324
    "import functools\n@functools.lru_cache()\ndef f():\n    return 1\nself.lr_schedule = 2\n",  # KM326
    # KM204 (tf.contrib.layers) keeps away; KM603 reports these (tf.contrib is gone), so KM2 only
    "import tensorflow as tf\nw = tf.contrib.signal.hann_window\nnest = tf.contrib.framework.nest\n",
])
def test_trigger_patterns_skip_look_alike_words(parses, text):
    config = Config(select=["KM2"]) if "contrib" in text else Config()
    out = fix_text(text, "x.py", options_from(config))
    assert out.findings == [] and out.text == text
    assert parses == []


@pytest.mark.parametrize("text,code", [
    ("model.fit_generator(gen, steps_per_epoch=10, epochs=2)\n", "KM321"),
    ("model.fit(seq, epochs=3, workers=4, use_multiprocessing=True)\n", "KM324"),
    ("model.fit(seq, epochs=3, nb_worker = 4)\n", "KM324"),
    ("print(model.optimizer.lr)\n", "KM326"),
    ("print(model.optimizer\n      .lr)\n", "KM326"),
    ("import tensorflow as tf\nh = tf.contrib.layers.fully_connected(x, 3)\n", "KM204"),
    ("import tensorflow as tf\nh = (tf.contrib\n     .slim.conv2d(x, 3, 3))\n", "KM204"),
    ("from tensorflow.contrib import layers as L\nh = L.fully_connected(x, 3)\n", "KM204"),
    ("import tensorflow.contrib as tc\nh = tc.layers.fully_connected(x, 3)\n", "KM204"),
])
def test_trigger_patterns_keep_what_the_rules_report(text, code):
    out = fix_text(text, "x.py", options_from(Config()))
    assert code in {f.code for f in out.findings}


def test_trigger_patterns_hold_on_every_text_a_rule_reports_on():
    """Run each patterned rule without its pattern over the repository's texts (rule examples,
    fixtures, examples/): wherever it reports, the pattern matches."""
    from kmigrate.engine import Options
    from kmigrate.precheck import _compiled
    from kmigrate.rule import all_rules
    from tests.engine.test_rule_index import _corpus

    patterned = [r for r in all_rules().values() if r.trigger_pattern]
    assert len(patterned) >= 3
    reported = 0
    for rule in patterned:
        unpatterned = type(rule.__name__, (rule,), {"trigger_pattern": None})
        for unsafe in (False, True):
            options = Options(rules=(unpatterned,), unsafe_fixes=unsafe)
            for text in _corpus():
                try:
                    findings = fix_text(text, "x.py", options).findings
                except Exception:  # broken fixture texts are other tests' business
                    continue
                if findings:
                    reported += 1
                    assert _compiled(rule.trigger_pattern).search(text), (rule.code, text[:300])
    assert reported >= 10
