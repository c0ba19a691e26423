"""Environments on GitLab: deployments (Deployments and Environments APIs), tied to versions.

GitLab's deployments carry no free-form data, and those created by CI jobs cannot be updated
through the API (lib/api/deployments.rb, ``PUT``: "Deployments created using GitLab CI can not
be updated using the API"). So the tie is written on the version's run, as a tag naming the
deployment's job (``gmr.deployed.job.<job id>``) or, for a deployment ``gmr`` created itself
outside such a job, the deployment (``gmr.deployed.deployment.<id>``); the tag's value is the
environment. "Current" is GitLab's own notion, ``Environment#last_deployment`` (app/models/
environment.rb: ``success.ordered``, ``Deployment.ordered`` = ``finished_at`` descending): the
newest finished successful deployment of the environment that is tied to a version of the model
(other deployments, e.g. an application's deploy job, are passed over).

Every route here is called with the API token (PRIVATE-TOKEN-equivalent Bearer): the Deployments
API accepts job tokens only on newer releases (``job_token_allowed`` with the fine-grained
``read_deployments``/``admin_deployments`` policies), the API token on every supported one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from gitlab_model_registry.backends import Backend
from gitlab_model_registry.backends._gitlab_api import JsonApi
from gitlab_model_registry.errors import AuthError, UsageError
from gitlab_model_registry.models import (
    CiContext,
    Deployment,
    ModelVersion,
    RunData,
    utc_timestamp,
)

TIE_PREFIX = "gmr.deployed."
_DEPLOYMENTS = "the Deployments API"
_ENVIRONMENTS = "the Environments API"
_COMMITS = "the Commits API"
_DEPLOY_HINT = (
    "deploying needs an API token (api scope) of a Developer of the project, and of a user "
    "allowed to deploy to the environment if it is protected (Settings > CI/CD > Protected "
    "environments)"
)
#: ``finished_at`` ordering must be paired with a ``finished_at`` filter and the success status
#: (app/finders/deployments_finder.rb ``validate!``).
_SINCE_EVER = "1970-01-01T00:00:00Z"


def job_key(job_id: str) -> str:
    return f"{TIE_PREFIX}job.{job_id}"


def deployment_key(deployment_id: str) -> str:
    return f"{TIE_PREFIX}deployment.{deployment_id}"


def tie_of(raw: dict[str, Any]) -> str:
    """The run tag that ties this deployment to a version: by its job, else by itself."""
    job = raw.get("deployable") or {}
    return job_key(str(job["id"])) if job.get("id") else deployment_key(str(raw["id"]))


class GitLabEnvironments:
    def __init__(self, api: JsonApi, backend: Backend, *, jobs_deploy_here: bool) -> None:
        """``jobs_deploy_here``: this is the CI job's own project (its deployment is here)."""
        self._api, self._backend = api, backend
        self._jobs_deploy_here = jobs_deploy_here
        self._known: dict[str, dict[str, tuple[str, str]]] = {}  # ties read once per model

    def check_name(self, environment: str) -> None:
        """GitLab's own rule is checked by the use cases (``catalog.check_environment``)."""

    def current(self, model: str, environment: str) -> str | None:
        ties = self._ties(model)
        query = {
            "environment": environment,
            "status": "success",
            "order_by": "finished_at",
            "sort": "desc",
            "finished_after": _SINCE_EVER,
        }
        for raw in self._deployments(query):
            found = ties.get(tie_of(raw))
            if found and found[1] == environment:
                return found[0]
        return None

    def history(self, model: str, environment: str | None) -> list[Deployment]:
        ties = self._ties(model)
        query = {"order_by": "id", "sort": "desc"} | (
            {"environment": environment} if environment else {}
        )
        found = []
        for raw in self._deployments(query):
            tie = ties.get(tie_of(raw))
            name = (raw.get("environment") or {}).get("name", "")
            if tie and tie[1] == name:
                found.append(_deployment(raw, tie[0]))
        return found

    def record(self, mv: ModelVersion, environment: str, ci: CiContext) -> Deployment:
        if self._jobs_deploy_here and ci.in_ci and ci.environment_name == environment:
            # GitLab records this job's deployment itself (running now, success when it ends).
            self._tie(mv, job_key(ci.job_id), environment)
            self._point_url(environment, mv)
            now = (
                datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            )
            return Deployment(
                environment,
                mv.version,
                now,
                "running",
                ci.job_url,
                ci.user_login,
                pipeline_url=ci.pipeline_url,
            )
        sha, ref = self._commit_of(mv, ci)
        payload = {
            "environment": environment,
            "sha": sha,
            "ref": ref,
            "tag": bool(ci.commit_tag) and ref == ci.commit_tag,
            "status": "running",
        }
        raw = self._call("post", "deployments", payload, _DEPLOYMENTS)
        # Tied before it succeeds: the environment never has an untied last deployment.
        self._tie(mv, deployment_key(str(raw["id"])), environment)
        raw = self._call("put", f"deployments/{raw['id']}", {"status": "success"}, _DEPLOYMENTS)
        self._point_url(environment, mv, (raw.get("environment") or {}).get("id"))
        return _deployment(raw, mv.version)

    # -- helpers ---------------------------------------------------------------------------

    def _ties(self, model: str) -> dict[str, tuple[str, str]]:
        """Tie tag -> (semver, environment), from the runs of the model's versions."""
        if model in self._known:
            return self._known[model]
        ties: dict[str, tuple[str, str]] = self._known.setdefault(model, {})
        for mv in self._backend.list_versions(model):
            if not mv.run_id:
                continue
            for key, value in self._backend.get_run_data(mv.run_id).tags.items():
                if key.startswith(TIE_PREFIX):
                    ties[key] = (mv.version, value)
        return ties

    def _tie(self, mv: ModelVersion, key: str, environment: str) -> None:
        self._backend.log_run_data(mv.run_id, RunData(tags={key: environment}))
        self._known.pop(mv.model, None)

    def _deployments(self, query: dict[str, str]) -> Iterator[dict[str, Any]]:
        try:
            yield from self._api.project_list("deployments", query, _DEPLOYMENTS)
        except AuthError as error:
            raise AuthError(error.message, hint=_DEPLOY_HINT) from None

    def _call(self, verb: str, route: str, params: dict[str, Any], api: str) -> dict[str, Any]:
        try:
            return self._api.project_call(verb, route, params, api)
        except AuthError as error:
            raise AuthError(error.message, hint=_DEPLOY_HINT) from None

    def _commit_of(self, mv: ModelVersion, ci: CiContext) -> tuple[str, str]:
        """The commit a deployment names: the version's own (its CI tags), else this job's."""
        tags = self._backend.get_run_data(mv.run_id).tags if mv.run_id else {}
        if tags.get("ci.commit_sha") and tags.get("ci.ref"):
            return tags["ci.commit_sha"], tags["ci.ref"]
        if ci.commit_sha and ci.ref_name:
            return ci.commit_sha, ci.ref_name
        # Published off CI and deployed off CI: the default branch's head.
        branch = str(self._api.project().get("default_branch") or "")
        if not branch:
            raise UsageError(
                f"{mv.model} {mv.version} names no commit and the project has no default branch",
                hint="GitLab records a deployment on a commit: deploy it from a CI job",
            )
        commit = self._call("get", f"repository/commits/{quote(branch, safe='')}", {}, _COMMITS)
        return str(commit["id"]), branch

    def _point_url(self, environment: str, mv: ModelVersion, env_id: Any = None) -> None:
        """The environment links to the version's page, so GitLab shows what it holds."""
        if not mv.web_url:
            return
        if env_id is None:
            listed = self._api.project_list("environments", {"name": environment}, _ENVIRONMENTS)
            env_id = next((e["id"] for e in listed if e.get("name") == environment), None)
        if env_id is not None:
            self._call("put", f"environments/{env_id}", {"external_url": mv.web_url}, _ENVIRONMENTS)


def _deployment(raw: dict[str, Any], version: str) -> Deployment:
    job = raw.get("deployable") or {}
    user = raw.get("user") or {}
    return Deployment(
        environment=str((raw.get("environment") or {}).get("name", "")),
        version=version,
        created_at=utc_timestamp(raw.get("created_at")),
        status=str(raw.get("status", "")),
        job_url=str(job.get("web_url") or ""),
        user=str(user.get("username") or ""),
        id=str(raw.get("id", "")),
        pipeline_url=str((job.get("pipeline") or {}).get("web_url") or ""),
    )
