"""Models and semver versions on MLflow (a real server and SQLite, via ``mlflow_backend_uri``)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from mlflow import MlflowClient

from gitlab_model_registry.backends.mlflow import SEMVER_TAG, MlflowBackend, semver_alias
from gitlab_model_registry.errors import NotFoundError, VersionTakenError

SEMVERS = ["1.0.0", "1.1.0-rc.1", "2.0.0+build.5", "10.20.30-mr.7.42"]


def _together(count: int, action: Callable[[], Any]) -> list[Any]:
    """Run ``action`` on ``count`` threads released at once; results or raised exceptions."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        barrier.wait(timeout=30)
        try:
            results[index] = action()
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_create_model_is_idempotent(mlflow_backend: MlflowBackend, unique_model: str) -> None:
    assert mlflow_backend.get_model(unique_model) is None
    created = mlflow_backend.create_model(unique_model, "first")
    again = mlflow_backend.create_model(unique_model, "second")
    assert created.name == again.name == unique_model
    assert again.description == "first"
    found = mlflow_backend.get_model(unique_model)
    assert found is not None and found.name == unique_model


def test_concurrent_model_creation_returns_the_model(
    mlflow_backend: MlflowBackend, unique_model: str
) -> None:
    results = _together(4, lambda: mlflow_backend.create_model(unique_model, "raced"))
    assert [r.name for r in results] == [unique_model] * 4


def test_versions_are_found_by_semver(mlflow_backend: MlflowBackend, unique_model: str) -> None:
    mlflow_backend.create_model(unique_model, "")
    created = {
        v: mlflow_backend.create_version(unique_model, v, f"d {v}", {"ci.x": v}) for v in SEMVERS
    }
    listed = {mv.version: mv for mv in mlflow_backend.list_versions(unique_model)}
    assert set(listed) == set(SEMVERS)
    for semver, mv in created.items():
        found = mlflow_backend.get_version(unique_model, semver)
        assert found == mv == listed[semver]
        assert found.version_id.isdigit()
        assert found.description == f"d {semver}"
        assert found.tags["ci.x"] == semver and found.tags[SEMVER_TAG] == semver
        assert found.run_id and found.package_url and found.created_at
    assert len({mv.version_id for mv in created.values()}) == len(SEMVERS)
    assert mlflow_backend.get_version(unique_model, "9.9.9") is None


def test_web_url_points_at_the_ui_for_servers_only(
    mlflow_backend: MlflowBackend, unique_model: str
) -> None:
    mlflow_backend.create_model(unique_model, "")
    mv = mlflow_backend.create_version(unique_model, "1.0.0", "", {})
    if mlflow_backend.tracking_uri.startswith("http"):
        expected = f"{mlflow_backend.tracking_uri}/#/models/{unique_model}/versions/{mv.version_id}"
        assert mv.web_url == expected
    else:
        assert mv.web_url == ""


def test_missing_model_has_no_versions(mlflow_backend: MlflowBackend, unique_model: str) -> None:
    assert mlflow_backend.list_versions(unique_model) == []
    assert mlflow_backend.get_version(unique_model, "1.0.0") is None
    with pytest.raises(NotFoundError):
        mlflow_backend.create_version(unique_model, "1.0.0", "", {})


def test_duplicate_semver_is_refused(mlflow_backend: MlflowBackend, unique_model: str) -> None:
    mlflow_backend.create_model(unique_model, "")
    first = mlflow_backend.create_version(unique_model, "1.2.3", "", {})
    with pytest.raises(VersionTakenError):
        mlflow_backend.create_version(unique_model, "1.2.3", "", {})
    assert mlflow_backend.list_versions(unique_model) == [first]


def test_versions_without_semver_tag_are_skipped(
    mlflow_backend: MlflowBackend, unique_model: str
) -> None:
    mlflow_backend.create_model(unique_model, "")
    MlflowClient(mlflow_backend.tracking_uri).create_model_version(
        unique_model, "s3://elsewhere/model"
    )
    mine = mlflow_backend.create_version(unique_model, "1.0.0", "", {})
    assert mlflow_backend.list_versions(unique_model) == [mine]
    assert mine.version_id == "2"


def test_concurrent_creators_of_one_semver_leave_one_version(
    mlflow_backend: MlflowBackend, unique_model: str
) -> None:
    mlflow_backend.create_model(unique_model, "")
    results = _together(4, lambda: mlflow_backend.create_version(unique_model, "3.0.0", "", {}))
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert all(isinstance(r, VersionTakenError) for r in results if r not in winners), results
    assert mlflow_backend.list_versions(unique_model) == winners
    assert mlflow_backend.get_version(unique_model, "3.0.0") == winners[0]


def test_later_creator_withdraws_its_duplicate(
    mlflow_backend: MlflowBackend, unique_model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race window: another publisher's version exists but our look-up ran before it."""
    mlflow_backend.create_model(unique_model, "")
    client = MlflowClient(mlflow_backend.tracking_uri)
    theirs = client.create_model_version(
        unique_model, "s3://elsewhere/x", tags={SEMVER_TAG: "4.0.0"}
    )
    monkeypatch.setattr(mlflow_backend, "get_version", lambda model, version: None)
    with pytest.raises(VersionTakenError):
        mlflow_backend.create_version(unique_model, "4.0.0", "", {})
    remaining = client.search_model_versions(f"name = '{unique_model}'")
    assert [mv.version for mv in remaining] == [theirs.version]
    # The alias names the winner (which a retried create of the winner itself relies on).
    assert client.get_registered_model(unique_model).aliases == {
        semver_alias("4.0.0"): theirs.version
    }


def test_alias_names_every_semver_distinctly() -> None:
    aliases = {semver_alias(v) for v in [*SEMVERS, "1.0.0-rc.1", "1.0.0-rc1", "1.0.0+rc.1"]}
    assert len(aliases) == len(SEMVERS) + 3
    assert semver_alias("1.2.3+b.4") == "v1_2_3__b_4"
