"""Server side of the control API (``/-/double/...``): no auth, never faulted, never logged."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

from tests.gitlab_double.config import FEATURES, ROLES, checked_language
from tests.gitlab_double.errors import grape
from tests.gitlab_double.records import Model, PackageFile, Project, Run, Version
from tests.gitlab_double.releases import Release
from tests.gitlab_double.routing import Request, Response, Router
from tests.gitlab_double.state import Registry

CONTROL = "/-/double/"


def reset(request: Request) -> Response:
    request.app.reset()
    return Response(body={})


def set_faults(request: Request) -> Response:
    try:
        request.app.faults.update(request.params())
    except (TypeError, ValueError) as exc:
        raise grape(str(exc)) from None
    return Response(body={})


def add_token(request: Request) -> Response:
    params = request.params()
    scopes = params.get("scopes") or ["api"]
    scopes = scopes.split(",") if isinstance(scopes, str) else scopes
    language = _language(params.get("language", "en"))
    registry = request.app.registry
    registry.add_token(str(params["value"]), frozenset(scopes), _role(params), language)
    return Response(body={})


def set_language(request: Request) -> Response:
    """Change an existing token owner's preferred language (``en`` or ``de``)."""
    params = request.params()
    token = request.app.registry.tokens.get(str(params.get("token")))
    if token is None:
        raise grape("no such token", 404)
    token.language = _language(params.get("language"))
    return Response(body={})


def _language(value: Any) -> str:
    try:
        return checked_language(str(value))
    except ValueError as exc:
        raise grape(str(exc)) from None


def set_features(request: Request) -> Response:
    """``{"project_id": 1, "model_registry": false, "packages": true}``: switch features."""
    params = request.params()
    project = request.app.registry.projects.get(int(params.get("project_id", 1)))
    if project is None:
        raise grape("no such project", 404)
    unknown = set(params) - {"project_id", *FEATURES}
    if unknown:
        raise grape(f"unknown features: {sorted(unknown)}")
    for feature in FEATURES:
        if feature in params:
            (project.features_off.discard if params[feature] else project.features_off.add)(feature)
    return Response(body={})


def set_release(request: Request) -> Response:
    """``{"version": "17.5"}``: reproduce that GitLab release's response shapes."""
    try:
        request.app.release = Release.parse(str(request.params().get("version", "")))
    except ValueError as exc:
        raise grape(str(exc)) from None
    return Response(body={})


def add_job(request: Request) -> Response:
    params = request.params()
    request.app.registry.add_job(str(params["id"]), str(params["token"]), _role(params))
    return Response(body={})


def add_project(request: Request) -> Response:
    params = request.params()
    request.app.registry.add_project(int(params["id"]), str(params["path"]))
    return Response(body={})


def _role(params: dict[str, Any]) -> str:
    role = str(params.get("role", "developer"))
    if role not in ROLES:
        raise grape(f"role must be one of {', '.join(ROLES)}")
    return role


def corrupt_file(request: Request) -> Response:
    """Flip the first byte of a stored file (its recorded sha256 stays): a bad download."""
    params = request.params()
    registry = request.app.registry
    with registry.lock:
        record = _stored_file(registry, params)
        with record.disk_path.open("r+b") as handle:
            first = handle.read(1)
            handle.seek(0)
            handle.write(bytes([first[0] ^ 0xFF]) if first else b"\0")
    return Response(body={})


def _stored_file(registry: Registry, params: dict[str, Any]) -> PackageFile:
    project = registry.projects.get(int(params.get("project_id", 1)))
    model = project.models.get(str(params.get("model"))) if project else None
    versions = model.versions.values() if model else []
    version = next((v for v in versions if v.semver == params.get("version")), None)
    package = registry.packages.get(version.package_id) if version else None
    record = package.newest_file(quote(str(params.get("file")), safe="")) if package else None
    if record is None:
        raise grape("no such stored file", 404)
    return record


def object_store(request: Request) -> Response:
    """The object store's URL, the requests it got (Authorization scheme, Range) and bytes."""
    store = request.app.object_store
    return Response(body=store.report() if store is not None else None)


def served(request: Request) -> Response:
    """File bytes the GitLab side sent per path since the last reset (resume tests)."""
    return Response(body=request.app.served.snapshot())


def request_log(request: Request) -> Response:
    return Response(body=request.app.request_log())


def state(request: Request) -> Response:
    registry = request.app.registry
    with registry.lock:
        projects = [_project(registry, p) for p in registry.projects.values()]
    return Response(body={"projects": projects})


def _project(registry: Registry, project: Project) -> dict[str, Any]:
    models = [_model(registry, project, m) for m in project.models.values()]
    return {"id": project.id, "path": project.path, "models": models}


def _model(registry: Registry, project: Project, model: Model) -> dict[str, Any]:
    versions = [_version(registry, project, v) for v in model.versions.values()]
    return {"name": model.name, "description": model.description, "versions": versions}


def _version(registry: Registry, project: Project, version: Version) -> dict[str, Any]:
    run = project.runs.get(version.run_uuid)
    package = registry.packages.get(version.package_id)
    live = package is not None and package.status != "pending_destruction"
    return {
        "id": version.id,
        "version": version.semver,
        "description": version.description,
        "tags": dict(version.tags),
        "run_id": version.run_uuid,
        "ci_job_id": run.ci_job_id if run else None,
        "package_id": version.package_id,
        "files": _newest_files(package.live_files()) if package and live else [],
        "run": _run(run),
    }


def _newest_files(records: list[PackageFile]) -> list[dict[str, Any]]:
    newest: dict[str, PackageFile] = {}
    for record in sorted(records, key=lambda f: f.id):
        newest[record.name] = record
    return [{"name": unquote(r.name), "size": r.size, "sha256": r.sha256} for r in newest.values()]


def _run(run: Run | None) -> dict[str, Any]:
    if run is None:
        return {"params": {}, "metrics": {}, "tags": {}}
    metrics = {m.key: m.value for m in run.metrics}  # the last logged value per key
    return {"params": dict(run.params), "metrics": metrics, "tags": dict(run.tags)}


def register(router: Router) -> None:
    router.add("POST", CONTROL + "reset", reset)
    router.add("POST", CONTROL + "faults", set_faults)
    router.add("POST", CONTROL + "tokens", add_token)
    router.add("POST", CONTROL + "languages", set_language)
    router.add("POST", CONTROL + "features", set_features)
    router.add("POST", CONTROL + "release", set_release)
    router.add("POST", CONTROL + "jobs", add_job)
    router.add("POST", CONTROL + "projects", add_project)
    router.add("POST", CONTROL + "corrupt", corrupt_file)
    router.add("GET", CONTROL + "requests", request_log)
    router.add("GET", CONTROL + "state", state)
    router.add("GET", CONTROL + "objectstore", object_store)
    router.add("GET", CONTROL + "served", served)
