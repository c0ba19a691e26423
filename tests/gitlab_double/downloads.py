"""Serving stored files as GitLab does (reference §11.6), and counting the bytes sent.

Local storage: Workhorse sends the file with Go's ``http.ServeContent`` (gitlabhq workhorse/
internal/sendfile/sendfile.go ``sendFileFromDisk``, stored file 6361666458): ``Accept-Ranges:
bytes``, a single ``Range: bytes=N-[M]`` answered
206 with ``Content-Range``, 416 with ``Content-Range: bytes */<size>`` when N is past the end.
Object storage with direct download (``present_carrierwave_file!`` in lib/api/helpers.rb):
302 to a pre-signed URL of the store (``objectstore.py``), which a client follows without its
GitLab credentials. Multi-range requests are answered 200 with the whole file (simplified).
"""

from __future__ import annotations

import re
import socket
import struct
import threading
import time
from pathlib import Path
from typing import BinaryIO

from tests.gitlab_double.routing import Request, Response

_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")
SEND_CHUNK = 1024 * 1024


def parse_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """(first, last) byte of a satisfiable single range; None for the whole file; "416"."""
    match = _RANGE.match((header or "").strip())
    if match is None:
        return None
    first = int(match[1])
    last = min(int(match[2]), size - 1) if match[2] else size - 1
    if first >= size or last < first:
        return "416"
    return first, last


def file_response(request: Request, path: Path, file_name: str) -> Response:
    """The answer to a GET of a stored file: 200, 206, 416, or a 302 to object storage."""
    app = request.app
    if app.faults.settings.direct_download and app.object_store is not None:
        return Response(302, headers={"Location": app.object_store.presign(path, file_name)})
    return ranged(request.headers.get("Range"), path, file_name)


def ranged(range_header: str | None, path: Path, file_name: str) -> Response:
    size = path.stat().st_size
    headers = {
        "Content-Disposition": f'attachment; filename="{file_name}"',
        "Accept-Ranges": "bytes",
    }
    wanted = parse_range(range_header, size)
    if wanted == "416":
        headers["Content-Range"] = f"bytes */{size}"
        return Response(416, body=b"", headers=headers, content_type="text/plain")
    response = Response(200, file=path, headers=headers, content_type="application/octet-stream")
    if isinstance(wanted, tuple):
        response.status = 206
        response.file_range = wanted
        headers["Content-Range"] = f"bytes {wanted[0]}-{wanted[1]}/{size}"
    return response


def span(response: Response) -> tuple[int, int]:
    """(offset, length) of the file bytes an answer carries."""
    assert response.file is not None
    if response.file_range is not None:
        first, last = response.file_range
        return first, last - first + 1
    return 0, response.file.stat().st_size


def send_file(
    connection: socket.socket, handle: BinaryIO, offset: int, length: int, stop_after: int | None
) -> int:
    """Send ``length`` bytes from ``offset``; with ``stop_after``, only that many. Returns sent."""
    count = length if stop_after is None else min(length, stop_after)
    if count <= 0:
        return 0
    sent = connection.sendfile(handle, offset=offset, count=count)
    return int(sent)


RESET_GRACE_S = 0.3


def reset(connection: socket.socket) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a load balancer dropping the flow does.

    An RST makes the peer's kernel drop what its reader has not consumed yet: wait a moment so
    the bytes sent are the bytes the client got (what "reset after N bytes" means).
    """
    time.sleep(RESET_GRACE_S)
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class ServedBytes:
    """File bytes sent per request path (GitLab and object store), for resume tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sent: dict[str, int] = {}

    def add(self, path: str, count: int) -> None:
        with self._lock:
            self._sent[path] = self._sent.get(path, 0) + count

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._sent)

    def clear(self) -> None:
        with self._lock:
            self._sent.clear()
