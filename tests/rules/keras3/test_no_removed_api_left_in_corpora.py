"""The Keras-era packages of ../shared/CORPORA.md after `kmigrate` (default rules, safe fixes):
no remaining use of a removed Keras API goes unreported.

`tests/leftovers.py` finds removed-API uses independently of the rules (names checked against
the installed tf.keras, keywords against the signatures); each one left in the migrated code
must sit on a line that a second kmigrate run still reports.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kmigrate.config import Config
from kmigrate.run import options_from, results
from kmigrate.source import Source

from tests import leftovers
from tests.corpora import KERAS_ERA, corpus, python_files

pytestmark = [pytest.mark.corpus, pytest.mark.tf]

# Removed-API uses that are bugs of the package itself (they failed on Keras 2 as well), with why.
KNOWN = {
    ("keras-resnet", "keras_resnet/blocks/_time_distributed_2d.py", "`layers.BatchNormalization(freeze=)` is not accepted"):
        "keras-resnet 0.2.0 passes its own `freeze=` to keras.layers.BatchNormalization (it meant "
        "keras_resnet.layers.BatchNormalization); Keras 2 rejected it too",
}


def known(package: str, rel: str, what: str) -> bool:
    return any(package == p and rel.endswith(f) and what == w for p, f, w in KNOWN)


def migrate_and_check(src, work):
    """Migrate a copy of `src` in `work`; per file: (changed, findings of the first run, unreported).

    Both runs go through kmigrate's parallel pipeline (2 workers), without the results cache.
    """
    shutil.copytree(src, work)
    options = options_from(Config())
    files = [str(p) for p in python_files(work)]
    first = dict(zip(files, results(files, options, jobs=2)))
    changed = []
    for path, res in first.items():
        if not res.error and res.new is not None:
            Path(path).write_bytes(res.new)
            changed.append(path)
    second = dict(zip(changed, results(changed, options, jobs=2)))  # positions in the migrated text
    out = {}
    for path, res in first.items():
        if res.error:
            out[Path(path)] = (False, res.findings, [])
            continue
        final = second.get(path, res)  # unchanged: the first run's positions hold
        text = Source.from_bytes(Path(path).read_bytes()).text
        spans = [(f.line, f.end_line) for f in final.findings if not f.fix_applied]
        unreported = [x for x in leftovers.find(text)
                      if not any(a <= x.line <= b or x.line <= a <= x.end_line or a <= x.import_line <= b
                                 for a, b in spans)]
        out[Path(path)] = (res.new is not None, res.findings, unreported)
    return out


@pytest.mark.parametrize("package", sorted(KERAS_ERA))
def test_no_removed_api_left_unreported(package, tmp_path):
    work = tmp_path / package
    results = migrate_and_check(corpus(package), work)
    assert results, "no Python files"
    problems = [f"{p.relative_to(work)}:{x.line}: {x.what}"
                for p, (_, _, unreported) in results.items() for x in unreported
                if not known(package, str(p.relative_to(work)), x.what)]
    assert not problems, f"{len(problems)} unreported leftovers:\n" + "\n".join(problems[:60])
