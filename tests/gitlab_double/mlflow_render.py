"""JSON shapes of GitLab's MLflow entities (reference §1.4)."""

from __future__ import annotations

from typing import Any

from tests.gitlab_double.params import pairs
from tests.gitlab_double.records import Experiment, Model, Project, Run, Version


def files_url(base_url: str, project: Project, target: str) -> str:
    return f"{base_url}/api/v4/projects/{project.id}/packages/ml_models/{target}/files/"


def model_version(
    base_url: str, project: Project, model: Model, version: Version
) -> dict[str, Any]:
    """``version`` is the DB id; the semver only appears in ``aliases``."""
    source = f"{base_url}/{project.path}/-/ml/models/{model.id}/versions/{version.id}"
    return {
        "name": model.name,
        "version": str(version.id),
        "creation_timestamp": version.created_s,
        "last_updated_timestamp": version.updated_s,
        "user_id": None,
        "current_stage": "development",
        "description": version.description,
        "source": source,
        "run_id": version.run_uuid,
        "status": "READY",
        "status_message": "",
        "tags": pairs(version.tags),
        "run_link": "",
        "aliases": [version.semver],
    }


def registered_model(base_url: str, project: Project, model: Model) -> dict[str, Any]:
    """``latest_versions`` holds every version, as current GitLab renders it (§11.7)."""
    return {
        "name": model.name,
        "creation_timestamp": model.created_s,
        "last_updated_timestamp": model.updated_s,
        "description": model.description,
        "user_id": str(model.user_id),
        "tags": pairs(model.tags),
        "latest_versions": [
            model_version(base_url, project, model, v) for v in model.versions.values()
        ],
    }


def run_info(base_url: str, project: Project, run: Run) -> dict[str, Any]:
    target = run.model_version_id if run.model_version_id is not None else f"candidate:{run.iid}"
    info: dict[str, Any] = {
        "run_id": run.uuid,
        "run_uuid": run.uuid,
        "experiment_id": str(run.experiment_iid),
        "start_time": run.start_time,
        "run_name": run.name,
        "status": run.status,
        "artifact_uri": files_url(base_url, project, str(target)),
        "lifecycle_stage": "active",
        "user_id": run.user_id,
    }
    if run.end_time is not None:
        info["end_time"] = run.end_time
    return info


def run(base_url: str, project: Project, run_record: Run) -> dict[str, Any]:
    metrics = []
    for metric in run_record.metrics:
        item: dict[str, Any] = {
            "key": metric.key,
            "value": metric.value,
            "timestamp": metric.timestamp,
        }
        if metric.step is not None:
            item["step"] = metric.step
        metrics.append(item)
    return {
        "info": run_info(base_url, project, run_record),
        "data": {
            "metrics": metrics,
            "params": pairs(run_record.params),
            "tags": pairs(run_record.tags),
        },
    }


def experiment(record: Experiment) -> dict[str, Any]:
    return {
        "experiment_id": str(record.iid),
        "name": record.name,
        "lifecycle_stage": "deleted" if record.deleted else "active",
        "artifact_location": "not_implemented",
        "tags": pairs(record.tags),
    }
