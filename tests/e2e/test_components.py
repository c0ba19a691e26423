"""The example pipelines and the project's own pipeline, run by gitlab-ci-local against the
GitLab double; each test checks what the registry holds afterwards."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import (
    COMMAND_TIMEOUT_S,
    COMPONENT_DIR,
    ROOT,
    SAMPLE_FILES,
    PipelineRun,
    ProjectFactory,
    example_pipeline,
)
from tests.gitlab_double.pytest_plugin import Double

INJECTION = 'x"; touch pwned; echo "'
MODEL_FILES = ("README.md", "config.json", "weights/coefficients.bin")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stored_files(version: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["sha256"] for f in version["files"]}


def sample_files(directory: Path, names: tuple[str, ...]) -> dict[str, str]:
    return {name: sha256(directory / name) for name in names}


def published(double: Double, model: str, semver: str) -> dict[str, Any]:
    version = double.control.version(model, semver)
    assert version is not None, f"no {model} {semver} in {json.dumps(double.control.state())}"
    return version


def versions_of(double: Double, model: str) -> list[str]:
    found = double.control.model(model)
    return sorted(v["version"] for v in found["versions"]) if found else []


def assert_succeeded(run: PipelineRun, double: Double) -> None:
    assert run.returncode == 0, run.output
    logged = run.everything_logged()
    for secret in (double.developer_token, double.job_token):
        assert secret not in logged, "a token value was written to the job log"


def train_locally(directory: Path) -> Path:
    """What the example's train job produces (train.py is deterministic)."""
    directory.mkdir()
    shutil.copy(COMPONENT_DIR / "params.yaml", directory)
    subprocess.run(
        [sys.executable, str(COMPONENT_DIR / "train.py")],
        cwd=directory,
        check=True,
        timeout=COMMAND_TIMEOUT_S,
    )
    return directory


def test_minimal_example_publishes_the_committed_model(
    make_project: ProjectFactory, double: Double
) -> None:
    project = make_project(example_pipeline("minimal.gitlab-ci.yml"))
    run = project.run()
    assert_succeeded(run, double)
    version = published(double, "churn-classifier", "1.0.0")
    assert stored_files(version) == sample_files(COMPONENT_DIR / "model", MODEL_FILES)
    assert version["ci_job_id"] == double.job_id
    dotenv = run.dotenv("publish-model")
    assert (dotenv["MODEL_NAME"], dotenv["MODEL_VERSION"]) == ("churn-classifier", "1.0.0")
    assert dotenv["MODEL_RUN_ID"] == version["run_id"]


def test_train_publish_deploy_example_hands_artifacts_and_dotenv_on(
    make_project: ProjectFactory, double: Double, tmp_path: Path
) -> None:
    # No model files in the repository: the publish job only has what train handed on.
    pipeline = example_pipeline("train-publish-deploy.gitlab-ci.yml")
    project = make_project(pipeline, without=("model", "metrics.json"))
    run = project.run()
    assert_succeeded(run, double)
    trained = train_locally(tmp_path / "trained")
    version = published(double, "churn-classifier", "1.0.0")
    expected = sample_files(trained / "model", ("config.json", "weights/coefficients.bin"))
    assert stored_files(version) == {**expected, "metrics.json": sha256(trained / "metrics.json")}
    params = yaml.safe_load((trained / "params.yaml").read_text())
    assert version["run"]["params"] == {key: str(value) for key, value in params.items()}
    metrics = json.loads((trained / "metrics.json").read_text())
    assert version["run"]["metrics"] == pytest.approx(metrics)
    assert version["description"] == "Logistic regression on the churn features"
    assert version["ci_job_id"] == double.job_id
    dotenv = run.dotenv("publish-model")
    assert dotenv["MODEL_VERSION"] == "1.0.0"
    deployed = f"Deploying churn-classifier 1.0.0 from {dotenv['MODEL_PACKAGE_URL']}"
    assert deployed in run.job_log("deploy").splitlines()


