"""A split file's parts joined into one file by the kernel, its sha256 taken beside the copy.

The first part becomes the file (renamed, not copied) and the others are appended with
``copy_file_range``, so no byte passes through Python on the way; a thread hashes the parts in
order meanwhile (hashlib releases the GIL), and each part is removed once it is both appended and
hashed, so the disk holds the file plus about one part, never the file twice.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path

#: Read size of the hashing thread.
_READ = 4 * 1024 * 1024


class RangeDigest:
    """sha256 over ``(path, offset, size)`` ranges in order, computed on its own thread."""

    def __init__(self, ranges: Sequence[tuple[Path, int, int]]) -> None:
        self._hashed = [threading.Event() for _ in ranges]
        self._digest = ""
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._run, args=(ranges,), daemon=True)
        self._thread.start()

    def wait_for(self, index: int) -> None:
        """Until range ``index`` has been read (or the hashing failed)."""
        self._hashed[index].wait()

    def result(self) -> str:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._digest

    def _run(self, ranges: Sequence[tuple[Path, int, int]]) -> None:
        digest = hashlib.sha256()
        try:
            for index, (path, offset, size) in enumerate(ranges):
                with path.open("rb") as handle:
                    handle.seek(offset)
                    left = size
                    while left and (chunk := handle.read(min(_READ, left))):
                        digest.update(chunk)
                        left -= len(chunk)
                self._hashed[index].set()
            self._digest = digest.hexdigest()
        except OSError as error:
            self._error = error
        finally:
            for event in self._hashed:
                event.set()  # nobody waits forever on a failed hashing


def join(parts: Sequence[tuple[Path, int]], joined: Path) -> str:
    """Join the ``(path, size)`` parts into ``joined`` (next to them); the result's sha256.

    The parts are gone afterwards; on an error the first part may hold a partial join (the
    caller works in a directory it removes).
    """
    digest = RangeDigest([(path, 0, size) for path, size in parts])
    first, end = parts[0]
    out = os.open(first, os.O_WRONLY)
    try:
        for index, (path, size) in enumerate(parts[1:], start=1):
            source = os.open(path, os.O_RDONLY)
            try:
                _append(source, out, end, size)
            finally:
                os.close(source)
            end += size
            digest.wait_for(index)
            path.unlink()
    finally:
        os.close(out)
        result = digest.result()  # the thread is done before anything is renamed or raised
    first.replace(joined)
    return result


def _append(source: int, out: int, at: int, size: int) -> None:
    """``size`` bytes of ``source`` written at ``at`` in ``out``: in the kernel where it can."""
    done = 0
    try:
        while done < size:
            copied = os.copy_file_range(source, out, size - done, done, at + done)
            if copied == 0:
                break
            done += copied
    except (AttributeError, OSError):  # no copy_file_range here (another OS, or filesystem)
        while done < size and (chunk := os.pread(source, min(_READ, size - done), done)):
            done += os.pwrite(out, chunk, at + done)
    if done < size:
        raise OSError(f"a part is {size - done} byte(s) short of its recorded size")
