"""A download's sha256 computed beside it, not between its reads.

hashlib releases the GIL while it hashes a chunk, so one thread can digest chunk N while the
transfer thread receives and writes chunk N+1; hashed in line, the digest costs about 0.7 s per
GiB on top of the transfer. At most ``depth`` chunks wait, so memory stays bounded (two 2 MiB
chunks keep the hashing thread busy; more only add memory). A split file's parts, written at
once into their places, are hashed as one file by ``FollowingDigest``, which reads behind them.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Protocol


class BackgroundDigest:
    """``update`` hands chunks over in order; the digest is complete once the block exits."""

    def __init__(self, digest: hashlib._Hash, depth: int = 2) -> None:
        self.digest = digest
        self._chunks: queue.Queue[bytes | None] = queue.Queue(depth)
        self._thread = threading.Thread(target=self._run, name="gmr-sha256", daemon=True)

    def __enter__(self) -> BackgroundDigest:
        self._thread.start()
        return self

    def update(self, chunk: bytes) -> None:
        self._chunks.put(chunk)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._chunks.put(None)  # also on an error: the thread never outlives the transfer
        self._thread.join()

    def _run(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            self.digest.update(chunk)


class Landing(Protocol):
    """A range being written by another thread: how much is in the file, how often restarted."""

    offset: int
    written: int
    restarts: int


class FollowingDigest:
    """sha256 of a file whose ranges other threads are writing (a split file's parts in their
    places), taken as the bytes land: each range is read, in order, up to what has been written
    of it so far. The file is hashed once, beside the download, instead of each part on its own
    and the whole read back after. A range started again (a server ignoring ``Range``) spoils
    what was hashed of it: ``result`` is then None and the caller reads the file back.
    """

    #: Read size, and how long the thread waits for more bytes when it has caught up.
    READ, WAIT_S = 4 * 1024 * 1024, 0.005

    def __init__(self, path: Path, ranges: Sequence[tuple[int, Landing]]) -> None:
        """``ranges``: (size, landing) in file order, together the whole file."""
        self._ranges = list(ranges)
        self._restarts = [landing.restarts for _, landing in self._ranges]
        self._landed = threading.Event()
        self._digest: str | None = None
        self._thread = threading.Thread(
            target=self._run, args=(path,), name="gmr-sha256-whole", daemon=True
        )
        self._thread.start()

    def landed(self) -> None:
        """No more bytes will be written (the downloads finished or failed)."""
        self._landed.set()

    def result(self) -> str | None:
        """The whole file's sha256, or None when it could not be taken as the bytes landed."""
        self.landed()
        self._thread.join()
        restarted = [landing.restarts for _, landing in self._ranges] != self._restarts
        return None if restarted else self._digest

    def _run(self, path: Path) -> None:
        digest = hashlib.sha256()
        try:
            with path.open("rb") as file:
                for (size, landing), restarts in zip(self._ranges, self._restarts, strict=True):
                    if not self._follow(file.fileno(), digest, size, landing, restarts):
                        return
        except OSError:
            return  # the caller reads the file back, and meets the error there if it lasts
        self._digest = digest.hexdigest()

    def _follow(
        self, fd: int, digest: hashlib._Hash, size: int, landing: Landing, restarts: int
    ) -> bool:
        hashed = 0
        while hashed < size:
            available = landing.written - hashed
            if landing.restarts != restarts or available < 0:
                return False
            if available == 0:
                if self._landed.wait(self.WAIT_S) and landing.written <= hashed:
                    return False  # the download ended without this range
                continue
            chunk = os.pread(fd, min(self.READ, available), landing.offset + hashed)
            if not chunk or landing.restarts != restarts:
                return False
            digest.update(chunk)
            hashed += len(chunk)
        return True
