"""Bounded parallelism for transfers, shared by every backend, and their cancellation.

Cancellation is process-wide: the CLI's SIGINT/SIGTERM handler calls ``cancel()``; transfers
call ``check_cancelled()`` between chunks, so running ones stop within a chunk and queued ones
never start.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
_cancelled = threading.Event()
#: How often the waiting thread looks up from the pool (keeps it responsive to signals).
_POLL = 0.2


class Cancelled(BaseException):
    """Raised inside a transfer once the command was interrupted (never caught as an error)."""


def cancel() -> None:
    _cancelled.set()


def check_cancelled() -> None:
    if _cancelled.is_set():
        raise Cancelled()


def parallel(tasks: Sequence[Callable[[], T]], concurrency: int) -> list[T]:
    """Run tasks on ``concurrency`` threads; the first failure cancels what has not started.

    An interruption (a ``BaseException`` such as ``Interrupted``) returns at once without
    waiting for running tasks: they see ``check_cancelled`` at their next chunk.
    """
    # A library caller (a notebook) may go on after an interruption: new transfers run again.
    _cancelled.clear()
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency))
    interrupted = False
    try:
        futures = [pool.submit(task) for task in tasks]
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


def _first_error(futures: Sequence[Future[T]]) -> BaseException | None:
    for future in futures:
        if future.done() and not future.cancelled() and future.exception() is not None:
            return future.exception()
    return None
