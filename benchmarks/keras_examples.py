"""The example scripts of the Keras-era packages of ../shared/CORPORA.md, run under TensorFlow 2.21
before and after kmigrate, the way a user lives it (`kmigrate script.py`, then `python script.py`).

    python benchmarks/keras_examples.py [--unsafe-fixes] [--timeout S] [PACKAGE|FOLDER...]

Which scripts: every `.py` file under an `examples/` folder of the packages' sdists (the ones
tests/corpora.py caches: the CORPORA.md packages and Keras 2.3.1's own examples), `__init__.py`
left out; or every `.py` file of a FOLDER given instead of a package name. Each runs in a child process of its own with:
- downloads refused (`urllib`, `keras.utils.get_file`): a script that needs a file it does not
  ship is "needs data";
- `keras.datasets.*.load_data()` (mnist, fashion_mnist, cifar10, cifar100, imdb, reuters,
  boston_housing) answering random data of the real shapes and dtypes;
- `Model.fit` cut to one epoch of at most 200 samples (2 steps for generators; `evaluate` and
  `predict` to 2 steps when they count steps), so a run takes seconds; a script that trains in a
  loop stops (as "ran") at its 4th `fit` or 21st `train_on_batch`;
- hyperas templates (`{{choice([...])}}`, `{{uniform(a, b)}}`) replaced by their first choice /
  lower bound and the `data()` and `model(*data())` functions called (what one hyperas trial
  does), with `hyperas`/`hyperopt` stubbed: the Keras code of those examples is what is measured.

Per script it prints the state before and after kmigrate: `ran`, `failed: <first error line>`
(the exception line), or `needs: <what>` (a package that is not installed, data, a download);
for a failure after kmigrate, whether kmigrate reported a finding at the failing line. Then the
totals before and after. Exit code 0 (figures, not a test).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.corpora import EXAMPLES, KERAS_ERA, corpus  # noqa: E402

# Runs in the child: the harness, then the script. argv: script path, mode ("script" / "hyperas").
HARNESS = r'''
import builtins, json, os, re, runpy, sys, traceback, types
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np

class DownloadRefused(RuntimeError):
    pass

def refuse(*args, **kwargs):
    raise DownloadRefused("download refused by the benchmark: " + str(args[:1]))

import urllib.request
urllib.request.urlopen = urllib.request.urlretrieve = refuse

import tensorflow as tf
import keras

rng = np.random.RandomState(0)
def images(n, shape, classes):
    return rng.randint(0, 256, (n,) + shape).astype("uint8"), rng.randint(0, classes, (n,)).astype("uint8")
def sequences(n, vocab, classes):
    xs = np.empty(n, dtype=object)
    for i in range(n):
        xs[i] = list(rng.randint(1, vocab, rng.randint(20, 200)))
    return xs, rng.randint(0, classes, n).astype("int64")
def split(train, test):
    return train, test
FAKE = {
    "mnist": lambda **k: (images(60000, (28, 28), 10), images(10000, (28, 28), 10)),
    "fashion_mnist": lambda **k: (images(60000, (28, 28), 10), images(10000, (28, 28), 10)),
    "cifar10": lambda **k: ((images(50000, (32, 32, 3), 10)[0], rng.randint(0, 10, (50000, 1)).astype("uint8")),
                            (images(10000, (32, 32, 3), 10)[0], rng.randint(0, 10, (10000, 1)).astype("uint8"))),
    "cifar100": lambda **k: ((images(50000, (32, 32, 3), 100)[0], rng.randint(0, 100, (50000, 1)).astype("uint8")),
                             (images(10000, (32, 32, 3), 100)[0], rng.randint(0, 100, (10000, 1)).astype("uint8"))),
    # as Keras 3's loaders: imdb takes **kwargs and ignores `nb_words` (the whole 88,584-word vocabulary
    # comes back), reuters rejects it
    "imdb": lambda path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2,
                   index_from=3, **ignored: (sequences(25000, num_words or 88584, 2), sequences(25000, num_words or 88584, 2)),
    "reuters": lambda path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2, seed=113,
                      start_char=1, oov_char=2, index_from=3: (sequences(8982, num_words or 30979, 46),
                                                               sequences(2246, num_words or 30979, 46)),
    "boston_housing": lambda **k: ((rng.rand(404, 13), rng.rand(404) * 50), (rng.rand(102, 13), rng.rand(102) * 50)),
}
for name, fake in FAKE.items():
    for mod in (getattr(keras.datasets, name, None), getattr(tf.keras.datasets, name, None)):
        if mod is not None:
            mod.load_data = fake
for mod in (keras.utils, tf.keras.utils):
    mod.get_file = refuse
import keras.src.utils.file_utils as _fu
_fu.get_file = refuse

CAP = 200  # a multiple of the usual fixed batch sizes (batch_input_shape=(25, ...), batch_shape=(100, ...))
def cut(x):
    if isinstance(x, np.ndarray):
        return x[:CAP]
    if isinstance(x, (list, tuple)) and x and all(isinstance(e, np.ndarray) for e in x):
        return type(x)(e[:CAP] for e in x)
    if isinstance(x, dict) and all(isinstance(e, np.ndarray) for e in x.values()):
        return {k: e[:CAP] for k, e in x.items()}
    return x

class EnoughTraining(Exception):
    """Raised by the 4th fit / 21st train_on_batch: a script that trains in a loop has shown it runs."""

calls = {"fit": 0, "train_on_batch": 0}
def enough(kind, limit):
    calls[kind] += 1
    if calls[kind] > limit:
        raise EnoughTraining(kind)

Model = keras.Model
_fit, _evaluate, _predict, _train_on_batch = Model.fit, Model.evaluate, Model.predict, Model.train_on_batch
def train_on_batch(self, *args, **kwargs):
    enough("train_on_batch", 20)
    return _train_on_batch(self, *args, **kwargs)
def fit(self, x=None, y=None, *args, **kwargs):
    enough("fit", 3)
    kwargs["epochs"] = 1
    kwargs.pop("initial_epoch", None)
    if kwargs.get("steps_per_epoch"):
        kwargs["steps_per_epoch"] = min(2, kwargs["steps_per_epoch"])
    if kwargs.get("validation_steps"):
        kwargs["validation_steps"] = min(2, kwargs["validation_steps"])
    elif not isinstance(x, (np.ndarray, list, tuple, dict)) and x is not None and not kwargs.get("steps_per_epoch"):
        kwargs["steps_per_epoch"] = 2
    if isinstance(kwargs.get("validation_data"), (tuple, list)):
        kwargs["validation_data"] = tuple(cut(v) for v in kwargs["validation_data"])
    return _fit(self, cut(x), cut(y), *args, **kwargs)
def evaluate(self, x=None, y=None, *args, **kwargs):
    if kwargs.get("steps"):
        kwargs["steps"] = min(2, kwargs["steps"])
    return _evaluate(self, x, y, *args, **kwargs)
def predict(self, x, *args, **kwargs):
    if kwargs.get("steps"):
        kwargs["steps"] = min(2, kwargs["steps"])
    return _predict(self, x, *args, **kwargs)
Model.fit, Model.evaluate, Model.predict, Model.train_on_batch = fit, evaluate, predict, train_on_batch
for legacy in ("fit_generator", "evaluate_generator", "predict_generator"):
    if hasattr(Model, legacy):
        pass  # Keras 3 has none: an old script fails on them, as it would for a user

path, mode = sys.argv[1], sys.argv[2]
result = {"status": "ran"}
try:
    if mode == "hyperas":
        def stub(name, **attrs):
            m = types.ModuleType(name)
            m.__dict__.update(attrs)
            m.__getattr__ = lambda attr: None  # any other name (`rand`, `mongoexp`): only imported
            sys.modules[name] = m
            return m
        def choice(options):
            return options[0]
        def uniform(low, high):
            return low
        stub("hyperopt", Trials=object, STATUS_OK="ok", tpe=types.SimpleNamespace(suggest=None),
             fmin=None, hp=types.SimpleNamespace())
        stub("hyperas", optim=types.SimpleNamespace(minimize=None))
        stub("hyperas.optim", minimize=None)
        stub("hyperas.distributions", choice=choice, uniform=uniform, conditional=lambda x: x,
             quniform=lambda a, b, q: a, loguniform=uniform, normal=lambda m, s: m, randint=lambda n: 0)
        stub("hyperas.utils", eval_hyperopt_space=None)
        g = runpy.run_path(path, run_name="hyperas_example")
        if "data" in g and "model" in g:
            args = g["data"]()
            g["model"](*(args if isinstance(args, tuple) else (args,)))
        elif "create_model" in g and "data" in g:
            args = g["data"]()
            g["create_model"](*(args if isinstance(args, tuple) else (args,)))
    else:
        runpy.run_path(path, run_name="__main__")
except (SystemExit, EnoughTraining):
    pass
except BaseException as exc:
    tb = traceback.extract_tb(exc.__traceback__)
    line = next((f.lineno for f in reversed(tb) if os.path.abspath(f.filename) == os.path.abspath(path)), None)
    first = traceback.format_exception_only(type(exc), exc)[-1].strip().splitlines()[0][:200]
    result = {"status": "failed", "error": first, "type": type(exc).__name__, "line": line,
              "module": getattr(exc, "name", None) if isinstance(exc, ImportError) else None}
print("\nBENCH-RESULT " + json.dumps(result), flush=True)  # on its own line, after any progress bar
os._exit(0)
'''

_TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.S)


def hyperas_source(text: str) -> str:
    """What one hyperas trial runs: each `{{expression}}` replaced by the expression's first value."""
    return _TEMPLATE.sub(lambda m: f"({m.group(1).strip()})", text)


