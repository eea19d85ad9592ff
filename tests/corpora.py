"""Real third-party code to test on (../shared/CORPORA.md): fetched from PyPI as sdists, cached.

Nothing of theirs is committed: `corpus("keras-vis")` downloads the pinned sdist with pip into
`.cache/corpora/` (gitignored), unpacks it once, and returns the folder. `corpus("rich")` does
the same for MODERN, a large package of today's Python (match, walrus, f-strings, typing) that
has no Keras in it: kmigrate must go through it without a crash or a changed byte. Outside CI a registry
that cannot be reached skips the test with a clear message; in CI (CI=true) it fails.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("KMIGRATE_CORPORA", ROOT / ".cache" / "corpora"))

KERAS_ERA = {
    "keras-vis": "0.2",
    "hyperas": "0.4.1",
    "keras-rl": "0.4.2",
    "segmentation-models": "0.2.1",
    "keras-resnet": "0.2.0",
    "talos": "0.4.9",
    "textgenrnn": "1.4.1",
    "keras-self-attention": "0.30.0",
    "mrcnn": "0.2",
}
TF1_ERA = {
    "tensor2tensor": "1.13.4",
    "stable-baselines": "2.10.2",
}
ALL = {**KERAS_ERA, **TF1_ERA}
# Keras' own example scripts (Keras 2.3.1 sdist's examples/): what old Keras 2 programs look like,
# run by benchmarks/keras_examples.py; not a lint corpus (the package itself is Keras' source).
EXAMPLES = {
    "keras": "2.3.1",
}
# A large modern package, not in CORPORA.md (benchmarks/reliability.py --modern picks another).
MODERN = {
    "rich": "13.9.4",
}


def _fetch(name: str, version: str) -> Path:
    target = CACHE / f"{name}-{version}"
    done = target / ".unpacked"
    if done.exists():
        return target
    downloads = CACHE / "sdists"
    downloads.mkdir(parents=True, exist_ok=True)
    existing = [p for p in downloads.iterdir() if _matches(p.name, name, version)]
    if not existing:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
               f"{name}=={version}", "-d", str(downloads), "-q"]
        # pip reads the sdist's metadata by building it: old setup.py packages build with what is
        # installed; a modern build backend (rich: poetry-core) needs pip's isolated build env.
        for extra in (["--no-build-isolation"], []):
            proc = subprocess.run(cmd + extra, capture_output=True, text=True, timeout=600)
            existing = [p for p in downloads.iterdir() if _matches(p.name, name, version)]
            if existing:
                break
        if not existing:
            raise RuntimeError(f"pip download {name}=={version} failed: {proc.stderr.strip()[-500:]}")
    archive = existing[0]
    target.mkdir(parents=True, exist_ok=True)
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(target)
    else:
        with tarfile.open(archive) as tf:
            tf.extractall(target, filter="data")
    done.write_text("ok\n")
    return target


def _matches(filename: str, name: str, version: str) -> bool:
    norm = filename.lower().replace("_", "-")
    return norm.startswith(f"{name.lower()}-{version}") and (norm.endswith(".tar.gz") or norm.endswith(".zip"))


def fetch(name: str, version: str) -> Path:
    """The unpacked sdist of name==version, downloaded once under the cache lock (no pytest)."""
    import fcntl

    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:  # pytest-xdist workers and scripts share the cache
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _fetch(name, version)


def corpus(name: str) -> Path:
    """The unpacked sdist of a CORPORA.md or MODERN package (downloaded once, then cached)."""
    version = ALL.get(name) or EXAMPLES.get(name) or MODERN[name]
    try:
        return fetch(name, version)
    except Exception as exc:  # network or registry trouble
        if os.environ.get("CI"):
            raise
        pytest.skip(f"cannot fetch corpus {name}: {exc}")


def python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if p.is_file() and not p.is_symlink())
