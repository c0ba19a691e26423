"""Reference §1.1, §1.2, §7 for the MLflow API: credentials, scopes, roles, 401/403/404."""

from __future__ import annotations

from collections.abc import Callable
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
    REPORTER_TOKEN,
)

from .helpers import (
    CREDENTIAL_KINDS,
    TIMEOUT,
    artifacts_url,
    call,
    create_model,
    mlflow_url,
    model_with_version,
)

UNAUTHORIZED = {"message": "401 Unauthorized"}
PROJECT_NOT_FOUND = {"message": "404 Project Not Found"}


def _search(base: str, headers: dict[str, str], **params: str) -> requests.Response:
    url = mlflow_url(base, "registered-models/search")
    return requests.get(url, headers=headers, params=params, timeout=TIMEOUT)


# §1.1 and §7: which credential reaches the MLflow API (a GET, so only the credential matters).
MLFLOW_CREDENTIALS = [
    ("bearer", DEVELOPER_TOKEN, 200),
    ("private-token", DEVELOPER_TOKEN, 200),
    ("bearer", JOB_TOKEN, 401),  # a glcbt- token is skipped by the PAT finder
    ("job-token", JOB_TOKEN, 401),  # the MLflow routes do not allow job tokens
    ("private-token", JOB_TOKEN, 401),
    ("bearer", "glpat-not-a-token", 401),
    ("none", "", 401),
]


@pytest.mark.parametrize(("kind", "token", "status"), MLFLOW_CREDENTIALS)
def test_mlflow_api_accepts_personal_tokens_and_refuses_job_tokens_in_any_header(
    double: Any, kind: str, token: str, status: int
) -> None:
    resp = _search(double.url, CREDENTIAL_KINDS[kind](token))
    assert resp.status_code == status
    if status == 401 and kind != "bearer":  # an invalid bearer may get an OAuth-style body
        assert resp.json() == UNAUTHORIZED


def test_mlflow_api_accepts_the_private_token_query_parameter(double: Any) -> None:
    assert _search(double.url, {}, private_token=DEVELOPER_TOKEN).status_code == 200


@pytest.mark.parametrize("kind", ["bearer", "private-token"])
def test_mlflow_read_api_scope_may_get_but_not_post(double: Any, kind: str) -> None:
    headers = CREDENTIAL_KINDS[kind](READ_API_TOKEN)
    assert _search(double.url, headers).status_code == 200
    url = mlflow_url(double.url, "experiments/search")
    resp = requests.post(url, headers=headers, json={}, timeout=TIMEOUT)
    assert resp.status_code == 403
    assert resp.json()["error"] == "insufficient_scope"


def _experiment_and_run(base: str) -> tuple[str, str]:
    made = call("POST", mlflow_url(base, "experiments/create"), json={"name": "exp"})
    experiment_id = made.json()["experiment_id"]
    run = call("POST", mlflow_url(base, "runs/create"), json={"experiment_id": experiment_id})
    return experiment_id, run.json()["run"]["info"]["run_id"]


def _experiment_writes(base: str) -> dict[str, tuple[str, str, dict[str, Any]]]:
    experiment_id, run_id = _experiment_and_run(base)
    metric = {"run_id": run_id, "key": "k", "value": 1.0, "timestamp": 1}
    return {
        "experiments/create": ("POST", "experiments/create", {"name": "other"}),
        "runs/create": ("POST", "runs/create", {"experiment_id": experiment_id}),
        "runs/log-metric": ("POST", "runs/log-metric", metric),
        "runs/log-parameter": (
            "POST",
            "runs/log-parameter",
            {"run_id": run_id, "key": "p", "value": "v"},
        ),
        "runs/set-tag": ("POST", "runs/set-tag", {"run_id": run_id, "key": "t", "value": "v"}),
        "runs/update": ("POST", "runs/update", {"run_id": run_id, "status": "FINISHED"}),
        "runs/search": ("POST", "runs/search", {"experiment_ids": [experiment_id]}),
    }


def _registry_writes(base: str) -> dict[str, tuple[str, str, dict[str, Any]]]:
    model_with_version(base, "m", "1.0.0")
    return {
        "registered-models/create": ("POST", "registered-models/create", {"name": "other"}),
        "registered-models/update": (
            "PATCH",
            "registered-models/update",
            {"name": "m", "description": "d"},
        ),
        "registered-models/delete": ("DELETE", "registered-models/delete", {"name": "m"}),
        "model-versions/create": ("POST", "model-versions/create", {"name": "m"}),
        "model-versions/update": (
            "PATCH",
            "model-versions/update",
            {"name": "m", "version": "1.0.0", "description": "d"},
        ),
    }


