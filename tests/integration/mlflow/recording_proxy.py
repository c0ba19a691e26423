"""A loopback reverse proxy in front of the real ``mlflow server`` that records who sent what.

Every request is forwarded unchanged and its ``Authorization`` header is recorded (as sent: the
tests compare it with the credential they expect); an optional delay before answering lets
tests observe which timeout was applied, and ``cut_every`` cuts every n-th answer off halfway
(honest Content-Length) after the server applied the request, as a flaky proxy does.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


@dataclass
class Seen:
    method: str
    path: str
    authorization: str | None


@dataclass
class ProxyState:
    upstream: str
    delay_s: float = 0.0
    cut_every: int = 0
    cut: int = 0  # answers cut off so far
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    state: ProxyState


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _forward(self) -> None:
        state = self.server.state
        with state.lock:
            state.seen.append(Seen(self.command, self.path, self.headers.get("Authorization")))
            cut = bool(state.cut_every) and len(state.seen) % state.cut_every == 0
            state.cut += cut
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if state.delay_s:
            time.sleep(state.delay_s)
        upstream = urlsplit(state.upstream)
        connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
        connection.request(self.command, self.path, body=body, headers=headers)
        answer = connection.getresponse()
        payload = answer.read()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in _HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        if cut and len(payload) > 1:
            self.send_header("Connection", "close")
            self.close_connection = True
            payload = payload[: len(payload) // 2]
        self.end_headers()
        self.wfile.write(payload)
        connection.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def recording_proxy(upstream: str) -> Iterator[tuple[str, ProxyState]]:
    """(URL of the proxy, its state); stopped on exit."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.state = ProxyState(upstream)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", server.state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
