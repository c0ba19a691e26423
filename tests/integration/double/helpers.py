"""Small HTTP helpers for the double's tests: URLs, credential headers, registry set-up calls.

Every helper takes the GitLab base URL (``http://127.0.0.1:<port>``) so that the same code drives
the session double and the test-local doubles started with other command-line options.
"""

from __future__ import annotations

import hashlib
import http.client
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests

from tests.gitlab_double.seed import DEVELOPER_TOKEN

TIMEOUT = 10
Headers = dict[str, str]


def bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


def private_token(token: str) -> Headers:
    return {"PRIVATE-TOKEN": token}


def job_token(token: str) -> Headers:
    return {"JOB-TOKEN": token}


def no_credentials(_token: str) -> Headers:
    return {}


CREDENTIAL_KINDS: dict[str, Callable[[str], Headers]] = {
    "bearer": bearer,
    "private-token": private_token,
    "job-token": job_token,
    "none": no_credentials,
}


def mlflow_url(base: str, route: str, project: int | str = 1) -> str:
    return f"{base}/api/v4/projects/{project}/ml/mlflow/api/2.0/mlflow/{route}"


def artifacts_url(base: str, tail: str = "", project: int | str = 1) -> str:
    return f"{base}/api/v4/projects/{project}/ml/mlflow/api/2.0/mlflow-artifacts/artifacts{tail}"


def files_url(base: str, version_id: str, path: str, project: int | str = 1) -> str:
    return f"{base}/api/v4/projects/{project}/packages/ml_models/{version_id}/files/{path}"


def packages_url(base: str, tail: str = "", project: int | str = 1) -> str:
    return f"{base}/api/v4/projects/{project}/packages{tail}"


def call(
    method: str, url: str, token: str | None = DEVELOPER_TOKEN, **kwargs: Any
) -> requests.Response:
    """One request with a Bearer token (or none) and a timeout."""
    headers = {**(bearer(token) if token else {}), **kwargs.pop("headers", {})}
    return requests.request(method, url, headers=headers, timeout=TIMEOUT, **kwargs)


def create_model(base: str, name: str, project: int | str = 1, **fields: Any) -> dict[str, Any]:
    resp = call(
        "POST", mlflow_url(base, "registered-models/create", project), json={"name": name, **fields}
    )
    assert resp.status_code == 200, resp.text
    model: dict[str, Any] = resp.json()["registered_model"]
    return model


def version_request(
    base: str, name: str, semver: str | None = None, project: int | str = 1
) -> requests.Response:
    tags = [{"key": "gitlab.version", "value": semver}] if semver else []
    body = {"name": name, "tags": tags, "source": "s3://anything"}
    return call("POST", mlflow_url(base, "model-versions/create", project), json=body)


def create_version(
    base: str, name: str, semver: str | None = None, project: int | str = 1
) -> dict[str, Any]:
    """Create a version (``gitlab.version`` tag when semver is given); returns model_version."""
    resp = version_request(base, name, semver, project)
    assert resp.status_code == 200, resp.text
    version: dict[str, Any] = resp.json()["model_version"]
    return version


def model_with_version(base: str, name: str, semver: str = "1.0.0") -> dict[str, Any]:
    create_model(base, name)
    return create_version(base, name, semver)


def upload(
    base: str, version_id: str, path: str, data: Any, token: str | None = DEVELOPER_TOKEN
) -> requests.Response:
    return call("PUT", files_url(base, version_id, path), token=token, data=data)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def raw_request(
    method: str, url: str, headers: Headers | None = None, body: bytes | None = None
) -> tuple[int, bytes]:
    """Send the path exactly as written (requests/urllib3 would remove ``..`` segments)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=TIMEOUT)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, target, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()
