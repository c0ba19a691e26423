"""`gmr` on a GitLab as it really is: switched-off features, deleted packages, releases too old,
server failures on model creation, GitLab's limits and clock (reference §1.6, §9, §11)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from tests.gitlab_double.pytest_plugin import Double
from tests.integration.publish.conftest import Gmr, Run, seed_versions, writes


def error_line(run: Run) -> str:
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, run.stderr
    return errors[0]


@pytest.mark.parametrize(
    ("command", "feature"),
    [
        ("publish", "model_registry"),
        ("versions", "model_experiments"),
        ("download", "model_registry"),
    ],
)
def test_a_switched_off_model_registry_is_one_configuration_error(
    gmr: Gmr, double: Double, model_dir: Path, command: str, feature: str
) -> None:
    seed_versions(double, "iris", ["1.0.0"])
    double.control.set_features(**{feature: False})
    args = {
        "publish": ["publish", "iris", str(model_dir)],
        "versions": ["versions", "iris"],
        "download": ["download", "iris", "latest", "--dest", str(model_dir.parent / "out")],
    }[command]
    before = len(writes(double))

    run = gmr(*args)

    assert run.code == 2, run.stderr
    line = error_line(run)
    assert "the Model registry is switched off for project '1'" in line
    assert "Model experiments and Model registry" in line
    assert "feature flag" not in line  # GitLab said it is 18.6: no flag to enable
    assert len(writes(double)) == before


def test_before_17_6_the_feature_flag_is_named_too(gmr: Gmr, double: Double) -> None:
    double.control.set_release("17.5")
    double.control.set_features(model_registry=False)

    run = gmr("versions", "iris")

    assert run.code == 2, run.stderr
    assert "an administrator must also enable the model_registry feature flag" in error_line(run)


def test_a_missing_model_is_still_a_missing_model(gmr: Gmr) -> None:
    run = gmr("download", "nope", "latest", "--dest", "out")

    assert run.code == 3, run.stderr
    assert "switched off" not in error_line(run)


def test_a_version_whose_package_was_deleted_still_holds_its_number(
    gmr: Gmr, double: Double, model_dir: Path
) -> None:
    seed_versions(double, "iris", ["1.0.0", "1.0.1"])
    package = next(
        p
        for p in requests.get(
            f"{double.api_url}/projects/1/packages",
            headers={"PRIVATE-TOKEN": double.maintainer_token},
            timeout=10,
        ).json()
        if p["version"] == "1.0.1"
    )
    deleted = requests.delete(
        f"{double.api_url}/projects/1/packages/{package['id']}",
        headers={"PRIVATE-TOKEN": double.maintainer_token},
        timeout=10,
    )
    assert deleted.status_code == 204

    listed = gmr("versions", "iris")
    fetched = gmr("download", "iris", "1.0.1", "--dest", "out")
    run = gmr("publish", "iris", str(model_dir / "config.json"), "--bump", "patch", "--json")

    assert listed.code == 0 and "1.0.1" in listed.stdout, listed.stderr
    assert fetched.code == 3 and "iris 1.0.1 has no files" in error_line(fetched)
    assert not (gmr.cwd / "out").exists()
    assert run.code == 0, run.stderr
    assert run.json["version"] == "1.0.2"
    assert sorted(v["version"] for v in double.control.model("iris")["versions"]) == [
        "1.0.0",
        "1.0.1",
        "1.0.2",
    ]


def test_a_release_before_17_0_is_refused_before_any_write(
    gmr: Gmr, double: Double, model_dir: Path
) -> None:
    double.control.set_release("16.11")

    run = gmr("publish", "iris", str(model_dir))

    assert run.code == 2, run.stderr
    line = error_line(run)
    assert "GitLab 16.11.0 is older than 17.0, the oldest release gmr supports" in line
    assert writes(double) == []
    assert [r["path"] for r in double.control.requests()] == ["/api/v4/version"]


def test_an_older_release_is_refused_from_its_routes_when_its_release_is_unreadable(
    gmr: Gmr, double: Double, model_dir: Path
) -> None:
    double.control.set_release("16.5")
    double.control.set_faults(fault_rate=1.0, fault_statuses=[503], fault_path="/api/v4/version")
    try:
        run = gmr("publish", "iris", str(model_dir))
        written = writes(double)
        asked = {r["path"].rsplit("/mlflow/", 1)[-1] for r in double.control.requests()}
    finally:
        double.control.reset()

    assert run.code == 2, run.stderr
    line = error_line(run)
    assert "this GitLab has no Model registry API" in line and "17.0 or later" in line
    assert written == []
    assert asked == {"/api/v4/version", "registered-models/get"}


def test_server_errors_on_model_creation_are_a_registry_failure_not_a_naming_problem(
    gmr: Gmr, double: Double, model_dir: Path
) -> None:
    create = "registered-models/create"
    double.control.set_faults(fault_rate=1.0, fault_statuses=[503], fault_path=create)
    try:
        run = gmr("publish", "iris", str(model_dir))
    finally:
        double.control.reset()

    assert run.code == 3, run.stderr
    line = error_line(run)
    assert "calling MLflow registered-models/create failed after 6 attempts: HTTP 503" in line
    assert run.stderr.count("retrying calling MLflow registered-models/create") == 5
    assert "letters, digits" not in run.stderr


def test_a_switched_off_package_registry_is_not_blamed_on_the_token(
    gmr: Gmr, double: Double, model_dir: Path
) -> None:
    double.control.set_features(packages=False)

    run = gmr("publish", "iris", str(model_dir))

    assert run.code == 2, run.stderr
    line = error_line(run)
    assert "the Package registry is switched off for project '1'" in line
    assert "token" not in line


def test_a_description_over_gitlabs_limit_is_refused_before_any_request(
    gmr: Gmr, double: Double, model_dir: Path
) -> None:
    run = gmr("publish", "iris", str(model_dir), "--description", "x" * 10_001)

    assert run.code == 2, run.stderr
    assert "the description has 10001 characters" in error_line(run)
    assert double.control.requests() == []


def test_metrics_carry_the_time_they_were_logged(gmr: Gmr, double: Double, model_dir: Path) -> None:
    before_ms = int(time.time() * 1000)
    run = gmr("publish", "iris", str(model_dir), "--metric", "loss=0.2")
    after_ms = int(time.time() * 1000)

    assert run.code == 0, run.stderr
    version = double.control.version("iris", "1.0.0")
    response = requests.get(
        f"{double.tracking_uri()}/api/2.0/mlflow/runs/get",
        params={"run_id": version["run_id"]},
        headers={"Authorization": f"Bearer {double.developer_token}"},
        timeout=10,
    )
    (metric,) = response.json()["run"]["data"]["metrics"]
    assert before_ms <= metric["timestamp"] <= after_ms
