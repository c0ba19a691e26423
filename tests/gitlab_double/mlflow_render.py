"""JSON shapes of GitLab's MLflow entities (reference §1.4)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from tests.gitlab_double.params import pairs
from tests.gitlab_double.records import Experiment, Model, Project, Run, Version

if TYPE_CHECKING:
    from tests.gitlab_double.routing import Request


def files_url(base_url: str, project: Project, target: str) -> str:
    return f"{base_url}/api/v4/projects/{project.id}/packages/ml_models/{target}/files/"


def model_version(
    request: Request, project: Project, model: Model, version: Version
) -> dict[str, Any]:
    """``version`` is the DB id and the semver is in ``aliases``; before 17.5 it was the semver
    (``releases.py``)."""
    source = f"{request.base_url}/{project.path}/-/ml/models/{model.id}/versions/{version.id}"
    legacy = request.app.release.semver_as_version
    return {
        "name": model.name,
        "version": version.semver if legacy else str(version.id),
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
        "aliases": [] if legacy else [version.semver],
    }


def version_row(project: Project, version: Version) -> dict[str, Any]:
    """An ``ml_model_versions`` row as Rails serialises it (raw ``latest_versions`` items)."""
    major, minor, patch = (int(p) for p in version.semver.split("-")[0].split("+")[0].split("."))
    prerelease = version.semver.partition("-")[2].partition("+")[0] or None
    return {
        "id": version.id,
        "created_at": _iso(version.created_s),
        "updated_at": _iso(version.updated_s),
        "project_id": project.id,
        "model_id": version.model_id,
        "package_id": version.package_id,
        "version": version.semver,
        "description": version.description,
        "semver_major": major,
        "semver_minor": minor,
        "semver_patch": patch,
        "semver_prerelease": prerelease,
    }


def _iso(seconds: int) -> str:
    stamp = datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def registered_model(request: Request, project: Project, model: Model) -> dict[str, Any]:
    """``latest_versions`` holds every version (§11.7): entities now, raw rows on older
    releases (``releases.py``)."""
    raw = request.app.release.raw_latest_versions
    versions = [
        version_row(project, v) if raw else model_version(request, project, model, v)
        for v in model.versions.values()
    ]
    return {
        "name": model.name,
        "creation_timestamp": model.created_s,
        "last_updated_timestamp": model.updated_s,
        "description": model.description,
        "user_id": str(model.user_id),
        "tags": pairs(model.tags),
        "latest_versions": versions,
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