def root_of(name: str) -> Path:
    """A package of tests/corpora.py, or a folder of scripts of your own (every .py file in it)."""
    return Path(name) if Path(name).is_dir() else corpus(name)


def scripts_of(name: str) -> list[Path]:
    root = root_of(name)
    if Path(name).is_dir():
        return sorted(p for p in root.glob("*.py") if p.name != "__init__.py")
    return sorted(p for p in root.rglob("*.py") if "examples" in p.parts and p.name != "__init__.py")


def classify(result: dict) -> str:
    """'ran', 'needs' (package not installed, data, download) or 'failed'."""
    if result["status"] == "ran":
        return "ran"
    if result.get("type") == "NameError" and result.get("mode") == "hyperas":
        return "needs"  # hyperas pastes data()'s local names into model(); one trial called alone lacks them
    err, kind = result.get("error", ""), result.get("type", "")
    module = result.get("module") or ""
    if kind in ("ModuleNotFoundError", "ImportError") and module and not module.split(".")[0] in (
            "keras", "tensorflow"):
        return "needs"
    if kind in ("DownloadRefused", "FileNotFoundError") or "download refused" in err:
        return "needs"
    if kind == "ImportError" and "You must install" in err:  # plot_model without pydot / graphviz
        return "needs"
    return "failed"


