"""A whole run: file list -> process each file (in worker processes) -> write -> report."""
from __future__ import annotations

import difflib
import os
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Optional, TextIO

from . import report as reporting
from .config import Config
from .files import iter_files
from .result import FileResult, error_finding
from .source import Source, SourceError, atomic_write

if TYPE_CHECKING:  # engine and rule import LibCST: only loaded when a file needs parsing
    from .cache import Cache
    from .engine import Options
    from .precheck import PrecheckOptions


@dataclass
class Outcome:
    summary: reporting.Summary
    exit_code: int


def options_from(config: Config) -> "Options":
    """The engine's options: the selected rule classes (imports every rule module, and LibCST)."""
    from .engine import Options
    from .rule import select_rules

    rules = select_rules(config.select + config.extend_select, config.ignore)
    return Options(rules=tuple(rules), target=config.target, to=config.to, unsafe_fixes=config.unsafe_fixes,
                   tf1_layers=config.tf1_layers)


def precheck_options_from(config: Config) -> "PrecheckOptions":
    """The same selection as rule-index entries, for the text pre-check (imports no rule, no LibCST)."""
    from .precheck import PrecheckOptions, select

    rules = select(config.select + config.extend_select, config.ignore)
    return PrecheckOptions(rules=tuple(rules), target=config.target, to=config.to, unsafe_fixes=config.unsafe_fixes)


def results(files: list[str], options, jobs: int = 0, cache: Optional["Cache"] = None,
            precheck: Optional["PrecheckOptions"] = None) -> Iterator[FileResult]:
    """Process files (cache, text pre-check, then worker processes); stream results in file order.

    `options`: Options, or a callable building them only once a file needs the engine;
    `precheck`: the selection as rule-index entries (`precheck_options_from`), so that the
    pre-check needs no rule class. See kmigrate/pipeline.py.
    """
    from .pipeline import results as pipeline_results

    return pipeline_results(files, options, jobs, cache, precheck)


def unified_diff(result: FileResult) -> str:
    if result.diff is not None:
        return result.diff
    old, new = _text(result.old), _text(result.new)
    rel = os.path.relpath(result.path).replace(os.sep, "/") if os.path.isabs(result.path) else result.path
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{rel}", f"b/{rel}"
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _tty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _text(raw: bytes | None) -> str:
    if not raw:
        return ""
    try:
        return Source.from_bytes(raw).text
    except SourceError:
        return raw.decode("utf-8", "replace")


def run(
    paths: Iterable[str],
    config: Config,
    *,
    mode: str = "fix",
    report_stream: TextIO = sys.stdout,
    diff_stream: TextIO = sys.stdout,
    progress: Callable[[int, int], None] | None = None,
    quiet: bool = False,
) -> Outcome:
    """mode: 'fix' writes files, 'diff' prints diffs, 'check' only reports."""
    start = time.perf_counter()
    files = list(iter_files(paths, config.exclude, config.respect_gitignore))
    cache = None
    if config.cache:
        from .cache import Cache

        cache = Cache.for_config(config)
    writer = reporting.writer(config.format, report_stream, mode=mode)
    summary = reporting.Summary(mode=mode, quiet=quiet)
    # a progress bar erases itself before output that goes to the terminal, and at the end
    clear = getattr(progress, "clear", None) if _tty(report_stream) or (mode == "diff" and _tty(diff_stream)) else None
    stream = results(files, lambda: options_from(config), config.jobs, cache, precheck_options_from(config))
    for done, result in enumerate(stream, 1):
        if clear and (result.findings or result.changed):
            clear()
        if result.changed:
            if mode == "fix":
                try:
                    atomic_write(result.path, result.new, expected_old=result.old)
                except OSError as exc:
                    result.error = True
                    result.findings.append(error_finding(result.path, f"cannot write: {exc.strerror or exc}"))
                    for f in result.findings:
                        f.fix_applied = False
                    result.new = None
                else:
                    for f in result.findings:  # what remains is reported where it is in the written file
                        f.move_to_written()
            elif mode == "diff":
                diff_stream.write(unified_diff(result))
        summary.add(result)
        writer.file_done(result)
        if progress:
            progress(done, len(files))
    summary.seconds = time.perf_counter() - start
    if getattr(progress, "close", None):
        progress.close()
    writer.close(summary)
    if summary.errors:
        code = 2
    elif summary.remaining or (mode != "fix" and summary.changed):
        code = 1
    else:
        code = 0
    return Outcome(summary, code)
