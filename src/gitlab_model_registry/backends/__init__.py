"""The registry operations the use cases need, one implementation per registry.

Backends know URLs and wire formats and decide nothing: choosing versions, validating input,
retrying races and rendering output belong to ``api`` and above.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

__all__ = ["Backend", "EnvironmentLedger", "ProgressCallback"]

from gitlab_model_registry.models import (
    CiContext,
    Deployment,
    ModelVersion,
    RegisteredModel,
    RemoteFile,
    RunData,
    UploadFile,
)
from gitlab_model_registry.observer import ProgressCallback


class EnvironmentLedger(Protocol):
    """Which version of a model each environment holds, and since when: GitLab's deployments
    (``backends._gitlab_environments``) or MLflow's registered-model aliases
    (``backends._mlflow_environments``)."""

    def check_name(self, environment: str) -> None:
        """Raise ``UsageError`` for a name this registry cannot hold, before any request."""
        ...

    def current(self, model: str, environment: str) -> str | None:
        """The semver the environment holds now (the registry's own notion), or None."""
        ...

    def history(self, model: str, environment: str | None) -> list[Deployment]:
        """Every deployment of a version of ``model`` (to ``environment``, or to any), newest first."""
        ...

    def record(self, mv: ModelVersion, environment: str, ci: CiContext) -> Deployment:
        """Make ``mv`` the version in ``environment``; return the deployment that says so."""
        ...


class Backend(Protocol):
    """A model registry: GitLab's (``backends.gitlab``) or any MLflow one (``backends.mlflow``)."""

    #: Short name shown to users: "gitlab" or "mlflow".
    kind: str

    def describe(self) -> str:
        """Where this backend publishes, for logs (never contains a secret)."""
        ...

    def get_model(self, name: str) -> RegisteredModel | None:
        """The model named exactly ``name`` (not a substring match), or None."""
        ...

    def create_model(self, name: str, description: str) -> RegisteredModel:
        """Create the model; if a concurrent creator won the race, return the existing one."""
        ...

    def list_versions(self, model: str) -> list[ModelVersion]:
        """Every version of the model, in no particular order (empty if the model is missing)."""
        ...

    def get_version(self, model: str, version: str) -> ModelVersion | None:
        """The version with this semver, or None."""
        ...

    def create_version(
        self, model: str, version: str, description: str, tags: dict[str, str]
    ) -> ModelVersion:
        """Create a version with this semver and its run; raise ``VersionTakenError`` if it exists."""
        ...

    def list_files(self, mv: ModelVersion) -> list[RemoteFile]:
        """Files stored in the version (newest record per name), with sizes and sha256 if known."""
        ...

    def upload(
        self,
        mv: ModelVersion,
        files: Sequence[UploadFile],
        *,
        concurrency: int,
        progress: ProgressCallback | None = None,
    ) -> list[RemoteFile]:
        """Upload files (streaming, in parallel) and return them as stored, sha256 verified."""
        ...

    def download(
        self,
        mv: ModelVersion,
        files: Sequence[RemoteFile],
        dest: Path,
        *,
        concurrency: int,
        progress: ProgressCallback | None = None,
    ) -> None:
        """Download files into ``dest`` (tree restored), each verified against its sha256."""
        ...

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
        """Copy files of ``src`` (in ``source``) into ``dst`` here, each sha256 verified."""
        ...

    def package_url(self, mv: ModelVersion) -> str:
        """Web URL of the version's files (GitLab: its package page), or "" if none."""
        ...

    def log_run_data(self, run_id: str, data: RunData) -> None:
        """Log params, metrics and tags on the run (idempotent for params and tags)."""
        ...

    def get_run_data(self, run_id: str) -> RunData:
        """Params, latest metric values and tags of the run."""
        ...

    def run_status(self, run_id: str) -> str:
        """The run's status as the registry reports it: RUNNING, FINISHED, FAILED, KILLED…"""
        ...

    def finish_version(self, mv: ModelVersion) -> None:
        """Mark the version complete: finish its run (status FINISHED, end time now)."""
        ...

    def delete_version(self, mv: ModelVersion) -> None:
        """Delete the version with its files and run (``gmr prune`` only: no other command
        deletes anything). Raise if the version is still there afterwards."""

    def environments(self) -> EnvironmentLedger:
        """The environments of this registry's models."""
        ...
