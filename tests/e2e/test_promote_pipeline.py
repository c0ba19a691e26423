"""The rc → gate → release → deploy example, run by gitlab-ci-local against the GitLab double.

The promote job is `when: manual`: gitlab-ci-local runs it only when named with `--manual`, as
someone would start it in GitLab (without it, the deploy job that needs it would not run either).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import PipelineRun, ProjectFactory, UserProject, example_pipeline
from tests.e2e.test_components import (
    assert_succeeded,
    published,
    sha256,
    stored_files,
    train_locally,
    versions_of,
)
from tests.gitlab_double.pytest_plugin import Double

EXAMPLE = "rc-promote-deploy.gitlab-ci.yml"
MODEL = "churn-classifier"
PROMOTE_JOB = "promote-model"
# The example's train job hands these on; the repository holds no model files.
TRAINED = ("model", "metrics.json")


def rc_project(
    make_project: ProjectFactory, epochs: int | None = None, pipeline: str | None = None
) -> UserProject:
    """The example (or ``pipeline``) in a user's project; ``epochs`` retrains with another
    epoch count."""
    project = make_project(pipeline or example_pipeline(EXAMPLE), without=TRAINED)
    if epochs is not None:
        params = project.path / "params.yaml"
        params.write_text(params.read_text().replace("epochs: 20", f"epochs: {epochs}"))
        project.commit_all("Train for fewer epochs")
    return project


def promote_and_deploy(project: UserProject) -> PipelineRun:
    return project.run(manual=(PROMOTE_JOB,))


def files_under(directory: Path) -> dict[str, str]:
    return {
        p.relative_to(directory).as_posix(): sha256(p) for p in directory.rglob("*") if p.is_file()
    }


def promoted_from(double: Double, version: str) -> set[str]:
    """The `promoted-from` tag's accepted values: the source project by id (as CI_PROJECT_ID
    names it) or by path, then the model and version."""
    projects = (str(double.project_id), double.project_path)
    return {f"{project}/{MODEL}@{version}" for project in projects}


def run_data(version: dict[str, Any]) -> tuple[dict[str, str], dict[str, float]]:
    return version["run"]["params"], version["run"]["metrics"]


def test_release_candidate_is_gated_promoted_and_deployed(
    make_project: ProjectFactory, double: Double, tmp_path: Path
) -> None:
    project = rc_project(make_project)
    run = promote_and_deploy(project)
    assert_succeeded(run, double)
    assert versions_of(double, MODEL) == ["1.0.0", "1.0.0-rc.1"]

    candidate = published(double, MODEL, "1.0.0-rc.1")
    release = published(double, MODEL, "1.0.0")
    trained = train_locally(tmp_path / "trained")
    expected = {
        **files_under(trained / "model"),
        "metrics.json": sha256(trained / "metrics.json"),
    }
    assert stored_files(candidate) == expected
    assert stored_files(release) == expected
    params, metrics = run_data(release)
    assert params == run_data(candidate)[0] and params["epochs"] == "20"
    assert metrics == pytest.approx(run_data(candidate)[1])
    assert metrics == pytest.approx(yaml.safe_load((trained / "metrics.json").read_text()))
    assert release["tags"]["promoted-from"] in promoted_from(double, "1.0.0-rc.1")
    assert release["ci_job_id"] == double.job_id

    dotenv = run.dotenv(PROMOTE_JOB, "promoted.env")
    assert (dotenv["MODEL_NAME"], dotenv["MODEL_VERSION"]) == (MODEL, "1.0.0")
    assert dotenv["MODEL_VERSION_ID"] == str(release["id"])
    assert f"{PROMOTE_JOB} environment: {{ name: production }}" in run.output

    assert files_under(run.artifact("deploy", "deployed")) == expected
    assert f"Deployed {MODEL} 1.0.0" in run.job_log("deploy").splitlines()


def test_the_next_pipeline_promotes_the_next_candidate(
    make_project: ProjectFactory, double: Double
) -> None:
    project = rc_project(make_project)
    assert_succeeded(promote_and_deploy(project), double)
    run = promote_and_deploy(project)
    assert_succeeded(run, double)
    assert versions_of(double, MODEL) == ["1.0.0", "1.0.0-rc.1", "1.0.1", "1.0.1-rc.1"]
    release = published(double, MODEL, "1.0.1")
    assert release["tags"]["promoted-from"] in promoted_from(double, "1.0.1-rc.1")
    assert f"Deployed {MODEL} 1.0.1" in run.job_log("deploy").splitlines()


def test_a_failing_gate_promotes_nothing_and_nothing_is_deployed(
    make_project: ProjectFactory, double: Double
) -> None:
    # One epoch leaves log_loss near 0.39, above the example's gate log_loss<=0.2.
    project = rc_project(make_project, epochs=1)
    run = promote_and_deploy(project)
    assert run.returncode != 0, run.output
    assert versions_of(double, MODEL) == ["1.0.0-rc.1"], "the candidate only, no release"
    log_loss = run_data(published(double, MODEL, "1.0.0-rc.1"))[1]["log_loss"]
    assert log_loss > 0.2
    log = run.job_log(PROMOTE_JOB)
    assert f"log_loss<=0.2 (log_loss={log_loss:g})" in log, log
    # gitlab-ci-local's summary line ends with the job's exit code: 5, a refused gate.
    assert re.search(rf"^{PROMOTE_JOB} finished in .* FAIL 5\s*$", run.output, re.M), run.output
    assert not run.artifact(PROMOTE_JOB, "promoted.env").exists()
    assert not (run.state_dir / "output" / "deploy.log").exists(), "deploy ran after a refused gate"
    for secret in (double.developer_token, double.job_token):
        assert secret not in run.everything_logged()


def test_promotes_into_another_projects_registry(
    make_project: ProjectFactory, double: Double
) -> None:
    """The promote include with `to-project` (the deploy job, reading this project's registry,
    is left out): the release lands in the production project only."""
    document = yaml.safe_load(example_pipeline(EXAMPLE))
    (promote,) = [i for i in document["include"] if "/promote@" in i["component"]]
    promote["inputs"]["to-project"] = "group/production"
    del document["deploy"]
    project = rc_project(make_project, pipeline=yaml.safe_dump(document, sort_keys=False))
    run = promote_and_deploy(project)
    assert_succeeded(run, double)
    assert versions_of(double, MODEL) == ["1.0.0-rc.1"]
    release = double.control.version(MODEL, "1.0.0", project_id=2)
    assert release is not None, double.control.state()
    candidate = published(double, MODEL, "1.0.0-rc.1")
    assert stored_files(release) == stored_files(candidate)
    assert release["tags"]["promoted-from"] in promoted_from(double, "1.0.0-rc.1")
    assert run.dotenv(PROMOTE_JOB, "promoted.env")["MODEL_VERSION"] == "1.0.0"
