"""Helpers to run the real `gmr` CLI as a subprocess against the GitLab double."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.gitlab_double import seed
from tests.gitlab_double.pytest_plugin import Double

GMR_TIMEOUT = 120


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


def clean_environ() -> dict[str, str]:
    """The parent's environment minus anything that would configure gmr or look like CI."""
    prefixes = ("GMR_", "CI_", "GITLAB_", "MLFLOW_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def ci_environ(double: Double, **overrides: str) -> dict[str, str]:
    """What a GitLab job on the double's project would see, with the developer API token."""
    env = {
        "GITLAB_CI": "true",
        "CI_API_V4_URL": double.api_url,
        "CI_PROJECT_ID": str(double.project_id),
        "CI_PROJECT_PATH": double.project_path,
        "CI_JOB_ID": double.job_id,
        "CI_JOB_TOKEN": double.job_token,
        "CI_JOB_NAME": "publish-model",
        "CI_JOB_URL": f"{double.url}/{double.project_path}/-/jobs/{double.job_id}",
        "CI_PIPELINE_ID": "500",
        "CI_PIPELINE_IID": "42",
        "CI_PIPELINE_URL": f"{double.url}/{double.project_path}/-/pipelines/500",
        "CI_COMMIT_SHA": "0123456789abcdef0123456789abcdef01234567",
        "CI_COMMIT_REF_NAME": "main",
        "GMR_TOKEN": double.developer_token,
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


SECRETS = tuple(value for value, _, _ in seed.TOKENS) + tuple(token for _, token, _ in seed.JOBS)


def assert_no_secret(run: Run) -> Run:
    """Every run's output is checked: no token value may ever be printed."""
    for secret in SECRETS:
        assert secret not in run.stdout and secret not in run.stderr, "a token was printed"
    return run


class Gmr:
    """Runs `python -m gitlab_model_registry` in ``cwd`` with a controlled environment."""

    def __init__(self, double: Double, cwd: Path) -> None:
        self.double, self.cwd = double, cwd

    def __call__(self, *args: str, env: dict[str, str] | None = None, ci: bool = True) -> Run:
        environ = clean_environ() | (ci_environ(self.double) if ci else {}) | (env or {})
        proc = subprocess.run(
            [sys.executable, "-m", "gitlab_model_registry", *args],
            cwd=self.cwd,
            env=environ,
            capture_output=True,
            text=True,
            timeout=GMR_TIMEOUT,
        )
        return assert_no_secret(Run(proc.returncode, proc.stdout, proc.stderr))

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        environ = clean_environ() | ci_environ(self.double) | (env or {})
        return subprocess.Popen(
            [sys.executable, "-m", "gitlab_model_registry", *args],
            cwd=self.cwd,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@pytest.fixture
def gmr(double: Double, tmp_path: Path) -> Gmr:
    return Gmr(double, tmp_path)


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    """A small model tree: two nested files and a top-level one."""
    root = tmp_path / "model"
    (root / "weights").mkdir(parents=True)
    (root / "weights" / "layer 1.bin").write_bytes(os.urandom(300_000))
    (root / "weights" / "layer+2.bin").write_bytes(os.urandom(70_000))
    (root / "config.json").write_text('{"layers": 2}')
    return root


def seed_versions(double: Double, model: str, versions: list[str]) -> None:
    """Put versions in the double's registry through its MLflow API, as another client would."""
    base = f"{double.tracking_uri()}/api/2.0/mlflow"
    auth = {"Authorization": f"Bearer {double.developer_token}"}
    requests.post(
        f"{base}/registered-models/create", json={"name": model}, headers=auth, timeout=10
    )
    for version in versions:
        tags = [{"key": "gitlab.version", "value": version}]
        response = requests.post(
            f"{base}/model-versions/create",
            json={"name": model, "tags": tags},
            headers=auth,
            timeout=10,
        )
        response.raise_for_status()


def writes(double: Double) -> list[dict[str, Any]]:
    """Requests in the double's log that could change state."""
    return [r for r in double.control.requests() if r["method"] not in ("GET", "HEAD")]
