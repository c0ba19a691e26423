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


MLFLOW = "http://mlflow.example:5000"


@pytest.mark.parametrize(
    ("flags", "env", "expected"),
    [
        (Flags(), {"GITLAB_TOKEN": "gl"}, None),
        (Flags(), {"MLFLOW_TRACKING_TOKEN": "ml"}, "ml"),
        (Flags(), {"GITLAB_TOKEN": "gl", "MLFLOW_TRACKING_TOKEN": "ml"}, "ml"),
        (Flags(token="flag"), {"GITLAB_TOKEN": "gl"}, "flag"),
        (Flags(token="flag"), {"MLFLOW_TRACKING_TOKEN": "ml"}, "flag"),
        (Flags(token_variable="MY"), {"MY": "named"}, None),
    ],
)
def test_a_plain_mlflow_server_gets_only_its_own_token(
    flags: Flags, env: dict[str, str], expected: str | None
) -> None:
    settings = resolve(Flags(**{**flags.__dict__, "tracking_uri": MLFLOW}), **CI, **env)

    assert settings.backend == "mlflow"
    assert (settings.token.reveal() if settings.token else None) == expected
    assert settings.job_token is None


def test_mlflow_basic_auth_unless_a_token_flag_is_given() -> None:
    env = {"MLFLOW_TRACKING_USERNAME": "u", "MLFLOW_TRACKING_PASSWORD": "p"}
    basic = resolve(Flags(tracking_uri=MLFLOW), **env)
    flagged = resolve(Flags(tracking_uri=MLFLOW, token="t"), **env)

    assert (basic.username, basic.password, basic.token) == (Secret("u"), Secret("p"), None)
    assert (flagged.username, flagged.token) == (None, Secret("t"))


@pytest.mark.parametrize(
    ("flag", "env", "expected"),
    [
        (None, {}, 60.0),
        (None, {"MLFLOW_HTTP_REQUEST_TIMEOUT": "7"}, 7.0),
        (0.5, {"MLFLOW_HTTP_REQUEST_TIMEOUT": "7"}, 0.5),
    ],
)
def test_mlflow_timeout_precedence(
    flag: float | None, env: dict[str, str], expected: float
) -> None:
    assert resolve(Flags(tracking_uri=MLFLOW, timeout=flag), **env).timeout == expected


@pytest.mark.parametrize("value", [0.0, -1.0])
def test_a_timeout_that_is_not_positive_is_refused(value: float) -> None:
    with pytest.raises(UsageError, match="--timeout must be a positive number"):
        resolve(Flags(timeout=value), **CI)


def test_another_gitlab_gets_neither_the_job_token_nor_the_job_link() -> None:
    settings = resolve(Flags(gitlab_url="https://other.example", project="9"), **CI)

    assert settings.job_token is None and settings.upload_token == "api"
    assert not settings.ci.links_job and settings.ci.job_id == "99"


def test_the_mlflow_tracking_token_of_another_server_does_not_reach_gitlab() -> None:
    env = {"MLFLOW_TRACKING_URI": MLFLOW, "MLFLOW_TRACKING_TOKEN": "ml"}
    settings = resolve(
        Flags(tracking_uri="https://gitlab.example.com/api/v4/projects/7/ml/mlflow"), **CI, **env
    )

    assert settings.backend == "gitlab" and settings.token is None


@pytest.mark.parametrize(
    ("project", "asked", "expected"),
    [
        ("7", None, "job"),
        ("group/proj", None, "job"),
        ("8", None, "api"),
        ("other/proj", None, "api"),
        ("8", "job", "job"),
        ("7", "api", "api"),
    ],
)
def test_the_job_token_is_for_the_jobs_own_project(
    project: str, asked: str | None, expected: str
) -> None:
    settings = resolve(
        Flags(project=project, upload_token=asked), **CI, CI_PROJECT_PATH="group/proj"
    )

    assert settings.upload_token == expected
    assert settings.ci.links_job


def test_for_project_recomputes_the_transfer_token() -> None:
    settings = resolve(**CI, CI_PROJECT_PATH="group/proj")

    assert settings.upload_token == "job"
    assert settings.for_project("prod/proj").upload_token == "api"
    assert settings.for_project("group/proj").upload_token == "job"
