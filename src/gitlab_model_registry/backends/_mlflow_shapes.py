"""Our models and versions from what ``MlflowClient`` answers, linked into the tracking server's
web UI at ``ui_base`` ("" for registries without one: no links)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from gitlab_model_registry.backends._mlflow_support import SEMVER_TAG
from gitlab_model_registry.models import ModelVersion, RegisteredModel, utc_timestamp


def to_model(found: Any, ui_base: str) -> RegisteredModel:
    url = f"{ui_base}/#/models/{quote(found.name, safe='')}" if ui_base else ""
    return RegisteredModel(str(found.name), str(found.description or ""), url)


def to_version(mv: Any, ui_base: str) -> ModelVersion | None:
    """Our view of an MLflow version; None for versions without a semver tag."""
    tags = {str(k): str(v) for k, v in (mv.tags or {}).items()}
    if not tags.get(SEMVER_TAG):
        return None
    name = quote(str(mv.name), safe="")
    url = f"{ui_base}/#/models/{name}/versions/{mv.version}" if ui_base else ""
    return ModelVersion(
        model=str(mv.name),
        version=tags[SEMVER_TAG],
        version_id=str(mv.version),
        run_id=str(mv.run_id or ""),
        description=str(mv.description or ""),
        tags=tags,
        web_url=url,
        package_url=str(mv.source or ""),
        created_at=utc_timestamp(mv.creation_timestamp),
    )
