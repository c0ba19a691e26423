"""How GitLab's failures become our errors, each with what to do next (no secret in any message)."""

from __future__ import annotations

import json
from typing import Any

import gitlab.exceptions
import requests

from gitlab_model_registry.backends import _gitlab_release
from gitlab_model_registry.errors import (
    AuthError,
    GmrError,
    NotFoundError,
    RegistryError,
    UsageError,
)
from gitlab_model_registry.transfer import TransferError

API_TOKEN_HINT = (
    "use a personal, project or group access token with the api scope and at least the "
    "Developer role (--token or GMR_TOKEN); CI_JOB_TOKEN is not accepted by this API"
)


REGISTRY_SETTING = (
    "Settings > General > Visibility, project features, permissions: "
    "Model experiments and Model registry"
)


class GitLabAnswer(RegistryError):
    """GitLab answered with an error status (after retries for 5xx); ``status`` says which."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


def registry_disabled(project: str, release: tuple[int, int] | None) -> UsageError:
    """Every MLflow route answers a bare 404 when the project's features (or, on 16.8-17.5,
    the ``model_registry`` feature flag) are off; a missing model carries an error_code."""
    flag = release is None or release < _gitlab_release.FLAG_BEFORE
    before = "" if release else " before 17.6"
    return UsageError(
        f"the Model registry is switched off for project {project!r}",
        hint=f"a maintainer can switch on {REGISTRY_SETTING}"
        + (
            f"; on GitLab{before} an administrator must also enable the model_registry feature flag"
            if flag
            else ""
        ),
    )


def packages_disabled(project: str) -> UsageError:
    return UsageError(
        f"the Package registry is switched off for project {project!r}",
        hint="a maintainer can switch on Settings > General > Visibility, project features, "
        "permissions: Packages (model files are stored as packages)",
    )


class ApiErrors:
    """Turns python-gitlab and requests failures into our errors, with what to do next.

    ``registry``: the MLflow routes, where a 404 without ``error_code`` means the feature is
    off (a missing resource says RESOURCE_DOES_NOT_EXIST) and Grape's route-not-found 404
    (``{"error": ...}``) means a GitLab without those routes.
    """

    def __init__(
        self,
        api: str,
        project: str,
        *,
        registry: bool,
        release: tuple[int, int] | None = None,
    ) -> None:
        self._api, self._project = api, project
        self._registry, self._release = registry, release

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: Any
    ) -> None:
        if isinstance(error, gitlab.exceptions.GitlabError):
            raise self._translate(error) from error
        if isinstance(error, requests.RequestException):
            raise RegistryError(
                f"cannot reach GitLab: {type(error).__name__}",
                hint="check --gitlab-url, the network and --ca-file",
            ) from error

    def _translate(self, error: gitlab.exceptions.GitlabError) -> GmrError:
        status = error.response_code or 0
        body = _json(error.response_body)
        if status == 401:
            return AuthError(
                f"GitLab refused the API token on {self._api} (401: unknown or expired token, "
                "or a role below Developer)",
                hint=API_TOKEN_HINT,
            )
        if status == 403:
            scope = (
                " (the token lacks the api scope)"
                if body.get("error") == "insufficient_scope"
                else ""
            )
            return AuthError(
                f"GitLab forbids this on {self._api} (403){scope}", hint=API_TOKEN_HINT
            )
        if status == 404 and "Project" in str(body.get("message", "")):
            return AuthError(
                f"project {self._project!r} not found or not visible to this token (404)",
                hint="check --project and that the token's user is a member",
            )
        if status == 404 and self._registry and "error_code" not in body:
            if "error" in body:  # Grape's route-not-found: no such route on this server
                return _gitlab_release.unsupported()
            return registry_disabled(self._project, self._release)
        if status == 404:
            return NotFoundError(f"not found on {self._api}: {_detail(body, error)}")
        return GitLabAnswer(
            f"GitLab answered {status} on {self._api}: {_detail(body, error)}", status=status
        )


class TransferErrors:
    """Refused file transfers: which token was refused and which setting to change."""

    def __init__(self, token_kind: str, project: str = "", job_project: str = "") -> None:
        self._token_kind, self._project, self._job_project = token_kind, project, job_project

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: Any
    ) -> None:
        if not isinstance(error, TransferError):
            return
        # The version was resolved with the API token, so a 404 to the job token is GitLab
        # hiding the project from the job's user; to the API token it is a missing file.
        job_token_hidden = error.status == 404 and self._token_kind == "CI job token"
        if error.status in (401, 403) or job_token_hidden:
            raise AuthError(
                f"GitLab refused the {self._token_kind} for model files ({error.status}): {error.message}",
                hint=self._hint(error.status),
            ) from error

    def _hint(self, status: int) -> str:
        if self._token_kind == "CI job token" and status == 404:
            return (
                f"the job's user cannot see project {self._project or 'this project'} (or the "
                "file was deleted meanwhile); or transfer with the API token: --upload-token api "
                "(GMR_UPLOAD_TOKEN=api)"
            )
        if self._token_kind == "CI job token" and status == 403:
            source = self._job_project or "the job's project"
            return (
                f"a job token reaches project {self._project or 'this project'} only if {source} "
                "is in that project's job token allowlist (Settings > CI/CD > Job token "
                "permissions); or transfer with the API token: --upload-token api "
                "(GMR_UPLOAD_TOKEN=api)"
            )
        return (
            "file transfers need a token of a Developer (uploads) or Reporter (downloads) "
            "of the project; choose the token with --upload-token job|api (GMR_UPLOAD_TOKEN)"
        )


def _json(body: bytes | None) -> dict[str, Any]:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _detail(body: dict[str, Any], error: gitlab.exceptions.GitlabError) -> str:
    message = body.get("message") or body.get("error") or body.get("error_code")
    if isinstance(message, list):
        message = "; ".join(map(str, message))
    return str(message or error.error_message)[:300]
