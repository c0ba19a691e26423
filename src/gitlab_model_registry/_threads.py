"""Bounded parallelism for transfers, shared by every backend, and their cancellation.

Cancellation: the CLI's SIGINT/SIGTERM handler calls ``cancel()``; transfers call
``check_cancelled()`` between chunks, so running ones stop within a chunk and queued ones never
start. Each ``parallel`` call has its own cancellation event, bound to its worker threads, so a
task left running by an interrupted call stays cancelled when a later call starts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
_cancelled = threading.Event()  # the process's, seen by code outside any pool
_running: set[threading.Event] = set()  # the events of the parallel calls in progress
_running_lock = threading.Lock()
_bound = threading.local()  # .cancelled: the event of the call a worker thread runs for
#: How often the waiting thread looks up from the pool (keeps it responsive to signals).
_POLL = 0.2


class Cancelled(BaseException):
    """Raised inside a transfer once the command was interrupted (never caught as an error)."""


def cancel() -> None:
    _cancelled.set()
    with _running_lock:
        for event in _running:
            event.set()


def check_cancelled() -> None:
    event: threading.Event = getattr(_bound, "cancelled", None) or _cancelled
    if event.is_set():
        raise Cancelled()


def parallel(tasks: Sequence[Callable[[], T]], concurrency: int) -> list[T]:
    """Run tasks on ``concurrency`` threads; the first failure cancels what has not started.

    An interruption (a ``BaseException`` such as ``Interrupted``) returns at once without
    waiting for running tasks: they see ``check_cancelled`` at their next chunk.
    """
    # A library caller (a notebook) may go on after an interruption: new transfers run again.
    _cancelled.clear()
    mine = threading.Event()
    with _running_lock:
        _running.add(mine)
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency))
    interrupted = False
    try:
        futures = [pool.submit(_bound_to, mine, task) for task in tasks]
        while True:
            _, pending = wait(futures, timeout=_POLL, return_when=FIRST_EXCEPTION)
            error = _first_error(futures)
            if error is not None:
                for other in futures:
                    other.cancel()
                raise error
            if not pending:
                return [future.result() for future in futures]
    except BaseException as error:
        interrupted = not isinstance(error, Exception)
        if interrupted:
            cancel()
        raise
    finally:
        pool.shutdown(wait=not interrupted, cancel_futures=True)
        with _running_lock:
            _running.discard(mine)


def _bound_to(cancelled: threading.Event, task: Callable[[], T]) -> T:
    _bound.cancelled = cancelled
    try:
        return task()
    finally:
        _bound.cancelled = None


def _first_error(futures: Sequence[Future[T]]) -> BaseException | None:
    for future in futures:
        if future.done() and not future.cancelled() and future.exception() is not None:
            return future.exception()
    return None
