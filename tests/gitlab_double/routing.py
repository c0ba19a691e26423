"""Requests, responses and the route table shared by every API module."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

from tests.gitlab_double.body import BodyReader
from tests.gitlab_double.errors import grape

if TYPE_CHECKING:
    from tests.gitlab_double.app import App


@dataclass
class Response:
    status: int = 200
    body: Any = None  # JSON-able, or bytes sent as is
    headers: dict[str, str] = field(default_factory=dict)
    file: Path | None = None  # streamed from disk instead of ``body``
    file_range: tuple[int, int] | None = None  # first and last byte of ``file`` sent (206)
    content_type: str = "application/json"

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return b"" if self.body is None else json.dumps(self.body).encode()


@dataclass
class Request:
    method: str
    path: str  # raw (still percent-encoded), without the query string
    query: dict[str, list[str]]
    headers: Message
    body: BodyReader
    app: App
    args: dict[str, str] = field(default_factory=dict)  # raw route groups
    raw_body: bytes | None = None  # preloaded for JSON routes, None for streamed ones
    _params: dict[str, Any] | None = None

    @property
    def base_url(self) -> str:
        return self.app.base_url

    def arg(self, name: str) -> str:
        """A route group, percent-decoded (``group%2Fproject`` -> ``group/project``)."""
        return unquote(self.args[name])

    def params(self) -> dict[str, Any]:
        """Query parameters merged with a JSON (or form) body, as Grape does."""
        if self._params is None:
            merged: dict[str, Any] = {k: v[-1] for k, v in self.query.items()}
            merged.update(self._body_params())
            self._params = merged
        return self._params

    def preload(self) -> None:
        """Read a (small) JSON body now, so handlers never wait on the network."""
        self.raw_body = self.body.read_all() if self.body.has_body else b""

    def _body_params(self) -> dict[str, Any]:
        if self.raw_body is None:
            self.preload()
        raw = self.raw_body or b""
        if not raw.strip():
            return {}
        if "x-www-form-urlencoded" in self.headers.get("Content-Type", ""):
            return {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        try:
            parsed = json.loads(raw)
        except ValueError as exc:
            raise grape("The provided content-type 'application/json' is not valid JSON") from exc
        return parsed if isinstance(parsed, dict) else {}


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    streams_body: bool = False  # the handler reads the body itself (uploads)
    locks: bool = False  # the handler takes the registry lock itself, where GitLab would
    since: tuple[int, int] = (0, 0)  # the first GitLab release that routes it


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(
        self,
        method: str,
        pattern: str,
        handler: Handler,
        *,
        streams: bool = False,
        locks: bool = False,
        since: tuple[int, int] = (0, 0),
    ) -> None:
        route = Route(method, re.compile(pattern + r"\Z"), handler, streams, locks, since)
        self.routes.append(route)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route for this method (HEAD is served as GET) and its path groups."""
        for route in self.routes:
            found = route.pattern.match(path)
            if found and (route.method == method or (method, route.method) == ("HEAD", "GET")):
                return route, {k: v for k, v in found.groupdict().items() if v is not None}
        return None

    def knows_path(self, path: str) -> bool:
        """Some method is routed here (so a miss is a 405, not a 404)."""
        return any(route.pattern.match(path) for route in self.routes)
