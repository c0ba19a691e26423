"""The environments example (train → rc → staging → production → application deploy), run by
gitlab-ci-local against the GitLab double, one job at a time: GitLab's part of each job with
`environment:` (its deployment, running, then success or failed) is played by the double's
``POST /-/double/deployments``, as GitLab does around the job."""

from __future__ import annotations

import re
from pathlib import Path

from gitlab_model_registry import Flags, Settings, environments, open_registry
from tests.e2e.conftest import PipelineRun, ProjectFactory, UserProject, example_pipeline
from tests.e2e.test_components import published, sha256, stored_files
from tests.gitlab_double.pytest_plugin import Double

EXAMPLE = "environments.gitlab-ci.yml"
MODEL = "churn-classifier"
#: (job, environment, manual) in pipeline order.
JOBS = (
    ("train", None, False),
    ("publish-model", None, False),
    ("promote-staging", "staging", False),
    ("promote-production", "production", True),
    ("deploy-app", None, False),
)


def run_job(
    project: UserProject,
    double: Double,
    job: str,
    job_id: int,
    environment: str | None,
    manual: bool,
) -> PipelineRun:
    """One job as GitLab runs it: its own id and job token, and its deployment around it."""
    token = f"glcbt-64_job-{job_id}"
    double.control.add_job(job_id, token, "developer")
    if environment:
        double.control.job_deployment(environment, job_id, "running")
    # One pipeline id for the jobs of one pipeline (each invocation would count as one).
    given = {"CI_JOB_ID": str(job_id), "CI_JOB_TOKEN": token, "CI_PIPELINE_ID": str(job_id // 1000)}
    run = project.run(job, variables=given, manual=(job,) if manual else ())
    if environment:
        double.control.job_deployment(
            environment, job_id, "success" if run.returncode == 0 else "failed"
        )
    return run


def pipeline(project: UserProject, double: Double, first_id: int) -> dict[str, PipelineRun]:
    """Every job in order until one fails; what each left behind."""
    runs: dict[str, PipelineRun] = {}
    for offset, (job, environment, manual) in enumerate(JOBS):
        runs[job] = run_job(project, double, job, first_id + offset, environment, manual)
        if runs[job].returncode != 0:
            break
    return runs


def held(double: Double, environment: str) -> str | None:
    flags = Flags(gitlab_url=double.url, project=double.project_path, token=double.developer_token)
    registry = open_registry(Settings.resolve(flags, {}, Path.cwd()))
    found = environments.current_version(registry, MODEL, environment)
    return found.version if found else None


def test_candidates_move_through_staging_to_production_and_a_worse_one_is_refused(
    make_project: ProjectFactory, double: Double
) -> None:
    project = make_project(example_pipeline(EXAMPLE), without=("model", "metrics.json"))
    first = pipeline(project, double, 5001)
    for job, run in first.items():
        assert run.returncode == 0, f"{job}: {run.output}"
    assert (held(double, "staging"), held(double, "production")) == ("1.0.0-rc.1", "1.0.0")
    assert "passes, nothing is in production yet" in first["promote-production"].job_log(
        "promote-production"
    )
    deployed = first["deploy-app"].artifact("deploy-app", "deployed")
    release = published(double, MODEL, "1.0.0")
    files = {
        p.relative_to(deployed).as_posix(): sha256(p) for p in deployed.rglob("*") if p.is_file()
    }
    assert files == stored_files(release)

    # The next candidate trains for one epoch: staging takes it, production refuses it.
    params = project.path / "params.yaml"
    params.write_text(params.read_text().replace("epochs: 20", "epochs: 1"))
    project.commit_all("Train for one epoch")
    second = pipeline(project, double, 6001)
    assert "promote-staging" in second, [run.output for run in second.values()]
    assert second["promote-staging"].returncode == 0, second["promote-staging"].output
    refused = second["promote-production"]
    log = refused.job_log("promote-production")
    assert re.search(r"log_loss=0\.39\d* vs 0\.0647 of 1\.0\.0 in production", log), log
    assert re.search(r"^promote-production finished in .* FAIL 5\s*$", refused.output, re.M)
    assert "deploy-app" not in second
    assert (held(double, "staging"), held(double, "production")) == ("1.0.1-rc.1", "1.0.0")
    for secret in (double.developer_token, double.job_token):
        assert all(
            secret not in run.everything_logged() for run in (*first.values(), *second.values())
        )
