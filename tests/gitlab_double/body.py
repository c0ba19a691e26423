"""Streaming request bodies: Content-Length or ``Transfer-Encoding: chunked``, 100-continue."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from email.message import Message

from tests.gitlab_double.errors import grape

CHUNK = 1024 * 1024
MAX_JSON_BODY = 64 * 1024 * 1024


class BodyReader:
    """Reads one request's body on demand; sends ``100 Continue`` before the first read."""

    def __init__(
        self, rfile: io.BufferedIOBase, headers: Message, send_continue: Callable[[], None] | None
    ) -> None:
        self._rfile = rfile
        self._send_continue = send_continue
        self.chunked = "chunked" in headers.get("Transfer-Encoding", "").lower()
        self.length = None if self.chunked else _content_length(headers)
        self._left = 0 if self.chunked else (self.length or 0)  # in the current chunk
        self.done = not self.chunked and self._left == 0

    @property
    def has_body(self) -> bool:
        return self.chunked or bool(self.length)

    @property
    def awaiting_continue(self) -> bool:
        """The client is still waiting for 100 Continue: it has sent no body bytes yet."""
        return self._send_continue is not None and not self.done

    def readinto(self, buffer: memoryview) -> int:
        """Fill ``buffer`` with the next bytes of the body; 0 at its end."""
        if self.done:
            return 0
        self._start()
        if self.chunked and self._left == 0 and not self._next_chunk():
            return 0
        count: int = self._rfile.readinto(buffer[: min(len(buffer), self._left)])
        if not count:
            raise ConnectionError("client closed the connection mid-body")
        self._left -= count
        if self._left == 0:
            if self.chunked:
                self._rfile.readline(8)  # the CRLF closing the chunk's data
            else:
                self.done = True
        return count

    def read_all(self, limit: int = MAX_JSON_BODY) -> bytes:
        parts = []
        buffer = memoryview(bytearray(CHUNK))
        total = 0
        while count := self.readinto(buffer):
            total += count
            if total > limit:
                raise grape("request body too large", 413)
            parts.append(bytes(buffer[:count]))
        return b"".join(parts)

    def discard(self, max_bytes: int, max_seconds: float) -> bool:
        """Read and drop the rest (lingering close); True when the body was consumed in full."""
        buffer = memoryview(bytearray(CHUNK))
        deadline = time.monotonic() + max_seconds
        dropped = 0
        while not self.done:
            if dropped > max_bytes or time.monotonic() > deadline:
                return False
            dropped += self.readinto(buffer)
        return True

    def _start(self) -> None:
        if self._send_continue is not None:
            send, self._send_continue = self._send_continue, None
            send()

    def _next_chunk(self) -> bool:
        line = self._rfile.readline(1024)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError as exc:
            raise ConnectionError("malformed chunk size line") from exc
        if size == 0:
            self._read_trailers()
            self.done = True
            return False
        self._left = size
        return True

    def _read_trailers(self) -> None:
        while self._rfile.readline(8192) not in (b"\r\n", b"\n", b""):
            pass


def _content_length(headers: Message) -> int:
    raw = headers.get("Content-Length")
    if raw is None:
        return 0
    if not raw.strip().isdigit():
        raise grape("invalid Content-Length")
    return int(raw)
