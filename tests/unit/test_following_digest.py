"""The whole file's sha256 taken while its ranges are written by other threads."""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from gitlab_model_registry._digesting import FollowingDigest


@dataclass
class Range:
    offset: int
    written: int = 0
    restarts: int = 0


def _file(tmp_path: Path, size: int) -> Path:
    path = tmp_path / "whole"
    with path.open("wb") as out:
        out.truncate(size)
    return path


def _write(path: Path, landing: Range, data: bytes, step: int, gate: threading.Event) -> None:
    """Write ``data`` at the range's offset ``step`` bytes at a time, ``written`` after each."""
    with path.open("r+b", buffering=0) as out:
        for start in range(landing.written, len(data), step):
            gate.wait()  # the hashing thread is already reading when the bytes land
            out.seek(landing.offset + start)
            out.write(data[start : start + step])
            landing.written = min(start + step, len(data))


def test_ranges_written_at_once_out_of_order_are_hashed_as_one_file(tmp_path: Path) -> None:
    parts = [os.urandom(n) for n in (300_000, 300_000, 12_345)]
    path = _file(tmp_path, sum(map(len, parts)))
    ranges = [Range(0), Range(300_000), Range(600_000)]
    gate = threading.Event()
    digest = FollowingDigest(path, [(len(p), r) for p, r in zip(parts, ranges, strict=True)])
    writers = [
        threading.Thread(target=_write, args=(path, r, p, step, gate))
        for p, r, step in zip(reversed(parts), reversed(ranges), (4096, 7000, 65536), strict=True)
    ]
    for writer in writers:
        writer.start()
    gate.set()
    for writer in writers:
        writer.join()

    assert digest.result() == hashlib.sha256(b"".join(parts)).hexdigest()


def test_a_range_started_again_gives_no_digest(tmp_path: Path) -> None:
    data = os.urandom(100_000)
    path = _file(tmp_path, len(data))
    landing = Range(0)
    gate = threading.Event()
    gate.set()
    digest = FollowingDigest(path, [(len(data), landing)])
    _write(path, landing, data[:50_000], 10_000, gate)
    landing.written, landing.restarts = 0, 1  # a server ignored Range: the part starts again
    _write(path, landing, data, 10_000, gate)

    assert digest.result() is None  # the caller reads the file back instead


def test_a_download_that_ends_short_gives_no_digest_and_does_not_wait(tmp_path: Path) -> None:
    path = _file(tmp_path, 1000)
    landing = Range(0, written=400)
    digest = FollowingDigest(path, [(1000, landing)])

    digest.landed()  # the download failed: the rest never comes

    assert digest.result() is None
