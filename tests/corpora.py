"""Real third-party code to test on (../shared/CORPORA.md): fetched from PyPI as sdists, cached.

Nothing of theirs is committed: `corpus("keras-vis")` downloads the pinned sdist with pip into
`.cache/corpora/` (gitignored), unpacks it once, and returns the folder. Outside CI a registry
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
               "--no-build-isolation", f"{name}=={version}", "-d", str(downloads), "-q"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        existing = [p for p in downloads.iterdir() if _matches(p.name, name, version)]
        if proc.returncode != 0 and not existing:
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


def corpus(name: str) -> Path:
    """The unpacked sdist of a CORPORA.md package (downloaded once, then cached)."""
    import fcntl

    CACHE.mkdir(parents=True, exist_ok=True)
    try:
        with open(CACHE / ".lock", "w") as lock:  # pytest-xdist workers share the cache
            fcntl.flock(lock, fcntl.LOCK_EX)
            return _fetch(name, ALL[name])
    except Exception as exc:  # network or registry trouble
        if os.environ.get("CI"):
            raise
        pytest.skip(f"cannot fetch corpus {name}: {exc}")


def python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if p.is_file() and not p.is_symlink())
