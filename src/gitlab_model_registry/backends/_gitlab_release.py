"""Which GitLab releases ``gmr`` supports, checked once per backend before its first request.

``GET /api/v4/version`` names the release (any authenticated token may read it). When it is not
readable the release is not guessed: the response shapes decide instead (``backends.gitlab``
reads both ``model_version`` shapes), and a server without the MLflow registry routes answers
them with Grape's route-not-found 404, which ``_gitlab_errors`` reports as unsupported.
"""

from __future__ import annotations

import re

import gitlab
import gitlab.exceptions
import requests

from gitlab_model_registry.errors import UsageError

#: 17.0: the Model registry's MLflow routes, the ``gitlab.version`` tag, directory uploads and
#: job-token uploads are all there, and CI/CD components and inputs are generally available.
MINIMUM = (17, 0)
MINIMUM_TEXT = "17.0"
_RELEASE = re.compile(r"^(\d+)\.(\d+)")
_RETRIES = 2  # a flaky answer here costs little: the shapes decide instead


def check(gl: gitlab.Gitlab) -> None:
    """Refuse a release older than ``MINIMUM``; say nothing when the release is not readable."""
    try:
        body = gl.http_request("get", "/version", max_retries=_RETRIES).json()
    except (gitlab.exceptions.GitlabError, requests.RequestException, ValueError):
        return
    text = str(body.get("version", "")) if isinstance(body, dict) else ""
    found = _RELEASE.match(text)
    if found and (int(found[1]), int(found[2])) < MINIMUM:
        raise UsageError(
            f"GitLab {text} is older than {MINIMUM_TEXT}, the oldest release gmr supports",
            hint=f"upgrade GitLab to {MINIMUM_TEXT} or later",
        )


def unsupported() -> UsageError:
    """A server that does not route the MLflow registry API at all."""
    return UsageError(
        "this GitLab has no Model registry API (MLflow registered-models routes)",
        hint=f"gmr needs GitLab {MINIMUM_TEXT} or later; check --gitlab-url",
    )
