"""Bounded parallelism and its cancellation (what SIGINT/SIGTERM trigger in the CLI)."""

from __future__ import annotations

import threading
import time

import pytest

from gitlab_model_registry import _threads


def test_an_interruption_returns_at_once_and_stops_running_tasks_between_chunks() -> None:
    started, lock = threading.Event(), threading.Lock()
    counts = {"started": 0, "stopped": 0}

    def chunks() -> None:
        with lock:
            counts["started"] += 1
        started.set()
        try:
            while True:
                _threads.check_cancelled()
                time.sleep(0.01)
        except _threads.Cancelled:
            with lock:
                counts["stopped"] += 1
            raise

    def interrupt() -> None:
        started.wait(5)
        raise KeyboardInterrupt

    begun = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        _threads.parallel([interrupt, chunks, chunks], concurrency=3)
    assert time.monotonic() - begun < 1
    assert _threads.parallel([lambda: 1], concurrency=1) == [1]  # later transfers run again
    # Every task that was running stops, even one that was slow to see the interruption and
    # the later call above (a task still looping would also keep the process from exiting).
    deadline = time.monotonic() + 1
    while counts["stopped"] < counts["started"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert counts["stopped"] == counts["started"] >= 1, counts


def test_the_first_failure_cancels_queued_tasks_and_is_raised() -> None:
    ran: list[int] = []

    def fail() -> None:
        raise ValueError("boom")

    def record(n: int) -> None:
        ran.append(n)

    tasks = [fail, *[lambda n=n: record(n) for n in range(50)]]
    with pytest.raises(ValueError, match="boom"):
        _threads.parallel(tasks, concurrency=1)
    assert len(ran) < 50
