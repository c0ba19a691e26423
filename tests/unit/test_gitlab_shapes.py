"""The response shapes of every supported GitLab release, read from the answer itself."""

from __future__ import annotations

from gitlab_model_registry.backends import _gitlab_shapes as shapes


def test_current_model_version_has_the_id_in_version_and_the_semver_in_aliases() -> None:
    assert shapes.semver_and_id({"version": "42", "aliases": ["1.2.3"]}) == ("1.2.3", "42")


def test_before_17_5_version_is_the_semver_and_the_id_is_unknown() -> None:
    assert shapes.semver_and_id({"version": "1.2.3", "aliases": []}) == ("1.2.3", None)
    assert shapes.semver_and_id({"version": "1.2.3"}) == ("1.2.3", None)


def test_raw_rows_are_told_from_entities() -> None:
    row = {"id": 7, "version": "1.0.0", "model_id": 3, "package_id": 9}
    entity = {"version": "7", "aliases": ["1.0.0"], "run_id": "abc", "tags": []}

    assert shapes.is_row(row) and not shapes.is_row(entity)


def test_the_version_id_is_read_from_its_runs_artifact_uri() -> None:
    uri = "https://gitlab.example/api/v4/projects/5/packages/ml_models/42/files/"

    assert shapes.version_id_from_artifact_uri(uri) == "42"
    assert shapes.version_id_from_artifact_uri("mlflow-artifacts:/candidate:3") == ""
