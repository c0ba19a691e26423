"""Bounded parallelism for transfers, shared by every backend."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")


def parallel(tasks: Sequence[Callable[[], T]], concurrency: int) -> list[T]:
    """Run tasks on ``concurrency`` threads; the first failure cancels what has not started."""
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        futures = [pool.submit(task) for task in tasks]
        wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            error = future.exception() if future.done() and not future.cancelled() else None
            if error is not None:
                for other in futures:
                    other.cancel()
                raise error
        return [future.result() for future in futures]
