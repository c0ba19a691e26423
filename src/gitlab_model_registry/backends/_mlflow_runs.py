"""The runs behind MLflow model versions, and the per-model experiments that hold them."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitlab_model_registry.backends._mlflow_support import AlreadyExistsError, mlflow_errors
from gitlab_model_registry.errors import RegistryError

EXPERIMENT_PREFIX = "gmr/"


class Runs:
    """Creates a version's run in experiment ``gmr/<model>`` (made on first use) and removes it."""

    def __init__(self, client: Callable[[], Any], artifact_root: str | None) -> None:
        self._client = client
        self._artifact_root = artifact_root
        self._ids: dict[str, str] = {}

    def create_run(self, model: str, version: str, tags: dict[str, str]) -> tuple[str, str]:
        """The version's run: its id and artifact URI (the version's ``source``)."""
        experiment_id = self._experiment_id(model)
        with mlflow_errors(f"creating the run of version {version} of {model!r}"):
            run = self._client().create_run(experiment_id, run_name=f"{model} {version}", tags=tags)
        return str(run.info.run_id), str(run.info.artifact_uri)

    def _experiment_id(self, model: str) -> str:
        name = EXPERIMENT_PREFIX + model
        if name not in self._ids:
            self._ids[name] = self._find_or_create_experiment(name, model)
        return self._ids[name]

    def _find_or_create_experiment(self, name: str, model: str) -> str:
        found = self._get_experiment(name)
        if found is None:
            try:
                with mlflow_errors(f"creating experiment {name!r}"):
                    return str(self._client().create_experiment(name, self._location(model)))
            except AlreadyExistsError:  # a concurrent publish created it
                found = self._get_experiment(name)
        if found.lifecycle_stage == "deleted":  # runs cannot be created in it otherwise
            with mlflow_errors(f"restoring experiment {name!r}"):
                self._client().restore_experiment(found.experiment_id)
        return str(found.experiment_id)

    def _get_experiment(self, name: str) -> Any:
        with mlflow_errors(f"looking up experiment {name!r}"):
            return self._client().get_experiment_by_name(name)

    def _location(self, model: str) -> str | None:
        """Artifact location of a new experiment: below ``artifact_root`` when one is given."""
        if self._artifact_root is None:
            return None
        folder = re.sub(r"[^\w.-]", "_", model)  # runs are in <run_id>/ below: no clash
        if "://" in self._artifact_root:
            return f"{self._artifact_root.rstrip('/')}/{folder}"
        return (Path(self._artifact_root) / folder).resolve().as_uri()

    def forget_run(self, run_id: str) -> None:
        """Best-effort clean-up of the run of a version that was not created."""
        try:
            with mlflow_errors(f"deleting run {run_id}"):
                self._client().delete_run(run_id)
        except RegistryError:
            pass
