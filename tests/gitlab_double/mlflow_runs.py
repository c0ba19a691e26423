"""MLflow runs routes (GitLab "candidates"), including the ``gitlab.CI_JOB_ID`` link (§1.3, §1.5)."""

from __future__ import annotations

from typing import Any

from tests.gitlab_double import mlflow_render as render
from tests.gitlab_double.errors import (
    grape,
    internal_error,
    invalid_parameter,
    message,
    resource_missing,
)
from tests.gitlab_double.mlflow_common import (
    MAX_RESULTS_CAP,
    MAX_RESULTS_DEFAULT,
    PREFIX,
    authorize,
    next_page_token,
    page_offset,
)
from tests.gitlab_double.params import (
    as_float,
    as_int,
    clamp,
    key_values,
    optional_str,
    required,
    required_int,
    required_str,
)
from tests.gitlab_double.records import Metric, Project, Run
from tests.gitlab_double.routing import Request, Response, Router
from tests.gitlab_double.state import Registry

CI_JOB_TAG = "gitlab.CI_JOB_ID"
RUN_NAME_TAG = "mlflow.runName"
STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")
TAKEN = "Validation failed: Name has already been taken"


def find_run(project: Project, run_id: Any) -> Run:
    run = project.runs.get(str(run_id)) if run_id else None
    if run is None:
        raise resource_missing()
    return run


def link_job(registry: Registry, run: Run, job_id: str) -> None:
    """GitLab looks the build up instance-wide; an unknown id escapes as an unhandled 500."""
    if job_id not in registry.jobs:
        raise internal_error()
    run.ci_job_id = job_id


def create_run(request: Request) -> Response:
    caller, project = authorize(request, write=True, registry=False)
    params = request.params()
    experiment = project.experiments.get(required_int(params, "experiment_id"))
    if experiment is None:
        raise resource_missing()
    tags = key_values(params, "tags")
    keys = [k for k, _ in tags]
    if not all(keys) or len(set(keys)) != len(keys):
        raise invalid_parameter(TAKEN)
    tag_map = dict(tags)
    name = optional_str(params, "run_name") or tag_map.get(RUN_NAME_TAG) or None
    user = str(caller.user.id) if caller.user else ""
    run = request.app.registry.new_run(project, experiment, name, user)
    run.start_time = as_int(params, "start_time", 0) or 0
    run.tags.update(tag_map)
    if CI_JOB_TAG in tag_map:
        link_job(request.app.registry, run, tag_map[CI_JOB_TAG])
    return Response(body={"run": render.run(request.base_url, project, run)})


def get_run(request: Request) -> Response:
    _, project = authorize(request, write=False, registry=False)
    run = find_run(project, request.params().get("run_id"))
    return Response(body={"run": render.run(request.base_url, project, run)})


def search_runs(request: Request) -> Response:
    """Only the first experiment id is used; newest first."""
    _, project = authorize(request, write=True, registry=False)
    params = request.params()
    ids = required(params, "experiment_ids")
    first = ids[0] if isinstance(ids, list) and ids else ids
    runs = [r for r in project.runs.values() if str(r.experiment_iid) == str(first)]
    runs.reverse()
    size = clamp(as_int(params, "max_results"), MAX_RESULTS_DEFAULT, MAX_RESULTS_CAP)
    offset = page_offset(params)
    body = {
        "runs": [render.run(request.base_url, project, r) for r in runs[offset : offset + size]],
        "next_page_token": next_page_token(offset, size, len(runs)),
    }
    return Response(body=body)


def update_run(request: Request) -> Response:
    _, project = authorize(request, write=True, registry=False)
    params = request.params()
    run = find_run(project, required_str(params, "run_id"))
    status = params.get("status")
    if status is not None and status not in STATUSES:
        raise grape("status does not have a valid value")
    # CandidateRepository#update (lib/api/ml/mlflow/runs.rb, app/.../candidate_repository.rb):
    # status and end_time change only when given (and non-empty), the status is stored as sent.
    run.status = status or run.status
    run.end_time = as_int(params, "end_time", None) or run.end_time
    return Response(body={"run_info": render.run_info(request.base_url, project, run)})


