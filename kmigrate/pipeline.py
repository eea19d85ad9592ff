"""Files -> results, fast: cache, cheap pre-check, worker processes, streaming in file order.

For each file, in the main process and in order:
1. read its bytes; with a cache, an entry for (bytes, path, settings) answers at once;
2. the text pre-check (kmigrate/precheck.py): a .py file (or a notebook whose code cells,
   IPython lines masked) in which no selected rule's trigger string occurs needs no parsing
   at all (the answer is "nothing to do", exactly what the engine would say); it runs on the
   rule index (kmigrate.rules._index, plain data), so no rule module is imported for it;
3. anything else goes to a worker (`--jobs N`, default the CPU count), in small chunks.
   The engine then checks syntax with `ast` (which it needs anyway), drops the rules whose
   triggers occur only in comments or docstrings, and only then parses with LibCST and
   computes the metadata of the rules that are left.

Results come back in file order (so the report is the same for any --jobs) while at most a
bounded window of files is read ahead, and a worker returns only what the run needs (the
bytes read are dropped when nothing changed), so memory stays flat in the number of files.
The worker pool, the rule modules and LibCST itself are only started/imported when some file
needs them: a run answered from the cache, or a tree without Keras, never imports LibCST.
"""
from __future__ import annotations

import itertools
import os
from collections import deque
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Optional, Union

from .collector import tune
from .result import FileResult

if TYPE_CHECKING:
    from concurrent.futures import Future

    from .cache import Cache
    from .engine import Options
    from .precheck import PrecheckOptions

OptionsLike = Union["Options", Callable[[], "Options"]]

# Files reach a worker only after the pre-check, so each costs tens of milliseconds or more:
# one file per task keeps both workers busy to the end (IPC is well under a millisecond).
CHUNK_FILES = 1  # files per task sent to a worker ...
CHUNK_BYTES = 32 * 1024  # ... or fewer if they are big
TASKS_PER_JOB = 3  # tasks in flight per worker
LOOKAHEAD = 512  # files read ahead of the one being reported, at most


def results(files: Iterable[str], options: OptionsLike, jobs: int = 0,
            cache: Optional["Cache"] = None, precheck: Optional["PrecheckOptions"] = None) -> Iterator[FileResult]:
    """Process `files`, streaming one FileResult per file in the given order.

    `options` may be a callable that builds them: it is only called when a file needs the
    engine. `precheck`: the same selection and settings with rule-index entries
    (kmigrate.precheck), for the text pre-check; without it the pre-check needs `options`.
    With both, a run answered from the cache or by the pre-check imports neither the rule
    modules nor LibCST.
    """
    jobs = jobs or os.cpu_count() or 1
    pre = _Precheck(options, cache, precheck)
    it = iter(files)
    first = list(itertools.islice(it, 4))  # `files` may be a lazy iterator: it is read as needed
    if jobs <= 1 or len(first) < 4:
        for path in itertools.chain(first, it):
            result = pre.answer(path)
            yield result if result is not None else _process(path, pre.options(), cache)
        return
    yield from _parallel(itertools.chain(first, it), pre, jobs, cache)


class _Precheck:
    """Steps 1 and 2 above, in the main process."""

    def __init__(self, options: OptionsLike, cache: Optional["Cache"],
                 precheck: Optional["PrecheckOptions"] = None):
        self._options = options
        self._precheck = precheck
        self.cache = cache

    def options(self) -> "Options":
        if callable(self._options) and not hasattr(self._options, "rules"):
            self._options = self._options()
        tune()  # files are about to be parsed in this process (no-op after the first call)
        return self._options  # type: ignore[return-value]

    def precheck_options(self):
        """Index entries when given (no rule module imported), else the engine's Options."""
        return self._precheck if self._precheck is not None else self.options()

    def answer(self, path: str) -> Optional[FileResult]:
        """A result without LibCST and without a worker, or None (the engine must see it)."""
        if os.path.islink(path):
            return None  # the engine reports it
        try:
            with open(path, "rb") as fh:
                raw = fh.read()
        except OSError:
            return None
        if self.cache is not None:
            hit = self.cache.get(self.cache.digest(path, raw), path, raw)
            if hit is not None:
                return _slim(hit)
        notebook = path.endswith(".ipynb")
        if notebook:
            from .notebook import code_text

            text = code_text(raw)
            if text is None:
                return None  # the engine reports it
        else:
            from .source import Source, SourceError

            try:
                text = Source.from_bytes(raw).text
            except SourceError:
                return None  # the engine reports it
        from .precheck import needs_parsing

        if needs_parsing(text, path, self.precheck_options(), is_notebook=notebook):
            return None
        result = FileResult(path=path, findings=[], old=raw, new=None)
        if self.cache is not None:
            self.cache.put(self.cache.digest(path, raw), result)
        return _slim(result)


