"""MLflow model-versions routes: create (with run, package, ``gitlab.version``), get, update,
get-download-uri (reference §1.3, §1.5)."""

from __future__ import annotations

import time

from tests.gitlab_double import i18n, semver
from tests.gitlab_double import mlflow_render as render
from tests.gitlab_double.errors import invalid_parameter, mlflow, resource_missing
from tests.gitlab_double.mlflow_common import PREFIX, authorize, find_model
from tests.gitlab_double.params import key_values, optional_str, required_int
from tests.gitlab_double.records import Model, Project, Version
from tests.gitlab_double.releases import MODEL_REGISTRY_SINCE
from tests.gitlab_double.routing import Request, Response, Router
from tests.gitlab_double.state import now_s

VERSION_TAG = "gitlab.version"
MAX_TEXT = 10_000


def create_version(request: Request) -> Response:
    """Ml::CreateModelVersionService (app/services/ml/create_model_version_service.rb, commit
    de09f0397694): validate (uniqueness included), then INSERT.

    As on GitLab the two are not atomic: two overlapping creates both pass the uniqueness
    validation, and the second INSERT hits the unique index on (project_id, model_id, version),
    which the service does not rescue; the entrypoint's ``rescue_from
    ActiveRecord::ActiveRecordError`` answers 400 INVALID_PARAMETER_VALUE with its text. The
    ``race_window_ms`` fault setting widens the gap between the check and the INSERT.
    """
    registry = request.app.registry
    with registry.lock:
        caller, project = authorize(request, write=True)
        model, chosen, description, tag_map = _validated(request, caller.language, project)
    window = request.app.faults.settings.race_window_ms
    if window:
        time.sleep(window / 1000)
    with registry.lock:
        if _by_semver(model, chosen) is not None:
            raise invalid_parameter(_unique_violation(project, model, chosen))
        version = registry.create_version(project, model, chosen, description, tag_map)
        body = {"model_version": render.model_version(request, project, model, version)}
    return Response(body=body)


def _validated(
    request: Request, language: str, project: Project
) -> tuple[Model, str, str, dict[str, str]]:
    params = request.params()
    model = find_model(project, params.get("name"))
    tags = key_values(params, "tags")
    description = optional_str(params, "description")
    existing = [v.semver for v in model.versions.values()]
    tag_map = dict(tags)
    chosen = tag_map[VERSION_TAG] if VERSION_TAG in tag_map else semver.next_version(existing)
    errors = _version_errors(model, chosen, description, tags, language)
    if errors:
        raise invalid_parameter(errors)
    return model, chosen, description, tag_map


def _unique_violation(project: Project, model: Model, chosen: str) -> str:
    """ActiveRecord::RecordNotUnique#message: PostgreSQL's text, never translated."""
    return (
        "PG::UniqueViolation: ERROR:  duplicate key value violates unique constraint "
        '"index_ml_model_versions_on_project_id_and_model_id_and_version"\n'
        f"DETAIL:  Key (project_id, model_id, version)=({project.id}, {model.id}, {chosen}) "
        "already exists.\n"
    )


def _version_errors(
    model: Model, chosen: str, description: str, tags: list[tuple[str, str]], language: str
) -> list[str]:
    """ActiveRecord full messages, in the order GitLab's validations produce them, in the
    caller's preferred language (``i18n``)."""
    errors = []
    if not semver.is_semver(chosen) or len(chosen) > 255:
        errors.append(i18n.full_message(language, "Version", i18n.NOT_SEMVER))
    elif any(v.semver == chosen for v in model.versions.values()):
        errors.append(i18n.full_message(language, "Version", i18n.TAKEN))
    if len(description) > MAX_TEXT:
        errors.append(i18n.full_message(language, "Description", i18n.TOO_LONG, count=MAX_TEXT))
    keys = [k for k, _ in tags]
    bad_tag = any(not k or len(k) > 255 or len(v) > 5000 for k, v in tags)
    if bad_tag or len(set(keys)) != len(keys):
        errors.append(i18n.full_message(language, "Metadata", i18n.INVALID))
    return errors


def _by_semver(model: Model, text: str) -> Version | None:
    return next((v for v in model.versions.values() if v.semver == text), None)


def get_version(request: Request) -> Response:
    _, project = authorize(request, write=False)
    params = request.params()
    model = find_model(project, params.get("name"))
    version = _by_semver(model, optional_str(params, "version"))
    if version is None:
        raise resource_missing()
    body = {"model_version": render.model_version(request, project, model, version)}
    return Response(body=body)


def update_version(request: Request) -> Response:
    """Needs name, version (semver) and description; anything else failing is UPDATE_FAILED."""
    _, project = authorize(request, write=True)
    params = request.params()
    if not all(params.get(k) is not None for k in ("name", "version", "description")):
        raise invalid_parameter(None)
    model = project.models.get(str(params["name"]))
    version = _by_semver(model, str(params["version"])) if model else None
    description = str(params["description"])
    if model is None or version is None or len(description) > MAX_TEXT:
        raise mlflow(400, "UPDATE_FAILED")
    version.description = description
    version.updated_s = now_s()
    body = {"model_version": render.model_version(request, project, model, version)}
    return Response(body=body)


def download_uri(request: Request) -> Response:
    """``version`` here is the model-version DB id; GitLab does not check it exists."""
    authorize(request, write=False)
    version_id = required_int(request.params(), "version")
    return Response(body={"artifact_uri": f"mlflow-artifacts:/{version_id}"})


def register(router: Router) -> None:
    base = PREFIX + "model-versions/"
    router.add("POST", base + "create", create_version, locks=True, since=MODEL_REGISTRY_SINCE)
    router.add("GET", base + "get", get_version, since=MODEL_REGISTRY_SINCE)
    router.add("PATCH", base + "update", update_version, since=MODEL_REGISTRY_SINCE)
    router.add("GET", base + "get-download-uri", download_uri, since=MODEL_REGISTRY_SINCE)
