"""Configuration, resolved in one place.

Precedence, highest first: command-line flag > ``GMR_*`` variable (both handled by click in
``cli``) > well-known variables read here (``GITLAB_TOKEN``, ``MLFLOW_TRACKING_URI``,
``MLFLOW_TRACKING_TOKEN``, GitLab's predefined ``CI_*``) > defaults. ``resolve`` reads the
environment only when called, never at import, and is the only reader of those variables.

Each credential is bound to the server it was issued for:

- GitLab: ``--token``/``GMR_TOKEN``, the variable named by ``--token-variable``,
  ``GITLAB_TOKEN``, then ``MLFLOW_TRACKING_TOKEN`` unless ``MLFLOW_TRACKING_URI`` names another
  server. ``CI_JOB_TOKEN`` only when the target is the job's own GitLab (``CI_API_V4_URL`` /
  ``CI_SERVER_URL``), and for file transfers by default only in the job's own project.
- A plain MLflow server: ``--token``/``GMR_TOKEN``, else its own ``MLFLOW_TRACKING_USERNAME`` +
  ``MLFLOW_TRACKING_PASSWORD`` or ``MLFLOW_TRACKING_TOKEN``; never ``GITLAB_TOKEN`` or a job token.
  ``MLFLOW_HTTP_REQUEST_TIMEOUT`` / ``MLFLOW_HTTP_REQUEST_MAX_RETRIES`` are its fallbacks.
- The ``gitlab.CI_JOB_ID`` link tag is not sent to a GitLab other than the job's own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

from gitlab_model_registry._servers import is_job_server, is_own_project, same_server, strip_api
from gitlab_model_registry.errors import UsageError
from gitlab_model_registry.models import CiContext
from gitlab_model_registry.observer import NULL_OBSERVER, Observer

if TYPE_CHECKING:
    from gitlab_model_registry.backends import Backend

DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRIES = 5

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
    "project_url": "CI_PROJECT_URL",
    "merge_request_target_branch": "CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
    "environment_name": "CI_ENVIRONMENT_NAME",
    "user_login": "GITLAB_USER_LOGIN",
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
    job_token: ``CI_JOB_TOKEN``, only when the target is the job's own GitLab.
    upload_token: which token uploads and downloads files: "job" (default in the job's own
        project) or "api".
    upload_token_asked: "job" or "api" when chosen explicitly (then kept for other projects).
    job_project_id, job_project_path: the job's own project (``CI_PROJECT_ID``/``_PATH``).
    tracking_uri: MLflow tracking URI (MLflow backend); ``embedded`` when nothing was configured.
    username, password: HTTP basic auth for a plain MLflow server.
    ca_file: extra CA bundle, added to the system's trust; TLS verification is always on.
    timeout: seconds for connecting and for each read.
    max_retries: retries of a transient failure (6 attempts in all by default).
    ci: the GitLab CI context (empty off CI).
    """

    backend: BackendKind
    gitlab_url: str = ""
    project: str = ""
    project_path: str = ""
    token: Secret | None = None
    job_token: Secret | None = None
    upload_token: Literal["job", "api"] = "api"
    upload_token_asked: str = ""
    job_project_id: str = ""
    job_project_path: str = ""
    tracking_uri: str = ""
    embedded: bool = False
    username: Secret | None = None
    password: Secret | None = None
    ca_file: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_RETRIES
    ci: CiContext = field(default_factory=CiContext)

    @property
    def api_url(self) -> str:
        return f"{self.gitlab_url}/api/v4"

    def for_project(self, project: str) -> Settings:
        """The same GitLab, another project: the job token only if asked for (its allowlist)."""
        own = is_own_project(project, self.job_project_id, self.job_project_path)
        wanted = self.upload_token_asked == "job" or (own and not self.upload_token_asked)
        use_job = self.job_token is not None and wanted
        path = project if not project.isdigit() else (self.job_project_path if own else "")
        return replace(
            self, project=project, project_path=path, upload_token="job" if use_job else "api"
        )

    def open_backend(self, observer: Observer = NULL_OBSERVER) -> Backend:
        """The backend these settings describe (see ``registry.open_registry``)."""
        from gitlab_model_registry.registry import open_registry

        return open_registry(self, observer)

    @classmethod
    def resolve(cls, flags: Flags, environ: Mapping[str, str], cwd: Path) -> Settings:
        """Resolve flags and the environment into Settings.

        Backend selection, in order: (1) a tracking URI (flag, ``GMR_TRACKING_URI``,
        ``MLFLOW_TRACKING_URI``): GitLab's MLflow URL selects GitLab, anything else MLflow;
        (2) a GitLab URL and project (flags, or ``CI_API_V4_URL`` + ``CI_PROJECT_ID``);
        (3) the embedded local registry: ``sqlite:///<cwd>/mlruns.db``.
        """
        env = {k: v for k, v in environ.items() if v != ""}
        values: dict[str, Any] = {name: env.get(var, "") for name, var in _CI_VARIABLES.items()}
        ci = CiContext(**values)
        if flags.timeout is not None:
            _positive(flags.timeout, "--timeout")
        common: dict[str, Any] = {
            "ca_file": flags.ca_file or env.get("CI_SERVER_TLS_CA_FILE"),
            "timeout": flags.timeout or DEFAULT_TIMEOUT,
            "ci": ci,
        }
        tracking_uri = flags.tracking_uri or env.get("MLFLOW_TRACKING_URI")
        if tracking_uri:
            match = _GITLAB_MLFLOW_URI.match(tracking_uri)
            if not match:
                return cls._mlflow(flags, env, tracking_uri, common)
            url, project = match["url"], unquote(match["project"])
        else:
            url = flags.gitlab_url or strip_api(env.get("CI_API_V4_URL", ""))
            project = flags.project or env.get("CI_PROJECT_ID", "")
        if url or project:
            return cls._gitlab(flags, env, url, project, common)
        uri = f"sqlite:///{cwd / 'mlruns.db'}"
        return cls(backend="mlflow", tracking_uri=uri, embedded=True, **common)

    @classmethod
    def _mlflow(
        cls, flags: Flags, env: Mapping[str, str], uri: str, common: dict[str, Any]
    ) -> Settings:
        """A plain MLflow server: its own credentials and HTTP limits, never GitLab's."""
        token = flags.token or env.get("MLFLOW_TRACKING_TOKEN")
        user, password = env.get("MLFLOW_TRACKING_USERNAME"), env.get("MLFLOW_TRACKING_PASSWORD")
        basic = not flags.token and bool(user and password)
        if flags.timeout is None and env.get("MLFLOW_HTTP_REQUEST_TIMEOUT"):
            common["timeout"] = _number(
                env["MLFLOW_HTTP_REQUEST_TIMEOUT"], "MLFLOW_HTTP_REQUEST_TIMEOUT"
            )
        retries = env.get("MLFLOW_HTTP_REQUEST_MAX_RETRIES")
        return cls(
            backend="mlflow",
            tracking_uri=uri,
            token=Secret(token) if token and not basic else None,
            username=Secret(user) if basic and user else None,
            password=Secret(password) if basic and password else None,
            max_retries=int(_number(retries, "MLFLOW_HTTP_REQUEST_MAX_RETRIES", 0))
            if retries
            else DEFAULT_RETRIES,
            **common,
        )

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
        gitlab_url = strip_api(url).rstrip("/")
        own_server = is_job_server(gitlab_url, env)
        job_token = Secret(env["CI_JOB_TOKEN"]) if own_server and env.get("CI_JOB_TOKEN") else None
        asked = _upload_choice(flags.upload_token) if flags.upload_token else None
        if asked == "job" and not job_token:
            raise UsageError(
                "--upload-token job needs CI_JOB_TOKEN of a job on this GitLab",
                hint="CI_JOB_TOKEN is set only in CI jobs, and GitLab accepts it only from its own jobs",
            )
        settings = cls(
            backend="gitlab",
            gitlab_url=gitlab_url,
            project=project,
            token=_gitlab_token(flags, env, gitlab_url),
            job_token=job_token,
            upload_token_asked=asked or "",
            job_project_id=env.get("CI_PROJECT_ID", "") if own_server else "",
            job_project_path=env.get("CI_PROJECT_PATH", "") if own_server else "",
            **{**common, "ci": replace(common["ci"], links_job=own_server)},
        )
        return settings.for_project(project)


