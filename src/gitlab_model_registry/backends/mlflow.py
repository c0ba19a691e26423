"""MLflow backend: any MLflow tracking server, Databricks, or the embedded SQLite registry.

MLflow numbers versions 1, 2, 3…; the semver lives on each version as tag ``gmr.version`` and
as a registered-model alias (see ``semver_alias``), which makes a semver lookup one request.
Each version has its own run in experiment ``gmr/<model>``; the files are that run's
artifacts and the version's ``source`` is the run's artifact URI. MLflow stores no checksum,
so the sha256 of each uploaded file is kept as a run tag (``sha256_tag_key``).

``mlflow`` is imported lazily (in the constructor and helpers), so the GitLab path never pays
for it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitlab_model_registry.backends import Backend, EnvironmentLedger, ProgressCallback
from gitlab_model_registry.backends import _mlflow_run_data as run_data
from gitlab_model_registry.backends import _mlflow_shapes as shapes
from gitlab_model_registry.backends import _mlflow_versions as versions
from gitlab_model_registry.backends._copy import copy_via_disk
from gitlab_model_registry.backends._mlflow_files import RunFiles
from gitlab_model_registry.backends._mlflow_http import Connection, HttpArtifacts
from gitlab_model_registry.backends._mlflow_runs import Runs
from gitlab_model_registry.backends._mlflow_support import (
    SEMVER_TAG,
    AlreadyExistsError,
    check_writable_database,
    local_database,
    mlflow_errors,
    scrub,
    semver_alias,
    sha256_tag_key,
)
from gitlab_model_registry.errors import NotFoundError, UsageError, VersionTakenError
from gitlab_model_registry.models import (
    ModelVersion,
    RegisteredModel,
    RemoteFile,
    RunData,
    UploadFile,
)
from gitlab_model_registry.retry import Notify, RetryPolicy

__all__ = ["SEMVER_TAG", "MlflowBackend", "semver_alias", "sha256_tag_key"]


class MlflowBackend:
    """The Backend protocol over ``MlflowClient``."""

    kind = "mlflow"

    def __init__(
        self,
        tracking_uri: str,
        *,
        artifact_root: str | None = None,
        connection: Connection | None = None,
        notify: Notify | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        """``artifact_root``: where artifacts of experiments this backend creates are stored
        (a local directory or URI); None lets the tracking server or MLflow decide.
        ``connection``: credentials, TLS trust and timeout for an ``http(s)://`` server, sent
        explicitly with each request; ``notify`` receives one line per retry.

        Imports mlflow now (a missing extra is a usage error) but opens the registry on first
        use, so callers can quiet mlflow's loggers in between (it creates SQLite tables then).
        """
        try:
            import mlflow  # noqa: F401
        except ImportError as exc:
            raise UsageError(
                "MLflow registries need the mlflow extra",
                hint="pip install 'gitlab-model-registry[mlflow]'",
            ) from exc
        self.tracking_uri = tracking_uri
        self.artifact_root = artifact_root
        self._opened: Any = None
        self._opening = threading.Lock()
        self._runs = Runs(lambda: self._client, artifact_root)
        http = tracking_uri.startswith(("http://", "https://"))
        self._ui_base = scrub(tracking_uri, mask="").rstrip("/") if http else ""
        connection = connection or Connection()
        policy = policy or RetryPolicy()
        self._http = (
            HttpArtifacts.connect(tracking_uri, connection, policy, notify) if http else None
        )
        self._files = RunFiles(lambda: self._client, self._http)

    def _absent(self) -> bool:
        """A local registry whose file does not exist yet: reads find nothing and create
        nothing (``--dry-run``, ``next-version`` and ``versions`` write no ``mlruns.db``)."""
        database = local_database(self.tracking_uri)
        return self._opened is None and database is not None and not database.exists()

    @property
    def _client(self) -> Any:
        with self._opening:  # the first use may come from upload threads
            if self._opened is None:
                from mlflow import MlflowClient

                database = local_database(self.tracking_uri)
                if database is not None:
                    check_writable_database(database)

                with mlflow_errors(f"opening {self.describe()}"):
                    self._opened = (
                        self._http.client()
                        if self._http is not None
                        else MlflowClient(self.tracking_uri, registry_uri=self.tracking_uri)
                    )
            return self._opened

    def describe(self) -> str:
        return f"MLflow registry at {scrub(self.tracking_uri)}"

    # -- models --------------------------------------------------------------------------

    def get_model(self, name: str) -> RegisteredModel | None:
        if self._absent():
            return None
        try:
            with mlflow_errors(f"looking up model {name!r}"):
                found = self._client.get_registered_model(name)
        except NotFoundError:
            return None
        return shapes.to_model(found, self._ui_base)

    def create_model(self, name: str, description: str) -> RegisteredModel:
        try:
            with mlflow_errors(f"creating model {name!r}"):
                created = self._client.create_registered_model(name, description=description)
        except AlreadyExistsError:
            with mlflow_errors(f"looking up model {name!r}"):
                created = self._client.get_registered_model(name)
        return shapes.to_model(created, self._ui_base)

    # -- versions ------------------------------------------------------------------------

    def list_versions(self, model: str) -> list[ModelVersion]:
        if self._absent():
            return []
        found = (
            shapes.to_version(mv, self._ui_base)
            for mv in versions.search_versions(self._client, model)
        )
        return [mv for mv in found if mv is not None]

    def get_version(self, model: str, version: str) -> ModelVersion | None:
        if self._absent():
            return None
        try:
            with mlflow_errors(f"looking up model {model!r}"):
                aliases = dict(self._client.get_registered_model(model).aliases or {})
        except NotFoundError:
            return None
        number = aliases.get(semver_alias(version))
        if number is not None:
            try:
                with mlflow_errors(f"looking up version {version} of {model!r}"):
                    found = self._client.get_model_version(model, str(number))
                    mv = shapes.to_version(found, self._ui_base)
            except NotFoundError:
                mv = None
            if mv is not None and mv.version == version:
                return mv
        # No alias (yet, or set by hand elsewhere): fall back to the tags.
        return next((mv for mv in self.list_versions(model) if mv.version == version), None)

    def create_version(
        self, model: str, version: str, description: str, tags: dict[str, str]
    ) -> ModelVersion:
        if self.get_version(model, version) is not None:
            raise VersionTakenError(f"version {version} of model {model!r} already exists")
        created = versions.create_version(
            self._client, self._runs, model, version, description, tags
        )
        mv = shapes.to_version(created, self._ui_base)
        assert mv is not None  # it carries SEMVER_TAG
        return mv

    # -- files ---------------------------------------------------------------------------

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
        # MLflow's client logs artifacts from local files only.
        return copy_via_disk(
            source, self, src, dst, files, concurrency=concurrency, progress=progress
        )

    def package_url(self, mv: ModelVersion) -> str:
        """The run's artifacts page on a tracking server; elsewhere the artifact location."""
        if not self._ui_base:
            return mv.package_url
        with mlflow_errors(f"looking up run {mv.run_id}"):
            experiment_id = self._client.get_run(mv.run_id).info.experiment_id
        return f"{self._ui_base}/#/experiments/{experiment_id}/runs/{mv.run_id}/artifacts"

    # -- run data ------------------------------------------------------------------------

    def log_run_data(self, run_id: str, data: RunData) -> None:
        run_data.log_run_data(self._client, run_id, data)

    def get_run_data(self, run_id: str, *, everything: bool = False) -> RunData:
        """``everything``: also MLflow's own ``mlflow.*`` tags and gmr's per-file sha256 tags."""
        return run_data.get_run_data(self._client, run_id, everything=everything)

    def run_status(self, run_id: str) -> str:
        return run_data.run_status(self._client, run_id)

    def finish_version(self, mv: ModelVersion) -> None:
        run_data.finish_version(self._client, mv)

    # -- retention (gmr prune only) -------------------------------------------------------

    def delete_version(self, mv: ModelVersion) -> None:
        versions.delete_with_run(self._client, self._files, mv)

    def environments(self) -> EnvironmentLedger:
        from gitlab_model_registry.backends._mlflow_environments import MlflowEnvironments

        return MlflowEnvironments(lambda: self._client, self)


if TYPE_CHECKING:  # mypy proves the class satisfies the protocol

    def _conforms(backend: MlflowBackend) -> Backend:
        return backend
