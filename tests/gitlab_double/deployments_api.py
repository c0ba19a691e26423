"""Deployments API, and the control call that plays a CI job's deployment.

Read from GitLab's source (gitlabhq/gitlabhq):
- lib/api/deployments.rb (commit 0407f157 and a newer blob 941492037): list (``order_by`` id
  iid created_at updated_at ref finished_at, ``sort``, ``environment``, ``status``,
  ``updated_*``/``finished_*``), get, create (``environment sha ref tag status`` all required,
  status one of running success failed canceled; the environment is found or created by name),
  update (status only; a deployment with a ``deployable`` -> 403 "Deployments created using
  GitLab CI can not be updated using the API"). Newer releases set ``job_token_allowed`` on
  every route (fine-grained ``read_deployments``/``admin_deployments``); the double accepts job
  tokens like the ``projects`` family. Permissions (project policy): ``read_deployment`` and
  ``read_environment`` Reporter+, ``create_deployment``/``update_deployment``/
  ``update_environment`` Developer+; refused -> 403 ``{"message":"403 Forbidden"}``.
- app/finders/deployments_finder.rb (blob 9547059391): ``created_at``/``iid`` order as ``id``;
  ``updated_at`` adds ``id desc``; a ``finished_at`` filter needs ``finished_at`` ordering and
  ``status=success`` (400 "400 Bad request - <reason>"); both filters -> 400.
- lib/api/entities/deployment.rb, environment_basic.rb: the shapes below.
- Environments, the commit lookup and the Environments-off policy: ``environments_api.py``.
- app/models/environment.rb: ``last_deployment`` = success, ordered by ``finished_at`` desc
  (``Deployment.ordered``); name format; ``guess_tier``.

``POST /-/double/deployments`` ``{project_id, environment, job_id, status, sha, ref}`` is what
GitLab does for a job with ``environment:``: the job's deployment is created (first call) and
moves to ``status`` (running, success, failed, canceled).
"""

from __future__ import annotations

from typing import Any

from tests.gitlab_double.environment_records import (
    FINISHED,
    STATUSES,
    Deployment,
    Environment,
)
from tests.gitlab_double.environments_api import (
    caller,
    environment_basic,
    environment_named,
    find_or_create_environment,
)
from tests.gitlab_double.errors import bad_request, forbidden, grape, not_found
from tests.gitlab_double.pagination import paginate
from tests.gitlab_double.params import choice
from tests.gitlab_double.records import Project, User
from tests.gitlab_double.routing import Request, Response, Router
from tests.gitlab_double.state import Registry, now_iso

PROJECT = r"/api/v4/projects/(?P<project>[^/]+)"
DEPLOYMENTS = PROJECT + r"/deployments"
DEPLOYMENT = DEPLOYMENTS + r"/(?P<deployment>[^/]+)"
ORDER_BY = ("id", "iid", "created_at", "updated_at", "ref", "finished_at")
WRITABLE_STATUSES = ("running", "success", "failed", "canceled")


# -- deployments ------------------------------------------------------------------------------


def list_deployments(request: Request) -> Response:
    _, project = caller(request, "reporter")
    params = request.params()
    order_by = choice(params, "order_by", ORDER_BY, "id")
    descending = choice(params, "sort", ("asc", "desc"), "asc") == "desc"
    status = choice(params, "status", STATUSES, "")
    finished = {k: params.get(k) for k in ("finished_after", "finished_before") if params.get(k)}
    updated = {k: params.get(k) for k in ("updated_after", "updated_before") if params.get(k)}
    _validate_finder(order_by, status, bool(finished), bool(updated))
    registry = request.app.registry
    found = [d for d in registry.deployments.values() if d.project_id == project.id]
    wanted = params.get("environment")
    if wanted:
        env = environment_named(registry, project, str(wanted))
        found = [d for d in found if env is not None and d.environment_id == env.id]
    if status:
        found = [d for d in found if d.status == status]
    found = [
        d for d in found if _within(d.finished_at, finished) and _within(d.updated_at, updated)
    ]
    found.sort(key=_sort_key(order_by), reverse=descending)
    page, headers = paginate(request, found)
    return Response(body=[_deployment_json(request, d) for d in page], headers=headers)


def _validate_finder(order_by: str, status: str, finished: bool, updated: bool) -> None:
    if finished and updated:
        raise bad_request("Both `updated_at` filter and `finished_at` filter can not be specified")
    if finished != (order_by == "finished_at"):
        raise bad_request("`finished_at` filter and `finished_at` sorting must be paired")
    if finished and status != "success":
        raise bad_request("`finished_at` filter must be combined with `success` status filter.")


def _within(stamp: str | None, bounds: dict[str, Any]) -> bool:
    if not bounds:
        return True
    if stamp is None:
        return False
    after, before = bounds.get("finished_after") or bounds.get("updated_after"), None
    before = bounds.get("finished_before") or bounds.get("updated_before")
    return (after is None or _iso(stamp) >= _iso(str(after))) and (
        before is None or _iso(stamp) < _iso(str(before))
    )


def _iso(stamp: str) -> str:
    """Comparable UTC text for ``...Z`` stamps (the double writes only those)."""
    return stamp.replace("+00:00", "Z")


def _sort_key(order_by: str) -> Any:
    if order_by in ("id", "iid", "created_at"):
        return lambda d: d.id
    if order_by == "finished_at":
        return lambda d: (d.finished_at or "", d.id)
    if order_by == "updated_at":
        return lambda d: (d.updated_at, d.id)
    return lambda d: (d.ref, d.id)


