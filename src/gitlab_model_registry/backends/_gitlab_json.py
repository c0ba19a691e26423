"""GitLab's JSON calls through python-gitlab, with our visible retries around each whole answer.

python-gitlab (client.py ``http_request``) retries ``ConnectionError``, ``Timeout`` and
``ChunkedEncodingError`` silently, on its own backoff (0.1 s x 2^n), and only when asked; a
``ContentDecodingError`` or an answer that is not complete JSON escapes it. So its retries are
off and every call, decoding the body included, runs inside one ``Retrier`` attempt.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import gitlab
import gitlab.exceptions
import requests

from gitlab_model_registry.retry import RETRY_STATUSES, Retrier, Transient, retry_after

UNREACHABLE_HINT = (
    "check --gitlab-url and the network (and --ca-file for a private CA); if GitLab itself is "
    "failing, re-run later"
)


class JsonCalls:
    def __init__(self, gl: gitlab.Gitlab, retrier: Retrier) -> None:
        self._gl, self._retrier = gl, retrier
        # python-gitlab's errors carry no headers: note Retry-After as each answer arrives.
        self._last = threading.local()
        gl.session.hooks["response"].append(self._note_retry_after)

    def _note_retry_after(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._last.retry_after = retry_after(response.headers)

    def call(
        self, verb: str, path: str, query: Any, payload: Any, what: str
    ) -> tuple[Any, Mapping[str, str]]:
        """The decoded body and headers of one request, retried while transient failures last."""

        def attempt() -> tuple[Any, Mapping[str, str]]:
            try:
                response = self._gl.http_request(
                    verb, path, query_data=query, post_data=payload, max_retries=0
                )
                return response.json(), response.headers
            except gitlab.exceptions.GitlabHttpError as error:
                if error.response_code in RETRY_STATUSES:
                    wait = getattr(self._last, "retry_after", None)
                    raise Transient(f"HTTP {error.response_code}", wait) from error
                raise
            except ValueError as error:  # a 2xx answer that is not JSON (cut short by a proxy)
                raise Transient("the answer was not complete JSON") from error

        return self._retrier.run(attempt, what, hint=UNREACHABLE_HINT)
