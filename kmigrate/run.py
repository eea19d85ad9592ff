"""A whole run: file list -> process each file (in worker processes) -> write -> report."""
from __future__ import annotations

import difflib
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, TextIO

from . import report as reporting
from .config import Config
from .engine import FileResult, Options, error_finding, process_file
from .files import iter_files
from .rule import select_rules
from .source import Source, SourceError, atomic_write


@dataclass
class Outcome:
    summary: reporting.Summary
    exit_code: int


def options_from(config: Config) -> Options:
    rules = select_rules(config.select + config.extend_select, config.ignore)
    return Options(rules=tuple(rules), target=config.target, to=config.to, unsafe_fixes=config.unsafe_fixes)


def results(files: list[str], options: Options, jobs: int) -> Iterator[FileResult]:
    """Process files, in parallel when it pays; results stream back in file order."""
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1 or len(files) < 4:
        for f in files:
            yield process_file(f, options)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        chunk = max(1, min(16, len(files) // (jobs * 8)))
        yield from pool.map(process_file, files, [options] * len(files), chunksize=chunk)


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
    options = options_from(config)
    files = list(iter_files(paths, config.exclude, config.respect_gitignore))
    writer = reporting.writer(config.format, report_stream)
    summary = reporting.Summary(mode=mode, quiet=quiet)
    for done, result in enumerate(results(files, options, config.jobs), 1):
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
            elif mode == "diff":
                diff_stream.write(unified_diff(result))
        summary.add(result)
        writer.file_done(result)
        if progress:
            progress(done, len(files))
    summary.seconds = time.perf_counter() - start
    writer.close(summary)
    if summary.errors:
        code = 2
    elif summary.remaining or (mode != "fix" and summary.changed):
        code = 1
    else:
        code = 0
    return Outcome(summary, code)
