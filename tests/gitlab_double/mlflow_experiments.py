"""MLflow experiments routes (reference §1.3)."""

from __future__ import annotations

from tests.gitlab_double import mlflow_render as render
from tests.gitlab_double.errors import already_exists, message, resource_missing
from tests.gitlab_double.mlflow_common import (
    MAX_RESULTS_CAP,
    MAX_RESULTS_DEFAULT,
    PREFIX,
    authorize,
    next_page_token,
    page_offset,
)
from tests.gitlab_double.params import as_int, clamp, key_values, required_str
from tests.gitlab_double.records import Experiment, Project
from tests.gitlab_double.routing import Request, Response, Router


def _find(project: Project, iid: object = None, name: object = None) -> Experiment:
    found = None
    if iid is not None and str(iid).isdigit():
        found = project.experiments.get(int(str(iid)))
    elif name is not None:
        found = project.experiment_named(str(name))
    if found is None:
        raise resource_missing()
    return found


def get_experiment(request: Request) -> Response:
    _, project = authorize(request, write=False, registry=False)
    experiment = _find(project, iid=request.params().get("experiment_id"))
    return Response(body={"experiment": render.experiment(experiment)})


def get_by_name(request: Request) -> Response:
    _, project = authorize(request, write=False, registry=False)
    experiment = _find(project, name=request.params().get("experiment_name"))
    return Response(body={"experiment": render.experiment(experiment)})


def list_experiments(request: Request) -> Response:
    _, project = authorize(request, write=False, registry=False)
    items = [render.experiment(e) for e in project.experiments.values()]
    return Response(body={"experiments": items})


def search_experiments(request: Request) -> Response:
    _, project = authorize(request, write=True, registry=False)
    params = request.params()
    experiments = sorted(project.experiments.values(), key=lambda e: e.iid, reverse=True)
    size = clamp(as_int(params, "max_results"), MAX_RESULTS_DEFAULT, MAX_RESULTS_CAP)
    offset = page_offset(params)
    body = {
        "experiments": [render.experiment(e) for e in experiments[offset : offset + size]],
        "next_page_token": next_page_token(offset, size, len(experiments)),
    }
    return Response(body=body)


def create_experiment(request: Request) -> Response:
    _, project = authorize(request, write=True, registry=False)
    params = request.params()
    name = required_str(params, "name")
    if project.experiment_named(name) is not None:
        raise already_exists()
    experiment = request.app.registry.new_experiment(project, name)
    experiment.tags.update(dict(key_values(params, "tags")))
    return Response(body={"experiment_id": str(experiment.iid)})


def set_experiment_tag(request: Request) -> Response:
    _, project = authorize(request, write=True, registry=False)
    params = request.params()
    experiment = _find(project, iid=required_str(params, "experiment_id"))
    experiment.tags[required_str(params, "key")] = required_str(params, "value")
    return Response(body={})


def delete_experiment(request: Request) -> Response:
    _, project = authorize(request, write=True, registry=False)
    experiment = _find(project, iid=required_str(request.params(), "experiment_id"))
    if experiment.name.startswith("[model]"):
        raise message(400, "Cannot delete an experiment associated to a model")
    experiment.deleted = True
    return Response(body={})


def register(router: Router) -> None:
    routes = {
        ("GET", "get"): get_experiment,
        ("GET", "get-by-name"): get_by_name,
        ("GET", "list"): list_experiments,
        ("POST", "search"): search_experiments,
        ("POST", "create"): create_experiment,
        ("POST", "set-experiment-tag"): set_experiment_tag,
        ("POST", "delete"): delete_experiment,
    }
    for (method, path), handler in routes.items():
        router.add(method, PREFIX + "experiments/" + path, handler)
