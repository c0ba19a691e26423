"""Model versions on GitLab's MLflow routes: read in every shape ``_gitlab_shapes`` describes,
and created with a lost race or a retried create told apart by looking the version up."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from gitlab_model_registry import versioning
from gitlab_model_registry.backends import _gitlab_shapes as shapes
from gitlab_model_registry.backends._gitlab_api import JsonApi
from gitlab_model_registry.errors import NotFoundError, RegistryError, VersionTakenError
from gitlab_model_registry.models import ModelVersion, utc_timestamp


def list_versions(api: JsonApi, model: str) -> list[ModelVersion]:
    # From the registry itself: a version whose package was deleted (pending destruction,
    # hidden from the packages API) still holds its number.
    body = api.mlflow_or_none("get", "registered-models/get", {"name": model})
    items = (body["registered_model"].get("latest_versions") or []) if body else []
    found = [_listed(api, model, item) for item in items if item]
    return [v for v in found if v is not None and versioning.is_semver(v.version)]


def _listed(api: JsonApi, model: str, item: dict[str, Any]) -> ModelVersion | None:
    if not shapes.is_row(item):
        return _version(api, item)
    # A raw row has no tags (resume detection needs them): read the version itself.
    detailed = get_version(api, model, str(item["version"]))
    return replace(detailed, version_id=str(item["id"])) if detailed else None


def get_version(api: JsonApi, model: str, version: str) -> ModelVersion | None:
    body = api.mlflow_or_none("get", "model-versions/get", {"name": model, "version": version})
    return _version(api, body["model_version"]) if body else None


def create_version(
    api: JsonApi, model: str, version: str, description: str, tags: dict[str, str]
) -> ModelVersion:
    payload = {
        "name": model,
        "description": description,
        "tags": [{"key": k, "value": v} for k, v in {**tags, "gitlab.version": version}.items()],
    }
    try:
        body = api.mlflow("post", "model-versions/create", payload)
    except NotFoundError:
        raise
    except RegistryError as error:
        # A duplicate answers a translated validation message, or the unique index's text
        # when two creates overlap; a lost answer is retried into a duplicate of our own.
        # None of these can be told apart by the answer: look the version up.
        existing = get_version(api, model, version)
        if existing is None:
            raise
        if tags.items() <= existing.tags.items():
            return existing  # ours: it carries our publish's tags
        raise VersionTakenError(f"version {version} of {model} already exists") from error
    return _version(api, body["model_version"])


def _version(api: JsonApi, raw: dict[str, Any]) -> ModelVersion:
    semver, version_id = shapes.semver_and_id(raw)
    if version_id is None:  # before 17.5: the id only shows in the version's run
        info = api.mlflow("get", "runs/get", {"run_id": raw.get("run_id", "")})["run"]
        version_id = shapes.version_id_from_artifact_uri(info["info"]["artifact_uri"])
    return ModelVersion(
        model=raw["name"],
        version=semver,
        version_id=version_id,
        run_id=raw.get("run_id", ""),
        description=raw.get("description") or "",
        tags={t["key"]: t["value"] for t in raw.get("tags") or []},
        web_url=raw.get("source", ""),
        created_at=utc_timestamp(raw.get("creation_timestamp")),
    )
