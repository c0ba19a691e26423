"""Environments API and the one commit lookup gmr needs, as GitLab's source has them.

- lib/api/environments.rb (commit 05f0ebba): list (``name`` exact, ``search``; both -> 400),
  update (``external_url``, http/https only), each as Entities::Environment; ``read_environment``
  Reporter+, ``update_environment`` Developer+.
- lib/api/commits.rb: a commit by ref (``read_code``); the double knows ``main`` only.
- app/policies/project_policy.rb: with Environments off (``environments_access_level``
  disabled) the environment and deployment abilities are prevented: 403 (feature
  ``environments``).
- app/models/environment.rb: name format (``Gitlab::Regex.environment_name_regex``) and
  ``guess_tier``.
"""

from __future__ import annotations

import re
from typing import Any

from tests.gitlab_double import auth
from tests.gitlab_double.environment_records import Environment, guess_tier
from tests.gitlab_double.errors import ApiError, forbidden, grape, not_found
from tests.gitlab_double.pagination import paginate
from tests.gitlab_double.records import Project
from tests.gitlab_double.routing import Request, Response, Router
from tests.gitlab_double.state import Registry, now_iso

PROJECT = r"/api/v4/projects/(?P<project>[^/]+)"
ENVIRONMENTS = PROJECT + r"/environments"
ENVIRONMENT = ENVIRONMENTS + r"/(?P<environment>[^/]+)"
_NAME = re.compile(r"^(?!/)[a-zA-Z0-9_\-./${} ]+(?<!/)$")
_NAME_ERROR = (
    "can contain only letters, digits, '-', '_', '/', '$', '{', '}', '.', and spaces, "
    "but it cannot start or end with '/'"
)


def caller(request: Request, minimum: str) -> tuple[auth.Caller, Project]:
    who, project = auth.authenticate(request, auth.PROJECTS, required=True)
    # Environments switched off (environments_access_level disabled): every ability is gone.
    auth.require_feature(project, "environments", forbidden())
    auth.require_role(who, minimum, forbidden())
    return who, project


def list_environments(request: Request) -> Response:
    _, project = caller(request, "reporter")
    params = request.params()
    if params.get("name") and params.get("search"):
        raise grape("name, search cannot be used together")
    found = [e for e in request.app.registry.environments.values() if e.project_id == project.id]
    if params.get("name"):
        found = [e for e in found if e.name == params["name"]]
    if params.get("search"):
        found = [e for e in found if str(params["search"]) in e.name]
    found.sort(key=lambda e: e.id)
    page, headers = paginate(request, found)
    return Response(body=[environment_json(request, e, project) for e in page], headers=headers)


def update_environment(request: Request) -> Response:
    _, project = caller(request, "developer")
    raw = request.arg("environment")
    env = request.app.registry.environments.get(int(raw)) if raw.isdigit() else None
    if env is None or env.project_id != project.id:
        raise not_found()
    url = request.params().get("external_url")
    if url is not None:
        if url and not re.match(r"^https?://[^\s/]+", str(url)):
            raise ApiError(
                400,
                {"message": {"external_url": ["is blocked: Only allowed schemes are http, https"]}},
            )
        env.external_url, env.updated_at = (str(url) or None), now_iso()
    return Response(body=environment_json(request, env, project))


def environment_named(registry: Registry, project: Project, name: str) -> Environment | None:
    return next(
        (
            e
            for e in registry.environments.values()
            if e.project_id == project.id and e.name == name
        ),
        None,
    )


def find_or_create_environment(registry: Registry, project: Project, name: str) -> Environment:
    found = environment_named(registry, project, name)
    if found is not None:
        return found
    if not _NAME.match(name) or len(name) > 255:
        raise ApiError(400, {"message": {"name": [_NAME_ERROR]}})
    stamp = now_iso()
    env = Environment(
        registry.next_id("environment"), project.id, name, guess_tier(name), stamp, stamp
    )
    registry.environments[env.id] = env
    return env


# -- commits ----------------------------------------------------------------------------------

#: The head of the double's only branch (its projects have no repository beyond that).
MAIN_SHA = "0123456789abcdef0123456789abcdef01234567"


def get_commit(request: Request) -> Response:
    """``GET /projects/:id/repository/commits/:sha`` (lib/api/commits.rb): ``read_code``
    (Reporter+ on a private project); an unknown ref -> 404 "404 Commit Not Found"."""
    who, _ = auth.authenticate(request, auth.PROJECTS, required=True)
    auth.require_role(who, "reporter", forbidden())
    if request.arg("sha") not in ("main", MAIN_SHA):
        raise not_found("Commit")
    return Response(body={"id": MAIN_SHA, "short_id": MAIN_SHA[:8], "title": "Initial commit"})


def environment_basic(request: Request, env: Environment, project: Project) -> dict[str, Any]:
    slug = re.sub(r"[^a-z0-9]+", "-", env.name.lower()).strip("-")[:24]
    return {
        "id": env.id,
        "name": env.name,
        "slug": slug,
        "external_url": env.external_url,
        "created_at": env.created_at,
        "updated_at": env.updated_at,
        "tier": env.tier,
        "state": env.state,
    }


def environment_json(request: Request, env: Environment, project: Project) -> dict[str, Any]:
    return environment_basic(request, env, project) | {
        "project": {"id": project.id, "path_with_namespace": project.path}
    }


def register(router: Router) -> None:
    router.add("GET", ENVIRONMENTS, list_environments)
    router.add("PUT", ENVIRONMENT, update_environment)
    router.add("GET", PROJECT + r"/repository/commits/(?P<sha>[^/]+)", get_commit)
