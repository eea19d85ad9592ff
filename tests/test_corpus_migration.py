"""The Keras-era packages of ../shared/CORPORA.md after `kmigrate` (default rules, safe fixes):
no remaining use of a removed Keras API goes unreported.

`tests/leftovers.py` finds removed-API uses independently of the rules (names checked against
the installed tf.keras, keywords against the signatures); each one left in the migrated code
must sit on a line that a second kmigrate run still reports.
"""
from __future__ import annotations

import shutil

import pytest

from kmigrate.config import Config
from kmigrate.engine import process_file
from kmigrate.run import options_from
from kmigrate.source import Source

from . import leftovers
from .corpora import KERAS_ERA, corpus, python_files

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
    """Migrate a copy of `src` in `work`; per file: (changed, findings of the first run, unreported)."""
    shutil.copytree(src, work)
    options = options_from(Config())
    out = {}
    for path in python_files(work):
        first = process_file(str(path), options)
        if first.error:
            out[path] = (False, first.findings, [])
            continue
        if first.new is not None:
            path.write_bytes(first.new)
            second = process_file(str(path), options)  # positions in the migrated text
        else:
            second = first  # unchanged: the first run's positions hold
        text = Source.from_bytes(path.read_bytes()).text
        spans = [(f.line, f.end_line) for f in second.findings if not f.fix_applied]
        unreported = [x for x in leftovers.find(text)
                      if not any(a <= x.line <= b or x.line <= a <= x.end_line or a <= x.import_line <= b
                                 for a, b in spans)]
        out[path] = (first.new is not None, first.findings, unreported)
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
