"""Receive an upload body into a temp file, hashing on the way: memory stays flat at any size.

Large bodies are pipelined: this thread reads the socket into one of a few 1 MiB buffers while a
helper thread hashes and writes the previous one (hashlib and file writes release the GIL), so
receiving, hashing and writing overlap on separate cores. A body that fits one buffer is taken in
line: a helper thread and its buffers would cost more than they overlap (many small files).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import threading
from pathlib import Path
from typing import BinaryIO

from tests.gitlab_double.body import CHUNK, BodyReader
from tests.gitlab_double.errors import ApiError, bad_request

TOO_LARGE = "Artifact file is too large"
BUFFERS = 4


def too_large() -> ApiError:
    return bad_request(TOO_LARGE)


def receive(body: BodyReader, destination: Path, max_size: int) -> tuple[int, str]:
    """Write the body to ``destination``; (size, sha256 hex). Removes the file on any failure."""
    try:
        with destination.open("wb") as out:
            if body.length is not None and body.length <= CHUNK:
                return _in_line(body, out)
            _preallocate(out, body.length)
            return _pipelined(body, out, max_size)
    except BaseException:
        destination.unlink(missing_ok=True)
        raise


def _preallocate(out: BinaryIO, length: int | None) -> None:
    """Reserve the blocks up front: ext4 then writes several times cheaper than with delalloc."""
    if length:
        # Unsupported here, or no space: then the writes themselves will say so.
        with contextlib.suppress(OSError):
            os.posix_fallocate(out.fileno(), 0, length)


def _in_line(body: BodyReader, out: BinaryIO) -> tuple[int, str]:
    buffer = memoryview(bytearray(body.length or 0))
    count = _fill(body, buffer)
    out.write(buffer[:count])
    return count, hashlib.sha256(buffer[:count]).hexdigest()


def _pipelined(body: BodyReader, out: BinaryIO, max_size: int) -> tuple[int, str]:
    writer = _HashingWriter(out)
    writer.start()
    size = 0
    try:
        while True:
            buffer = writer.free.get()
            count = _fill(body, memoryview(buffer))
            if not count:
                break
            size += count
            if size > max_size:
                raise too_large()
            writer.full.put((buffer, count))
    finally:
        digest = writer.finish()
    return size, digest


def _fill(body: BodyReader, view: memoryview) -> int:
    """Read until the buffer is full or the body ends (chunked bodies come in pieces)."""
    filled = 0
    while filled < len(view) and (count := body.readinto(view[filled:])):
        filled += count
    return filled


class _HashingWriter(threading.Thread):
    """Hashes and writes buffers handed over through ``full``; returns them through ``free``."""

    def __init__(self, out: BinaryIO) -> None:
        super().__init__(daemon=True)
        self.out = out
        self.hasher = hashlib.sha256()
        self.free: queue.Queue[bytearray] = queue.Queue()
        self.full: queue.Queue[tuple[bytearray, int] | None] = queue.Queue()
        self.error: BaseException | None = None
        for _ in range(BUFFERS):
            self.free.put(bytearray(CHUNK))

    def run(self) -> None:
        while (item := self.full.get()) is not None:
            buffer, count = item
            if self.error is None:
                try:
                    chunk = memoryview(buffer)[:count]
                    self.hasher.update(chunk)
                    self.out.write(chunk)
                except OSError as exc:
                    self.error = exc  # keep recycling buffers so the reader never blocks
            self.free.put(buffer)

    def finish(self) -> str:
        self.full.put(None)
        self.join()
        if self.error is not None:
            raise self.error
        return self.hasher.hexdigest()
