"""Smoke test of the GitLab double fixture itself (the double's behaviour is specified in
tests/integration/double/)."""

from __future__ import annotations

import hashlib

import requests

from tests.gitlab_double import seed
from tests.gitlab_double.pytest_plugin import Double

TIMEOUT = 10


def _mlflow(double: Double, route: str, body: dict[str, object]) -> dict[str, object]:
    response = requests.post(
        f"{double.tracking_uri()}/api/2.0/mlflow/{route}",
        json=body,
        headers={"Authorization": f"Bearer {seed.DEVELOPER_TOKEN}"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def test_a_version_file_round_trips_and_shows_in_state_and_request_log(double: Double) -> None:
    _mlflow(double, "registered-models/create", {"name": "smoke"})
    created = _mlflow(double, "model-versions/create", {"name": "smoke"})
    version_id = created["model_version"]["version"]  # type: ignore[index]
    url = f"{double.api_url}/projects/1/packages/ml_models/{version_id}/files/dir/w.bin"
    payload = b"weights" * 1000
    bearer = {"Authorization": f"Bearer {seed.JOB_TOKEN}"}

    put = requests.put(url, data=payload, headers=bearer, timeout=TIMEOUT)
    got = requests.get(url, headers=bearer, timeout=TIMEOUT)

    assert (put.status_code, put.json()) == (201, {"message": "201 Created"})
    assert got.content == payload
    version = double.control.version("smoke", "1.0.0")
    assert version is not None
    expected = {
        "name": "dir/w.bin",
        "size": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
    }
    assert version["files"] == [expected]
    log = double.control.requests()
    assert [(e["method"], e["status"], e["credential"]) for e in log][-2:] == [
        ("PUT", 201, "bearer"),
        ("GET", 200, "bearer"),
    ]
    assert all(seed.JOB_TOKEN not in str(e) for e in log)


def test_private_token_is_ignored_on_model_files(double: Double) -> None:
    url = f"{double.api_url}/projects/1/packages/ml_models/1/files/w.bin"
    headers = {"PRIVATE-TOKEN": seed.DEVELOPER_TOKEN}

    response = requests.put(url, data=b"x", headers=headers, timeout=TIMEOUT)

    assert (response.status_code, response.json()) == (401, {"message": "401 Unauthorized"})


def test_reset_forgets_models_and_requests(double: Double) -> None:
    _mlflow(double, "registered-models/create", {"name": "gone"})

    double.control.reset()

    assert double.control.model("gone") is None
    assert double.control.requests() == []
