"""A one-line progress bar on stderr for long runs: files done/total, rate, time left.

Shown only when the stream is a terminal and not --quiet; it appears after a short delay (a
quick run never flashes a bar), redraws at most ten times a second, and clears its line before
any report output and at the end, so findings and the summary print on clean lines.
"""
from __future__ import annotations

import os
import shutil
import sys
import time
from typing import Callable, TextIO


class ProgressBar:
    def __init__(self, stream: TextIO, *, delay: float = 0.5, interval: float = 0.1,
                 clock: Callable[[], float] = time.monotonic, width: int | None = None):
        self.stream = stream
        self.delay, self.interval, self.clock = delay, interval, clock
        self.width = width
        self.start = clock()
        self.last_draw = float("-inf")
        self.shown = False  # a bar is on the screen now

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if now - self.start < self.delay:
            return
        if done < total and now - self.last_draw < self.interval:
            return
        self.last_draw = now
        self.stream.write("\r" + self.render(done, total, now - self.start))
        self.stream.flush()
        self.shown = True

    def render(self, done: int, total: int, elapsed: float) -> str:
        width = self.width or shutil.get_terminal_size((80, 20)).columns
        rate = done / elapsed if elapsed > 0 else 0.0
        tail = f" {done}/{total} files  {rate:.1f} files/s"
        if 0 < done < total and rate > 0:
            tail += f"  {_duration((total - done) / rate)} left"
        bar_width = max(10, min(40, width - len(tail) - 12))
        filled = int(bar_width * done / total) if total else bar_width
        line = f"kmigrate [{'#' * filled}{'-' * (bar_width - filled)}]{tail}"
        return line[: max(width - 1, 1)]

    def clear(self) -> None:
        """Erase the bar (before other output on the same terminal); it is redrawn next time."""
        if self.shown:
            width = self.width or shutil.get_terminal_size((80, 20)).columns
            self.stream.write("\r" + " " * max(width - 1, 1) + "\r")
            self.stream.flush()
            self.shown = False
            self.last_draw = float("-inf")

    close = clear


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def for_terminal(stream: TextIO | None = None, quiet: bool = False) -> ProgressBar | None:
    """A bar on `stream` (default stderr) if it is a terminal and the run is not quiet, else None."""
    stream = stream if stream is not None else sys.stderr
    if quiet or os.environ.get("TERM") == "dumb":
        return None
    try:
        if not stream.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    try:  # KMIGRATE_PROGRESS_DELAY: seconds before the bar shows (tests set 0)
        delay = float(os.environ.get("KMIGRATE_PROGRESS_DELAY", "0.5"))
    except ValueError:
        delay = 0.5
    return ProgressBar(stream, delay=delay)
