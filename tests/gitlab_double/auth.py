"""Who is calling, and may they? Credential rules per endpoint family (reference §1.1, §1.2, §2,
§7, §11.1).

Each family accepts different credential kinds. A credential of an accepted kind that matches
nothing is a 401; a credential the family ignores leaves the caller anonymous.

| family    | PRIVATE-TOKEN | Authorization: Bearer        | JOB-TOKEN |
|-----------|---------------|------------------------------|-----------|
| mlflow    | PAT           | PAT (job token: skipped)     | ignored   |
| ml_models | ignored       | PAT or job token             | ignored   |
| packages  | PAT           | PAT or job token             | job token |
| projects  | PAT           | PAT or job token             | job token |
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.gitlab_double.errors import (
    ApiError,
    insufficient_scope,
    message,
    not_found,
    unauthorized,
)
from tests.gitlab_double.records import Job, Project, Token, User, role_at_least
from tests.gitlab_double.routing import Request

MLFLOW = "mlflow"
ML_MODELS = "ml_models"
PACKAGES = "packages"
PROJECTS = "projects"

_ACCEPTS = {
    MLFLOW: ("private-token", "bearer"),
    ML_MODELS: ("bearer",),
    PACKAGES: ("private-token", "bearer", "job-token"),
    PROJECTS: ("private-token", "bearer", "job-token"),
}
_JOB_TOKENS_OK = {ML_MODELS, PACKAGES, PROJECTS}  # families that set job_token_allowed
READ_METHODS = ("GET", "HEAD")


@dataclass(frozen=True)
class Caller:
    role: str | None = None  # None: anonymous
    scopes: frozenset[str] = frozenset()
    user: User | None = None
    job: Job | None = None
    language: str = "en"  # the user's preferred language

    @property
    def anonymous(self) -> bool:
        return self.role is None

    def at_least(self, role: str) -> bool:
        return role_at_least(self.role, role)


ANONYMOUS = Caller()


def sent_credentials(request: Request) -> list[tuple[str, str]]:
    """(kind, value) of every credential in the request, in GitLab's finder order."""
    found: list[tuple[str, str]] = []
    private = request.headers.get("PRIVATE-TOKEN") or request.query.get("private_token", [""])[-1]
    if private:
        found.append(("private-token", private))
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        found.append(("bearer", value.strip()))
    job = request.headers.get("JOB-TOKEN") or request.query.get("job_token", [""])[-1]
    if job:
        found.append(("job-token", job))
    return found


def credential_kind(request: Request) -> str:
    """What the request log records: the header kind, never its value."""
    sent = sent_credentials(request)
    return sent[0][0] if sent else "none"


def identify(request: Request, family: str) -> Caller:
    """The caller, from the first credential this family reads; 401 if it matches nothing."""
    registry = request.app.registry
    for kind, value in sent_credentials(request):
        if kind not in _ACCEPTS[family]:
            continue
        job = registry.job_by_token(value)
        if job is not None and kind in ("bearer", "job-token"):
            if family not in _JOB_TOKENS_OK:
                continue  # the PAT finder skips job tokens; no job finder on this route
            return Caller(job.role, frozenset({"api"}), job.user, job)
        token = registry.tokens.get(value)
        if token is None or kind == "job-token":
            raise unauthorized()
        return _caller_of(token)
    return ANONYMOUS


def _caller_of(token: Token) -> Caller:
    return Caller(token.role, token.scopes, token.user, language=token.language)


def check_scope(request: Request, caller: Caller) -> None:
    """``read_api`` allows GET/HEAD only, POST-based searches included (403 insufficient_scope)."""
    limited = caller.job is None and not caller.anonymous and "api" not in caller.scopes
    if limited and request.method not in READ_METHODS:
        raise insufficient_scope()


def authenticate(request: Request, family: str, *, required: bool) -> tuple[Caller, Project]:
    """Identify the caller, check the token scope and find the project they may see."""
    caller = identify(request, family)
    check_scope(request, caller)
    if required and caller.anonymous:
        raise unauthorized()
    return caller, visible_project(request, caller)


def authenticate_instance(request: Request) -> Caller:
    """Instance-level routes (``/version``): any token GitLab's default finders accept."""
    caller = identify(request, PROJECTS)
    if caller.anonymous:
        raise unauthorized()
    return caller


def visible_project(request: Request, caller: Caller) -> Project:
    """Projects are private: anonymous callers get a 404. A job token reaching another project
    gets 403 "Authentication by CI/CD job token not allowed from <src> to <dst>." (lib/api/
    helpers.rb ``handle_job_token_failure!``, blob 719099810): no project has the job's
    project in its job token allowlist here."""
    registry = request.app.registry
    project = registry.find_project(request.arg("project"))
    if project is None or caller.anonymous:
        raise not_found("Project")
    if caller.job is not None and caller.job.project_id != project.id:
        source = registry.projects.get(caller.job.project_id)
        source_path = source.path.rsplit("/", 1)[-1] if source else ""
        target_path = project.path.rsplit("/", 1)[-1]
        raise message(
            403,
            f"Authentication by CI/CD job token not allowed from {source_path} to {target_path}.",
        )
    return project


def require_feature(project: Project, feature: str, error: ApiError) -> None:
    """A switched-off project feature (``config.FEATURES``): ``model_registry`` (or the
    ``model_registry`` flag before 17.6), ``model_experiments``, ``packages``."""
    if feature in project.features_off:
        raise error


def require_role(caller: Caller, minimum: str, error: ApiError) -> None:
    if not caller.at_least(minimum):
        raise error