ROLES = [
    ("guest", GUEST_TOKEN, 401),
    ("reporter", REPORTER_TOKEN, 401),
    ("developer", DEVELOPER_TOKEN, 200),
    ("maintainer", MAINTAINER_TOKEN, 200),
    ("owner", OWNER_TOKEN, 200),
]
EXPERIMENT_WRITES = [
    "experiments/create",
    "runs/create",
    "runs/log-metric",
    "runs/log-parameter",
    "runs/set-tag",
    "runs/update",
    "runs/search",
]
REGISTRY_WRITES = [
    "registered-models/create",
    "registered-models/update",
    "registered-models/delete",
    "model-versions/create",
    "model-versions/update",
]


def _assert_write(
    base: str, setup: Callable[[str], dict[str, Any]], name: str, token: str, status: int
) -> None:
    method, route, body = setup(base)[name]
    resp = call(method, mlflow_url(base, route), token=token, json=body)
    assert resp.status_code == status, resp.text
    if status == 401:
        assert resp.json() == UNAUTHORIZED  # sic: 401, not 403, for a missing write permission


@pytest.mark.parametrize("operation", EXPERIMENT_WRITES)
@pytest.mark.parametrize(("role", "token", "status"), ROLES, ids=[r[0] for r in ROLES])
def test_mlflow_non_get_on_experiments_and_runs_needs_developer_else_401(
    double: Any, operation: str, role: str, token: str, status: int
) -> None:
    _assert_write(double.url, _experiment_writes, operation, token, status)


@pytest.mark.parametrize("operation", REGISTRY_WRITES)
@pytest.mark.parametrize(("role", "token", "status"), ROLES, ids=[r[0] for r in ROLES])
def test_mlflow_registry_writes_need_developer_else_401(
    double: Any, operation: str, role: str, token: str, status: int
) -> None:
    _assert_write(double.url, _registry_writes, operation, token, status)


@pytest.mark.parametrize("token", [GUEST_TOKEN, REPORTER_TOKEN], ids=["guest", "reporter"])
def test_mlflow_reads_are_open_to_guest_and_up_on_a_private_project(
    double: Any, token: str
) -> None:
    base = double.url
    version = model_with_version(base, "m", "1.0.0")
    reads = [
        (mlflow_url(base, "registered-models/get"), {"name": "m"}),
        (mlflow_url(base, "model-versions/get"), {"name": "m", "version": "1.0.0"}),
        (mlflow_url(base, "runs/get"), {"run_id": version["run_id"]}),
        (mlflow_url(base, "experiments/get-by-name"), {"experiment_name": "[model]m"}),
        (artifacts_url(base), {"path": version["version"]}),
    ]
    for url, params in reads:
        assert call("GET", url, token=token, params=params).status_code == 200, url


@pytest.mark.parametrize(
    ("method", "route"),
    [
        ("GET", "registered-models/get"),
        ("POST", "registered-models/create"),
        ("POST", "runs/search"),
    ],
)
def test_mlflow_without_credentials_is_401(double: Any, method: str, route: str) -> None:
    create_model(double.url, "m")
    resp = call(
        method, mlflow_url(double.url, route), token=None, params={"name": "m"}, json={"name": "x"}
    )
    assert (resp.status_code, resp.json()) == (401, UNAUTHORIZED)


@pytest.mark.parametrize("project", ["999", "group%2Fnope"])
def test_mlflow_unknown_project_is_404_project_not_found(double: Any, project: str) -> None:
    url = mlflow_url(double.url, "registered-models/search", project)
    resp = call("GET", url)
    assert (resp.status_code, resp.json()) == (404, PROJECT_NOT_FOUND)


def test_mlflow_project_is_addressed_by_id_or_url_encoded_path(double: Any) -> None:
    create_model(double.url, "m")
    by_path = call(
        "GET",
        mlflow_url(double.url, "registered-models/get", "group%2Fproject"),
        params={"name": "m"},
    )
    assert by_path.status_code == 200
    assert by_path.json()["registered_model"]["name"] == "m"
