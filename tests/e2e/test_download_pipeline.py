"""The download component in a user's pipeline (publish → download → deploy), run by
gitlab-ci-local against the GitLab double: the version's files reach the deploy job as the
download job's artifacts, and the next pipeline takes them from the job's GitLab cache.

gitlab-ci-local with `--shell-isolation` keeps a job's `cache:` under the project's
`.gitlab-ci-local/cache/<key>/` (rsync'ed into the job's copy before the script and back after
it), and it keeps that directory between invocations: two runs of a project are two pipelines
sharing the cache, as on a runner.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

from tests.e2e.conftest import LOCAL_INCLUDE, PipelineRun, ProjectFactory, UserProject
from tests.e2e.test_components import assert_succeeded, published, sha256, stored_files
from tests.e2e.test_environments_pipeline import run_job
from tests.gitlab_double.pytest_plugin import Double
from tests.integration.publish.test_signing import make_keys

MODEL = "churn-classifier"
DOWNLOAD_INCLUDE = LOCAL_INCLUDE.replace("/publish@", "/download@")
PIPELINE = f"""\
stages: [publish, download, deploy]

include:
  - component: {LOCAL_INCLUDE}
    inputs:
      stage: publish
      model: {MODEL}
      files: [model/, metrics.json]
  - component: {DOWNLOAD_INCLUDE}
    inputs:
      stage: download
      needs: [publish-model]

deploy:
  stage: deploy
  needs: [download-model]
  script:
    - test -s model/config.json && test -s model/weights/coefficients.bin
    - echo "Deploying $(ls model | wc -l) entries"
"""


def files_under(directory: Path) -> dict[str, str]:
    return {
        p.relative_to(directory).as_posix(): sha256(p) for p in directory.rglob("*") if p.is_file()
    }


def run_counting(project: UserProject, double: Double) -> tuple[PipelineRun, int]:
    """One pipeline, and the bytes of model files the double served during it."""
    before = sum(double.control.served_bytes().values())
    run = project.run()
    return run, sum(double.control.served_bytes().values()) - before


def test_downloads_the_published_version_as_artifacts_then_from_the_cache(
    make_project: ProjectFactory, double: Double
) -> None:
    # The repository holds model/ (what the publish job uploads): the download job's `dest`
    # (model) is replaced by the version's files, metrics.json included.
    project = make_project(PIPELINE)
    committed = files_under(project.path / "model")
    run, served = run_counting(project, double)
    assert_succeeded(run, double)
    first = stored_files(published(double, MODEL, "1.0.0"))
    assert "metrics.json" in first and "metrics.json" not in committed
    assert files_under(run.artifact("download-model", "model")) == first
    assert served == sum((project.path / name).stat().st_size for name in _paths(first))
    cache = run.state_dir / "cache" / f"gmr-{MODEL}"
    assert set(files_under(cache).values()) == set(first.values()), "keyed by the model's name"

    # The next pipeline publishes 1.0.1 with the same files: none is transferred again.
    run, served = run_counting(project, double)
    assert_succeeded(run, double)
    second = stored_files(published(double, MODEL, "1.0.1"))
    assert second == first
    assert served == 0, double.control.served_bytes()
    assert files_under(run.artifact("download-model", "model")) == second
    log = run.job_log("download-model")
    assert "1.0.1" in log and f"imported cache 'gmr-{MODEL}'" in run.output


def _paths(stored: dict[str, str]) -> list[str]:
    """The repository paths the publish job uploaded under these names."""
    return [name if name == "metrics.json" else f"model/{name}" for name in stored]


ENVIRONMENT_PIPELINE = f"""\
stages: [publish, promote, download]

include:
  - component: {LOCAL_INCLUDE}
    inputs:
      stage: publish
      model: {MODEL}
      files: [model/, metrics.json]
      bump: prerelease
  - component: {LOCAL_INCLUDE.replace("/publish@", "/promote@")}
    inputs:
      stage: promote
  # Not after the promote job: whatever this pipeline did, production's version.
  - component: {DOWNLOAD_INCLUDE}
    inputs:
      stage: download
      needs: []
      model: {MODEL}
      environment: production
"""


def test_the_environment_input_downloads_the_version_that_environment_holds(
    make_project: ProjectFactory, double: Double
) -> None:
    """Two pipelines: the first releases 1.0.0-rc.1 to production as 1.0.0; the second publishes
    1.0.1-rc.1 (the latest version) and nobody promotes it: production still holds 1.0.0."""
    project = make_project(ENVIRONMENT_PIPELINE)
    for job_id, job, environment, manual in (
        (7001, "publish-model", None, False),
        (7002, "promote-model", "production", True),
        (7003, "download-model", None, False),
    ):
        run = run_job(project, double, job, job_id, environment, manual)
        assert_succeeded(run, double)
    release = stored_files(published(double, MODEL, "1.0.0"))
    assert files_under(run.artifact("download-model", "model")) == release
    assert f"Downloaded {MODEL} 1.0.0" in run.job_log("download-model")

    assert_succeeded(run_job(project, double, "publish-model", 8001, None, False), double)
    assert published(double, MODEL, "1.0.1-rc.1")
    before = sum(double.control.served_bytes().values())
    run = run_job(project, double, "download-model", 8002, None, False)
    assert_succeeded(run, double)
    log = run.job_log("download-model")
    assert f"Downloaded {MODEL} 1.0.0" in log and "1.0.1-rc.1" not in log, log
    assert files_under(run.artifact("download-model", "model")) == release
    assert sum(double.control.served_bytes().values()) == before, "all from the cache"


SIGNED_PIPELINE = f"""\
stages: [publish, download]

include:
  - component: {LOCAL_INCLUDE}
    inputs:
      stage: publish
      model: {MODEL}
      files: [model/]
      sign: key
  - component: {DOWNLOAD_INCLUDE}
    inputs:
      stage: download
      needs: [publish-model]
      public-key: $SIGNER_PUBLIC_KEY
"""


def test_with_a_public_key_only_a_version_it_signed_is_downloaded(
    make_project: ProjectFactory, double: Double, tmp_path: Path
) -> None:
    """The key pair as a user keeps it: the private key as base64 in a masked variable, the
    public key in a File-type variable (a path)."""
    private, public = make_keys(tmp_path)
    _, other = make_keys(tmp_path, "someone-else")
    secret = base64.b64encode(private.read_bytes()).decode()
    project = make_project(SIGNED_PIPELINE)
    given = {"GMR_SIGNING_KEY_B64": secret, "SIGNER_PUBLIC_KEY": str(other)}
    refused = project.run(variables=given)
    assert refused.returncode != 0
    assert re.search(r"^download-model finished in .* FAIL 5\s*$", refused.output, re.M)
    assert not refused.artifact("download-model", "model").exists()

    run = project.run("download-model", variables={**given, "SIGNER_PUBLIC_KEY": str(public)})
    assert_succeeded(run, double)
    version = stored_files(published(double, MODEL, "1.0.0"))
    assert "model.sig" in version
    assert "; signature verified, signed by key:" in run.job_log("download-model")
    assert files_under(run.artifact("download-model", "model")) == version
    for logged in (refused, run):
        assert secret not in logged.everything_logged()
