"""One analysis thread whose current job can be cancelled when a newer change supersedes it.

The engine is plain Python that never checks for cancellation, and a run over a long file takes
a while; a change arriving meanwhile makes its result useless. `Worker.cancel(key)` drops the
queued jobs of that document and interrupts the running one by raising `StaleRun` in the worker
thread (CPython's PyThreadState_SetAsyncExc: delivered between two bytecodes of the engine, so
the run stops at once and the next one starts). StaleRun is a BaseException, so no
`except Exception` of the engine swallows it. The worker is armed for it only while a job runs;
one delivered in the instant after a job finished is caught by the loop. Where the C call is not
available, a stale run finishes and its result is dropped.

Jobs run one at a time, in order: the engine is CPU-bound, and two at once would only share
the GIL.
"""
from __future__ import annotations

import ctypes
import logging
import threading
from collections import deque
from concurrent.futures import Future
from typing import Any, Callable, Optional

log = logging.getLogger("kmigrate.server")


class StaleRun(BaseException):
    """Raised inside a run that a newer change made useless."""


class _Job:
    __slots__ = ("key", "fn", "args", "future", "cancellable")

    def __init__(self, key, fn, args, cancellable):
        self.key, self.fn, self.args, self.cancellable = key, fn, args, cancellable
        self.future: Future = Future()


class Worker:
    def __init__(self, name: str = "kmigrate-analysis"):
        self._lock = threading.Condition()
        self._queue: deque[_Job] = deque()
        self._current: Optional[_Job] = None
        self._armed = False
        self._closed = False
        self.interrupted = 0  # runs stopped midway (for tests and logs)
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, key: Any, fn: Callable, *args, cancellable: bool = True) -> Future:
        job = _Job(key, fn, args, cancellable)
        with self._lock:
            if self._closed:
                job.future.set_exception(StaleRun("worker closed"))
                return job.future
            self._queue.append(job)
            self._lock.notify()
        return job.future

    def cancel(self, key: Any) -> None:
        """Drop the queued jobs of `key` and interrupt its running job."""
        with self._lock:
            for job in [j for j in self._queue if j.key == key and j.cancellable]:
                self._queue.remove(job)
                job.future.cancel()
            job = self._current
            if job is not None and job.key == key and job.cancellable and self._armed:
                self._armed = False
                if _interrupt(self._thread):
                    self.interrupted += 1

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for job in self._queue:
                job.future.cancel()
            self._queue.clear()
            self._lock.notify()

    # ------------------------------------------------------------------ the thread

    def _loop(self) -> None:
        while True:
            job: Optional[_Job] = None
            try:
                with self._lock:
                    while not self._queue and not self._closed:
                        self._lock.wait()
                    if self._closed:
                        return
                    job = self._queue.popleft()
                    if not job.future.set_running_or_notify_cancel():
                        continue
                    self._current, self._armed = job, True
                self._execute(job)
            except StaleRun:  # delivered just after a job ended
                self._finish(job, StaleRun())
            except BaseException:  # never let the thread die
                log.exception("analysis worker")
                self._finish(job, RuntimeError("analysis worker failed"))

    def _execute(self, job: _Job) -> None:
        try:
            result = job.fn(*job.args)
        except StaleRun as exc:
            self._finish(job, exc)
            return
        except BaseException as exc:
            self._finish(job, exc)
            return
        with self._lock:
            self._armed, self._current = False, None
        if not job.future.done():
            job.future.set_result(result)

    def _finish(self, job: Optional[_Job], exc: BaseException) -> None:
        with self._lock:
            self._armed, self._current = False, None
        if job is not None and not job.future.done():
            job.future.set_exception(exc)


def _interrupt(thread: threading.Thread) -> bool:
    try:
        set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
    except AttributeError:  # not CPython
        return False
    ident = thread.ident
    if ident is None:
        return False
    return set_async_exc(ctypes.c_ulong(ident), ctypes.py_object(StaleRun)) == 1