def _gitlab_token(flags: Flags, env: Mapping[str, str], gitlab_url: str) -> Secret | None:
    """--token/GMR_TOKEN, the --token-variable one, GITLAB_TOKEN, then MLFLOW_TRACKING_TOKEN
    unless MLFLOW_TRACKING_URI says that token belongs to another server."""
    named = env.get(flags.token_variable) if flags.token_variable else None
    mlflow_uri = env.get("MLFLOW_TRACKING_URI", "")
    mlflow_here = not mlflow_uri or same_server(mlflow_uri, gitlab_url)
    fallback = env.get("MLFLOW_TRACKING_TOKEN") if mlflow_here else None
    value = flags.token or named or env.get("GITLAB_TOKEN") or fallback
    return Secret(value) if value else None


def _upload_choice(value: str) -> Literal["job", "api"]:
    if value == "job":
        return "job"
    if value == "api":
        return "api"
    raise UsageError(f"--upload-token must be 'job' or 'api', not {value!r}")


def _positive(value: float, name: str) -> float:
    if not value > 0:
        raise UsageError(f"{name} must be a positive number of seconds, not {value}")
    return value


def _number(text: str, name: str, minimum: float = 1e-9) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{name} must be a number, not {text!r}") from None
    if not value >= minimum:
        raise UsageError(f"{name} must be at least {minimum:g}, not {text!r}")
    return value
