"""The e2e tier: a user's project whose .gitlab-ci.yml includes the components, run by
gitlab-ci-local against the GitLab double, then checked through the double's state.

How the pipelines run under gitlab-ci-local (pinned to 4.73.0 by .ci/run):
- The component's job has `image:` (this project's image), which would need a Docker engine.
  `--force-shell-executor` runs every job in the host shell instead, where `gmr` is the
  package under test, found through PATH (this interpreter's bin directory first). The image
  itself is tested by the image tier; here the pipeline YAML and the CLI are what is tested.
- `--shell-isolation` gives each job its own copy of the project, so files reach the publish
  job only as the artifacts GitLab would hand on (`needs:`), and the dotenv report reaches
  the deploy job only through `artifacts:reports:dotenv`.
- The include names the project's own path at the current commit, which gitlab-ci-local reads
  from the working tree (any other ref would be downloaded). The examples name the catalog
  release instead, as users write them; the helper swaps that one string.
- gitlab-ci-local passes its own environment to shell jobs, so CI_*, GITLAB_*, GMR_* and MLFLOW_*
  variables of the machine running the tests (e.g. a real CI job) are removed first; the
  GitLab ones the job needs are given with `--variable`, as a runner would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitlab_model_registry import __version__
from tests.gitlab_double.pytest_plugin import Double

ROOT = Path(__file__).resolve().parents[2]
COMPONENT_DIR = ROOT / "component"
EXAMPLES_DIR = COMPONENT_DIR / "examples"
SAMPLE_FILES = ("model", "tokenizer", "metrics.json", "params.yaml", "train.py")
CATALOG_INCLUDE = f"gitlab.com/gitlab-model-registry/gitlab-model-registry/publish@{__version__}"
LOCAL_INCLUDE = "$CI_SERVER_FQDN/$CI_PROJECT_PATH/publish@$CI_COMMIT_SHA"
PROMOTE_CATALOG_INCLUDE = CATALOG_INCLUDE.replace("/publish@", "/promote@")
PROMOTE_LOCAL_INCLUDE = LOCAL_INCLUDE.replace("/publish@", "/promote@")
ORIGIN = "git@gitlab.example.com:group/project.git"
PIPELINE_TIMEOUT_S = 180
COMMAND_TIMEOUT_S = 30
HOST_PREFIXES = ("CI_", "GITLAB_", "GMR_", "MLFLOW_")
HOST_NAMES = {"CI", "GITLAB_CI", "NO_COLOR", "FORCE_COLOR"}


@dataclass(frozen=True)
class PipelineRun:
    """What one gitlab-ci-local invocation left behind."""

    returncode: int
    stdout: str
    stderr: str
    project: Path

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def state_dir(self) -> Path:
        return self.project / ".gitlab-ci-local"

    def job_log(self, job: str) -> str:
        return (self.state_dir / "output" / f"{job}.log").read_text()

    def artifact(self, job: str, name: str) -> Path:
        return self.state_dir / "artifacts" / job / name

    def dotenv(self, job: str, name: str = "model.env") -> dict[str, str]:
        lines = self.artifact(job, name).read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)

    def everything_logged(self) -> str:
        logs = sorted((self.state_dir / "output").glob("*.log"))
        return self.output + "".join(log.read_text() for log in logs)


@dataclass(frozen=True)
class UserProject:
    """A git repository laid out like a user's project, with the component's templates."""

    path: Path
    home: Path
    gitlab_ci_local: str
    double: Double

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", *args],
            cwd=self.path,
            capture_output=True,
            text=True,
            check=True,
            timeout=COMMAND_TIMEOUT_S,
        )
        return done.stdout

    def commit_all(self, message: str) -> None:
        self.git("add", "-A")
        identity = ("-c", "user.name=Test", "-c", "user.email=test@example.com")
        self.git(*identity, "commit", "-q", "-m", message)

    def run(
        self,
        *jobs: str,
        variables: dict[str, str] | None = None,
        unset: tuple[str, ...] = (),
        manual: tuple[str, ...] = (),
    ) -> PipelineRun:
        """Run the pipeline (or ``jobs``) as a runner would, with the double as GitLab;
        ``variables`` add to or override the predefined ones, ``unset`` removes some;
        ``manual`` names the `when: manual` jobs someone starts (the others do not run)."""
        given = {**ci_variables(self.double), **(variables or {})}
        command = [
            self.gitlab_ci_local,
            *("--home", str(self.home)),
            *("--no-color", "--force-shell-executor", "--shell-isolation"),
            *(arg for name, value in given.items() for arg in ("--variable", f"{name}={value}")),
            *(arg for name in unset for arg in ("--unset-variable", name)),
            # Array options take every word up to the next option: never last before ``jobs``.
            *(arg for name in manual for arg in ("--manual", name)),
            # Overriding predefined variables is the point here: no warning on stdout.
            *("--ignore-predefined-vars", ",".join([*given, *unset])),
            *jobs,
        ]
        done = subprocess.run(
            command,
            cwd=self.path,
            env=job_environment(),
            capture_output=True,
            text=True,
            timeout=PIPELINE_TIMEOUT_S,
        )
        return PipelineRun(done.returncode, done.stdout, done.stderr, self.path)


def ci_variables(double: Double) -> dict[str, str]:
    """The predefined variables GitLab would give the job, pointing at the double."""
    return {
        "CI_SERVER_URL": double.url,
        "CI_API_V4_URL": double.api_url,
        "CI_PROJECT_ID": str(double.project_id),
        "CI_JOB_ID": double.job_id,
        "CI_JOB_TOKEN": double.job_token,
        "GMR_TOKEN": double.developer_token,  # the masked CI/CD variable a user would define
    }


def job_environment() -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(HOST_PREFIXES) and name not in HOST_NAMES
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def example_pipeline(name: str, inputs: dict[str, Any] | None = None) -> str:
    """The example's text with its catalog include swapped for the project's own component;
    ``inputs`` (None removes one) edits the first include."""
    text = (EXAMPLES_DIR / name).read_text()
    assert CATALOG_INCLUDE in text, f"{name} does not include {CATALOG_INCLUDE}"
    text = text.replace(CATALOG_INCLUDE, LOCAL_INCLUDE)
    text = text.replace(PROMOTE_CATALOG_INCLUDE, PROMOTE_LOCAL_INCLUDE)
    if not inputs:
        return text
    document = yaml.safe_load(text)
    first = document["include"][0]["inputs"]
    for key, value in inputs.items():
        if value is None:
            del first[key]
        else:
            first[key] = value
    dumped: str = yaml.safe_dump(document, sort_keys=False)
    return dumped


ProjectFactory = Callable[..., UserProject]


@pytest.fixture(scope="session")
def gitlab_ci_local() -> str:
    provisioned = Path(__file__).parents[2] / ".ci" / "node" / "node_modules" / ".bin"
    found = shutil.which("gitlab-ci-local") or shutil.which("gitlab-ci-local", path=provisioned)
    if found is None:
        pytest.skip("gitlab-ci-local is not installed")
    if shutil.which("rsync") is None:
        pytest.skip("gitlab-ci-local needs rsync, which is not installed")
    gmr = Path(sys.executable).parent / "gmr"
    assert gmr.exists(), f"{gmr} is missing: install the package (`make install`)"
    return found


@pytest.fixture
def make_project(tmp_path: Path, gitlab_ci_local: str, double: Double) -> ProjectFactory:
    """``make_project(pipeline_text, without=(), extra=())``: a committed user project running
    the pipeline, with the sample files except ``without`` and this repository's ``extra`` paths."""

    def make(
        pipeline: str, without: tuple[str, ...] = (), extra: tuple[str, ...] = ()
    ) -> UserProject:
        path, home = tmp_path / "project", tmp_path / "home"
        home.mkdir()
        shutil.copytree(ROOT / "templates", path / "templates")
        for name in set(SAMPLE_FILES) - set(without):
            copy = shutil.copytree if (COMPONENT_DIR / name).is_dir() else shutil.copy
            copy(COMPONENT_DIR / name, path / name)
        for name in extra:
            shutil.copytree(ROOT / name, path / name)
        (path / ".gitlab-ci.yml").write_text(pipeline)
        project = UserProject(path, home, gitlab_ci_local, double)
        project.git("init", "-q", "-b", "main")
        project.git("remote", "add", "origin", ORIGIN)
        project.commit_all("A user's project")
        # What a clone has: lets gitlab-ci-local find the default branch without a warning.
        project.git("update-ref", "refs/remotes/origin/main", "HEAD")
        project.git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
        return project

    return make
