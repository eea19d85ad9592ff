"""The opt-in legacy target for TF1 layers (`tf1-layers = "compat"`, KM606), run where it runs:
a separate environment with TensorFlow 2.21 and the matching `tf-keras` (.venv-legacy, which
.ci/run creates). Outside CI the test skips when that environment does not exist; in CI
(CI=true) it must exist and the test runs.

The programs in fixtures/tf1_programs/legacy/ are what KM201 refuses (tf.layers weights shared
by name in a reused variable_scope, batch norm with a tensor `training=` and UPDATE_OPS, a
Saver): migrated with every KM rule and tf1-layers = "compat", they must train there, with
TF1's variable names (checked by the programs themselves).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from kmigrate.engine import Options, fix_text
from kmigrate.rule import select_rules
from tests.paths import ROOT
from tests.rules.tf1.test_tf1_programs_run import run_program, trains

LEGACY = ROOT / "fixtures" / "tf1_programs" / "legacy"
VENV = Path(os.environ.get("KMIGRATE_LEGACY_VENV", ROOT / ".venv-legacy"))
PYTHON = VENV / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def _migrate(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    out = fix_text(text, str(path), Options(rules=tuple(select_rules(["KM"], [])), tf1_layers="compat"))
    assert not [f for f in out.findings if not f.fix_applied and f.severity == "error"], out.findings
    return out.text


@pytest.fixture(scope="module")
def legacy_python() -> Path:
    if not PYTHON.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{VENV} is missing: .ci/run creates it (tensorflow==2.21.* and tf-keras)")
        pytest.skip(f"no legacy environment at {VENV} (create it as .ci/run does)")
    return PYTHON


@pytest.mark.parametrize("name", sorted(p.name for p in LEGACY.glob("*.py")))
def test_compat_layers_program_trains_with_tf_keras(legacy_python, tmp_path, name):
    text = _migrate(LEGACY / name)
    assert "tf.compat.v1.layers." in text and 'os.environ["TF_USE_LEGACY_KERAS"] = "1"' in text
    assert text.index("TF_USE_LEGACY_KERAS") < text.index("import tensorflow")
    result = run_program(text, tmp_path, name, python=str(legacy_python))
    assert trains(result), (result, text)


def test_the_same_programs_fail_without_the_legacy_route(tmp_path):
    """Without tf-keras (the main environment) the compat layers are not there: the route needs
    the environment it is tested in, and the default route refuses these calls."""
    name = "gan_shared_layers.py"
    result = run_program(_migrate(LEGACY / name), tmp_path, name)
    assert result["returncode"] != 0
    default = fix_text((LEGACY / name).read_text(), name, Options(rules=tuple(select_rules(["KM2"], []))))
    assert any(not f.fix_applied and "reuse" in f.message for f in default.findings)


def test_compat_option_is_plumbed_through_config_and_cli(tmp_path):
    from click.testing import CliRunner

    from kmigrate.cli import main
    from kmigrate.config import ConfigError, load

    (tmp_path / "pyproject.toml").write_text('[tool.kmigrate]\ntf1-layers = "compat"\n')
    assert load(tmp_path).tf1_layers == "compat"
    (tmp_path / "pyproject.toml").write_text('[tool.kmigrate]\ntf1-layers = "legacy"\n')
    with pytest.raises(ConfigError):
        load(tmp_path)
    (tmp_path / "pyproject.toml").write_text("")
    src = tmp_path / "t.py"
    src.write_text("import tensorflow as tf\ny = tf.layers.dense(x, 3)\n")
    result = CliRunner().invoke(main, ["--tf1-layers", "compat", "--no-cache", "-q", "--select", "KM606", str(src)])
    assert 'os.environ["TF_USE_LEGACY_KERAS"] = "1"' in src.read_text() and "tf.compat.v1.layers.dense" in src.read_text(), result.output
    src.write_text("import tensorflow as tf\ny = tf.layers.dense(x, 3)\n")
    CliRunner().invoke(main, ["--no-cache", "-q", "--select", "KM2,KM606", str(src)])
    assert "tf.keras.layers.Dense(3)(x)" in src.read_text()