def _slim(result: FileResult) -> FileResult:
    if not result.changed:
        result.old = None  # nothing will be written or diffed: do not carry the bytes
    return result


def _process(path: str, options: "Options", cache: Optional["Cache"]) -> FileResult:
    from .process import process_file

    result = process_file(path, options)
    if cache is not None and result.old is not None:
        cache.put(cache.digest(path, result.old), result)  # keyed by the bytes the engine read
    return _slim(result)


# ------------------------------------------------------------------------------ workers

_WORKER: dict = {}


def _init_worker(options: "Options", cache: Optional["Cache"]) -> None:
    _WORKER["options"], _WORKER["cache"] = options, cache
    tune()


def _work(paths: list[str]) -> list[FileResult]:
    return [_process(p, _WORKER["options"], _WORKER["cache"]) for p in paths]


class _Chunk:
    __slots__ = ("paths", "size", "future")

    def __init__(self):
        self.paths: list[str] = []
        self.size = 0
        self.future: Optional[Future] = None


def _parallel(files: Iterator[str], pre: _Precheck, jobs: int, cache: Optional["Cache"]) -> Iterator[FileResult]:
    # multiprocessing and concurrent.futures take a while to import: only when workers are used
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    pool: Optional[ProcessPoolExecutor] = None
    slots: deque = deque()  # FileResult (ready) or (chunk, index)
    running: set[Future] = set()
    chunk: Optional[_Chunk] = None

    def submit(c: _Chunk) -> None:
        nonlocal pool
        if pool is None:
            pool = ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker,
                                       initargs=(pre.options(), cache))
        c.future = pool.submit(_work, c.paths)
        running.add(c.future)

    def busy() -> int:
        for f in [f for f in running if f.done()]:
            running.discard(f)
        return len(running)

    it = iter(files)
    more = True
    try:
        while more or slots:
            # Read ahead: answer what can be answered here, batch the rest for the workers.
            while more and len(slots) < LOOKAHEAD and busy() < jobs * TASKS_PER_JOB:
                path = next(it, None)
                if path is None:
                    more = False
                    break
                ready = pre.answer(path)
                if ready is not None:
                    slots.append(ready)
                    continue
                if chunk is None:
                    chunk = _Chunk()
                chunk.paths.append(path)
                chunk.size += _size(path)
                slots.append((chunk, len(chunk.paths) - 1))
                if len(chunk.paths) >= CHUNK_FILES or chunk.size >= CHUNK_BYTES:
                    submit(chunk)
                    chunk = None
            if chunk is not None and (not more or (slots and isinstance(slots[0], tuple) and slots[0][0] is chunk)
                                      or busy() < jobs):
                submit(chunk)  # a worker is idle, or the head of the line waits for this chunk
                chunk = None
            # Report in order: everything ready at the head of the line; wait only for the head.
            while slots:
                head = slots[0]
                if isinstance(head, FileResult):
                    slots.popleft()
                    yield head
                    continue
                c, i = head
                if c.future is None:
                    break
                if not c.future.done() and more and len(slots) < LOOKAHEAD:
                    # Keep reading ahead while the workers have room; when they have none, wait
                    # for any task (not the head: a long file there would leave a worker idle).
                    if busy() >= jobs * TASKS_PER_JOB:
                        wait(running, return_when=FIRST_COMPLETED)
                    break
                result = c.future.result()[i]
                slots.popleft()
                yield result
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
