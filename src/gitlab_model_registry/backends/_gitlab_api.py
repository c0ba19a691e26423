"""GitLab's JSON routes for one project, through python-gitlab: the MLflow-compatible API and the
packages API. The supported release is checked before the first request (so before any write)
and every failure leaves as one of our errors (``_gitlab_errors``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gitlab

from gitlab_model_registry.backends import _gitlab_release
from gitlab_model_registry.backends._gitlab_errors import ApiErrors, packages_disabled
from gitlab_model_registry.backends._gitlab_json import JsonCalls
from gitlab_model_registry.errors import AuthError, NotFoundError, RegistryError

MLFLOW = "/ml/mlflow/api/2.0/mlflow"


class JsonApi:
    """``project``: URL-encoded id or path; ``project_name``: as the user gave it (messages)."""

    def __init__(
        self, calls: JsonCalls, gl: gitlab.Gitlab, project: str, project_name: str
    ) -> None:
        self._calls, self._gl = calls, gl
        self._project, self._project_name = project, project_name
        self._release_checked = False
        self._release: tuple[int, int] | None = None  # (major, minor) once read

    def mlflow(self, verb: str, route: str, params: dict[str, Any]) -> dict[str, Any]:
        self._check_release()
        path = f"/projects/{self._project}{MLFLOW}/{route}"
        query, payload = (params, None) if verb == "get" else (None, params)
        with self._errors("the MLflow API", registry=True):
            body, _ = self._calls.call(verb, path, query, payload, f"calling MLflow {route}")
        result: dict[str, Any] = body
        return result

    def mlflow_or_none(
        self, verb: str, route: str, params: dict[str, Any]
    ) -> dict[str, Any] | None:
        try:
            return self.mlflow(verb, route, params)
        except NotFoundError:
            return None

    def list(self, path: str, query: dict[str, str]) -> Iterator[dict[str, Any]]:
        """Every item of a paged packages-API list, each page fetched (and retried) whole."""
        self._check_release()
        try:
            page: str | None = "1"
            while page:
                params = {**query, "per_page": 100, "page": page}
                with self._errors("the packages API"):
                    items, headers = self._calls.call("get", path, params, None, f"listing {path}")
                yield from items
                page = headers.get("X-Next-Page") or None
        except AuthError:
            # A project with its Package registry off answers 403 to any token: say so
            # rather than blame the token (the project itself says which it is).
            if not self._packages_enabled():
                raise packages_disabled(self._project_name) from None
            raise

    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """One GraphQL request (``/api/graphql``); errors in a 200 answer are the caller's."""
        self._check_release()
        url = f"{self._gl.url}/api/graphql"
        with self._errors("GitLab's GraphQL API"):
            body, _ = self._calls.call(
                "post", url, None, {"query": query, "variables": variables}, "calling GraphQL"
            )
        result: dict[str, Any] = body
        return result

    def get_or_none(self, path: str, api: str) -> dict[str, Any] | None:
        """One REST object (``/projects/<id>/...``), None if GitLab answers 404."""
        self._check_release()
        try:
            with self._errors(api):
                body, _ = self._calls.call("get", path, None, None, f"reading {path}")
        except NotFoundError:
            return None
        return body if isinstance(body, dict) else None

    def project_call(
        self, verb: str, route: str, params: dict[str, Any], api: str
    ) -> dict[str, Any]:
        """One call to a project REST route (``deployments/3``), e.g. of the Deployments API."""
        self._check_release()
        path = f"/projects/{self._project}/{route}"
        query, payload = (params, None) if verb == "get" else (None, params)
        with self._errors(api):
            body, _ = self._calls.call(verb, path, query, payload, f"calling {api}")
        result: dict[str, Any] = body
        return result

    def project(self) -> dict[str, Any]:
        """``GET /projects/:id``: the project itself (its default branch, …)."""
        self._check_release()
        with self._errors("the projects API"):
            body, _ = self._calls.call(
                "get", f"/projects/{self._project}", None, None, "reading the project"
            )
        result: dict[str, Any] = body
        return result

    def project_list(self, route: str, query: dict[str, str], api: str) -> Iterator[dict[str, Any]]:
        """Every item of a paged project REST list, page by page (stop early to fetch less)."""
        self._check_release()
        path = f"/projects/{self._project}/{route}"
        page: str | None = "1"
        while page:
            with self._errors(api):
                items, headers = self._calls.call(
                    "get", path, {**query, "per_page": 100, "page": page}, None, f"listing {api}"
                )
            yield from items
            page = headers.get("X-Next-Page") or None

    def _packages_enabled(self) -> bool:
        try:
            with self._errors("the projects API"):
                project = self._gl.http_get(f"/projects/{self._project}")
        except RegistryError:
            return True
        return not isinstance(project, dict) or project.get("packages_enabled") is not False

    def _check_release(self) -> None:
        if not self._release_checked:
            self._release_checked = True
            self._release = _gitlab_release.check(self._gl)

    def _errors(self, api: str, *, registry: bool = False) -> ApiErrors:
        return ApiErrors(api, self._project_name, registry=registry, release=self._release)
