"""GitLab's Model registry: MLflow-compatible JSON routes and the packages API via python-gitlab,
model files via ``transfer`` (``/packages/ml_models/<version id>/files/...``, Bearer only).

Server behaviour this module relies on is documented in GitLab's source; the shapes differ from
plain MLflow: ``model_version.version`` is the version's database id and the semver sits in
``aliases`` (and in the ``gitlab.version`` tag that selects it on creation).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import gitlab
import gitlab.exceptions
import requests

from gitlab_model_registry import versioning
from gitlab_model_registry.backends import Backend, ProgressCallback
from gitlab_model_registry.backends._copy import copy_via_disk
from gitlab_model_registry.backends._gitlab_errors import API_TOKEN_HINT, ApiErrors, TransferErrors
from gitlab_model_registry.errors import (
    NotFoundError,
    RegistryError,
    UsageError,
    VersionTakenError,
)
from gitlab_model_registry.models import (
    ModelVersion,
    RegisteredModel,
    RemoteFile,
    RunData,
    UploadFile,
)
from gitlab_model_registry.settings import Settings
from gitlab_model_registry.transfer import Transfer

MLFLOW = "/ml/mlflow/api/2.0/mlflow"
_MAX_RETRIES = 5


class GitLabBackend:
    """The Backend protocol over one GitLab project."""

    kind = "gitlab"

    def __init__(self, settings: Settings, session: requests.Session | None = None) -> None:
        if settings.token is None:
            raise UsageError("no GitLab API token", hint=API_TOKEN_HINT)
        self._settings = settings
        self._project = quote(settings.project, safe="")
        verify: bool | str = settings.ca_file or True
        self._gl = gitlab.Gitlab(
            settings.gitlab_url,
            oauth_token=settings.token.reveal(),
            ssl_verify=verify,
            timeout=settings.timeout,
            retry_transient_errors=True,
            session=session,
        )
        upload_secret = settings.job_token if settings.upload_token == "job" else settings.token
        assert upload_secret is not None  # Settings.resolve guarantees a job token for "job"
        self._known_packages: dict[tuple[str, str], dict[str, Any]] = {}
        self._upload_kind = "CI job token" if settings.upload_token == "job" else "API token"
        self._transfer = Transfer(
            session or requests.Session(),
            headers={"Authorization": f"Bearer {upload_secret.reveal()}"},
            timeout=settings.timeout,
            verify=verify,
        )

    def describe(self) -> str:
        return f"GitLab {self._settings.gitlab_url}, project {self._settings.project}"

    # -- models -----------------------------------------------------------------------------

    def get_model(self, name: str) -> RegisteredModel | None:
        body = self._mlflow_or_none("get", "registered-models/get", {"name": name})
        return _model(body["registered_model"]) if body else None

    def create_model(self, name: str, description: str) -> RegisteredModel:
        payload = {"name": name, "description": description}
        try:
            return _model(
                self._mlflow("post", "registered-models/create", payload)["registered_model"]
            )
        except RegistryError as error:
            # GitLab answers 400 RESOURCE_ALREADY_EXISTS for every failure: tell a lost race
            # from an invalid name by looking the model up.
            existing = self.get_model(name)
            if existing:
                return existing
            raise UsageError(
                f"GitLab refused to create model {name!r}",
                hint="use letters, digits, '.', '_' and '-' in model names",
            ) from error

    # -- versions ---------------------------------------------------------------------------

    def list_versions(self, model: str) -> list[ModelVersion]:
        packages = {p["version"]: p for p in self._packages(model)}
        body = self._mlflow_or_none("get", "registered-models/get", {"name": model})
        detailed = body["registered_model"].get("latest_versions") or [] if body else []
        by_semver = {v["aliases"][0]: v for v in detailed if v and v.get("aliases")}
        return [
            self._version(by_semver[semver]) if semver in by_semver else _packaged(model, p)
            for semver, p in packages.items()
            if versioning.is_semver(semver)
        ]

    def get_version(self, model: str, version: str) -> ModelVersion | None:
        body = self._mlflow_or_none(
            "get", "model-versions/get", {"name": model, "version": version}
        )
        return self._version(body["model_version"]) if body else None

    def create_version(
        self, model: str, version: str, description: str, tags: dict[str, str]
    ) -> ModelVersion:
        payload = {
            "name": model,
            "description": description,
            "tags": [
                {"key": k, "value": v} for k, v in {**tags, "gitlab.version": version}.items()
            ],
        }
        try:
            body = self._mlflow("post", "model-versions/create", payload)
        except RegistryError as error:
            if "already been taken" in error.message:
                raise VersionTakenError(f"version {version} of {model} already exists") from error
            raise
        return self._version(body["model_version"])

    # -- files ------------------------------------------------------------------------------

    def list_files(self, mv: ModelVersion) -> list[RemoteFile]:
        package = self._package(mv.model, mv.version)
        if package is None:
            return []
        newest: dict[str, dict[str, Any]] = {}
        path = f"/projects/{self._project}/packages/{package['id']}/package_files"
        for record in self._list(path, {}):
            name = unquote(record["file_name"])
            if name not in newest or record["id"] > newest[name]["id"]:
                newest[name] = record
        return [
            RemoteFile(n, int(r["size"]), r.get("file_sha256")) for n, r in sorted(newest.items())
        ]

    def upload(
        self,
        mv: ModelVersion,
        files: Sequence[UploadFile],
        *,
        concurrency: int,
        progress: ProgressCallback | None = None,
    ) -> list[RemoteFile]:
        jobs = [(self._file_url(mv, f.remote_name), f) for f in files]
        with self._transfer_errors():
            digests = self._transfer.put_many(jobs, concurrency=concurrency, progress=progress)
        stored = {f.name: f for f in self.list_files(mv)}
        return [_verified(f, digests[f.remote_name], stored.get(f.remote_name)) for f in files]

    def download(
        self,
        mv: ModelVersion,
        files: Sequence[RemoteFile],
        dest: Path,
        *,
        concurrency: int,
        progress: ProgressCallback | None = None,
    ) -> None:
        jobs = [(self._file_url(mv, f.name), f, dest / f.name) for f in files]
        with self._transfer_errors():
            self._transfer.get_many(jobs, concurrency=concurrency, progress=progress)

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
        jobs = [(source._file_url(src, f.name), self._file_url(dst, f.name), f) for f in files]
        with self._transfer_errors():
            digests = self._transfer.copy_many(
                jobs,
                source_headers=source._transfer.headers,
                concurrency=concurrency,
                progress=progress,
            )
        stored = {f.name: f for f in self.list_files(dst)}
        return [_verified_copy(f, digests[f.name], stored.get(f.name)) for f in files]

    def package_url(self, mv: ModelVersion) -> str:
        package = self._package(mv.model, mv.version)
        web_path = (package or {}).get("_links", {}).get("web_path", "")
        return f"{self._settings.gitlab_url}{web_path}" if web_path else ""

    # -- runs -------------------------------------------------------------------------------

    def log_run_data(self, run_id: str, data: RunData) -> None:
        from gitlab_model_registry.metadata import batches

        for batch in batches(data.params, data.metrics, data.tags):
            payload = {
                "run_id": run_id,
                "params": [{"key": k, "value": v} for k, v in batch.params],
                "metrics": [
                    {"key": k, "value": v, "timestamp": 0, "step": 0} for k, v in batch.metrics
                ],
                "tags": [{"key": k, "value": v} for k, v in batch.tags],
            }
            self._mlflow("post", "runs/log-batch", payload)

    def get_run_data(self, run_id: str) -> RunData:
        data = self._mlflow("get", "runs/get", {"run_id": run_id})["run"].get("data", {})
        return RunData(
            params={p["key"]: p["value"] for p in data.get("params", [])},
            metrics={m["key"]: float(m["value"]) for m in data.get("metrics", [])},
            tags={t["key"]: t["value"] for t in data.get("tags", [])},
        )

    def run_status(self, run_id: str) -> str:
        info = self._mlflow("get", "runs/get", {"run_id": run_id})["run"].get("info", {})
        return str(info.get("status", ""))

    def finish_version(self, mv: ModelVersion) -> None:
        # GitLab stores the candidate's status and end time as given (runs/update).
        payload = {"run_id": mv.run_id, "status": "FINISHED", "end_time": int(time.time() * 1000)}
        self._mlflow("post", "runs/update", payload)

    # -- plumbing ---------------------------------------------------------------------------

    def _file_url(self, mv: ModelVersion, remote_name: str) -> str:
        path = "/".join(quote(part, safe="") for part in remote_name.split("/"))
        base = f"{self._settings.api_url}/projects/{self._project}/packages/ml_models"
        return f"{base}/{mv.version_id}/files/{path}"

    def _version(self, raw: dict[str, Any]) -> ModelVersion:
        return ModelVersion(
            model=raw["name"],
            version=(raw.get("aliases") or [""])[0],
            version_id=str(raw["version"]),
            run_id=raw.get("run_id", ""),
            description=raw.get("description") or "",
            tags={t["key"]: t["value"] for t in raw.get("tags") or []},
            web_url=raw.get("source", ""),
            created_at=str(raw.get("creation_timestamp", "")),
        )

    def _packages(self, model: str, version: str | None = None) -> Iterator[dict[str, Any]]:
        query = {"package_type": "ml_model", "package_name": model}
        if version:
            query["package_version"] = version
        path = f"/projects/{self._project}/packages"
        # package_name is a fuzzy match on GitLab: keep exact names only.
        return (p for p in self._list(path, query) if p["name"] == model)

    def _package(self, model: str, version: str) -> dict[str, Any] | None:
        # A version's package never changes once it exists: look it up once per command, not
        # before the upload, after it, and again for its URL.
        if (model, version) not in self._known_packages:
            found = next(
                (p for p in self._packages(model, version) if p["version"] == version), None
            )
            if found is None:
                return None
            self._known_packages[model, version] = found
        return self._known_packages[model, version]

    def _list(self, path: str, query: dict[str, str]) -> Iterator[dict[str, Any]]:
        with self._api_errors("the packages API", read_only=True):
            yield from self._gl.http_list(
                path, query_data={**query, "per_page": 100}, iterator=True
            )

    def _mlflow(self, verb: str, route: str, params: dict[str, Any]) -> dict[str, Any]:
        path = f"/projects/{self._project}{MLFLOW}/{route}"
        query, payload = (params, None) if verb == "get" else (None, params)
        with self._api_errors("the MLflow API", read_only=verb == "get"):
            response = self._gl.http_request(
                verb, path, query_data=query, post_data=payload, max_retries=_MAX_RETRIES
            )
        body: dict[str, Any] = response.json()
        return body

    def _mlflow_or_none(
        self, verb: str, route: str, params: dict[str, Any]
    ) -> dict[str, Any] | None:
        try:
            return self._mlflow(verb, route, params)
        except NotFoundError:
            return None

    def _api_errors(self, api: str, *, read_only: bool) -> ApiErrors:
        return ApiErrors(api, read_only, self._settings.project)

    def _transfer_errors(self) -> TransferErrors:
        return TransferErrors(self._upload_kind)


def _model(raw: dict[str, Any]) -> RegisteredModel:
    return RegisteredModel(name=raw["name"], description=raw.get("description") or "")


def _packaged(model: str, package: dict[str, Any]) -> ModelVersion:
    """A version known only from the packages API (old servers): no id or run yet."""
    return ModelVersion(
        model=model,
        version=package["version"],
        version_id="",
        created_at=package.get("created_at", ""),
    )


def _verified(local: UploadFile, digest: str, stored: RemoteFile | None) -> RemoteFile:
    from gitlab_model_registry.errors import IntegrityError

    if stored is None:
        raise IntegrityError(f"{local.remote_name} is missing from the package after its upload")
    if stored.sha256 and stored.sha256 != digest:
        raise IntegrityError(
            f"{local.remote_name}: GitLab stored sha256 {stored.sha256[:12]}…, we sent {digest[:12]}…",
            hint="the upload was corrupted on the way; publish again",
        )
    return RemoteFile(local.remote_name, local.size, digest)


def _verified_copy(source: RemoteFile, digest: str, stored: RemoteFile | None) -> RemoteFile:
    local = UploadFile(Path(source.name), source.name, source.size)
    return _verified(local, digest, stored)
