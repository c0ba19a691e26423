"""A merge-request pipeline through gitlab-ci-local: the publish component posts one report note
(updated by the next pipeline) and writes the metrics and annotations reports; a report that
cannot be posted leaves a warning and a successful job."""

from __future__ import annotations

import json

import requests
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from tests.e2e.conftest import ProjectFactory, example_pipeline
from tests.e2e.test_components import assert_succeeded, versions_of
from tests.gitlab_double.pytest_plugin import Double

MODEL = "churn-classifier"
JOB = "publish-model"
INPUTS = {"metrics-file": "metrics.json"}


def _mr_variables(iid: int, pipeline: int) -> dict[str, str]:
    return {
        "CI_MERGE_REQUEST_IID": str(iid),
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        "CI_COMMIT_REF_NAME": "better-model",
        "CI_PIPELINE_ID": str(900 + pipeline),
        "CI_PIPELINE_IID": str(pipeline),
    }


def _notes(double: Double, iid: int) -> list[dict[str, object]]:
    url = f"{double.api_url}/projects/{double.project_id}/merge_requests/{iid}/notes"
    got = requests.get(url, headers={"PRIVATE-TOKEN": double.owner_token}, timeout=10)
    got.raise_for_status()
    notes: list[dict[str, object]] = got.json()
    return notes


def test_mr_pipelines_publish_and_keep_one_report_note(
    make_project: ProjectFactory, double: Double
) -> None:
    double.control.add_merge_request(5, source_branch="better-model", target_branch="main")
    project = make_project(example_pipeline("minimal.gitlab-ci.yml", INPUTS))
    main = project.run(variables={"CI_PIPELINE_ID": "900", "CI_PIPELINE_IID": "1"})
    assert_succeeded(main, double)
    for pipeline in (2, 3):
        run = project.run(variables=_mr_variables(5, pipeline))
        assert_succeeded(run, double)
        assert "warning" not in run.job_log(JOB)
    assert versions_of(double, MODEL) == ["1.0.0", "1.0.1-mr.5.2", "1.0.1-mr.5.3"]
    (note,) = _notes(double, 5)
    body = str(note["body"])
    assert "1.0.1-mr.5.3" in body and "main (1.0.0)" in body and "1.0.1-mr.5.2" not in body
    metrics = run.artifact(JOB, "model-metrics.txt").read_text()
    names = {family.name for family in text_string_to_metric_families(metrics)}
    assert "gmr_accuracy" in names
    links = json.loads(run.artifact(JOB, "model-annotations.json").read_text())
    assert len(links["model_registry"]) == 2


def test_a_report_that_cannot_be_posted_warns_and_the_job_succeeds(
    make_project: ProjectFactory, double: Double
) -> None:
    project = make_project(example_pipeline("minimal.gitlab-ci.yml", INPUTS))
    run = project.run(variables=_mr_variables(6, 1))  # no merge request !6 on the double
    assert_succeeded(run, double)
    log = run.job_log(JOB)
    assert sum("warning:" in line for line in log.splitlines()) == 1 and "!6" in log
    assert versions_of(double, MODEL) == ["1.0.0-mr.6.1"]


def test_the_mr_report_input_turns_the_note_off(
    make_project: ProjectFactory, double: Double
) -> None:
    double.control.add_merge_request(5, source_branch="better-model", target_branch="main")
    project = make_project(
        example_pipeline("minimal.gitlab-ci.yml", {**INPUTS, "mr-report": False})
    )
    run = project.run(variables=_mr_variables(5, 1))
    assert_succeeded(run, double)
    assert _notes(double, 5) == []
    assert run.artifact(JOB, "model-metrics.txt").read_text().endswith("# EOF\n")


def test_a_job_token_only_mr_pipeline_skips_the_note_with_a_warning_and_succeeds(
    make_project: ProjectFactory, double: Double
) -> None:
    # No API token: only CI_JOB_TOKEN, which GitLab refuses on the notes API. The registry is
    # an MLflow one (a SQLite file in the job's directory), since GitLab's needs the API token.
    double.control.add_merge_request(5, source_branch="better-model", target_branch="main")
    inputs = {**INPUTS, "token-variable": "NO_SUCH_TOKEN"}
    project = make_project(example_pipeline("minimal.gitlab-ci.yml", inputs))
    variables = {**_mr_variables(5, 1), "GMR_TRACKING_URI": "sqlite:///mlruns.db", "GMR_TOKEN": ""}
    run = project.run(variables=variables)
    assert_succeeded(run, double)
    log = run.job_log(JOB)
    warnings = [line for line in log.splitlines() if "warning:" in line]
    assert len(warnings) == 1 and "CI_JOB_TOKEN cannot post notes" in warnings[0]
    assert _notes(double, 5) == []
    assert run.artifact(JOB, "model-metrics.txt").read_text().endswith("# EOF\n")
