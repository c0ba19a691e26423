"""pytest fixtures: one GitLab double per session, reset per test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.gitlab_double import seed
from tests.gitlab_double.control import DoubleClient
from tests.gitlab_double.process import running_double


@dataclass(frozen=True)
class Double:
    """A running double: where it listens, how to control it, and the credentials it knows."""

    url: str
    control: DoubleClient
    project_id: int = seed.PROJECT_ID
    project_path: str = seed.PROJECT_PATH
    developer_token: str = seed.DEVELOPER_TOKEN
    maintainer_token: str = seed.MAINTAINER_TOKEN
    owner_token: str = seed.OWNER_TOKEN
    reporter_token: str = seed.REPORTER_TOKEN
    guest_token: str = seed.GUEST_TOKEN
    read_api_token: str = seed.READ_API_TOKEN
    job_id: str = seed.JOB_ID
    job_token: str = seed.JOB_TOKEN
    reporter_job_id: str = seed.REPORTER_JOB_ID
    reporter_job_token: str = seed.REPORTER_JOB_TOKEN

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v4"

    def tracking_uri(self, project_id: int = seed.PROJECT_ID) -> str:
        return f"{self.api_url}/projects/{project_id}/ml/mlflow"


@pytest.fixture(scope="session")
def gitlab_double(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Double]:
    data_dir = tmp_path_factory.mktemp("gitlab-double") / "data"
    with running_double(data_dir, seed.command_args()) as url:
        yield Double(url=url, control=DoubleClient(url))


@pytest.fixture
def double(gitlab_double: Double) -> Double:
    gitlab_double.control.reset()
    return gitlab_double
