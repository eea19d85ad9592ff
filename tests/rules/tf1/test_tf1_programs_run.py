"""TF1 programs (fixtures/tf1_programs/, written here) migrated by kmigrate and RUN on TensorFlow 2.21.

Each program is a small TensorFlow 1 script on random data (linear/logistic regression, MLP and
CNN with tf.layers, RNN/LSTM with tf.nn.dynamic_rnn, autoencoder, GAN with two variable scopes,
save/restore, summaries, an eager TF1 script, flags, control flow, ...). It prints `loss <value>`
per training step and, where the TF1 code computed something knowable, `check <difference>`
between what it computed and a numpy reference of TF1's semantics. The test migrates it with
every KM rule (with --unsafe-fixes when its first line says `# kmigrate: unsafe_fixes`), checks
that nothing is left to do (no remaining error finding, a second run changes nothing), runs
the output in a subprocess with a timeout, and asserts: exit 0, every loss finite, the loss
changed, every check below 1e-4. Programs run two at a time (two cores); the whole suite takes
about a minute.
"""
from __future__ import annotations

import math
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kmigrate.engine import Options, fix_text
from kmigrate.rule import select_rules
from kmigrate.testing import header_options
from tests.paths import ROOT

pytestmark = pytest.mark.tf

PROGRAMS = ROOT / "fixtures" / "tf1_programs"
TIMEOUT = 120


def programs() -> list[Path]:
    return sorted(PROGRAMS.glob("*.py"))


def options_for(text: str, **extra) -> Options:
    opts = header_options(text)
    return Options(rules=tuple(select_rules(["KM"], [])), unsafe_fixes=bool(opts.get("unsafe_fixes")), **extra)


def migrate(path: Path):
    text = path.read_text(encoding="utf-8")
    return fix_text(text, str(path), options_for(text))


def run_program(text: str, folder: Path, name: str, python: str = sys.executable, env: dict | None = None) -> dict:
    """Run `text` as a script; its exit code, losses, checks and the end of its stderr."""
    script = folder / name
    script.write_text(text, encoding="utf-8")
    environ = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", **(env or {})}
    try:
        proc = subprocess.run([python, str(script)], cwd=folder, capture_output=True, text=True,
                              timeout=TIMEOUT, env=environ)
    except subprocess.TimeoutExpired:
        return {"returncode": None, "losses": [], "checks": [], "stderr": "timeout"}
    losses, checks = [], []
    for line in proc.stdout.splitlines():
        head, _, value = line.partition(" ")
        if head in ("loss", "check"):
            (losses if head == "loss" else checks).append(float(value.strip("[]")))
    return {"returncode": proc.returncode, "losses": losses, "checks": checks, "stderr": proc.stderr[-2000:]}


def trains(result: dict) -> bool:
    losses = result["losses"]
    return (result["returncode"] == 0 and len(losses) >= 2 and all(math.isfinite(v) for v in losses)
            and max(losses) != min(losses) and all(abs(c) < 1e-4 for c in result["checks"]))


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Every program migrated, then run (two at a time)."""
    migrated = {p.name: migrate(p) for p in programs()}

    def job(name):
        folder = tmp_path_factory.mktemp(name.removesuffix(".py"))
        return name, run_program(migrated[name].text, folder, name)

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(pool.map(job, sorted(migrated)))
    return migrated, runs


def test_there_are_at_least_20_programs():
    assert len(programs()) >= 20


@pytest.mark.parametrize("name", [p.name for p in programs()])
def test_migrated_program_trains_on_tensorflow_2_21(outcomes, name):
    migrated, runs = outcomes
    result = runs[name]
    assert trains(result), (result, migrated[name].text)


@pytest.mark.parametrize("name", [p.name for p in programs()])
def test_migration_leaves_nothing_and_settles(name):
    out = migrate(PROGRAMS / name)
    left = [f for f in out.findings if not f.fix_applied and f.severity == "error"]
    assert not left, left
    again = fix_text(out.text, name, options_for(out.text))
    assert again.text == out.text


def test_the_originals_fail_on_tensorflow_2_21(tmp_path):
    """The suite means something: unmigrated, the programs do not run (one is enough to check)."""
    result = run_program((PROGRAMS / "linear_regression.py").read_text(), tmp_path, "original.py")
    assert result["returncode"] != 0 and "placeholder" in result["stderr"]


def test_the_readme_example_comes_out_running(tmp_path):
    """examples/old_keras/tf1_layers.py (the issue's example): migrated with the defaults, it runs."""
    path = ROOT / "examples" / "old_keras" / "tf1_layers.py"
    text = path.read_text(encoding="utf-8")
    out = fix_text(text, str(path), options_for(text))
    assert not [f for f in out.findings if not f.fix_applied and f.severity == "error"], out.findings
    probe = out.text + "\nprint('loss', 1.0)\nprint('loss', float(logits.shape[-1]))\n"
    result = run_program(probe, tmp_path, "tf1_layers.py")
    assert trains(result), (result, out.text)
