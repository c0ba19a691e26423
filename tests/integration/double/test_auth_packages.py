"""Reference §2, §7 and §11.1: who may upload model files and use the packages REST API."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import requests

from tests.gitlab_double.seed import (
    DEVELOPER_TOKEN,
    GUEST_TOKEN,
    JOB_TOKEN,
    MAINTAINER_TOKEN,
    OWNER_TOKEN,
    READ_API_TOKEN,
    REPORTER_JOB_TOKEN,
    REPORTER_TOKEN,
)

from .helpers import CREDENTIAL_KINDS, TIMEOUT, call, files_url, model_with_version, packages_url

UNAUTHORIZED = {"message": "401 Unauthorized"}
PROJECT_NOT_FOUND = {"message": "404 Project Not Found"}


@pytest.fixture
def version_id(double: Any) -> str:
    """A model version (with its package and one file) made by a developer."""
    version: str = model_with_version(double.url, "m", "1.0.0")["version"]
    assert call("PUT", files_url(double.url, version, "w.bin"), data=b"weights").status_code == 201
    return version


def _package_id(base: str) -> int:
    packages = call("GET", packages_url(base), params={"package_type": "ml_model"}).json()
    package_id: int = packages[0]["id"]
    return package_id


# §2 and §7: uploads take only `Authorization: Bearer`, with a PAT or a CI job token, Developer+.
UPLOADERS = [
    ("bearer", DEVELOPER_TOKEN, 201),
    ("bearer", MAINTAINER_TOKEN, 201),
    ("bearer", OWNER_TOKEN, 201),
    ("bearer", JOB_TOKEN, 201),  # the job's role is developer
    ("bearer", GUEST_TOKEN, 403),
    ("bearer", REPORTER_TOKEN, 403),
    ("bearer", REPORTER_JOB_TOKEN, 403),
    ("bearer", READ_API_TOKEN, 403),  # insufficient_scope
    ("bearer", "glpat-not-a-token", 401),
    ("private-token", DEVELOPER_TOKEN, 401),  # ignored: the request is anonymous
    ("job-token", JOB_TOKEN, 401),  # ignored as well
    ("none", "", 401),
]


@pytest.mark.parametrize(
    ("kind", "token", "status"), UPLOADERS, ids=[f"{k}-{t or 'none'}" for k, t, _ in UPLOADERS]
)
def test_ml_models_upload_needs_a_bearer_token_of_a_developer_or_a_developer_job(
    double: Any, version_id: str, kind: str, token: str, status: int
) -> None:
    url = files_url(double.url, version_id, "new.bin")
    headers = CREDENTIAL_KINDS[kind](token)
    resp = requests.put(url, headers=headers, data=b"x", timeout=TIMEOUT)
    assert resp.status_code == status, resp.text
    if token == READ_API_TOKEN:
        assert resp.json()["error"] == "insufficient_scope"
    stored = {f["name"] for f in double.control.version("m", "1.0.0")["files"]}
    assert ("new.bin" in stored) == (status == 201)


@pytest.mark.parametrize(
    "token",
    [GUEST_TOKEN, REPORTER_TOKEN, DEVELOPER_TOKEN, READ_API_TOKEN, JOB_TOKEN, REPORTER_JOB_TOKEN],
)
def test_ml_models_download_is_open_to_guest_and_up_and_to_job_tokens_as_bearer(
    double: Any, version_id: str, token: str
) -> None:
    resp = call("GET", files_url(double.url, version_id, "w.bin"), token=token)
    assert (resp.status_code, resp.content) == (200, b"weights")


def test_ml_models_unknown_project_is_404_project_not_found(double: Any, version_id: str) -> None:
    resp = call("PUT", files_url(double.url, version_id, "w.bin", project=999), data=b"x")
    assert (resp.status_code, resp.json()) == (404, PROJECT_NOT_FOUND)


# §11.1: the packages API reads every credential kind, job tokens included.
PACKAGE_READERS = [
    ("bearer", DEVELOPER_TOKEN, 200),
    ("private-token", DEVELOPER_TOKEN, 200),
    ("bearer", JOB_TOKEN, 200),
    ("job-token", JOB_TOKEN, 200),
    ("private-token", REPORTER_TOKEN, 200),
    ("private-token", MAINTAINER_TOKEN, 200),
    ("private-token", OWNER_TOKEN, 200),
    ("private-token", READ_API_TOKEN, 200),
    ("job-token", REPORTER_JOB_TOKEN, 200),
    ("private-token", "glpat-not-a-token", 401),
]


@pytest.mark.parametrize(
    ("kind", "token", "status"),
    PACKAGE_READERS,
    ids=[f"{k}-{t}" for k, t, _ in PACKAGE_READERS],
)
def test_packages_api_reads_with_any_credential_kind_reporter_and_up(
    double: Any, version_id: str, kind: str, token: str, status: int
) -> None:
    resp = requests.get(
        packages_url(double.url), headers=CREDENTIAL_KINDS[kind](token), timeout=TIMEOUT
    )
    assert resp.status_code == status, resp.text
    if status == 200:
        assert [p["name"] for p in resp.json()] == ["m"]


@pytest.mark.parametrize(
    "params",
    [{"private_token": DEVELOPER_TOKEN}, {"job_token": JOB_TOKEN}],
    ids=["private_token", "job_token"],
)
def test_packages_api_reads_credentials_from_query_parameters(
    double: Any, version_id: str, params: dict[str, str]
) -> None:
    resp = requests.get(packages_url(double.url), params=params, timeout=TIMEOUT)
    assert resp.status_code == 200


def test_packages_api_without_access_answers_404_project_not_found(
    double: Any, version_id: str
) -> None:
    basic = "Basic " + base64.b64encode(f"gitlab-ci-token:{JOB_TOKEN}".encode()).decode()
    for headers in ({}, {"Authorization": basic}):  # anonymous; Basic auth is not read here
        resp = requests.get(packages_url(double.url), headers=headers, timeout=TIMEOUT)
        assert (resp.status_code, resp.json()) == (404, PROJECT_NOT_FOUND)
    unknown = call("GET", packages_url(double.url, project=999))
    assert (unknown.status_code, unknown.json()) == (404, PROJECT_NOT_FOUND)


DELETERS = [
    ("private-token", MAINTAINER_TOKEN, 204),
    ("private-token", OWNER_TOKEN, 204),
    ("bearer", MAINTAINER_TOKEN, 204),
    ("private-token", DEVELOPER_TOKEN, 403),
    ("private-token", REPORTER_TOKEN, 403),
    ("job-token", JOB_TOKEN, 403),  # the job acts as a developer
    ("private-token", READ_API_TOKEN, 403),  # insufficient_scope: DELETE needs api
]


@pytest.mark.parametrize(
    ("kind", "token", "status"), DELETERS, ids=[f"{k}-{t}" for k, t, _ in DELETERS]
)
def test_packages_delete_needs_maintainer_and_the_api_scope(
    double: Any, version_id: str, kind: str, token: str, status: int
) -> None:
    package_id = _package_id(double.url)
    url = packages_url(double.url, f"/{package_id}")
    resp = requests.delete(url, headers=CREDENTIAL_KINDS[kind](token), timeout=TIMEOUT)
    assert resp.status_code == status, resp.text
    if token == READ_API_TOKEN:
        assert resp.json()["error"] == "insufficient_scope"
    remaining = call("GET", packages_url(double.url)).json()
    assert len(remaining) == (0 if status == 204 else 1)


@pytest.mark.parametrize(("token", "status"), [(MAINTAINER_TOKEN, 204), (DEVELOPER_TOKEN, 403)])
def test_package_file_delete_needs_maintainer(
    double: Any, version_id: str, token: str, status: int
) -> None:
    package_id = _package_id(double.url)
    files_path = packages_url(double.url, f"/{package_id}/package_files")
    file_id = call("GET", files_path).json()[0]["id"]
    resp = call("DELETE", f"{files_path}/{file_id}", token=token)
    assert resp.status_code == status, resp.text
    assert len(call("GET", files_path).json()) == (0 if status == 204 else 1)
