"""The factory opens the backend Settings describe, passing every setting as an argument."""

from __future__ import annotations

import os
from pathlib import Path

from gitlab_model_registry.backends.gitlab import GitLabBackend
from gitlab_model_registry.backends.mlflow import MlflowBackend
from gitlab_model_registry.registry import open_registry, open_target
from gitlab_model_registry.settings import Flags, Settings
from gitlab_model_registry.splitting import SplitFiles

CI = {
    "CI_API_V4_URL": "https://gitlab.example.com/api/v4",
    "CI_PROJECT_ID": "7",
    "CI_PROJECT_PATH": "group/proj",
    "CI_JOB_TOKEN": "job-secret",
    "GITLAB_TOKEN": "glpat-x",
    "MLFLOW_TRACKING_TOKEN": "from-the-environment",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "3",
}


def test_an_mlflow_server_backend_is_built_without_touching_the_environment() -> None:
    before = dict(os.environ)
    flags = Flags(tracking_uri="http://mlflow.example:5000", token="flag-token", timeout=0.5)
    settings = Settings.resolve(flags, CI, Path("/work"))

    backend = open_registry(settings)
    client = backend._client  # type: ignore[attr-defined]  # built now; no request is sent

    assert isinstance(backend, MlflowBackend) and client is not None
    assert dict(os.environ) == before
    http = backend._http  # type: ignore[attr-defined]
    assert http._sender._connection.headers() == {"Authorization": "Bearer flag-token"}
    assert http._sender._connection.timeout == 0.5


def test_settings_open_their_backend_and_promotion_targets() -> None:
    settings = Settings.resolve(Flags(), CI, Path("/work"))

    source = settings.open_backend()
    target = open_target(settings, source, "group/production")

    assert isinstance(source, SplitFiles) and isinstance(target, SplitFiles)
    assert isinstance(source.inner, GitLabBackend) and isinstance(target.inner, GitLabBackend)
    assert open_target(settings, source, None) is source
    assert target.inner._upload_kind == "API token"
    assert source.inner._upload_kind == "CI job token"
