"""Configuration, resolved in one place.

Precedence, highest first: command-line flag > ``GMR_*`` variable (both handled by click in
``cli``) > well-known variables read here (``GITLAB_TOKEN``, ``MLFLOW_TRACKING_URI``,
``MLFLOW_TRACKING_TOKEN``, GitLab's predefined ``CI_*``) > defaults. ``resolve`` reads the
environment only when called, never at import, and is the only reader of those variables.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

from gitlab_model_registry.errors import UsageError
from gitlab_model_registry.models import CiContext

BackendKind = Literal["gitlab", "mlflow"]

_GITLAB_MLFLOW_URI = re.compile(
    r"^(?P<url>https?://.+?)/api/v4/projects/(?P<project>[^/]+)/ml/mlflow/?$"
)
_CI_VARIABLES = {
    "job_id": "CI_JOB_ID",
    "job_name": "CI_JOB_NAME",
    "job_url": "CI_JOB_URL",
    "pipeline_id": "CI_PIPELINE_ID",
    "pipeline_iid": "CI_PIPELINE_IID",
    "pipeline_url": "CI_PIPELINE_URL",
    "commit_sha": "CI_COMMIT_SHA",
    "commit_tag": "CI_COMMIT_TAG",
    "ref_name": "CI_COMMIT_REF_NAME",
    "merge_request_iid": "CI_MERGE_REQUEST_IID",
    "project_path": "CI_PROJECT_PATH",
}


class Secret:
    """A credential that cannot leak through repr, str, f-strings or tracebacks' locals."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Flags:
    """Global options as the CLI parsed them (flag or ``GMR_*``); None means not given."""

    gitlab_url: str | None = None
    project: str | None = None
    token: str | None = None
    token_variable: str | None = None
    tracking_uri: str | None = None
    ca_file: str | None = None
    timeout: float | None = None
    upload_token: str | None = None


@dataclass(frozen=True)
class Settings:
    """Everything the library needs to reach a registry. Build it with ``Settings.resolve``.

    backend: "gitlab" or "mlflow" (selection rules in ``resolve``).
    gitlab_url: GitLab base URL without ``/api/v4`` (GitLab backend only).
    project: numeric id or full path of the GitLab project.
    project_path: the project's full path when known (for messages and references).
    token: API token for the MLflow-compatible and packages APIs (Bearer).
    job_token: ``CI_JOB_TOKEN`` inside a GitLab job.
    upload_token: which token uploads and downloads files: "job" (CI default) or "api".
    tracking_uri: MLflow tracking URI (MLflow backend); ``embedded`` when nothing was configured.
    ca_file: extra CA bundle; TLS verification is always on.
    timeout: seconds for connecting and for each read.
    ci: the GitLab CI context (empty off CI).
    """

    backend: BackendKind
    gitlab_url: str = ""
    project: str = ""
    project_path: str = ""
    token: Secret | None = None
    job_token: Secret | None = None
    upload_token: Literal["job", "api"] = "api"
    tracking_uri: str = ""
    embedded: bool = False
    ca_file: str | None = None
    timeout: float = 60.0
    ci: CiContext = field(default_factory=CiContext)

    @property
    def api_url(self) -> str:
        return f"{self.gitlab_url}/api/v4"

    @classmethod
    def resolve(cls, flags: Flags, environ: Mapping[str, str], cwd: Path) -> Settings:
        """Resolve flags and the environment into Settings.

        Backend selection, in order: (1) a tracking URI (flag, ``GMR_TRACKING_URI``,
        ``MLFLOW_TRACKING_URI``): GitLab's MLflow URL selects GitLab, anything else MLflow;
        (2) a GitLab URL and project (flags, or ``CI_API_V4_URL`` + ``CI_PROJECT_ID``);
        (3) the embedded local registry: ``sqlite:///<cwd>/mlruns.db``.
        """
        env = {k: v for k, v in environ.items() if v != ""}
        ci = CiContext(**{name: env.get(var, "") for name, var in _CI_VARIABLES.items()})
        common: dict[str, Any] = {
            "token": _api_token(flags, env),
            "ca_file": flags.ca_file or env.get("CI_SERVER_TLS_CA_FILE"),
            "timeout": _positive(flags.timeout, "--timeout") if flags.timeout else 60.0,
            "ci": ci,
        }
        tracking_uri = flags.tracking_uri or env.get("MLFLOW_TRACKING_URI")
        if tracking_uri:
            match = _GITLAB_MLFLOW_URI.match(tracking_uri)
            if not match:
                return cls(backend="mlflow", tracking_uri=tracking_uri, **common)
            url, project = match["url"], unquote(match["project"])
        else:
            url = flags.gitlab_url or _strip_api(env.get("CI_API_V4_URL", ""))
            project = flags.project or env.get("CI_PROJECT_ID", "")
        if url or project:
            return cls._gitlab(flags, env, url, project, common)
        uri = f"sqlite:///{cwd / 'mlruns.db'}"
        return cls(backend="mlflow", tracking_uri=uri, embedded=True, **common)

    @classmethod
    def _gitlab(
        cls, flags: Flags, env: Mapping[str, str], url: str, project: str, common: dict[str, Any]
    ) -> Settings:
        if not url:
            raise UsageError("no GitLab URL", hint="pass --gitlab-url or set GMR_GITLAB_URL")
        if not project:
            raise UsageError("no GitLab project", hint="pass --project ID|PATH or set GMR_PROJECT")
        if not re.match(r"^https?://", url):
            raise UsageError(f"GitLab URL {url!r} must start with http:// or https://")
        job_token = Secret(env["CI_JOB_TOKEN"]) if env.get("CI_JOB_TOKEN") else None
        choice = _upload_choice(flags.upload_token or ("job" if job_token else "api"))
        if choice == "job" and not job_token:
            raise UsageError("--upload-token job needs CI_JOB_TOKEN, which is set only in CI jobs")
        return cls(
            backend="gitlab",
            gitlab_url=_strip_api(url).rstrip("/"),
            project=project,
            project_path=_project_path(project, env),
            job_token=job_token,
            upload_token=choice,
            **common,
        )


def _api_token(flags: Flags, env: Mapping[str, str]) -> Secret | None:
    """--token/GMR_TOKEN, then the variable named by --token-variable, GITLAB_TOKEN, MLFLOW_TRACKING_TOKEN."""
    named = env.get(flags.token_variable) if flags.token_variable else None
    value = flags.token or named or env.get("GITLAB_TOKEN") or env.get("MLFLOW_TRACKING_TOKEN")
    return Secret(value) if value else None


def _project_path(project: str, env: Mapping[str, str]) -> str:
    """The project's readable path: as given, or CI_PROJECT_PATH for the job's own project id."""
    if not project.isdigit():
        return project
    return env.get("CI_PROJECT_PATH", "") if project == env.get("CI_PROJECT_ID") else ""


def _upload_choice(value: str) -> Literal["job", "api"]:
    if value == "job":
        return "job"
    if value == "api":
        return "api"
    raise UsageError(f"--upload-token must be 'job' or 'api', not {value!r}")


def _strip_api(url: str) -> str:
    url = url.rstrip("/")
    return url[: -len("/api/v4")] if url.endswith("/api/v4") else url


def _positive(value: float, name: str) -> float:
    if value <= 0:
        raise UsageError(f"{name} must be positive, not {value}")
    return value
