"""Bounded, visible retries of transient failures, shared by file transfers and JSON calls.

Transient: a connection that fails or breaks while the answer is read (reset, truncated body,
bad chunking or compression), a timeout, and the statuses in ``RETRY_STATUSES``. Each retry is
announced through ``notify`` as one line, ``retrying <what> in 2.1 s (attempt 2/6): <why>``;
the library never prints, the CLI passes a callback that writes to stderr.
"""

from __future__ import annotations

import http.client
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import requests
import urllib3.exceptions

from gitlab_model_registry._threads import check_cancelled
from gitlab_model_registry.errors import RegistryError

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
T = TypeVar("T")
Notify = Callable[[str], None]

#: Raised while a response body is being read: the connection broke mid-answer.
BROKEN_READS: tuple[type[BaseException], ...] = (
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    urllib3.exceptions.ProtocolError,
    urllib3.exceptions.DecodeError,
    http.client.IncompleteRead,
)


class TransferError(RegistryError):
    """An HTTP request failed with a status retrying cannot fix, or after all retries."""

    def __init__(self, message: str, *, status: int = 0, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.status = status


class Transient(Exception):
    """A failure worth retrying, with the reason shown in the retry line."""

    def __init__(self, reason: str, retry_after: float | None = None, status: int = 0) -> None:
        super().__init__(reason)
        self.retry_after, self.status = retry_after, status


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry: exponential backoff with jitter, or Retry-After."""

    attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        backoff = min(self.base_delay * 2.0**attempt, self.max_delay)
        return backoff * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not security


DEFAULT_POLICY = RetryPolicy()


def transient_reason(error: BaseException) -> Transient | None:
    """Why ``error`` is worth retrying, or None when it is not transient."""
    if isinstance(error, Transient):
        return error
    if isinstance(error, BROKEN_READS):
        return Transient("connection broken")
    if isinstance(error, requests.exceptions.SSLError):
        return None  # a certificate problem does not heal by waiting
    if isinstance(error, requests.Timeout):
        return Transient("timed out")
    if isinstance(error, requests.ConnectionError):
        return Transient("connection failed")
    return None


class Retrier:
    """Runs an attempt until it succeeds, a non-transient error escapes, or attempts run out."""

    def __init__(
        self,
        policy: RetryPolicy = DEFAULT_POLICY,
        *,
        sleep: Callable[[float], None] = time.sleep,
        notify: Notify | None = None,
    ) -> None:
        self.policy, self._sleep = policy, sleep
        self._notify: Notify = notify or (lambda message: None)

    def run(self, attempt: Callable[[], T], what: str, *, hint: str = "") -> T:
        attempts = self.policy.attempts
        for number in range(attempts):
            try:
                return attempt()
            except requests.exceptions.SSLError as error:
                raise TransferError(
                    f"{what}: TLS verification failed ({type(error).__name__})",
                    hint="pass the server's CA with --ca-file (it is added to the system's trust)",
                ) from error
            except Exception as error:
                reason = transient_reason(error)
                if reason is None:
                    raise
            check_cancelled()  # an interrupted command retries nothing
            if number + 1 < attempts:
                delay = self.policy.delay(number, reason.retry_after)
                self._notify(
                    f"retrying {what} in {delay:.1f} s (attempt {number + 2}/{attempts}): {reason}"
                )
                self._sleep(delay)
        raise TransferError(
            f"{what} failed after {attempts} attempts: {reason}",
            hint=hint
            or "the registry or network is failing; re-run later (finished files are skipped)",
        )


def retry_after(headers: object) -> float | None:
    try:
        return float(headers["Retry-After"])  # type: ignore[index]
    except (KeyError, ValueError, TypeError):
        return None


def check_response(response: requests.Response, name: str) -> None:
    """Raise for a failed answer: ``Transient`` for retryable statuses, else ``TransferError``."""
    if response.status_code < 300:
        return
    if response.status_code in RETRY_STATUSES:
        status = response.status_code
        raise Transient(f"HTTP {status}", retry_after(response.headers), status=status)
    raise TransferError(
        f"{name}: HTTP {response.status_code} ({_message(response)})", status=response.status_code
    )


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason or ""
    return str(body.get("message") or body.get("error") or "") if isinstance(body, dict) else ""