def log_metric(request: Request) -> Response:
    _, project = authorize(request, write=True, registry=False)
    params = request.params()
    run = find_run(project, required_str(params, "run_id"))
    run.metrics.append(_metric(params))
    return Response(body={})


def _metric(params: dict[str, Any]) -> Metric:
    key = required_str(params, "key")
    return Metric(
        key, as_float(params, "value"), required_int(params, "timestamp"), as_int(params, "step")
    )


def log_parameter(request: Request) -> Response:
    _, project = authorize(request, write=True, registry=False)
    params = request.params()
    run = find_run(project, required_str(params, "run_id"))
    key, value = required_str(params, "key"), required_str(params, "value")
    if key in run.params or not key or len(key) > 250 or len(value) > 250:
        raise invalid_parameter(TAKEN if key in run.params else "Validation failed")
    run.params[key] = value
    return Response(body={})


def set_tag(request: Request) -> Response:
    """The tag row is written first, so an unknown CI job leaves it behind before the 500."""
    _, project = authorize(request, write=True, registry=False)
    params = request.params()
    run = find_run(project, required_str(params, "run_id"))
    key, value = required_str(params, "key"), required_str(params, "value")
    if key in run.tags or not key or len(key) > 250 or len(value) > 5000:
        raise invalid_parameter(TAKEN if key in run.tags else "Validation failed")
    run.tags[key] = value
    if key == CI_JOB_TAG:
        link_job(request.app.registry, run, value)
    return Response(body={})


def log_batch(request: Request) -> Response:
    """Bulk inserts: params and tags whose key already exists are silently skipped."""
    _, project = authorize(request, write=True, registry=False)
    params = request.params()
    run = find_run(project, required_str(params, "run_id"))
    metrics = [_metric(m) for m in params.get("metrics") or [] if isinstance(m, dict)]
    run.metrics.extend(metrics)
    for key, value in key_values(params, "params"):
        run.params.setdefault(key, value)
    tags = key_values(params, "tags")
    for key, value in tags:
        run.tags.setdefault(key, value)
    for key, value in tags:
        if key == CI_JOB_TAG:
            link_job(request.app.registry, run, value)
    return Response(body={})


def delete_run(request: Request) -> Response:
    _, project = authorize(request, write=True, registry=False)
    run = find_run(project, required_str(request.params(), "run_id"))
    if run.model_version_id is not None:
        raise message(400, "Run is linked to a model version and cannot be deleted")
    del project.runs[run.uuid]
    return Response(body={})


def metric_history(request: Request) -> Response:
    _, project = authorize(request, write=False, registry=False)
    params = request.params()
    run = find_run(project, required_str(params, "run_id"))
    key = required_str(params, "metric_key")
    history = sorted((m for m in run.metrics if m.key == key), key=lambda m: m.step or 0)
    items = [
        {"key": m.key, "value": m.value, "timestamp": m.timestamp, "step": m.step or 0}
        for m in history
    ]
    return Response(body={"metrics": items, "next_page_token": None})


def register(router: Router) -> None:
    routes = {
        ("POST", "runs/create"): create_run,
        ("GET", "runs/get"): get_run,
        ("POST", "runs/search"): search_runs,
        ("POST", "runs/update"): update_run,
        ("POST", "runs/log-metric"): log_metric,
        ("POST", "runs/log-parameter"): log_parameter,
        ("POST", "runs/set-tag"): set_tag,
        ("POST", "runs/log-batch"): log_batch,
        ("POST", "runs/delete"): delete_run,
        ("GET", "metrics/get-history"): metric_history,
    }
    for (method, path), handler in routes.items():
        router.add(method, PREFIX + path, handler)
