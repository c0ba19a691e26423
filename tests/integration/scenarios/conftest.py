"""The ``registry`` fixture (GitLab double, mlflow server, embedded SQLite) and a `gmr` runner."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.gitlab_double import releases
from tests.integration.publish.conftest import GMR_TIMEOUT, Run
from tests.integration.publish.conftest import model_dir as model_dir  # the same small tree
from tests.integration.scenarios.registries import (
    EmbeddedRegistry,
    GitLabRegistry,
    MlflowServerRegistry,
    Registry,
)

#: The GitLab double in each distinct response shape of the supported releases, oldest first
#: (tests/gitlab_double/releases.py), the newest as plain "gitlab".
GITLAB_SHAPES = {f"gitlab-{release}": release for release in releases.SHAPES[:-1]}
REGISTRY_KINDS = ["gitlab", *GITLAB_SHAPES, "mlflow-server", "sqlite"]


@pytest.fixture(params=REGISTRY_KINDS)
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Registry:
    """Each registry in turn, with a fresh working directory for `gmr`."""
    cwd = tmp_path / "work"
    cwd.mkdir()
    if request.param == "gitlab" or request.param in GITLAB_SHAPES:
        double = request.getfixturevalue("double")
        double.control.set_release(GITLAB_SHAPES.get(request.param, releases.CURRENT))
        return GitLabRegistry(double, cwd)
    if request.param == "mlflow-server":
        url = request.getfixturevalue("mlflow_server")
        return MlflowServerRegistry(url, cwd, request.getfixturevalue("mlflow_server_root"))
    return EmbeddedRegistry(cwd, request.getfixturevalue("empty_mlflow_database"))


@pytest.fixture(scope="session")
def empty_mlflow_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An embedded registry's ``mlruns.db`` with MLflow's tables created, made once."""
    from mlflow import MlflowClient

    database = tmp_path_factory.mktemp("empty-registry") / "mlruns.db"
    MlflowClient(f"sqlite:///{database}").search_experiments()
    return database


@pytest.fixture
def model(request: pytest.FixtureRequest, registry: Registry) -> str:
    """A model name: a unique one on the session's shared mlflow server."""
    if registry.kind == "mlflow-server":
        return str(request.getfixturevalue("unique_model"))
    return "iris"


class Gmr:
    """Runs `python -m gitlab_model_registry` in the registry's working directory."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Run:
        proc = subprocess.run(
            [sys.executable, "-m", "gitlab_model_registry", *args],
            cwd=self.registry.cwd,
            env=self.registry.env(**(env or {})),
            capture_output=True,
            text=True,
            timeout=GMR_TIMEOUT,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def gmr(registry: Registry) -> Gmr:
    return Gmr(registry)
