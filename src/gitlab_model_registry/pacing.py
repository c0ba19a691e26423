"""How many transfers run at once: sized to the work, and backed off when the server says 429.

Small files are latency-bound (a request's round trips dominate), so many of them run side by
side; big files are bandwidth-bound, so a few streams fill the link and more only add memory and
disk seeks. ``AUTO`` (0) picks ``SMALL_STREAMS`` threads of which at most ``BIG_STREAMS`` carry a
file of ``BIG_FILE`` bytes or more. An explicit ``--concurrency N`` is used as given, for every
file.

Whatever the number, a ``Pacer`` keeps the requests in flight under a limit that halves on each
429 (GitLab's rate limiter; the retry itself waits ``Retry-After``) and grows back by one after a
run of successes, up to the number chosen (additive increase, multiplicative decrease, as TCP).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from gitlab_model_registry._threads import parallel
from gitlab_model_registry.retry import Transient

#: ``concurrency`` value meaning "choose from the files".
AUTO = 0
BIG_FILE = 16 * 1024 * 1024
BIG_STREAMS = 4
SMALL_STREAMS = 16
T = TypeVar("T")


@dataclass(frozen=True)
class Streams:
    """Worker threads, and how many of them may carry a big file at once."""

    threads: int
    big: int


def streams(sizes: Sequence[int], concurrency: int = AUTO) -> Streams:
    """The parallelism for files of these sizes; ``concurrency`` > 0 wins when given."""
    if concurrency > 0:
        return Streams(concurrency, concurrency)
    big = min(BIG_STREAMS, sum(1 for size in sizes if size >= BIG_FILE))
    small = len(sizes) - sum(1 for size in sizes if size >= BIG_FILE)
    return Streams(max(1, big + min(small, SMALL_STREAMS - big)), BIG_STREAMS)


def big_first(sizes: Sequence[int]) -> list[int]:
    """Indexes of the files, biggest first: the long transfers start early, small ones fill in."""
    return sorted(range(len(sizes)), key=lambda i: -sizes[i])


class Pacer:
    """A limit on requests in flight: halved on a 429, plus one after ``limit`` successes."""

    def __init__(self, ceiling: int, notify: Callable[[str], None] | None = None) -> None:
        self.ceiling = self.limit = max(1, ceiling)
        self._notify = notify or (lambda message: None)
        self._in_flight = self._successes = 0
        self._changed = threading.Condition()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the ``limit`` slots while a request runs."""
        with self._changed:
            while self._in_flight >= self.limit:
                self._changed.wait(timeout=1.0)
            self._in_flight += 1
        try:
            yield
        finally:
            with self._changed:
                self._in_flight -= 1
                self._changed.notify_all()

    def throttled(self) -> None:
        """The server answered 429: halve the limit (the retry waits its Retry-After)."""
        with self._changed:
            self._successes = 0
            if self.limit == 1:
                return
            self.limit = max(1, self.limit // 2)
            limit = self.limit
        self._notify(f"the registry is rate limiting (HTTP 429): {limit} transfer(s) at a time")

    def succeeded(self) -> None:
        with self._changed:
            self._successes += 1
            if self.limit < self.ceiling and self._successes >= self.limit:
                self.limit += 1
                self._successes = 0
                self._changed.notify_all()


def run_paced(
    jobs: Sequence[Callable[..., T]],
    sizes: Sequence[int],
    plan: Streams,
    notify: Callable[[str], None] | None = None,
) -> list[T]:
    """Run ``job(pacer=...)`` for each file, big ones first and at most ``plan.big`` at a time;
    the results in the order of ``jobs``."""
    pacer = Pacer(plan.threads, notify)
    big = threading.BoundedSemaphore(plan.big)

    def run(job: Callable[..., T], size: int) -> T:
        if size < BIG_FILE or plan.big >= plan.threads:
            return job(pacer=pacer)
        with big:
            return job(pacer=pacer)

    order = big_first(sizes)
    done = parallel([partial(run, jobs[i], sizes[i]) for i in order], plan.threads)
    results: dict[int, T] = dict(zip(order, done, strict=True))
    return [results[i] for i in range(len(jobs))]


def in_slot(pacer: Pacer | None, attempt: Callable[[], T]) -> Callable[[], T]:
    """``attempt`` holding a pacer slot; a 429 lowers the limit before the retry waits."""
    if pacer is None:
        return attempt

    def paced() -> T:
        with pacer.slot():
            try:
                result = attempt()
            except Transient as error:
                if error.status == 429:
                    pacer.throttled()
                raise
        pacer.succeeded()
        return result

    return paced
