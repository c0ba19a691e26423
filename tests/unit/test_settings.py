from __future__ import annotations

from pathlib import Path

import pytest

from gitlab_model_registry.errors import UsageError
from gitlab_model_registry.settings import Flags, Secret, Settings

CI = {
    "CI_API_V4_URL": "https://gitlab.example.com/api/v4",
    "CI_PROJECT_ID": "7",
    "CI_JOB_ID": "99",
    "CI_JOB_TOKEN": "job-secret",
    "CI_PIPELINE_ID": "5",
    "CI_COMMIT_TAG": "v1.2.3",
}


def resolve(flags: Flags | None = None, **env: str) -> Settings:
    return Settings.resolve(flags or Flags(), env, Path("/work/dir"))


def test_ci_variables_select_gitlab_and_the_job_token_for_uploads() -> None:
    settings = resolve(**CI, GMR_UNRELATED="x")

    assert settings.backend == "gitlab"
    assert settings.gitlab_url == "https://gitlab.example.com"
    assert settings.api_url == "https://gitlab.example.com/api/v4"
    assert settings.project == "7"
    assert settings.upload_token == "job"
    assert settings.job_token == Secret("job-secret")
    assert settings.ci.job_id == "99" and settings.ci.commit_tag == "v1.2.3"


def test_flags_win_over_ci_variables() -> None:
    flags = Flags(gitlab_url="https://other.example/", project="g/p", upload_token="api")

    settings = resolve(flags, **CI)

    assert (settings.gitlab_url, settings.project, settings.upload_token) == (
        "https://other.example",
        "g/p",
        "api",
    )


def test_gitlab_mlflow_tracking_uri_selects_gitlab() -> None:
    uri = "https://gitlab.example.com/api/v4/projects/group%2Fproj/ml/mlflow"

    settings = resolve(MLFLOW_TRACKING_URI=uri)

    assert settings.backend == "gitlab"
    assert (settings.gitlab_url, settings.project) == ("https://gitlab.example.com", "group/proj")


@pytest.mark.parametrize("uri", ["http://mlflow:5000", "sqlite:///x.db", "databricks"])
def test_other_tracking_uris_select_mlflow(uri: str) -> None:
    settings = resolve(Flags(tracking_uri=uri), **CI)

    assert settings.backend == "mlflow" and settings.tracking_uri == uri


def test_nothing_configured_selects_the_embedded_registry() -> None:
    settings = resolve()

    assert settings.backend == "mlflow" and settings.embedded
    assert settings.tracking_uri == "sqlite:////work/dir/mlruns.db"


@pytest.mark.parametrize(
    ("flags", "env", "expected"),
    [
        (Flags(token="flag"), {"GITLAB_TOKEN": "gl", "MLFLOW_TRACKING_TOKEN": "ml"}, "flag"),
        (Flags(token_variable="MY_TOKEN"), {"MY_TOKEN": "named", "GITLAB_TOKEN": "gl"}, "named"),
        (Flags(), {"GITLAB_TOKEN": "gl", "MLFLOW_TRACKING_TOKEN": "ml"}, "gl"),
        (Flags(), {"MLFLOW_TRACKING_TOKEN": "ml"}, "ml"),
    ],
)
def test_api_token_precedence(flags: Flags, env: dict[str, str], expected: str) -> None:
    settings = resolve(flags, **CI, **env)

    assert settings.token is not None and settings.token.reveal() == expected


def test_empty_variables_count_as_unset() -> None:
    settings = resolve(**CI, GITLAB_TOKEN="", MLFLOW_TRACKING_URI="")

    assert settings.token is None and settings.backend == "gitlab"


def test_upload_with_job_token_needs_ci() -> None:
    with pytest.raises(UsageError, match="CI_JOB_TOKEN"):
        resolve(Flags(gitlab_url="https://g.example", project="1", upload_token="job"))


def test_gitlab_without_project_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="project"):
        resolve(Flags(gitlab_url="https://g.example"))


def test_secrets_never_show_in_repr() -> None:
    settings = resolve(Flags(token="glpat-very-secret"), **CI)

    assert "glpat-very-secret" not in repr(settings)
    assert "job-secret" not in repr(settings) and "job-secret" not in str(settings.job_token)