def get_deployment(request: Request) -> Response:
    _, project = caller(request, "reporter")
    return Response(body=_deployment_json(request, _find(request, project)))


def create_deployment(request: Request) -> Response:
    who, project = caller(request, "developer")
    params = request.params()
    missing = [k for k in ("environment", "sha", "ref", "tag", "status") if params.get(k) is None]
    if missing:
        raise grape(", ".join(f"{k} is missing" for k in missing))
    if params["tag"] not in (True, False, "true", "false"):
        raise grape("tag is invalid")
    status = choice(params, "status", WRITABLE_STATUSES, "")
    registry = request.app.registry
    env = find_or_create_environment(registry, project, str(params["environment"]))
    user = who.user or User(0, "unknown")
    deployment = _new_deployment(registry, project, env, str(params["sha"]), str(params["ref"]))
    deployment.tag, deployment.user = params["tag"] in (True, "true"), user
    _set_status(deployment, status)
    return Response(201, _deployment_json(request, deployment))


def update_deployment(request: Request) -> Response:
    _, project = caller(request, "developer")
    deployment = _find(request, project)
    if deployment.job_id is not None:
        raise forbidden("Deployments created using GitLab CI can not be updated using the API")
    params = request.params()
    if params.get("status") is None:
        raise grape("status is missing")
    _set_status(deployment, choice(params, "status", WRITABLE_STATUSES, ""))
    return Response(body=_deployment_json(request, deployment))


def _find(request: Request, project: Project) -> Deployment:
    raw = request.arg("deployment")
    if not raw.isdigit():
        raise grape("deployment_id is invalid")
    found = request.app.registry.deployments.get(int(raw))
    if found is None or found.project_id != project.id:
        raise not_found()
    return found


def _new_deployment(
    registry: Registry, project: Project, env: Environment, sha: str, ref: str
) -> Deployment:
    stamp = now_iso()
    iid = 1 + sum(1 for d in registry.deployments.values() if d.project_id == project.id)
    deployment = Deployment(
        registry.next_id("deployment"),
        iid,
        project.id,
        env.id,
        ref,
        sha,
        False,
        "created",
        User(0, ""),
        stamp,
        stamp,
    )
    registry.deployments[deployment.id] = deployment
    return deployment


def _set_status(deployment: Deployment, status: str) -> None:
    deployment.status, deployment.updated_at = status, now_iso()
    if status in FINISHED:
        deployment.finished_at = deployment.updated_at


# -- the control call -------------------------------------------------------------------------


def job_deployment(request: Request) -> Response:
    """GitLab's side of a job with ``environment:``: its deployment, created or moved on."""
    params = request.params()
    registry = request.app.registry
    project = registry.projects.get(int(params["project_id"]))
    if project is None:
        raise not_found("Project")
    status = choice(params, "status", ("created", *WRITABLE_STATUSES), "running")
    job_id = str(params["job_id"])
    deployment = next((d for d in registry.deployments.values() if d.job_id == job_id), None)
    if deployment is None:
        env = find_or_create_environment(registry, project, str(params["environment"]))
        sha, ref = str(params.get("sha") or "0" * 40), str(params.get("ref") or "main")
        deployment = _new_deployment(registry, project, env, sha, ref)
        job = registry.jobs.get(job_id)
        deployment.job_id, deployment.job_name = job_id, str(params.get("job_name") or "deploy")
        deployment.pipeline_id = int(params.get("pipeline_id") or 1)
        deployment.user = job.user if job else User(0, str(params.get("user") or "ci-user"))
    _set_status(deployment, status)
    return Response(body=_deployment_json(request, deployment))


# -- shapes -----------------------------------------------------------------------------------


def _deployment_json(request: Request, d: Deployment) -> dict[str, Any]:
    registry = request.app.registry
    project = registry.projects[d.project_id]
    env = registry.environments[d.environment_id]
    user = _user_json(request, d.user)
    job = None
    job_status = d.status if d.status in FINISHED else "running"
    if d.job_id is not None:
        job = {
            "id": int(d.job_id) if d.job_id.isdigit() else d.job_id,
            "status": job_status,
            "stage": "deploy",
            "name": d.job_name,
            "ref": d.ref,
            "tag": d.tag,
            "created_at": d.created_at,
            "finished_at": d.finished_at,
            "user": user,
            "web_url": f"{request.base_url}/{project.path}/-/jobs/{d.job_id}",
            "pipeline": {
                "id": d.pipeline_id,
                "project_id": project.id,
                "sha": d.sha,
                "ref": d.ref,
                "status": job_status,
                "web_url": f"{request.base_url}/{project.path}/-/pipelines/{d.pipeline_id}",
            },
        }
    return {
        "id": d.id,
        "iid": d.iid,
        "ref": d.ref,
        "sha": d.sha,
        "created_at": d.created_at,
        "updated_at": d.updated_at,
        "finished_at": d.finished_at,
        "user": user,
        "environment": environment_basic(request, env, project),
        "deployable": job,
        "status": d.status,
    }


def _user_json(request: Request, user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "name": user.username,
        "state": "active",
        "web_url": f"{request.base_url}/{user.username}",
    }


def register(router: Router) -> None:
    router.add("GET", DEPLOYMENTS, list_deployments)
    router.add("POST", DEPLOYMENTS, create_deployment)
    router.add("GET", DEPLOYMENT, get_deployment)
    router.add("PUT", DEPLOYMENT, update_deployment)


def register_control(router: Router, prefix: str) -> None:
    router.add("POST", prefix + "deployments", job_deployment)
