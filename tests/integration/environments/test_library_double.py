"""The environments library API (``gitlab_model_registry.environments``) against the GitLab
double: deployments through the API off CI, and tied to the job's own deployment in a job with
``environment:`` (GitLab's side played by ``POST /-/double/deployments``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from gitlab_model_registry import (
    Flags,
    PublishRequest,
    Settings,
    environments,
    open_registry,
    publish,
    reading,
)
from gitlab_model_registry.backends import Backend
from gitlab_model_registry.errors import AuthError, UsageError
from gitlab_model_registry.models import CiContext
from tests.gitlab_double.environments_api import MAIN_SHA
from tests.gitlab_double.pytest_plugin import Double

MODEL = "churn"


@pytest.fixture
def registry(double: Double, tmp_path: Path) -> Backend:
    flags = Flags(gitlab_url=double.url, project=double.project_path, token=double.developer_token)
    # The job's own project (its deployments are there); the job itself is given per call.
    own = {
        "CI_API_V4_URL": double.api_url,
        "CI_PROJECT_ID": str(double.project_id),
        "CI_PROJECT_PATH": double.project_path,
    }
    settings = Settings.resolve(flags, environ=own, cwd=tmp_path)
    backend = open_registry(settings)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "w.bin").write_bytes(b"w")
    ci = CiContext(commit_sha="0123456789abcdef0123456789abcdef01234567", ref_name="main")
    for version, accuracy in (("1.0.0", 0.90), ("1.1.0", 0.93)):
        request = PublishRequest(
            model=MODEL,
            paths=[str(tmp_path / "model")],
            version=version,
            metrics={"accuracy": accuracy},
        )
        publish(backend, request, ci)
    return backend


def _versions(found: list[environments.Deployment]) -> list[str]:
    return [d.version for d in found]


def _job(job_id: str, environment: str = "production") -> CiContext:
    return CiContext(
        job_id=job_id,
        job_url=f"https://gitlab.example/group/project/-/jobs/{job_id}",
        environment_name=environment,
        commit_sha="0123456789abcdef0123456789abcdef01234567",
        ref_name="main",
    )


def test_deploy_history_and_rollback_off_ci(registry: Backend, double: Double) -> None:
    assert environments.current_version(registry, MODEL, "production") is None
    v1 = registry.get_version(MODEL, "1.0.0")
    v2 = registry.get_version(MODEL, "1.1.0")
    assert v1 is not None and v2 is not None

    first = environments.deploy(registry, v1, "production", CiContext())
    environments.deploy(registry, v2, "production", CiContext())

    current = environments.current_version(registry, MODEL, "production")
    assert current is not None and current.version == "1.1.0"
    assert first.status == "success" and first.user == "developer-user" and first.id
    assert _versions(environments.history(registry, MODEL, "production")) == ["1.1.0", "1.0.0"]
    # GitLab's Environments page links to the version in the environment.
    listed = requests.get(
        f"{double.api_url}/projects/{double.project_id}/environments",
        headers={"PRIVATE-TOKEN": double.developer_token},
        timeout=10,
    ).json()
    assert [(e["name"], e["tier"], e["external_url"]) for e in listed] == [
        ("production", "production", v2.web_url)
    ]

    rolled = environments.rollback(registry, MODEL, "production", CiContext())

    assert (rolled.previous, rolled.target.version) == ("1.1.0", "1.0.0")
    current = environments.current_version(registry, MODEL, "production")
    assert current is not None and current.version == "1.0.0"
    assert _versions(environments.history(registry, MODEL)) == ["1.0.0", "1.1.0", "1.0.0"]


def test_a_job_with_environment_is_tied_to_its_own_deployment(
    registry: Backend, double: Double
) -> None:
    v1, v2 = registry.get_version(MODEL, "1.0.0"), registry.get_version(MODEL, "1.1.0")
    assert v1 is not None and v2 is not None
    double.control.job_deployment("production", 2001, "running")
    environments.deploy(registry, v1, "production", _job("2001"))
    # While the job runs, its deployment is not the environment's last successful one.
    assert environments.current_version(registry, MODEL, "production") is None
    double.control.job_deployment("production", 2001, "success")
    current = environments.current_version(registry, MODEL, "production")
    assert current is not None and current.version == "1.0.0"

    double.control.job_deployment("production", 2002, "running")
    environments.deploy(registry, v2, "production", _job("2002"))
    double.control.job_deployment("production", 2002, "success")
    # An application's deploy job to the same environment, tied to no version: passed over.
    double.control.job_deployment("production", 2003, "success")
    current = environments.current_version(registry, MODEL, "production")
    assert current is not None and current.version == "1.1.0"

    # GitLab's "Rollback environment" re-runs job 2001's script as a new job.
    double.control.job_deployment("production", 2004, "running")
    environments.deploy(registry, v1, "production", _job("2004"))
    double.control.job_deployment("production", 2004, "success")
    current = environments.current_version(registry, MODEL, "production")
    assert current is not None and current.version == "1.0.0"
    past = environments.history(registry, MODEL, "production")
    assert _versions(past) == ["1.0.0", "1.1.0", "1.0.0"]
    assert past[0].job_url.endswith("/-/jobs/2004") and past[0].status == "success"


def test_a_failed_job_deployment_does_not_count(registry: Backend, double: Double) -> None:
    v1 = registry.get_version(MODEL, "1.0.0")
    assert v1 is not None
    double.control.job_deployment("staging", 3001, "running")
    environments.deploy(registry, v1, "staging", _job("3001", "staging"))
    double.control.job_deployment("staging", 3001, "failed")
    assert environments.current_version(registry, MODEL, "staging") is None
    assert [d.status for d in environments.history(registry, MODEL, "staging")] == ["failed"]
    with pytest.raises(UsageError, match="nothing to roll back"):
        environments.rollback(registry, MODEL, "staging", CiContext())


def test_a_reporter_cannot_deploy_and_is_told_which_role_can(
    registry: Backend, double: Double, tmp_path: Path
) -> None:
    flags = Flags(gitlab_url=double.url, project=double.project_path, token=double.reporter_token)
    reporter = open_registry(Settings.resolve(flags, environ={}, cwd=tmp_path))
    v1 = reporter.get_version(MODEL, "1.0.0")
    assert v1 is not None
    with pytest.raises(AuthError, match=r"403") as refused:
        environments.deploy(reporter, v1, "production", CiContext())
    assert refused.value.exit_code == 4 and "Developer" in refused.value.hint
    assert environments.current_version(reporter, MODEL, "production") is None  # reads are fine


def test_a_version_published_off_ci_deploys_on_the_default_branch(
    registry: Backend, double: Double, tmp_path: Path
) -> None:
    request = PublishRequest(model="laptop", paths=[str(tmp_path / "model")], version="0.1.0")
    mv = publish(registry, request, CiContext()).model_version
    assert mv is not None

    deployment = environments.deploy(registry, mv, "development", CiContext())

    listed = requests.get(
        f"{double.api_url}/projects/{double.project_id}/deployments/{deployment.id}",
        headers={"PRIVATE-TOKEN": double.developer_token},
        timeout=10,
    ).json()
    assert (listed["ref"], listed["sha"], listed["status"]) == ("main", MAIN_SHA, "success")


def test_history_names_the_job_pipeline_and_user(registry: Backend, double: Double) -> None:
    v1 = registry.get_version(MODEL, "1.0.0")
    assert v1 is not None
    double.control.add_job("7001", "glcbt-64_job-7001", "developer")
    double.control.job_deployment("production", 7001, "running")
    environments.deploy(registry, v1, "production", _job("7001"))
    double.control.job_deployment("production", 7001, "success")

    (past,) = environments.history(registry, MODEL)

    assert past.job_url == f"{double.url}/{double.project_path}/-/jobs/7001"
    assert past.pipeline_url.startswith(f"{double.url}/{double.project_path}/-/pipelines/")
    assert past.user == "job-7001-user" and past.status == "success"


def test_with_environments_switched_off_versions_lists_without_marks(
    registry: Backend, double: Double
) -> None:
    double.control.set_features(environments=False)

    assert {v.version for v in reading.versions(registry, MODEL)} == {"1.0.0", "1.1.0"}
    assert reading.placements(registry, MODEL) == {}
    v1 = registry.get_version(MODEL, "1.0.0")
    assert v1 is not None
    with pytest.raises(AuthError):
        environments.deploy(registry, v1, "production", CiContext())
