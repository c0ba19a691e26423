"""Which server and project a URL or credential belongs to (credentials are bound to them)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit


def strip_api(url: str) -> str:
    url = url.rstrip("/")
    return url[: -len("/api/v4")] if url.endswith("/api/v4") else url


def is_job_server(gitlab_url: str, env: Mapping[str, str]) -> bool:
    """Whether ``gitlab_url`` is the GitLab running this CI job (its job token and job ids)."""
    job_server = strip_api(env.get("CI_API_V4_URL", "")) or env.get("CI_SERVER_URL", "")
    return bool(job_server) and same_server(job_server, gitlab_url)


def same_server(a: str, b: str) -> bool:
    """Same scheme, host, port and path prefix (a GitLab may live under a relative URL)."""

    def key(url: str) -> tuple[str, str, str]:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return parts.scheme.lower(), f"{host}:{port}", strip_api(parts.path).rstrip("/")

    a_key, b_key = key(a), key(b)
    return a_key[:2] == b_key[:2] and (a_key[2] + "/").startswith(b_key[2] + "/")


def is_own_project(project: str, job_project_id: str, job_project_path: str) -> bool:
    if not job_project_id and not job_project_path:
        return False
    return project == job_project_id or project.strip("/").lower() == job_project_path.lower()
