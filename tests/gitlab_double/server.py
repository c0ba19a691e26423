"""HTTP plumbing: a threading HTTP/1.1 keep-alive server, dispatch, fault injection, request log.

Faults apply to ``/api/v4`` only. A dropped upload is logged with status 0 (no answer was sent).
The optional access log (``--verbose``) shows method, path and status: never a query string,
which may carry ``private_token``.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.gitlab_double import downloads
from tests.gitlab_double.app import App
from tests.gitlab_double.auth import credential_kind
from tests.gitlab_double.body import CHUNK, BodyReader
from tests.gitlab_double.config import Config
from tests.gitlab_double.errors import ApiError, internal_error
from tests.gitlab_double.faults import THROTTLED_BODY, Decision, fault_body, throttled_headers
from tests.gitlab_double.objectstore import ObjectStore
from tests.gitlab_double.routing import Request, Response, Router

LINGER_MAX_BYTES = 64 * 1024**3  # drain a rejected upload rather than reset the connection
LINGER_MAX_SECONDS = 120.0
_DROPPED = Response(0)  # marker: the connection was cut, nothing is answered


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    app: App
    verbose: bool


class DoubleHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes: with Nagle on, a client's delayed ACK would
    # stall every small response by ~40 ms and hide the client's own speed.
    disable_nagle_algorithm = True
    server_version = "GitLabDouble/1.0"
    timeout = 300  # idle keep-alive connections end eventually
    server: _Server
    _expect_continue = False
    _decision: Decision = Decision()  # this request's answer faults (truncate, reset)

    def handle_expect_100(self) -> bool:
        self._expect_continue = True  # answered lazily, when the body is first read
        return True

    def do_GET(self) -> None:
        self._dispatch()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _dispatch(self) -> None:
        expect, self._expect_continue = self._expect_continue, False
        self._decision = Decision()
        app = self.server.app
        split = urlsplit(self.path)
        try:
            body = BodyReader(self.rfile, self.headers, self._send_continue if expect else None)
        except ApiError as error:
            self.close_connection = True
            self._write(Response(error.status, error.body))
            return
        query = parse_qs(split.query, keep_blank_values=True)
        request = Request(self.command, split.path, query, self.headers, body, app)
        if split.path.startswith("/-/double/"):
            self._respond(request, self._serve(request, app.control))
            return
        credential = credential_kind(request)
        response = None
        if split.path.startswith("/api/v4/"):
            response = self._apply_faults(request)
            if response is _DROPPED:
                app.record(self.command, split.path, 0, credential)
                return
        response = response or self._serve(request, app.gitlab)
        self._respond(request, response)
        app.record(self.command, split.path, response.status, credential)

    def _apply_faults(self, request: Request) -> Response | None:
        body = request.body
        target = self.server.app.faults.settings.fault_path
        if target and not request.path.endswith(target):
            return None
        is_upload = request.method == "PUT" and body.has_body
        decision = self.server.app.faults.decide((body.length or -1) if is_upload else None)
        self._decision = decision
        if decision.latency_s:
            time.sleep(decision.latency_s)
        if decision.drop_after is not None:
            self._drop(body, decision.drop_after)
            return _DROPPED
        if decision.status is not None:
            if decision.status == 429:  # Rack::Attack answers before the API sees the request
                return Response(429, THROTTLED_BODY, throttled_headers(), content_type="text/plain")
            return Response(decision.status, fault_body(decision.status))
        return None

    def _drop(self, body: BodyReader, after: int) -> None:
        """Read part of the body, then close without answering (a cut-off upload)."""
        buffer = memoryview(bytearray(CHUNK))
        read = 0
        try:
            while read < after and (count := body.readinto(buffer[: min(CHUNK, after - read)])):
                read += count
        except (ConnectionError, OSError):
            pass
        self.close_connection = True

    def _serve(self, request: Request, router: Router) -> Response:
        found = router.match(request.method, request.path)
        if found is None:
            if router.knows_path(request.path):
                return Response(405, {"error": "405 Not Allowed"})
            return Response(404, {"error": "404 Not Found"})
        route, request.args = found
        if not request.app.release.routes(route.since):
            return Response(404, {"error": "404 Not Found"})  # an older GitLab has no such route
        try:
            if route.streams_body:
                return route.handler(request)
            request.preload()
            if route.locks:
                return route.handler(request)
            with request.app.registry.lock:
                return route.handler(request)
        except ApiError as error:
            return Response(error.status, error.body, error.headers)
        except ConnectionError:
            self.close_connection = True
            return Response(400, {"error": "connection closed mid-body"})
        except Exception:
            traceback.print_exc(file=sys.stderr)
            unhandled = internal_error()
            return Response(unhandled.status, unhandled.body)

    def _respond(self, request: Request, response: Response) -> None:
        body = request.body
        if not body.done and body.awaiting_continue:
            self.close_connection = True  # the client never sent the body: do not wait for it
        self._write(response)
        if not body.done and not self.close_connection:
            try:
                drained = body.discard(LINGER_MAX_BYTES, LINGER_MAX_SECONDS)
            except (ConnectionError, OSError, ApiError):
                drained = False
            self.close_connection = self.close_connection or not drained

    def _write(self, response: Response) -> None:
        payload = b"" if response.file is not None else response.payload()
        offset, length = (
            downloads.span(response) if response.file is not None else (0, len(payload))
        )
        decision, self._decision = self._decision, Decision()
        cut = self._cut_at(decision, response, length)
        if cut is not None:
            self.close_connection = True
        self.send_response(response.status)
        if response.status != 204:  # "No Content" carries neither
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(length))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        if response.file is not None:
            with response.file.open("rb") as handle:
                sent = downloads.send_file(self.connection, handle, offset, length, cut)
            self.server.app.served.add(urlsplit(self.path).path, sent)
        else:
            self.wfile.write(payload if cut is None else payload[:cut])
        if cut is not None:
            self.wfile.flush()
            if decision.reset_after is not None:
                downloads.reset(self.connection)

    @staticmethod
    def _cut_at(decision: Decision, response: Response, length: int) -> int | None:
        """Body bytes to send before the connection breaks (an answer fault), or None."""
        if decision.truncate and length > 1:
            return length // 2
        if decision.reset_after is not None and response.file is not None:
            # Only bodies longer than reset_after break: a resumed tail gets through.
            return decision.reset_after if length > decision.reset_after else None
        return None

    def _send_continue(self) -> None:
        self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.server.verbose:
            path = urlsplit(self.path).path
            sys.stderr.write(f"{self.command} {path} {code}\n")

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class DoubleServer:
    """The standalone double: bind at once, serve on a background thread, stop on demand."""

    def __init__(self, config: Config, *, verbose: bool = False) -> None:
        self.app = App(config)
        self.httpd = _Server((config.host, config.port), DoubleHandler)
        self.httpd.app = self.app
        self.httpd.verbose = verbose
        self.base_url = f"http://{config.host}:{self.httpd.server_port}"
        self.app.base_url = self.base_url
        self.object_store = ObjectStore(config.host, config.object_store_tls)
        self.app.object_store = self.object_store
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )

    def start(self) -> None:
        self.object_store.start()
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.object_store.stop()
