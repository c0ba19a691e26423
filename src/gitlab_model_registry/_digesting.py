"""A download's sha256 computed beside it, not between its reads.

hashlib releases the GIL while it hashes a chunk, so one thread can digest chunk N while the
transfer thread receives and writes chunk N+1; hashed in line, the digest costs about 0.7 s per
GiB on top of the transfer. At most ``depth`` chunks wait, so memory stays bounded (two 2 MiB
chunks keep the hashing thread busy; more only add memory).
"""

from __future__ import annotations

import hashlib
import queue
import threading
from types import TracebackType


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
