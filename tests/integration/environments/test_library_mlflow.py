"""The environments library API on an MLflow registry (embedded SQLite): aliases hold the
current version, version tags the history (both visible in MLflow's UI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitlab_model_registry import (
    Flags,
    PromoteRequest,
    PublishRequest,
    Settings,
    environments,
    open_registry,
    promote,
    publish,
)
from gitlab_model_registry.backends import Backend
from gitlab_model_registry.errors import UsageError
from gitlab_model_registry.models import CiContext

MODEL = "churn"


@pytest.fixture
def registry(tmp_path: Path) -> Backend:
    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"
    settings = Settings.resolve(Flags(tracking_uri=uri), environ={}, cwd=tmp_path)
    backend = open_registry(settings)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "w.bin").write_bytes(b"w")
    for version in ("1.0.0", "1.1.0"):
        request = PublishRequest(model=MODEL, paths=[str(tmp_path / "model")], version=version)
        publish(backend, request, CiContext())
    return backend


def test_deploy_history_and_rollback(registry: Backend, tmp_path: Path) -> None:
    from mlflow import MlflowClient

    v1, v2 = registry.get_version(MODEL, "1.0.0"), registry.get_version(MODEL, "1.1.0")
    assert v1 is not None and v2 is not None
    assert environments.current_version(registry, MODEL, "production") is None
    job = CiContext(job_id="7", job_url="https://gitlab.example/g/p/-/jobs/7", user_login="ana")

    environments.deploy(registry, v1, "production", job)
    environments.deploy(registry, v2, "production", CiContext())
    rolled = environments.rollback(registry, MODEL, "production", CiContext())

    assert (rolled.previous, rolled.target.version) == ("1.1.0", "1.0.0")
    current = environments.current_version(registry, MODEL, "production")
    assert current is not None and current.version == "1.0.0"
    past = environments.history(registry, MODEL, "production")
    assert [d.version for d in past] == ["1.0.0", "1.1.0", "1.0.0"]
    assert (past[-1].user, past[-1].job_url) == ("ana", job.job_url)
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlruns.db'}")
    assert str(client.get_registered_model(MODEL).aliases["production"]) == v1.version_id
    tags = client.get_model_version(MODEL, v1.version_id).tags
    records = [json.loads(v) for k, v in tags.items() if k.startswith("gmr.deployment.")]
    assert sorted(r["environment"] for r in records) == ["production", "production"]


def test_an_environment_must_be_a_valid_alias(registry: Backend) -> None:
    with pytest.raises(UsageError, match="cannot be an MLflow alias"):
        environments.current_version(registry, MODEL, "v1")


def test_a_name_mlflow_cannot_alias_is_refused_before_anything_is_written(
    registry: Backend,
) -> None:
    request = PromoteRequest(model=MODEL, version="1.0.0", to_version="2.0.0", environment="qa/eu")
    with pytest.raises(UsageError, match="cannot be an MLflow alias"):
        promote(registry, registry, request, CiContext(), source_ref="here")
    assert registry.get_version(MODEL, "2.0.0") is None
