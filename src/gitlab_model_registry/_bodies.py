"""The bodies ``transfer`` streams: an upload's file (counted and hashed as it is read, rewound
before each retry), a relayed GET, and a download into its ``.part`` file or into its
``Placement`` in a bigger one (where a resumed answer starts, the digest of the bytes already
there, the copy that hashes beside the transfer).

The requests themselves, their retries and their verification are ``transfer``'s.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import requests

from gitlab_model_registry._digesting import BackgroundDigest
from gitlab_model_registry._threads import check_cancelled
from gitlab_model_registry.files import CHUNK_SIZE

#: Response bodies are read, hashed and written in 2 MiB chunks (constant memory for any size).
#: Measured on 1 GiB downloads (bench/README.md): 2 and 4 MiB reads take about a third less
#: time than 1 MiB reads, whose per-chunk cost in urllib3 shows at loopback speed; 4 MiB ones
#: cost 6 MiB more per stream (90 MiB with a split file's three parts at once, 64 MiB at 2 MiB).
CHUNK = 2 * 1024 * 1024

_CONTENT_RANGE = re.compile(r"^bytes (\d+)-\d+/(\d+|\*)$")


class HashingReader:
    """A file body for a streaming PUT: counts and sha256-hashes the bytes as they are read.

    ``len()`` is the file size, so HTTP clients send Content-Length instead of chunking;
    ``rewind()`` restarts from byte 0 with a fresh hash (before each retry).
    """

    def __init__(
        self,
        file: BinaryIO,
        size: int | None = None,
        on_progress: Callable[[int], None] | None = None,
        offset: int = 0,
    ) -> None:
        """``offset`` and ``size``: read that range only (a part of a split file)."""
        self._file, self._offset = file, offset
        self._size = os.fstat(file.fileno()).st_size - offset if size is None else size
        self._on_progress = on_progress
        self._hash = hashlib.sha256()
        self.bytes_read = 0

    def read(self, n: int | None = -1) -> bytes:
        left = self._size - self.bytes_read
        data = self._file.read(left if n is None or n < 0 else min(n, left))
        if data:
            self._hash.update(data)
            self.bytes_read += len(data)
            if self._on_progress is not None:
                self._on_progress(self.bytes_read)
        return data

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(CHUNK_SIZE):
            check_cancelled()  # an interrupted command stops its uploads between chunks
            yield chunk

    def __len__(self) -> int:
        return self._size

    def __bool__(self) -> bool:
        # An empty file is still a body; without this, len() == 0 would make it falsy.
        return True

    def rewind(self) -> None:
        self._file.seek(self._offset)
        self._hash = hashlib.sha256()
        self.bytes_read = 0

    def hexdigest(self) -> str:
        """sha256 of the bytes read since the start or the last rewind."""
        return self._hash.hexdigest()


class UploadBody:
    """A request body of known length that http.client sends in 1 MiB chunks.

    It deliberately has no ``read``: http.client would then read it 8 KiB at a time.
    """

    def __init__(self, reader: HashingReader) -> None:
        self._reader = reader

    def __len__(self) -> int:
        return len(self._reader)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._reader)


class Relay:
    """A GET response's body relayed into a PUT: known length, hashed as it passes."""

    def __init__(self, response: requests.Response, size: int, on_bytes: Callable[[int], None]):
        self._response, self._size, self._on_bytes = response, size, on_bytes
        self._digest = hashlib.sha256()

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[bytes]:
        done = 0
        for chunk in self._response.iter_content(CHUNK):
            check_cancelled()
            self._digest.update(chunk)
            done += len(chunk)
            self._on_bytes(done)
            yield chunk

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def range_start(response: requests.Response) -> int | None:
    """Where a 206 answer's bytes start; None for a full (200) answer."""
    if response.status_code != 206:
        return None
    match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
    return int(match[1]) if match else None


def content_length(response: requests.Response) -> int | None:
    try:
        return int(response.headers["Content-Length"])
    except (KeyError, ValueError):
        return None


def prefix_digest(out: BinaryIO, have: int) -> tuple[hashlib._Hash, int]:
    """sha256 over the ``have`` bytes already in ``out``, positioned after them."""
    digest = hashlib.sha256()
    while out.tell() < have and (chunk := out.read(min(CHUNK, have - out.tell()))):
        digest.update(chunk)
    out.seek(have)
    out.truncate()
    return digest, have


def copy_body(
    response: requests.Response,
    out: BinaryIO,
    digest: hashlib._Hash | None,
    done: int,
    on_bytes: Callable[[int], None],
) -> int:
    """Write the body to ``out`` (hashed beside it into ``digest`` unless that is None)."""
    with BackgroundDigest(digest) if digest is not None else nullcontext() as hashing:
        for chunk in response.iter_content(CHUNK):
            check_cancelled()
            out.write(chunk)
            if hashing is not None:
                hashing.update(chunk)
            done += len(chunk)
            on_bytes(done)
    return done


@dataclass
class Placement:
    """A download that is a range of a bigger, existing file (a split file's part): written at
    ``offset`` in ``path``. What earlier attempts wrote and hashed is kept, so a cut-off answer
    continues from there.

    ``written`` grows only once its bytes are in the file (visible to another reader of it);
    ``restarts`` counts the times the range was started again. With ``hashing`` off the part is
    not hashed on its own: the whole file's digest, taken as the bytes land, covers it
    (``_joining.FollowingDigest``).
    """

    path: Path
    offset: int
    hashing: bool = True
    written: int = 0
    restarts: int = 0
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)

    def restart(self) -> None:
        self.written, self.digest = 0, hashlib.sha256()
        self.restarts += 1

    def copy(self, response: requests.Response, on_bytes: Callable[[int], None]) -> None:
        with self.path.open("r+b") as out:

            def written(done: int) -> None:  # after each chunk is in the file and being hashed
                out.flush()
                self.written = done
                on_bytes(done)

            out.seek(self.offset + self.written)
            copy_body(response, out, self.digest if self.hashing else None, self.written, written)
