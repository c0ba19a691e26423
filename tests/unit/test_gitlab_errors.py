"""How GitLab's answers on the MLflow routes become our errors: decided by status and body
shape (``error_code``, Grape's ``error``), never by the words of a message."""

from __future__ import annotations

import json
from typing import Any

import gitlab.exceptions
import pytest

from gitlab_model_registry.backends._gitlab_errors import ApiErrors, GitLabAnswer, TransferErrors
from gitlab_model_registry.errors import AuthError, GmrError, NotFoundError, UsageError
from gitlab_model_registry.retry import TransferError


def translated(status: int, body: dict[str, Any], release: tuple[int, int] | None) -> GmrError:
    error = gitlab.exceptions.GitlabHttpError(
        "x", response_code=status, response_body=json.dumps(body).encode()
    )
    errors = ApiErrors("the MLflow API", "group/p", registry=True, release=release)
    with pytest.raises(GmrError) as caught, errors:
        raise error
    return caught.value


def test_a_missing_model_is_not_found() -> None:
    found = translated(404, {"error_code": "RESOURCE_DOES_NOT_EXIST"}, (18, 6))

    assert isinstance(found, NotFoundError)


def test_a_bare_404_is_a_switched_off_registry_naming_the_setting() -> None:
    found = translated(404, {"message": "404 Not Found"}, (18, 6))

    assert isinstance(found, UsageError) and found.exit_code == 2
    assert "switched off for project 'group/p'" in found.message
    assert "Model registry" in found.hint and "feature flag" not in found.hint


@pytest.mark.parametrize("release", [(17, 5), None])
def test_before_17_6_or_when_unknown_the_feature_flag_is_named(
    release: tuple[int, int] | None,
) -> None:
    found = translated(404, {"message": "404 Not Found"}, release)

    assert "model_registry feature flag" in found.hint


def test_grapes_route_not_found_is_an_unsupported_gitlab() -> None:
    found = translated(404, {"error": "404 Not Found"}, None)

    assert isinstance(found, UsageError) and "no Model registry API" in found.message


def test_a_missing_project_is_an_access_problem() -> None:
    found = translated(404, {"message": "404 Project Not Found"}, None)

    assert isinstance(found, AuthError)


def test_other_answers_keep_their_status() -> None:
    found = translated(400, {"error_code": "INVALID_PARAMETER_VALUE", "message": ["x"]}, None)

    assert isinstance(found, GitLabAnswer) and found.status == 400 and found.exit_code == 3


def refused_transfer(status: int, token_kind: str) -> GmrError:
    errors = TransferErrors(token_kind, "group/p", "group/ci")
    message = "404 Project Not Found" if status == 404 else f"HTTP {status}"
    with pytest.raises(GmrError) as caught, errors:
        raise TransferError(f"weights.bin: HTTP {status} ({message})", status=status)
    return caught.value


@pytest.mark.parametrize("status", [401, 403])
@pytest.mark.parametrize("token_kind", ["CI job token", "API token"])
def test_a_refused_transfer_names_the_token_and_what_to_change(
    status: int, token_kind: str
) -> None:
    refused = refused_transfer(status, token_kind)

    assert isinstance(refused, AuthError) and token_kind in refused.message
    assert "--upload-token" in refused.hint


def test_a_404_to_the_job_token_is_the_project_hidden_from_the_job_s_user() -> None:
    refused = refused_transfer(404, "CI job token")

    assert isinstance(refused, AuthError)
    assert "cannot see project group/p" in refused.hint and "--upload-token api" in refused.hint


def test_a_404_to_the_api_token_is_a_missing_file_whatever_the_message_says() -> None:
    # The API token resolved the version: GitLab's words ("Project Not Found") do not decide.
    missing = refused_transfer(404, "API token")

    assert isinstance(missing, TransferError) and not isinstance(missing, AuthError)
