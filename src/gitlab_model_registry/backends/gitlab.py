"""GitLab's Model registry: MLflow-compatible JSON routes and the packages API via python-gitlab,
model files via ``transfer`` (``/packages/ml_models/<version id>/files/...``, Bearer only).

Server behaviour this module relies on is documented in GitLab's source; the shapes differ from
plain MLflow: ``model_version.version`` is the version's database id and the semver sits in
``aliases`` (and in the ``gitlab.version`` tag that selects it on creation).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import gitlab
import gitlab.exceptions
import requests

from gitlab_model_registry.backends import Backend, EnvironmentLedger, ProgressCallback
from gitlab_model_registry.backends import _gitlab_retention as retention
from gitlab_model_registry.backends import _gitlab_run_data as run_data
from gitlab_model_registry.backends import _gitlab_versions as versions
from gitlab_model_registry.backends._copy import copy_via_disk
from gitlab_model_registry.backends._gitlab_api import JsonApi
from gitlab_model_registry.backends._gitlab_errors import API_TOKEN_HINT, GitLabAnswer
from gitlab_model_registry.backends._gitlab_files import PackageFiles
from gitlab_model_registry.backends._gitlab_json import JsonCalls
from gitlab_model_registry.errors import NotFoundError, RegistryError, UsageError
from gitlab_model_registry.models import (
    ModelVersion,
    RegisteredModel,
    RemoteFile,
    RunData,
    UploadFile,
)
from gitlab_model_registry.retry import DEFAULT_POLICY, Notify, Retrier, RetryPolicy
from gitlab_model_registry.settings import Settings
from gitlab_model_registry.tls import verify_setting
from gitlab_model_registry.transfer import Placement, Transfer


class GitLabBackend:
    """The Backend protocol over one GitLab project."""

    kind = "gitlab"

    def __init__(
        self,
        settings: Settings,
        session: requests.Session | None = None,
        *,
        notify: Notify | None = None,
        policy: RetryPolicy = DEFAULT_POLICY,
    ) -> None:
        """``notify`` receives one line per retry; ``policy`` bounds every request's attempts."""
        if settings.token is None:
            raise UsageError("no GitLab API token", hint=API_TOKEN_HINT)
        self._settings = settings
        self._project = quote(settings.project, safe="")
        verify = verify_setting(settings.ca_file)
        # Retries are ours (visible, and covering answers cut off mid-body), not python-gitlab's.
        self._gl = gitlab.Gitlab(
            settings.gitlab_url,
            oauth_token=settings.token.reveal(),
            ssl_verify=verify,
            timeout=settings.timeout,
            retry_transient_errors=False,
            session=session,
        )
        calls = JsonCalls(self._gl, Retrier(policy, notify=notify))
        self._api = JsonApi(calls, self._gl, self._project, settings.project)
        upload_secret = settings.job_token if settings.upload_token == "job" else settings.token
        assert upload_secret is not None  # Settings.resolve guarantees a job token for "job"
        self._upload_kind = "CI job token" if settings.upload_token == "job" else "API token"
        transfer = Transfer(
            session or requests.Session(),
            headers={"Authorization": f"Bearer {upload_secret.reveal()}"},
            timeout=settings.timeout,
            verify=verify,
            policy=policy,
            notify=notify,
        )
        self._files = PackageFiles(self._api, settings, self._project, transfer, self._upload_kind)

    def describe(self) -> str:
        return f"GitLab {self._settings.gitlab_url}, project {self._settings.project}"

    # -- models -----------------------------------------------------------------------------

    def get_model(self, name: str) -> RegisteredModel | None:
        body = self._api.mlflow_or_none("get", "registered-models/get", {"name": name})
        return _model(body["registered_model"]) if body else None

    def create_model(self, name: str, description: str) -> RegisteredModel:
        payload = {"name": name, "description": description}
        try:
            return _model(
                self._api.mlflow("post", "registered-models/create", payload)["registered_model"]
            )
        except RegistryError as error:
            # GitLab answers 400 for every refusal (RESOURCE_ALREADY_EXISTS, or the unique
            # index's text when two creates overlap): tell a lost race from an invalid name by
            # looking the model up. A 5xx after retries is the registry's failure, not the name's.
            existing = self.get_model(name)
            if existing:
                return existing
            if not isinstance(error, GitLabAnswer) or error.status != 400:
                raise
            raise UsageError(
                f"GitLab refused to create model {name!r}",
                hint="use letters, digits, '.', '_' and '-' in model names",
            ) from error

    # -- versions ---------------------------------------------------------------------------

    def list_versions(self, model: str) -> list[ModelVersion]:
        return versions.list_versions(self._api, model)

    def get_version(self, model: str, version: str) -> ModelVersion | None:
        return versions.get_version(self._api, model, version)

    def create_version(
        self, model: str, version: str, description: str, tags: dict[str, str]
    ) -> ModelVersion:
        return versions.create_version(self._api, model, version, description, tags)

    # -- files ------------------------------------------------------------------------------

    def list_files(self, mv: ModelVersion) -> list[RemoteFile]:
        return self._files.list_files(mv)

    def upload(
        self,
        mv: ModelVersion,
        files: Sequence[UploadFile],
        *,
        concurrency: int,
        progress: ProgressCallback | None = None,
    ) -> list[RemoteFile]:
        return self._files.upload(mv, files, concurrency=concurrency, progress=progress)

    def download(
        self,
        mv: ModelVersion,
        files: Sequence[RemoteFile],
        dest: Path,
        *,
        concurrency: int,
        progress: ProgressCallback | None = None,
    ) -> None:
        self._files.download(mv, files, dest, concurrency=concurrency, progress=progress)

    def download_into(
        self,
        mv: ModelVersion,
        jobs: Sequence[tuple[RemoteFile, Placement]],
        *,
        concurrency: int,
        progress: ProgressCallback | None = None,
    ) -> None:
        """Each file into its place in a bigger file (the parts of a split file, no join)."""
        self._files.download_into(mv, jobs, concurrency=concurrency, progress=progress)

    def copy_from(
        self,
        source: Backend,
        src: ModelVersion,
        dst: ModelVersion,
        files: Sequence[RemoteFile],
        *,
        concurrency: int,
        progress: ProgressCallback | None = None,
    ) -> list[RemoteFile]:
        if not isinstance(source, GitLabBackend):
            return copy_via_disk(
                source, self, src, dst, files, concurrency=concurrency, progress=progress
            )
        return self._files.copy_from(
            source._files, src, dst, files, concurrency=concurrency, progress=progress
        )

    def package_url(self, mv: ModelVersion) -> str:
        return self._files.package_url(mv)

    # -- runs -------------------------------------------------------------------------------

    def log_run_data(self, run_id: str, data: RunData) -> None:
        run_data.log_run_data(self._api, run_id, data)

    def get_run_data(self, run_id: str) -> RunData:
        return run_data.get_run_data(self._api, run_id)

    def run_status(self, run_id: str) -> str:
        return run_data.run_status(self._api, run_id)

    def finish_version(self, mv: ModelVersion) -> None:
        run_data.finish_run(self._api, mv.run_id)

    # -- retention (gmr prune only) ---------------------------------------------------------

    def delete_version(self, mv: ModelVersion) -> None:
        """GraphQL ``mlModelVersionDelete`` (version and package), then the run it leaves."""
        answer = self._api.graphql(
            retention.DELETE_VERSION, {"id": retention.version_gid(mv.version_id)}
        )
        if self.get_version(mv.model, mv.version) is not None:
            raise retention.refusal(f"{mv.model} {mv.version}", answer)
        self._files.forget(mv)
        if mv.run_id:
            # Already gone after an earlier prune or a lost answer retried: nothing to do.
            with contextlib.suppress(NotFoundError):
                self._api.mlflow("post", "runs/delete", {"run_id": mv.run_id})

    def merge_request_state(self, iid: str) -> str | None:
        """The MR's state (opened, closed, merged, locked), None if there is no such MR."""
        path = f"/projects/{self._project}/merge_requests/{quote(iid, safe='')}"
        found = self._api.get_or_none(path, "the merge requests API")
        return str(found["state"]) if found and "state" in found else None

    def environments(self) -> EnvironmentLedger:
        from gitlab_model_registry._servers import is_own_project
        from gitlab_model_registry.backends._gitlab_environments import GitLabEnvironments

        settings = self._settings
        # A job's deployment belongs to the job's project: elsewhere gmr creates its own.
        own = is_own_project(settings.project, settings.job_project_id, settings.job_project_path)
        return GitLabEnvironments(self._api, self, jobs_deploy_here=own)


def _model(raw: dict[str, Any]) -> RegisteredModel:
    return RegisteredModel(name=raw["name"], description=raw.get("description") or "")
