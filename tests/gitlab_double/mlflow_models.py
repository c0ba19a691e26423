"""MLflow registered-models and model-versions routes (reference §1.3-§1.5, §4)."""

from __future__ import annotations

import re
import time

from tests.gitlab_double import mlflow_render as render
from tests.gitlab_double import semver
from tests.gitlab_double.errors import already_exists, invalid_parameter, resource_missing
from tests.gitlab_double.mlflow_common import (
    MAX_RESULTS_CAP,
    MAX_RESULTS_DEFAULT,
    PREFIX,
    authorize,
    find_model,
    next_page_token,
    page_offset,
)
from tests.gitlab_double.params import as_int, clamp, key_values, optional_str, required_str
from tests.gitlab_double.records import Model, Project, Version
from tests.gitlab_double.releases import MODEL_REGISTRY_SINCE
from tests.gitlab_double.routing import Request, Response, Router
from tests.gitlab_double.state import now_s

# Gitlab::Regex.package_name_regex (ASCII \w), which model names must match.
MODEL_NAME = re.compile(
    r"^@?(?:[A-Za-z0-9_.+-]*/)*[A-Za-z0-9_.-]+@?(?:[A-Za-z0-9_.+-]*/)*[A-Za-z0-9_.-]*$"
)
NAME_FILTER = re.compile(r"""^\s*name\s*=\s*(['"])(.*)\1\s*$""")
ORDER_BY = re.compile(r"^\s*(name|last_updated_timestamp)(?:\s+(ASC|DESC))?\s*$", re.IGNORECASE)
MAX_TEXT = 10_000


def create_model(request: Request) -> Response:
    """Ml::CreateModelService (commit 4dbbab7b215a): in one transaction, create the model's
    ``[model]<name>`` experiment, then the model, each validated before its INSERT. Two
    overlapping creates both pass the validations; the second INSERT of the experiment hits the
    unique index on (project_id, name) and raises ActiveRecord::RecordNotUnique, which the route
    (it rescues RecordInvalid only) leaves to the entrypoint: 400 INVALID_PARAMETER_VALUE with
    PostgreSQL's text. ``race_window_ms`` widens the gap."""
    registry = request.app.registry
    with registry.lock:
        caller, project = authorize(request, write=True)
        params = request.params()
        name = required_str(params, "name")
        description = optional_str(params, "description")
        tags = key_values(params, "tags")
        if not _model_is_valid(project, name, description, tags):
            raise already_exists()  # GitLab answers this for *any* validation failure
    window = request.app.faults.settings.race_window_ms
    if window:
        time.sleep(window / 1000)
    with registry.lock:
        if name in project.models:
            raise invalid_parameter(
                "PG::UniqueViolation: ERROR:  duplicate key value violates unique constraint "
                '"index_ml_experiments_on_project_id_and_name"\n'
                f"DETAIL:  Key (project_id, name)=({project.id}, [model]{name}) already "
                "exists.\n"
            )
        assert caller.user is not None
        model = registry.create_model(project, name, description, dict(tags), caller.user)
        body = {"registered_model": render.registered_model(request, project, model)}
    return Response(body=body)


def _model_is_valid(
    project: Project, name: str, description: str, tags: list[tuple[str, str]]
) -> bool:
    keys = [k for k, _ in tags]
    return (
        bool(MODEL_NAME.match(name))
        and len(name) <= 255
        and name not in project.models
        and project.experiment_named(f"[model]{name}") is None
        and len(description) <= MAX_TEXT
        and all(keys)
        and len(set(keys)) == len(keys)
    )


def get_model(request: Request) -> Response:
    _, project = authorize(request, write=False)
    model = find_model(project, request.params().get("name"))
    return Response(body={"registered_model": render.registered_model(request, project, model)})


def update_model(request: Request) -> Response:
    _, project = authorize(request, write=True)
    params = request.params()
    model = find_model(project, params.get("name"))
    if "description" in params:
        model.description = optional_str(params, "description")
        model.updated_s = now_s()
    return Response(body={"registered_model": render.registered_model(request, project, model)})


def delete_model(request: Request) -> Response:
    _, project = authorize(request, write=True)
    model = find_model(project, request.params().get("name"))
    request.app.registry.delete_model(project, model)
    return Response(body={})


def latest_versions(request: Request) -> Response:
    _, project = authorize(request, write=False)
    model = find_model(project, request.params().get("name"))
    latest = _latest(model)
    items = [render.model_version(request, project, model, latest)] if latest else []
    return Response(body={"model_versions": items})


def _latest(model: Model) -> Version | None:
    by_semver = {v.semver: v for v in model.versions.values()}
    best = semver.highest(by_semver)
    return by_semver[best] if best else None


def search_models(request: Request) -> Response:
    _, project = authorize(request, write=False)
    params = request.params()
    models = _filtered(project, optional_str(params, "filter"))
    models = _ordered(models, optional_str(params, "order_by") or "name ASC")
    size = clamp(as_int(params, "max_results"), MAX_RESULTS_DEFAULT, MAX_RESULTS_CAP)
    offset = page_offset(params)
    page = models[offset : offset + size]
    body = {
        "registered_models": [render.registered_model(request, project, m) for m in page],
        "next_page_token": next_page_token(offset, size, len(models)),
    }
    return Response(body=body)


def _filtered(project: Project, text: str) -> list[Model]:
    """Only ``name='x'`` is supported, and it is a substring match (SQL LIKE %x%)."""
    if not text.strip():
        return list(project.models.values())
    found = NAME_FILTER.match(text)
    if found is None:
        raise invalid_parameter(f"Invalid attribute key in filter: {text}")
    return [m for m in project.models.values() if found[2] in m.name]


def _ordered(models: list[Model], order_by: str) -> list[Model]:
    found = ORDER_BY.match(order_by)
    if found is None:
        raise invalid_parameter(f"Invalid order_by: {order_by}")
    column, direction = found[1].lower(), (found[2] or "ASC").upper()
    key = (lambda m: m.name) if column == "name" else (lambda m: (m.updated_s, m.id))
    return sorted(models, key=key, reverse=direction == "DESC")


def model_by_alias(request: Request) -> Response:
    _, project = authorize(request, write=False)
    params = request.params()
    model = find_model(project, params.get("name"))
    version = _by_semver(model, optional_str(params, "alias"))
    return Response(body={"model_version": render.model_version(request, project, model, version)})


def _by_semver(model: Model, text: str) -> Version:
    version = next((v for v in model.versions.values() if v.semver == text), None)
    if version is None:
        raise resource_missing()
    return version


def register(router: Router) -> None:
    base = PREFIX + "registered-models/"
    router.add("POST", base + "create", create_model, locks=True, since=MODEL_REGISTRY_SINCE)
    router.add("GET", base + "get", get_model, since=MODEL_REGISTRY_SINCE)
    router.add("PATCH", base + "update", update_model, since=MODEL_REGISTRY_SINCE)
    router.add("DELETE", base + "delete", delete_model, since=MODEL_REGISTRY_SINCE)
    router.add("POST", base + "get-latest-versions", latest_versions, since=MODEL_REGISTRY_SINCE)
    router.add("GET", base + "search", search_models, since=MODEL_REGISTRY_SINCE)
    router.add("GET", base + "alias", model_by_alias, since=MODEL_REGISTRY_SINCE)
