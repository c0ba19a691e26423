"""Reference §10, the double's checklist: one test per item, through real HTTP."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from tests.gitlab_double.seed import DEVELOPER_TOKEN, JOB_ID, JOB_TOKEN, READ_API_TOKEN

from .helpers import (
    call,
    create_model,
    create_version,
    files_url,
    job_token,
    mlflow_url,
    model_with_version,
    packages_url,
    private_token,
    sha256,
    upload,
    version_request,
)


def test_01_mlflow_successes_are_200_and_errors_use_error_code_or_message_bodies(
    double: Any,
) -> None:
    base = double.url
    created = call("POST", mlflow_url(base, "registered-models/create"), json={"name": "m"})
    assert created.status_code == 200  # a create, yet 200: the MLflow client treats 201 as an error
    assert version_request(base, "m", "1.0.0").status_code == 200
    missing = call("GET", mlflow_url(base, "registered-models/get"), params={"name": "nope"})
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    grape = call("POST", mlflow_url(base, "registered-models/create"), json={})
    assert (grape.status_code, grape.json()) == (400, {"error": "name is missing"})
    anonymous = call(
        "GET", mlflow_url(base, "registered-models/get"), token=None, params={"name": "m"}
    )
    assert (anonymous.status_code, anonymous.json()) == (401, {"message": "401 Unauthorized"})


def test_02_version_is_the_db_id_the_semver_is_in_aliases_and_each_route_takes_its_own(
    double: Any,
) -> None:
    base = double.url
    version = model_with_version(base, "m", "1.2.0")
    version_id = version["version"]
    assert version_id.isdigit()
    assert version["aliases"] == ["1.2.0"]
    get = mlflow_url(base, "model-versions/get")
    by_semver = call("GET", get, params={"name": "m", "version": "1.2.0"})
    assert by_semver.status_code == 200
    assert by_semver.json()["model_version"]["version"] == version_id
    assert call("GET", get, params={"name": "m", "version": version_id}).status_code == 404
    update = mlflow_url(base, "model-versions/update")
    body = {"name": "m", "version": "1.2.0", "description": "new"}
    updated = call("PATCH", update, json=body)
    assert updated.status_code == 200
    assert updated.json()["model_version"]["description"] == "new"
    by_id = call("PATCH", update, json={**body, "version": version_id})
    assert (by_id.status_code, by_id.json()["error_code"]) == (400, "UPDATE_FAILED")
    uri = call(
        "GET",
        mlflow_url(base, "model-versions/get-download-uri"),
        params={"name": "m", "version": version_id},
    )
    assert uri.json() == {"artifact_uri": f"mlflow-artifacts:/{version_id}"}
    assert upload(base, version_id, "w.bin", b"weights").status_code == 201


def test_03_model_timestamps_are_seconds_and_run_times_keep_the_client_milliseconds(
    double: Any,
) -> None:
    base = double.url
    before = int(time.time()) - 1
    model = create_model(base, "m")
    version = create_version(base, "m", "1.0.0")
    after = int(time.time()) + 1
    for item in (model, version):
        assert before <= item["creation_timestamp"] <= after
        assert before <= item["last_updated_timestamp"] <= after
    experiment = call("POST", mlflow_url(base, "experiments/create"), json={"name": "exp"})
    experiment_id = experiment.json()["experiment_id"]
    start = 1_700_000_000_123
    run = call(
        "POST",
        mlflow_url(base, "runs/create"),
        json={"experiment_id": experiment_id, "start_time": start},
    )
    info = run.json()["run"]["info"]
    assert info["start_time"] == start
    metric = {"key": "loss", "value": 0.5, "timestamp": start + 333, "step": 3}
    logged = call(
        "POST", mlflow_url(base, "runs/log-metric"), json={"run_id": info["run_id"], **metric}
    )
    assert logged.status_code == 200
    got = call("GET", mlflow_url(base, "runs/get"), params={"run_id": info["run_id"]})
    assert got.json()["run"]["data"]["metrics"] == [metric]


def _search_names(base: str, **params: Any) -> tuple[list[str], Any]:
    resp = call("GET", mlflow_url(base, "registered-models/search"), params=params)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    return [model["name"] for model in body["registered_models"]], body["next_page_token"]


def test_04_search_filter_is_a_substring_match_and_the_last_page_token_is_null(double: Any) -> None:
    base = double.url
    for name in ("foo", "foo-bar", "baz"):
        create_model(base, name)
    assert _search_names(base, filter="name='foo'") == (["foo", "foo-bar"], None)
    assert _search_names(base, filter='name="foo"') == (["foo", "foo-bar"], None)
    seen: list[str] = []
    token = None
    for _ in range(5):  # 3 models, one per page: at most 4 pages
        names, token = _search_names(
            base, max_results=1, **({"page_token": token} if token else {})
        )
        seen += names
        if token is None:
            break
    assert (seen, token) == (["baz", "foo", "foo-bar"], None)
    bad = call("GET", mlflow_url(base, "registered-models/search"), params={"filter": "tags.a='b'"})
    assert (bad.status_code, bad.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


def test_05_create_failures_model_400_exists_version_400_invalid_array_unknown_model_404(
    double: Any,
) -> None:
    base = double.url
    create_model(base, "m")
    create = mlflow_url(base, "registered-models/create")
    for name in ("m", "bad name!"):  # duplicate, then invalid: the same answer
        resp = call("POST", create, json={"name": name})
        assert (resp.status_code, resp.json()["error_code"]) == (400, "RESOURCE_ALREADY_EXISTS")
    create_version(base, "m", "1.0.0")
    cases = {
        "1.2": ["Version must be semantic version"],
        "1.0.0": ["Version has already been taken"],
    }
    for semver, message in cases.items():
        resp = version_request(base, "m", semver)
        assert resp.status_code == 400
        assert resp.json() == {"error_code": "INVALID_PARAMETER_VALUE", "message": message}
    unknown = version_request(base, "nope", "1.0.0")
    assert (unknown.status_code, unknown.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_06_auto_increment_bumps_the_patch_of_the_highest_version_from_1_0_0(double: Any) -> None:
    base = double.url
    create_model(base, "m")
    assert create_version(base, "m")["aliases"] == ["1.0.0"]
    create_version(base, "m", "1.10.0")
    create_version(base, "m", "1.9.5")  # string order would call this the highest
    assert create_version(base, "m")["aliases"] == ["1.10.1"]
    create_model(base, "pre")
    create_version(base, "pre", "2.0.0-rc1")
    assert create_version(base, "pre")["aliases"] == ["2.0.1-rc1"]  # the suffix is kept


def test_07_version_create_makes_a_run_whose_artifact_uri_is_the_ml_models_files_url(
    double: Any,
) -> None:
    base = double.url
    version = model_with_version(base, "m", "1.0.0")
    uuid.UUID(version["run_id"])
    run = call("GET", mlflow_url(base, "runs/get"), params={"run_id": version["run_id"]})
    info = run.json()["run"]["info"]
    assert info["artifact_uri"] == files_url(base, version["version"], "")
    assert info["run_id"] == info["run_uuid"] == version["run_id"]
    experiment = call(
        "GET", mlflow_url(base, "experiments/get-by-name"), params={"experiment_name": "[model]m"}
    )
    assert experiment.json()["experiment"]["experiment_id"] == info["experiment_id"]
    packages = call("GET", packages_url(base), params={"package_type": "ml_model"}).json()
    assert [(p["name"], p["version"]) for p in packages] == [("m", "1.0.0")]


def test_08_set_tag_twice_is_400_and_ci_job_id_of_an_unknown_job_is_500(double: Any) -> None:
    base = double.url
    linked = model_with_version(base, "m", "1.0.0")
    other = create_version(base, "m", "1.0.1")

    def set_tag(run_id: str, key: str, value: str) -> Any:
        return call(
            "POST",
            mlflow_url(base, "runs/set-tag"),
            json={"run_id": run_id, "key": key, "value": value},
        )

    assert set_tag(linked["run_id"], "stage", "a").status_code == 200
    dup = set_tag(linked["run_id"], "stage", "b")
    assert (dup.status_code, dup.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert set_tag(linked["run_id"], "gitlab.CI_JOB_ID", JOB_ID).status_code == 200
    unknown = set_tag(other["run_id"], "gitlab.CI_JOB_ID", "999999")
    assert (unknown.status_code, unknown.json()) == (500, {"message": "500 Internal Server Error"})
    assert double.control.version("m", "1.0.0")["ci_job_id"] == JOB_ID


def test_09_ml_models_bearer_only_raw_body_encoded_paths_newest_wins_job_token(double: Any) -> None:
    base = double.url
    version_id = model_with_version(base, "m", "1.0.0")["version"]
    url = files_url(base, version_id, "w.bin")
    for ignored in (private_token(DEVELOPER_TOKEN), job_token(JOB_TOKEN)):
        resp = call("PUT", url, token=None, headers=ignored, data=b"x")
        assert resp.status_code == 401
    first = upload(base, version_id, "w.bin", b"--not-multipart--\r\n\x00\xff")
    assert (first.status_code, first.json()) == (201, {"message": "201 Created"})
    assert upload(base, version_id, "dir/w.bin", b"nested", token=JOB_TOKEN).status_code == 201
    assert upload(base, version_id, "w.bin", b"newer").status_code == 201
    assert upload(base, version_id, "bad$name.bin", b"x").status_code == 400
    assert call("GET", url).content == b"newer"
    files = double.control.version("m", "1.0.0")["files"]
    assert sorted((f["name"], f["sha256"]) for f in files) == [
        ("dir/w.bin", sha256(b"nested")),
        ("w.bin", sha256(b"newer")),
    ]
    mlflow_with_job = call(
        "GET", mlflow_url(base, "registered-models/get"), token=JOB_TOKEN, params={"name": "m"}
    )
    assert mlflow_with_job.status_code == 401


READ_API_REFUSED = [
    ("POST", "runs/search", {"experiment_ids": ["1"]}),
    ("POST", "experiments/search", {}),
    ("POST", "registered-models/get-latest-versions", {"name": "m"}),
    ("POST", "registered-models/create", {"name": "other"}),
    ("PATCH", "registered-models/update", {"name": "m", "description": "d"}),
    ("DELETE", "registered-models/delete", {"name": "m"}),
    ("POST", "model-versions/create", {"name": "m"}),
]


@pytest.mark.parametrize(
    ("method", "route", "body"), READ_API_REFUSED, ids=[r[1] for r in READ_API_REFUSED]
)
def test_10_read_api_token_is_refused_403_on_any_non_get_including_post_searches(
    double: Any, method: str, route: str, body: dict[str, Any]
) -> None:
    base = double.url
    model_with_version(base, "m", "1.0.0")
    resp = call(method, mlflow_url(base, route), token=READ_API_TOKEN, json=body)
    assert resp.status_code == 403
    assert resp.json()["error"] == "insufficient_scope"
    assert resp.json()["scope"] == "api"
    assert "error_description" in resp.json()
    get = call(
        "GET", mlflow_url(base, "registered-models/get"), token=READ_API_TOKEN, params={"name": "m"}
    )
    assert get.status_code == 200
