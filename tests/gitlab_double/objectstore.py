"""A second server on another loopback port standing in for object storage (S3, GCS, MinIO).

With ``direct_download`` on, GitLab answers a file download with 302 to a pre-signed URL of the
store (``present_carrierwave_file!``, reference §11.6); the URL alone authorises the GET, so a
client must follow it *without* its GitLab credentials. This store serves such URLs (Range
included, like S3) and records the ``Authorization`` header scheme of every request it gets,
so tests can assert that no credential followed the redirect. With a certificate and key
(``--object-store-cert/--object-store-key``) it speaks HTTPS: a test makes its own CA for it,
as a public store's CA is not the private CA of a GitLab.
"""

from __future__ import annotations

import secrets
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from tests.gitlab_double import downloads


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    store: ObjectStore


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        store = self.server.store
        split = urlsplit(self.path)
        scheme = self.headers.get("Authorization", "").partition(" ")[0]
        found = store.lookup(split.path, split.query)
        store.record(self.command, split.path, scheme or None, self.headers.get("Range"))
        if found is None:
            self._plain(403, b"<Error><Code>SignatureDoesNotMatch</Code></Error>")
            return
        response = downloads.ranged(self.headers.get("Range"), *found)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.file is None:
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        offset, length = downloads.span(response)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if self.command == "HEAD":
            return
        with response.file.open("rb") as handle:
            sent = downloads.send_file(self.connection, handle, offset, length, None)
        store.served.add(split.path, sent)

    do_HEAD = do_GET

    def _plain(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class ObjectStore:
    """Pre-signed URLs for stored files, served on their own port."""

    def __init__(self, host: str, tls: tuple[Path, Path] | None = None) -> None:
        self._httpd = _Server((host, 0), _Handler)
        self._httpd.store = self
        scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
            scheme = "https"
        # "localhost" rather than the IP: a test certificate names a host, as a real store's does.
        self.base_url = f"{scheme}://localhost:{self._httpd.server_port}"
        self.served = downloads.ServedBytes()
        self._lock = threading.Lock()
        self._signed: dict[str, tuple[Path, str]] = {}
        self._log: list[dict[str, Any]] = []
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def presign(self, path: Path, file_name: str) -> str:
        signature = secrets.token_hex(16)
        key = f"/bucket/{secrets.token_hex(8)}/{quote(file_name)}"
        with self._lock:
            self._signed[key] = (path, signature)
        return f"{self.base_url}{key}?X-Amz-Expires=600&X-Amz-Signature={signature}"

    def lookup(self, key: str, query: str) -> tuple[Path, str] | None:
        with self._lock:
            found = self._signed.get(key)
        if found is None or f"X-Amz-Signature={found[1]}" not in query:
            return None
        return found[0], key.rsplit("/", 1)[-1]

    def record(self, method: str, path: str, authorization: str | None, range_: str | None) -> None:
        with self._lock:
            self._log.append(
                {"method": method, "path": path, "authorization": authorization, "range": range_}
            )

    def report(self) -> dict[str, Any]:
        with self._lock:
            log = list(self._log)
        return {"url": self.base_url, "requests": log, "bytes": self.served.snapshot()}

    def reset(self) -> None:
        with self._lock:
            self._signed.clear()
            self._log.clear()
        self.served.clear()
