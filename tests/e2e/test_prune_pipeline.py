"""The prune component in a scheduled pipeline, run by gitlab-ci-local against the GitLab double:
a dry run by default (the plan in the job log, nothing deleted), deletion once opted in."""

from __future__ import annotations

from tests.e2e.conftest import ProjectFactory
from tests.e2e.test_components import assert_succeeded, versions_of
from tests.gitlab_double.pytest_plugin import Double
from tests.integration.publish.conftest import seed_versions

MODEL = "churn-classifier"
PIPELINE = """
include:
  - component: $CI_SERVER_FQDN/$CI_PROJECT_PATH/prune@$CI_COMMIT_SHA
    inputs:
      job-name: prune-preview
      model: churn-classifier
  - component: $CI_SERVER_FQDN/$CI_PROJECT_PATH/prune@$CI_COMMIT_SHA
    inputs:
      job-name: prune-model
      model: churn-classifier
      keep-last: "1"
      dry-run: false
"""
SCHEDULE = {"CI_PIPELINE_SOURCE": "schedule"}
VERSIONS = ["1.0.0", "1.1.0-rc.1", "1.1.0-rc.2", "1.1.0-rc.3", "1.0.1-mr.4.7", "1.0.1-mr.4.8"]


def test_scheduled_prune_previews_by_default_then_deletes_when_opted_in(
    make_project: ProjectFactory, double: Double
) -> None:
    seed_versions(double, MODEL, VERSIONS)
    double.control.add_merge_request(4, state="merged")
    project = make_project(PIPELINE)
    maintainer = {**SCHEDULE, "GMR_TOKEN": double.maintainer_token}

    preview = project.run("prune-preview", variables=maintainer)
    assert_succeeded(preview, double)
    log = preview.job_log("prune-preview")
    assert "delete  1.0.1-mr.4.8" in log and "MR !4 is merged" in log, log
    assert "nothing was deleted" in log
    assert versions_of(double, MODEL) == sorted(VERSIONS)

    pruned = project.run("prune-model", variables=maintainer)
    assert_succeeded(pruned, double)
    assert versions_of(double, MODEL) == ["1.0.0", "1.1.0-rc.3"]
    assert "deleted 4 of 4 version(s)" in pruned.job_log("prune-model")
