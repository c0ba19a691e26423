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


#: Before 17.6 the Model registry is also behind the ``model_registry`` feature flag.
FLAG_BEFORE = (17, 6)


def check(gl: gitlab.Gitlab) -> tuple[int, int] | None:
    """The release (major, minor), or None when it is not readable; refuse one older than
    ``MINIMUM``."""
    try:
        body = gl.http_request("get", "/version", max_retries=_RETRIES).json()
    except (gitlab.exceptions.GitlabError, requests.RequestException, ValueError):
        return None
    text = str(body.get("version", "")) if isinstance(body, dict) else ""
    found = _RELEASE.match(text)
    if found is None:
        return None
    release = (int(found[1]), int(found[2]))
    if release < MINIMUM:
        raise UsageError(
            f"GitLab {text} is older than {MINIMUM_TEXT}, the oldest release gmr supports",
            hint=f"upgrade GitLab to {MINIMUM_TEXT} or later",
        )
    return release


def unsupported() -> UsageError:
    """A server that does not route the MLflow registry API at all."""
    return UsageError(
        "this GitLab has no Model registry API (MLflow registered-models routes)",
        hint=f"gmr needs GitLab {MINIMUM_TEXT} or later; check --gitlab-url",
    )
