"""Receive an upload body into a temp file, hashing on the way: memory stays flat at any size."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.gitlab_double.body import CHUNK, BodyReader
from tests.gitlab_double.errors import ApiError, bad_request

TOO_LARGE = "Artifact file is too large"


def too_large() -> ApiError:
    return bad_request(TOO_LARGE)


def receive(body: BodyReader, destination: Path, max_size: int) -> tuple[int, str]:
    """Write the body to ``destination``; (size, sha256 hex). Removes the file on any failure."""
    hasher = hashlib.sha256()
    size = 0
    buffer = memoryview(bytearray(CHUNK))
    try:
        with destination.open("wb") as out:
            while count := body.readinto(buffer):
                size += count
                if size > max_size:
                    raise too_large()
                chunk = buffer[:count]
                hasher.update(chunk)
                out.write(chunk)
    except BaseException:
        destination.unlink(missing_ok=True)
        raise
    return size, hasher.hexdigest()