def test_two_models_bump_their_own_way_and_a_tag_publishes_its_version(
    make_project: ProjectFactory, double: Double
) -> None:
    project = make_project(example_pipeline("two-models.gitlab-ci.yml"))
    for classifier, tokenizer in (("1.0.0", "1.0.0"), ("1.1.0", "2.0.0")):
        run = project.run()
        assert_succeeded(run, double)
        assert run.dotenv("publish-classifier")["MODEL_VERSION"] == classifier
        assert run.dotenv("publish-tokenizer")["MODEL_VERSION"] == tokenizer

    project.git("tag", "v3.0.0")
    tag_pipeline = {"CI_COMMIT_TAG": "v3.0.0", "CI_COMMIT_REF_NAME": "v3.0.0"}
    run = project.run(variables=tag_pipeline, unset=("CI_COMMIT_BRANCH",))
    assert_succeeded(run, double)
    assert versions_of(double, "churn-classifier") == ["1.0.0", "1.1.0", "3.0.0"]
    assert versions_of(double, "churn-tokenizer") == ["1.0.0", "2.0.0", "3.0.0"]
    tokenizer = published(double, "churn-tokenizer", "3.0.0")
    names = ("tokenizer.json", "vocab.txt")
    assert stored_files(tokenizer) == sample_files(COMPONENT_DIR / "tokenizer", names)
    classifier = published(double, "churn-classifier", "3.0.0")
    metrics = json.loads((COMPONENT_DIR / "metrics.json").read_text())
    assert classifier["run"]["metrics"] == pytest.approx(metrics)


def test_a_merge_request_pipeline_publishes_a_prerelease(
    make_project: ProjectFactory, double: Double
) -> None:
    project = make_project(example_pipeline("minimal.gitlab-ci.yml"))
    assert_succeeded(project.run(), double)
    merge_request = {
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_IID": "7",
        "CI_PIPELINE_IID": "42",
    }
    run = project.run(variables=merge_request, unset=("CI_COMMIT_BRANCH",))
    assert_succeeded(run, double)
    assert versions_of(double, "churn-classifier") == ["1.0.0", "1.0.1-mr.7.42"]


def test_an_input_is_data_never_shell_code(
    make_project: ProjectFactory, double: Double, tmp_path: Path
) -> None:
    project = make_project(example_pipeline("minimal.gitlab-ci.yml", {"description": INJECTION}))
    run = project.run()
    assert_succeeded(run, double)
    assert published(double, "churn-classifier", "1.0.0")["description"] == INJECTION
    assert list(tmp_path.rglob("pwned")) == []


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (
            {"bump": "huge"},
            "`bump` input: `huge` cannot be used because it is not in the list of allowed options",
        ),
        ({"model": None}, "`model` input: required value has not been provided"),
        ({"version": "latest"}, "`version` input: `latest` does not match required regex"),
        ({"version": "v1.4.0"}, "`version` input: `v1.4.0` does not match required regex"),
    ],
    ids=["bump-outside-options", "model-missing", "version-not-semver", "version-v-prefix"],
)
def test_a_bad_input_fails_the_pipeline_with_gitlabs_message(
    make_project: ProjectFactory, double: Double, inputs: dict[str, Any], message: str
) -> None:
    project = make_project(example_pipeline("minimal.gitlab-ci.yml", inputs))
    run = project.run()
    assert run.returncode != 0
    assert message in run.output
    assert double.control.requests() == [], "no job may run when the inputs are refused"


def test_project_pipeline_runs_its_component_self_test(
    make_project: ProjectFactory, double: Double
) -> None:
    """The project's own .gitlab-ci.yml: the self-test jobs run (the image build is the image
    tier's business), and the release job exists for semantic-version tags only."""
    pipeline = (ROOT / ".gitlab-ci.yml").read_text()
    project = make_project(pipeline, without=SAMPLE_FILES, extra=("component",))
    run = project.run("component-self-test", "component-self-test-result")
    assert_succeeded(run, double)
    version = published(double, "gmr-component-self-test", "1.0.0")
    expected = sample_files(COMPONENT_DIR / "model", MODEL_FILES)
    assert stored_files(version) == {**expected, **sample_files(COMPONENT_DIR, ("metrics.json",))}
    assert "component-self-test published gmr-component-self-test 1.0.0" in run.job_log(
        "component-self-test-result"
    )
    assert "release" not in _job_names(project.run("--list-csv"))
    tag_run = project.run("--list-csv", variables={"CI_COMMIT_TAG": "1.2.3"})
    assert "release" in _job_names(tag_run)


def _job_names(run: PipelineRun) -> set[str]:
    """Jobs of a `--list-csv` run (jobs whose rules say `when: never` are left out)."""
    assert run.returncode == 0, run.output
    header, *rows = csv.reader(run.stdout.splitlines(), delimiter=";")
    assert header[0] == "name", run.stdout
    return {row[0] for row in rows}
