"""GitLab's disorder in the double: overlapping creates, translated messages, switched-off
features, older releases' shapes (reference §1.5, §1.6 corrections, §9, §11.7)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.gitlab_double.seed import DEVELOPER_TOKEN

from .helpers import (
    call,
    create_model,
    create_version,
    files_url,
    mlflow_url,
    model_with_version,
    packages_url,
    version_request,
)
from .standalone import running


def _overlapping_creates(base: str, count: int) -> list[requests.Response]:
    results: list[requests.Response] = []
    lock = threading.Lock()

    def create() -> None:
        response = version_request(base, "iris", "1.0.0")
        with lock:
            results.append(response)

    threads = [threading.Thread(target=create) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_overlapping_creates_lose_on_the_unique_index_not_the_validation(
    faulty_double: Any,
) -> None:
    create_model(faulty_double.url, "iris")
    faulty_double.control.set_faults(race_window_ms=300)

    results = _overlapping_creates(faulty_double.url, 3)

    assert sorted(r.status_code for r in results) == [200, 400, 400]
    for lost in (r for r in results if r.status_code == 400):
        body = lost.json()
        assert body["error_code"] == "INVALID_PARAMETER_VALUE"
        assert body["message"].startswith("PG::UniqueViolation: ERROR:  duplicate key value")
    assert len(faulty_double.control.model("iris")["versions"]) == 1


def test_without_a_window_a_duplicate_meets_the_validation_in_the_users_language(
    double: Any,
) -> None:
    model_with_version(double.url, "iris", "1.0.0")
    english = version_request(double.url, "iris", "1.0.0")
    double.control.set_language(DEVELOPER_TOKEN, "de")
    german = version_request(double.url, "iris", "1.0.0")
    not_semver = version_request(double.url, "iris", "v1")

    assert english.json()["message"] == ["Version has already been taken"]
    assert german.status_code == 400
    assert german.json() == {
        "error_code": "INVALID_PARAMETER_VALUE",
        "message": ["Version ist bereits vergeben"],
    }
    assert not_semver.json()["message"] == ["Version muss eine semantische Version sein"]


def test_a_switched_off_model_registry_answers_a_bare_404_on_every_ml_route(
    double: Any,
) -> None:
    version = model_with_version(double.url, "iris")
    double.control.set_features(model_registry=False)

    answers = [
        call("GET", mlflow_url(double.url, "registered-models/get"), params={"name": "iris"}),
        call("GET", mlflow_url(double.url, "registered-models/get"), params={"name": "nope"}),
        call("POST", mlflow_url(double.url, "model-versions/create"), json={"name": "iris"}),
        call("GET", files_url(double.url, version["version"], "a.bin")),
        call("PUT", files_url(double.url, version["version"], "a.bin"), data=b"x"),
    ]

    assert [(a.status_code, a.json()) for a in answers] == [
        (404, {"message": "404 Not Found"})
    ] * len(answers)
    assert call("GET", packages_url(double.url)).status_code == 200
    double.control.set_features(model_registry=True)
    missing = call("GET", mlflow_url(double.url, "registered-models/get"), params={"name": "no"})
    assert missing.json() == {"error_code": "RESOURCE_DOES_NOT_EXIST"}


def test_a_switched_off_package_registry_forbids_the_packages_api(double: Any) -> None:
    double.control.set_features(packages=False)

    listed = call("GET", packages_url(double.url))
    project = call("GET", f"{double.url}/api/v4/projects/1")

    assert (listed.status_code, listed.json()) == (403, {"message": "403 Forbidden"})
    assert project.json()["packages_enabled"] is False


def test_version_route_names_the_release_to_authenticated_callers(double: Any) -> None:
    double.control.set_release("17.5")

    assert call("GET", f"{double.url}/api/v4/version").json()["version"] == "17.5.0"
    assert call("GET", f"{double.url}/api/v4/version", token=None).status_code == 401


def _registered(base: str) -> dict[str, Any]:
    found = call("GET", mlflow_url(base, "registered-models/get"), params={"name": "iris"})
    registered: dict[str, Any] = found.json()["registered_model"]
    return registered


@pytest.mark.parametrize(
    ("release", "version_is_id", "raw_rows"),
    [("17.0", False, True), ("17.5", True, True), ("18.6", True, False)],
)
def test_each_release_renders_its_shapes(
    double: Any, release: str, version_is_id: bool, raw_rows: bool
) -> None:
    double.control.set_release(release)
    create_model(double.url, "iris")
    created = create_version(double.url, "iris", "1.2.3")
    version_id = double.control.version("iris", "1.2.3")["id"]

    assert created["version"] == (str(version_id) if version_is_id else "1.2.3")
    assert created["aliases"] == (["1.2.3"] if version_is_id else [])
    (listed,) = _registered(double.url)["latest_versions"]
    if raw_rows:
        assert (listed["id"], listed["version"]) == (version_id, "1.2.3")
        assert "tags" not in listed and "aliases" not in listed
    else:
        assert listed == created


def test_start_up_flags_set_release_language_features_and_window(tmp_path: Path) -> None:
    flags = ["--gitlab-version", "17.5", "--language", f"{DEVELOPER_TOKEN}:de"]
    flags += ["--feature-off", "2:model_registry", "--race-window-ms", "1"]
    with running(tmp_path, *flags) as server:
        assert call("GET", f"{server.url}/api/v4/version").json()["version"] == "17.5.0"
        model_with_version(server.url, "iris", "1.0.0")
        duplicate = version_request(server.url, "iris", "1.0.0")
        assert duplicate.json()["message"] == ["Version ist bereits vergeben"]
        off = call("GET", mlflow_url(server.url, "registered-models/get", 2), params={"name": "x"})
        assert off.json() == {"message": "404 Not Found"}


def test_before_16_8_there_are_no_registry_routes(double: Any) -> None:
    double.control.set_release("16.7")

    answer = call("GET", mlflow_url(double.url, "registered-models/get"), params={"name": "x"})
    experiments = call("GET", mlflow_url(double.url, "experiments/list"))

    assert (answer.status_code, answer.json()) == (404, {"error": "404 Not Found"})
    assert experiments.status_code == 200


def test_switched_off_experiments_close_runs_too_registry_off_closes_only_the_registry(
    double: Any,
) -> None:
    version = model_with_version(double.url, "iris")
    run = {"run_id": version["run_id"]}
    double.control.set_features(model_registry=False)
    registry_off = call("GET", mlflow_url(double.url, "runs/get"), params=run)
    double.control.set_features(model_registry=True, model_experiments=False)
    experiments_off = call("GET", mlflow_url(double.url, "runs/get"), params=run)
    models = call("GET", mlflow_url(double.url, "registered-models/get"), params={"name": "iris"})

    assert registry_off.status_code == 200
    assert (experiments_off.status_code, experiments_off.json()) == (
        404,
        {"message": "404 Not Found"},
    )
    assert (models.status_code, models.json()) == (404, {"message": "404 Not Found"})


def test_overlapping_model_creates_lose_on_the_experiments_unique_index(
    faulty_double: Any,
) -> None:
    faulty_double.control.set_faults(race_window_ms=300)
    results: list[requests.Response] = []
    url = mlflow_url(faulty_double.url, "registered-models/create")
    threads = [
        threading.Thread(target=lambda: results.append(call("POST", url, json={"name": "iris"})))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(r.status_code for r in results) == [200, 400]
    (lost,) = (r.json() for r in results if r.status_code == 400)
    assert lost["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "index_ml_experiments_on_project_id_and_name" in lost["message"]
    assert len(faulty_double.control.state()["projects"][0]["models"]) == 1