def describe(result: dict) -> str:
    state = classify(result)
    if state == "ran":
        return "ran"
    if state == "needs":
        what = result.get("module") or ("a download" if "download" in result.get("error", "") else
                                        "hyperas (data() names)" if result.get("type") == "NameError" else "data")
        return f"needs {what}"
    return f"failed: {result.get('error', '')}"


def original_line(before: str, after: str, line):
    """The line of `before` that line `line` of `after` (the migrated text) came from (findings
    are reported at the lines of the file as it was)."""
    if line is None:
        return None
    import difflib

    ops = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines(), autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in ops:
        if j1 < line <= j2:
            return i1 + min(line - j1, max(i2 - i1, 1))
    return line


def run(path: Path, mode: str, timeout: int) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "-1", "MPLBACKEND": "Agg"}
    try:
        proc = subprocess.run([sys.executable, "-c", HARNESS, str(path), mode], capture_output=True, text=True,
                              timeout=timeout, cwd=path.parent, env=env)
    except subprocess.TimeoutExpired:
        return {"status": "failed", "error": f"timed out after {timeout} s", "type": "Timeout"}
    line = next((l[l.index("BENCH-RESULT "):] for l in proc.stdout.splitlines() if "BENCH-RESULT " in l), None)
    if line is None:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"status": "failed", "error": f"crashed: {tail[:200]}", "type": "Crash"}
    return {**json.loads(line[len("BENCH-RESULT "):]), "mode": mode}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("packages", nargs="*")
    parser.add_argument("--unsafe-fixes", action="store_true")
    parser.add_argument("--timeout", type=int, default=300)
    args = parser.parse_args()
    from kmigrate.config import Config
    from kmigrate.process import process_file
    from kmigrate.run import options_from

    options = options_from(Config(unsafe_fixes=args.unsafe_fixes))
    totals = {"before": Counter(), "after": Counter()}
    unreported = 0
    start = time.perf_counter()
    print(f"{'script':48} {'before kmigrate':40} after kmigrate")
    for name in args.packages or [*KERAS_ERA, *EXAMPLES]:
        for src in scripts_of(name):
            text = src.read_text(encoding="utf-8", errors="replace")
            mode = "hyperas" if "{{" in text and "hyperas" in text else "script"
            with tempfile.TemporaryDirectory() as tmp:
                work = Path(tmp)
                for sibling in src.parent.iterdir():  # data files and helper modules next to the script
                    if sibling.is_file():
                        shutil.copy(sibling, work / sibling.name)
                original = work / src.name
                if mode == "hyperas":
                    original.write_text(hyperas_source(text), encoding="utf-8")
                before = run(original, mode, args.timeout)
                migrated = work / ("migrated_" + src.name)
                shutil.copy(original, migrated)
                result = process_file(str(migrated), options)
                if result.new is not None:
                    migrated.write_bytes(result.new)
                after = run(migrated, mode, args.timeout)
                note = ""
                if classify(after) == "failed":
                    lines = {f.line for f in result.findings if not f.fix_applied}
                    reported = original_line(original.read_text(encoding="utf-8", errors="replace"),
                                             migrated.read_text(encoding="utf-8", errors="replace"),
                                             after.get("line")) in lines
                    unreported += not reported
                    note = f"  [line {after.get('line')}: {'reported' if reported else 'NOT reported'}]"
            label = f"{Path(name).name}/{src.relative_to(root_of(name)).as_posix().split('/examples/')[-1]}"
            print(f"{label[:48]:48} {describe(before)[:40]:40} {describe(after)}{note}", flush=True)
            totals["before"][classify(before)] += 1
            totals["after"][classify(after)] += 1
    n = sum(totals["before"].values())
    for when in ("before", "after"):
        t = totals[when]
        print(f"{when:6} kmigrate: {n} scripts: ran {t['ran']}, failed {t['failed']}, needs data/package {t['needs']}")
    print(f"failures after kmigrate at a line kmigrate did not report: {unreported}")
    print(f"({time.perf_counter() - start:.0f} s, fixes: {'safe + unsafe' if args.unsafe_fixes else 'safe'})")


if __name__ == "__main__":
    main()
