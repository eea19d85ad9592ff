"""Round trip over real code: every .py file of the ../shared/CORPORA.md packages and of a large
modern package (tests/corpora.py MODERN) through `process_file` with the default rules.

Per file: no internal error; KM000 only for a file Python itself rejects (Python 2 code in the
old sdists), naming a line of it; the output compiles; a file with no applied fix comes back
byte-identical (`new is None`); a second run over the fixed output changes nothing.
"""
from __future__ import annotations

import warnings

import pytest

from kmigrate.config import Config
from kmigrate.process import process_file
from kmigrate.result import ERROR_CODE
from kmigrate.run import options_from
from kmigrate.source import Source

from tests.corpora import ALL, MODERN, corpus, python_files

pytestmark = [
    pytest.mark.corpus,
    # kmigrate's syntax check compiles their code: their `is` literals and invalid escapes are not ours
    pytest.mark.filterwarnings("ignore::SyntaxWarning"),
    pytest.mark.filterwarnings("ignore:invalid escape sequence:DeprecationWarning"),
]

OPTIONS = options_from(Config())  # the default rules, safe fixes


def _python_rejects(raw: bytes, path: str) -> SyntaxError | None:
    """Python's own verdict on the file (compile only: nothing is run)."""
    try:
        _compile(raw, path)
    except SyntaxError as exc:
        return exc
    except ValueError as exc:  # NUL bytes
        return SyntaxError(str(exc))
    return None


def _compile(code: str | bytes, path: str) -> None:
    with warnings.catch_warnings():  # their invalid escapes and `is` literals are not ours
        warnings.simplefilter("ignore")
        compile(code, path, "exec", dont_inherit=True)


@pytest.mark.parametrize("package", sorted(ALL) + sorted(MODERN))
def test_every_file_round_trips(package, tmp_path):
    root = corpus(package)
    files = python_files(root)
    assert files, f"no .py files in {root}"
    problems: list[str] = []
    counts = {"files": 0, "changed": 0, "syntax errors": 0}
    for f in files:
        rel = f.relative_to(root)
        counts["files"] += 1
        raw = f.read_bytes()
        first = process_file(str(f), OPTIONS)
        errors = [x for x in first.findings if x.code == ERROR_CODE]
        if "internal error" in " ".join(x.message for x in first.findings):
            problems.append(f"{rel}: crash: {errors[0].message}")
            continue
        if errors:
            # only a file Python rejects may fail, with one error that names a line of it
            rejected = _python_rejects(raw, str(f))
            err = errors[0]
            nlines = raw.count(b"\n") + 1
            if rejected is None:
                problems.append(f"{rel}: KM000 on a file Python compiles: {err.message}")
            elif not (err.message.startswith("syntax error") and len(errors) == 1 and 1 <= err.line <= nlines):
                problems.append(f"{rel}: unclear error: line {err.line}: {err.message}")
            if first.new is not None:
                problems.append(f"{rel}: an error, yet new bytes")
            counts["syntax errors"] += 1
            continue
        if first.new is None:
            assert f.read_bytes() == raw  # process_file never writes
            continue
        if not any(x.fix_applied for x in first.findings):
            problems.append(f"{rel}: changed without an applied fix")
        text = Source.from_bytes(first.new).text
        try:
            _compile(text, str(f))
        except SyntaxError as exc:
            problems.append(f"{rel}: output does not compile: {exc}")
            continue
        counts["changed"] += 1
        fixed = tmp_path / rel
        fixed.parent.mkdir(parents=True, exist_ok=True)
        fixed.write_bytes(first.new)
        second = process_file(str(fixed), OPTIONS)
        if second.error or second.new is not None:
            problems.append(f"{rel}: second run changed it again or failed: "
                            f"{[x.message for x in second.findings if x.code == ERROR_CODE]}")
    print(package, counts)
    assert not problems, "\n".join(problems)
    assert counts["syntax errors"] < counts["files"] / 2, counts  # most files really went through
    if package in MODERN:
        assert counts["changed"] == 0 and counts["syntax errors"] == 0, counts  # no Keras in it
