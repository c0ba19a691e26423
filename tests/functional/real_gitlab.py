"""The scenario suite's ``Registry`` over a real GitLab, read back through GitLab's own APIs
(MLflow-compatible routes and the packages API), never through `gmr`."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest
import requests

from tests.integration.publish.conftest import clean_environ
from tests.integration.scenarios.registries import CI_CONTEXT, Registry, VersionView

TIMEOUT = 30
#: What the tier needs: instance URL, a token (api scope, Maintainer: models are deleted
#: afterwards), a project (id or full path) and a job id of that instance (GitLab links runs to
#: real jobs only: an unknown ``gitlab.CI_JOB_ID`` answers 500).
VARIABLES = ("GMR_FUNCTIONAL_URL", "GMR_FUNCTIONAL_TOKEN", "GMR_FUNCTIONAL_PROJECT")
JOB_VARIABLE = "GMR_FUNCTIONAL_JOB_ID"


@dataclass(frozen=True)
class Target:
    url: str
    token: str
    project: str
    job_id: str

    @classmethod
    def from_environ(cls) -> Target:
        missing = [name for name in (*VARIABLES, JOB_VARIABLE) if not os.environ.get(name)]
        if missing:
            pytest.skip(f"functional tier: set {', '.join(missing)} to run it against a GitLab")
        url, token, project = (os.environ[name] for name in VARIABLES)
        return cls(url.rstrip("/"), token, project, os.environ[JOB_VARIABLE])


def unique_model() -> str:
    return f"gmr-functional-{uuid.uuid4().hex[:10]}"


class RealGitLabRegistry(Registry):
    kind = "real-gitlab"

    def __init__(self, target: Target, cwd: Path) -> None:
        self.target, self.cwd = target, cwd
        self.project_ref = target.project
        self.models: set[str] = set()  # deleted by ``clean_up``
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {target.token}"

    # -- Registry ------------------------------------------------------------------------

    def env(self, **overrides: str) -> dict[str, str]:
        gitlab = {
            "CI_API_V4_URL": f"{self.target.url}/api/v4",
            "CI_PROJECT_ID": self.target.project,
            "GMR_PROJECT": self.target.project,
            "CI_JOB_ID": self.target.job_id,
            "GMR_TOKEN": self.target.token,
            "GMR_UPLOAD_TOKEN": "api",  # no CI_JOB_TOKEN outside a job
        }
        return clean_environ() | CI_CONTEXT | gitlab | overrides

    def seed(self, model: str, versions: list[str]) -> None:
        self.models.add(model)
        self._mlflow("POST", "registered-models/create", json={"name": model})
        for semver in versions:
            tags = [{"key": "gitlab.version", "value": semver}]
            self._mlflow("POST", "model-versions/create", json={"name": model, "tags": tags})

    def version(self, model: str, semver: str) -> VersionView | None:
        self.models.add(model)
        answer = self._mlflow(
            "GET", "model-versions/get", params={"name": model, "version": semver}, ok=(404,)
        )
        if answer is None:
            return None
        mv = answer["model_version"]
        run = self._mlflow("GET", "runs/get", params={"run_id": mv["run_id"]})["run"]
        data = run.get("data", {})
        tags = {t["key"]: t["value"] for t in data.get("tags", [])}
        return VersionView(
            id=self._version_id(mv, run),
            run_id=str(mv["run_id"]),
            description=str(mv.get("description") or ""),
            files=self._files(model, semver),
            params={p["key"]: p["value"] for p in data.get("params", [])},
            metrics=_latest_metrics(data.get("metrics", [])),
            tags=tags,
            ci_job_id=tags.get("gitlab.CI_JOB_ID"),
        )

    def semvers(self, model: str) -> list[str]:
        self.models.add(model)
        found = self._mlflow("GET", "registered-models/get", params={"name": model}, ok=(404,))
        items = found["registered_model"].get("latest_versions") or [] if found else []
        return sorted(_semver(item) for item in items if item)

    def snapshot(self) -> Any:
        """Every version of the models this test touched: metadata, run data and files."""
        return {
            model: {semver: self.version(model, semver) for semver in self.semvers(model)}
            for model in sorted(self.models)
        }

    @property
    def link_prefix(self) -> str:
        return self.target.url

    def corrupt(self, model: str, semver: str, name: str) -> None:
        pytest.skip("a real GitLab's stored files cannot be changed behind its back")

    def clean_up(self) -> None:
        """Delete the models this test created or read (GitLab removes their versions and
        marks their packages for destruction)."""
        for model in self.models:
            self._mlflow("DELETE", "registered-models/delete", json={"name": model}, ok=(404,))

    # -- plumbing ------------------------------------------------------------------------

    def _project_url(self) -> str:
        return f"{self.target.url}/api/v4/projects/{quote(self.target.project, safe='')}"

    def _mlflow(
        self, method: str, route: str, *, ok: tuple[int, ...] = (), **kwargs: Any
    ) -> dict[str, Any] | None:
        url = f"{self._project_url()}/ml/mlflow/api/2.0/mlflow/{route}"
        response = self._session.request(method, url, timeout=TIMEOUT, **kwargs)
        if response.status_code in ok:
            return None
        assert response.status_code == 200, f"{method} {route}: {response.status_code}"
        body: dict[str, Any] = response.json()
        return body

    def _get(self, path: str, **params: str) -> Any:
        response = self._session.get(f"{self._project_url()}{path}", params=params, timeout=30)
        assert response.status_code == 200, f"GET {path}: {response.status_code}"
        return response.json()

    def _version_id(self, mv: dict[str, Any], run: dict[str, Any]) -> str:
        if str(mv["version"]).isdigit() and mv.get("aliases"):
            return str(mv["version"])
        uri = str(run["info"]["artifact_uri"]).rstrip("/")
        return uri.rsplit("/", 2)[-2]  # .../ml_models/<id>/files

    def _files(self, model: str, semver: str) -> dict[str, str]:
        query = {"package_type": "ml_model", "package_name": model, "package_version": semver}
        packages = [p for p in self._get("/packages", **query) if p["name"] == model]
        newest: dict[str, dict[str, Any]] = {}
        for package in packages:
            for record in self._get(f"/packages/{package['id']}/package_files", per_page="100"):
                name = unquote(record["file_name"])
                if name not in newest or record["id"] > newest[name]["id"]:
                    newest[name] = record
        return {name: str(r["file_sha256"]) for name, r in newest.items()}


def _semver(item: dict[str, Any]) -> str:
    aliases = item.get("aliases") or []
    return str(aliases[0] if aliases else item["version"])


def _latest_metrics(metrics: list[dict[str, Any]]) -> dict[str, float]:
    latest: dict[str, dict[str, Any]] = {}
    for metric in metrics:
        key = metric["key"]
        if key not in latest or metric.get("timestamp", 0) >= latest[key].get("timestamp", 0):
            latest[key] = metric
    return {key: float(m["value"]) for key, m in latest.items()}
