"""Client for the double's control API (``/-/double/...``): reset, faults, credentials, state."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

TIMEOUT_S = 10.0
# The double is on loopback: never route control calls through an environment proxy.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class DoubleClient:
    """Talks to a running double; every call is one JSON request without GitLab credentials."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def reset(self) -> None:
        """Restore the start-up state: empty registry, start-up credentials and faults, no log."""
        self._call("POST", "reset")

    def set_faults(self, **faults: Any) -> None:
        """Any of latency_ms, fault_rate, fault_statuses, drop_rate, truncate_rate, reset_rate,
        reset_after, direct_download, seed, max_file_size, race_window_ms (the gap between a
        create's uniqueness check and its INSERT) and fault_path (fault only requests whose path
        ends with it); see faults.py and downloads.py."""
        self._call("POST", "faults", faults)

    def add_token(
        self, value: str, scopes: list[str] | str, role: str, language: str = "en"
    ) -> None:
        scope_list = scopes.split(",") if isinstance(scopes, str) else list(scopes)
        body = {"value": value, "scopes": scope_list, "role": role, "language": language}
        self._call("POST", "tokens", body)

    def set_language(self, token: str, language: str) -> None:
        """The token owner's preferred language: ``en`` or ``de`` (validation messages)."""
        self._call("POST", "languages", {"token": token, "language": language})

    def set_features(self, project_id: int = 1, **features: bool) -> None:
        """Switch project features on/off: ``model_registry`` (the Model registry, or the
        16.8-17.5 feature flag), ``model_experiments`` (Model experiments: every MLflow route),
        ``packages`` (Package registry)."""
        self._call("POST", "features", {"project_id": project_id, **features})

    def set_release(self, version: str) -> None:
        """Reproduce the response shapes of GitLab ``version`` (``MAJOR.MINOR``)."""
        self._call("POST", "release", {"version": version})

    def add_job(self, id: str | int, token: str, role: str) -> None:
        self._call("POST", "jobs", {"id": str(id), "token": token, "role": role})

    def add_project(self, id: int, path: str) -> None:
        self._call("POST", "projects", {"id": id, "path": path})

    def add_merge_request(
        self,
        iid: int,
        *,
        project_id: int = 1,
        source_branch: str | None = None,
        target_branch: str = "main",
        state: str = "opened",
        **extra: str,
    ) -> dict[str, Any]:
        """Create merge request ``iid`` (or update it: re-posting an iid changes its fields);
        ``extra`` may set ``title`` and ``sha``. Returns ``{id, iid}``."""
        body = {"project_id": project_id, "iid": iid, "target_branch": target_branch}
        body.update(state=state, source_branch=source_branch or f"feature-{iid}", **extra)
        found: dict[str, Any] = self._call("POST", "merge_requests", body)
        return found

    def corrupt_file(self, model: str, semver: str, name: str, project_id: int = 1) -> None:
        """Change a stored file's bytes behind GitLab's back (its recorded sha256 stays).

        ``name`` is the decoded path, e.g. ``weights/a.bin``.
        """
        body = {"model": model, "version": semver, "file": name, "project_id": project_id}
        self._call("POST", "corrupt", body)

    def object_store(self) -> dict[str, Any]:
        """``url``, ``requests`` (method, path, authorization scheme or None, range), ``bytes``."""
        result: dict[str, Any] = self._call("GET", "objectstore")
        return result

    def served_bytes(self) -> dict[str, int]:
        """File bytes sent per download path (GitLab side) since the last reset."""
        result: dict[str, int] = self._call("GET", "served")
        return result

    def requests(self) -> list[dict[str, Any]]:
        """The GitLab requests served since the last reset: method, path, status, credential."""
        result: list[dict[str, Any]] = self._call("GET", "requests")
        return result

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "state")
        return result

    def project(self, project_id: int = 1) -> dict[str, Any] | None:
        return next((p for p in self.state()["projects"] if p["id"] == project_id), None)

    def model(self, name: str, project_id: int = 1) -> dict[str, Any] | None:
        project = self.project(project_id)
        models = project["models"] if project else []
        return next((m for m in models if m["name"] == name), None)

    def version(self, model: str, semver: str, project_id: int = 1) -> dict[str, Any] | None:
        found = self.model(model, project_id)
        versions = found["versions"] if found else []
        return next((v for v in versions if v["version"] == semver), None)

    def job_deployment(
        self,
        environment: str,
        job_id: str | int,
        status: str,
        *,
        project_id: int = 1,
        sha: str = "0123456789abcdef0123456789abcdef01234567",
        ref: str = "main",
    ) -> dict[str, Any]:
        """Play GitLab's part of a job with ``environment:``: its deployment moves to ``status``."""
        body = {
            "project_id": project_id,
            "environment": environment,
            "job_id": str(job_id),
            "status": status,
            "sha": sha,
            "ref": ref,
        }
        result: dict[str, Any] = self._call("POST", "deployments", body)
        return result

    def _call(self, method: str, name: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body if body is not None else {}).encode() if method == "POST" else None
        request = urllib.request.Request(
            f"{self.base_url}/-/double/{name}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with _OPENER.open(request, timeout=TIMEOUT_S) as response:
            return json.loads(response.read() or b"null")
