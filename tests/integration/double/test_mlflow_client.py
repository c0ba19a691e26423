"""The real MLflow client runs GitLab's documented model-registry flow against the double.

A client we did not write agreeing with the double is the best evidence that the double is GitLab-like
(reference §1, §2 "MLflow mapping", §11; docs: user/project/ml/experiment_tracking/mlflow_client.md).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from tests.gitlab_double.seed import DEVELOPER_TOKEN, JOB_ID

from .helpers import call, packages_url

mlflow = pytest.importorskip("mlflow", reason="mlflow-skinny is not installed")

MODEL = "fraud-detector"
SEMVER = "1.2.0"
WEIGHTS = bytes(range(256)) * 64 + b"\x00 the end"


@pytest.fixture
def client(double: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """An MlflowClient configured the way GitLab's docs say: two environment variables."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", double.tracking_uri())
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", DEVELOPER_TOKEN)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # no retry may hide an error
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    return mlflow.MlflowClient()


def _package_files(base: str) -> dict[str, str]:
    packages = call("GET", packages_url(base), params={"package_name": MODEL}).json()
    [package] = [p for p in packages if (p["name"], p["version"]) == (MODEL, SEMVER)]
    files = call("GET", packages_url(base, f"/{package['id']}/package_files")).json()
    return {f["file_name"]: f["file_sha256"] for f in files}


def test_model_registry_flow_of_gitlabs_docs(double: Any, client: Any, tmp_path: Path) -> None:
    created = client.create_registered_model(MODEL, description="detects fraud")
    assert created.name == MODEL
    assert client.get_registered_model(MODEL).description == "detects fraud"

    made = client.create_model_version(MODEL, "any-source", tags={"gitlab.version": SEMVER})
    assert made.aliases == [SEMVER] and made.version.isdigit()
    version = client.get_model_version(MODEL, SEMVER)
    assert (version.version, version.run_id) == (made.version, made.run_id)
    assert version.tags["gitlab.version"] == SEMVER

    client.log_param(version.run_id, "learning_rate", "0.01")
    client.log_metric(version.run_id, "auc", 0.93)
    client.set_tag(version.run_id, "gitlab.CI_JOB_ID", JOB_ID)
    run = client.get_run(version.run_id)
    assert run.data.params == {"learning_rate": "0.01"}
    assert run.data.metrics == {"auc": 0.93}
    assert run.data.tags["gitlab.CI_JOB_ID"] == JOB_ID

    weights = tmp_path / "model.bin"
    weights.write_bytes(WEIGHTS)
    config = tmp_path / "params.json"
    config.write_bytes(b'{"depth": 3}')
    # The HTTP artifact repository PUTs <artifact_uri><artifact_path>/<file>, with the token as Bearer.
    client.log_artifact(version.run_id, str(weights))
    client.log_artifact(version.run_id, str(config), "config")
    digest = hashlib.sha256(WEIGHTS).hexdigest()
    assert _package_files(double.url) == {
        "model.bin": digest,
        "config%2Fparams.json": hashlib.sha256(b'{"depth": 3}').hexdigest(),
    }
    state = double.control.version(MODEL, SEMVER)
    assert state["ci_job_id"] == JOB_ID
    assert state["run"]["params"] == {"learning_rate": "0.01"}
    assert ("model.bin", len(WEIGHTS), digest) in [
        (f["name"], f["size"], f["sha256"]) for f in state["files"]
    ]

    assert client.get_model_version_download_uri(MODEL, version.version) == (
        f"mlflow-artifacts:/{version.version}"
    )
    # download_artifacts(run_id, ...) cannot work against GitLab: the run's artifact_uri is the
    # ml_models URL, which MLflow's HTTP repository cannot list. The model URI resolves through
    # get-download-uri and the mlflow-artifacts routes instead.
    local = mlflow.artifacts.download_artifacts(
        artifact_uri=f"models:/{MODEL}/{version.version}/model.bin", dst_path=str(tmp_path / "out")
    )
    assert Path(local).read_bytes() == WEIGHTS
