"""The pre-commit hooks, run by the real `pre-commit try-repo` against a temporary git repository.

The hook repository is a committed copy of this working tree (so the test sees exactly the
code under test, whatever the state of the checkout's git index). pre-commit builds the hook's
own virtualenv from it with pip, as it would for a user: that takes PyPI and ~30 s.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from tests.paths import ROOT

PROJECT_FILES = ["pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "kmigrate", "rules"]

KERAS2 = "import keras\nfrom keras.layers import Dense\n\nmodel = keras.Sequential([Dense(3)])\n"
FIXED = "from tensorflow import keras\nfrom tensorflow.keras.layers import Dense\n\nmodel = keras.Sequential([Dense(3)])\n"


def git(*args, cwd):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false",
                    *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in PROJECT_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"))
        else:
            shutil.copy2(src, repo / name)
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "kmigrate under test", cwd=repo)
    return repo


def notebook() -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%matplotlib inline\nimport keras.backend as K", execution_count=1)]
    return nbformat.writes(nb) + "\n"


def pre_commit(*args, cwd: Path, env) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pre_commit", *args, "--all-files", "--verbose", "--color", "never"]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def user_repo(path: Path) -> Path:
    (path / "src").mkdir(parents=True)
    (path / "src/train.py").write_text(KERAS2)
    (path / "explore.ipynb").write_text(notebook())
    git("init", "-q", cwd=path)
    git("add", "-A", cwd=path)
    git("commit", "-q", "-m", "old code", cwd=path)
    return path


@pytest.fixture
def env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRE_COMMIT", "VIRTUAL_ENV", "PYTHONPATH"))}
    env.update(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), PIP_DISABLE_PIP_VERSION_CHECK="1",
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
    return env


def assert_fixed(work: Path, nb_before: str) -> None:
    assert (work / "src/train.py").read_text() == FIXED
    nb_after = (work / "explore.ipynb").read_text()
    cell = json.loads(nb_after)["cells"][0]
    assert cell["source"] == ["%matplotlib inline\n", "import tensorflow.keras.backend as K"]
    assert cell["execution_count"] == 1 and len(nb_after.splitlines()) == len(nb_before.splitlines())


def test_try_repo_hook_fails_and_fixes_then_passes(hook_repo, tmp_path, env):
    work = user_repo(tmp_path / "user-repo")
    nb_before = (work / "explore.ipynb").read_text()
    fix = pre_commit("try-repo", str(hook_repo), "kmigrate", cwd=work, env=env)
    assert fix.returncode == 1, fix.stdout + fix.stderr
    assert "files were modified by this hook" in fix.stdout
    assert "src/train.py:1:1: KM101 [fixed]" in fix.stdout and "explore.ipynb:cell 1:2:1: KM101" in fix.stdout
    assert_fixed(work, nb_before)
    # both hooks (kmigrate, then kmigrate-check) over the fixed tree
    again = pre_commit("try-repo", str(hook_repo), cwd=work, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count("Passed") == 2


def test_installed_hooks_check_then_fix_without_tensorflow(hook_repo, tmp_path, env):
    """The same hooks as a user installs them (`repo:` + `rev:`), so the environment can be inspected."""
    work = user_repo(tmp_path / "user-repo")
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=hook_repo, capture_output=True, text=True).stdout.strip()
    (work / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {hook_repo}\n  rev: {rev}\n  hooks:\n  - id: kmigrate-check\n  - id: kmigrate\n")
    nb_before = (work / "explore.ipynb").read_text()

    check = pre_commit("run", "kmigrate-check", cwd=work, env=env)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "explore.ipynb:cell 1:2:1: KM101 [*]" in check.stdout  # would fix; nothing written
    assert (work / "src/train.py").read_text() == KERAS2  # the check hook writes nothing
    assert (work / "explore.ipynb").read_text() == nb_before

    fix = pre_commit("run", "kmigrate", cwd=work, env=env)
    assert fix.returncode == 1 and "files were modified by this hook" in fix.stdout, fix.stdout + fix.stderr
    assert_fixed(work, nb_before)
    assert pre_commit("run", cwd=work, env=env).returncode == 0

    # The hook's environment has kmigrate and its base dependencies, and no TensorFlow.
    site = list((tmp_path / "pre-commit-home").glob("repo*/py_env-*/lib/python*/site-packages"))
    assert len(site) == 1, site
    installed = {p.name.lower() for p in site[0].iterdir()}
    assert {"libcst", "click", "pathspec", "kmigrate"} <= installed, sorted(installed)
    assert not any(name.startswith(("tensorflow", "keras", "tf_keras")) for name in installed), sorted(installed)
