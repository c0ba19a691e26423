"""Parallelism sized to the files, and the 429 back-off (no sockets)."""

from __future__ import annotations

import threading
import time

from gitlab_model_registry.pacing import AUTO, BIG_FILE, Pacer, Streams, big_first, streams

KIB = 1024


def test_small_files_run_wide_big_files_narrow_and_an_explicit_number_wins() -> None:
    assert streams([64 * KIB] * 200) == Streams(16, 4)
    assert streams([64 * KIB] * 3) == Streams(3, 4)
    assert streams([BIG_FILE] * 10) == Streams(4, 4)
    assert streams([BIG_FILE] + [64 * KIB] * 200) == Streams(16, 4)
    assert streams([64 * KIB] * 200, 2) == Streams(2, 2)
    assert streams([], AUTO) == Streams(1, 4)


def test_big_files_start_first() -> None:
    assert big_first([1, 30, 5]) == [1, 2, 0]


def test_a_429_halves_the_limit_and_successes_grow_it_back_to_the_ceiling() -> None:
    lines: list[str] = []
    pacer = Pacer(16, lines.append)
    pacer.throttled()
    pacer.throttled()
    assert pacer.limit == 4
    assert lines[-1] == "the registry is rate limiting (HTTP 429): 4 transfer(s) at a time"
    for _ in range(4 + 5 + 6):
        pacer.succeeded()
    assert pacer.limit == 7
    for _ in range(200):
        pacer.succeeded()
    assert pacer.limit == 16
    one = Pacer(1, lines.append)
    one.throttled()
    assert one.limit == 1 and len(lines) == 2  # nothing lower to go to: no line


def test_no_more_requests_in_flight_than_the_limit() -> None:
    pacer = Pacer(2)
    in_flight, peak, lock = [0], [0], threading.Lock()

    def request() -> None:
        with pacer.slot():
            with lock:
                in_flight[0] += 1
                peak[0] = max(peak[0], in_flight[0])
            time.sleep(0.02)
            with lock:
                in_flight[0] -= 1

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] == 2
