"""Fault injection: latency, error statuses, cut-off uploads and cut-off answers, from a seed.

Every ``/api/v4`` request draws from one ``random.Random(seed)`` behind a lock, a fixed number of
times per request kind (the answer faults draw only while their rate is above 0, so older seeds
keep their sequences), so a given seed and request order always give the same faults.

Answer faults are what proxies and flaky networks do after the server did its work:

- ``truncate_rate``: the answer (JSON or file) announces its honest ``Content-Length`` and the
  connection closes after half of the body;
- ``reset_rate``: a file download whose body is longer than ``reset_after`` bytes is reset
  (TCP RST) after that many bytes; a shorter (e.g. resumed) body gets through.

A 429 is answered as GitLab's Rack::Attack throttle answers it (lib/gitlab/rack_attack.rb,
``throttled_responder`` and ``throttled_response_headers``; lib/gitlab/throttle.rb,
``DEFAULT_RATE_LIMITING_RESPONSE_TEXT``): ``text/plain`` "Retry later", the ``RateLimit-*``
headers and ``Retry-After`` = the seconds left in the throttle's period. GitLab's periods are
settings (60 s for the authenticated API by default); the double's is ``THROTTLE_PERIOD_S`` so
that tests wait a second, not a minute.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate

from tests.gitlab_double.config import FaultSettings

FAULT_BODIES = {
    500: "500 Internal Server Error",
    502: "502 Bad Gateway",
    503: "503 Service Unavailable",
    504: "504 Gateway Timeout",
}
DROP_MAX_BYTES = 8 * 1024 * 1024
THROTTLE_PERIOD_S = 1
THROTTLED_BODY = b"Retry later\n"  # Gitlab::Throttle.rate_limiting_response_text, unset
THROTTLE_LIMIT = 60  # requests per period, as RateLimit-Limit reports it (rounded to a minute)


@dataclass(frozen=True)
class Decision:
    latency_s: float = 0.0
    status: int | None = None  # answer with this status instead of serving
    drop_after: int | None = None  # read this many body bytes, then close the connection
    truncate: bool = False  # send half the answer's body, then close
    reset_after: int | None = None  # a file download: send this many bytes, then reset


class FaultInjector:
    def __init__(self, settings: FaultSettings) -> None:
        self._lock = threading.Lock()
        self.reset(settings)

    def reset(self, settings: FaultSettings) -> None:
        with self._lock:
            self.settings = settings
            self._rng = random.Random(settings.seed)

    def update(self, changes: dict[str, object]) -> None:
        with self._lock:
            self.settings = self.settings.updated(changes)
            if "seed" in changes:
                self._rng = random.Random(self.settings.seed)

    def decide(self, upload_size: int | None) -> Decision:
        """``upload_size``: body length of a PUT with a body (-1 if chunked), else None."""
        with self._lock:
            settings = self.settings
            fault_draw = self._rng.random()
            status_draw = self._rng.randrange(max(1, len(settings.fault_statuses)))
            drop_draw = self._rng.random() if upload_size is not None else 1.0
            truncate_draw = self._rng.random() if settings.truncate_rate > 0 else 1.0
            reset_draw = self._rng.random() if settings.reset_rate > 0 else 1.0
        latency_s = settings.latency_ms / 1000
        if settings.fault_statuses and fault_draw < settings.fault_rate:
            return Decision(latency_s, status=settings.fault_statuses[status_draw])
        if upload_size is not None and drop_draw < settings.drop_rate:
            part = upload_size // 2 if upload_size >= 0 else 64 * 1024
            return Decision(latency_s, drop_after=min(part, DROP_MAX_BYTES))
        if truncate_draw < settings.truncate_rate:
            return Decision(latency_s, truncate=True)
        if reset_draw < settings.reset_rate:
            return Decision(latency_s, reset_after=settings.reset_after)
        return Decision(latency_s)


def fault_body(status: int) -> dict[str, str]:
    return {"message": FAULT_BODIES.get(status, f"{status} Error")}


def throttled_headers() -> dict[str, str]:
    """The headers of Rack::Attack's 429 (``throttled_response_headers``), throttle exhausted."""
    epoch = int(time.time())
    retry_after = THROTTLE_PERIOD_S - epoch % THROTTLE_PERIOD_S
    reset = epoch + retry_after
    per_minute = -(-THROTTLE_LIMIT * 60 // THROTTLE_PERIOD_S)  # ceil, as GitLab rounds it
    return {
        "RateLimit-Name": "throttle_authenticated_api",
        "RateLimit-Limit": str(per_minute),
        "RateLimit-Observed": str(THROTTLE_LIMIT + 1),
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": str(reset),
        "RateLimit-ResetTime": formatdate(reset, usegmt=True),
        "Retry-After": str(retry_after),
    }
