"""What every MLflow-compatible route shares: prefix, auth, lookups, page tokens."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.gitlab_double import auth
from tests.gitlab_double.errors import grape, not_found, resource_missing, unauthorized
from tests.gitlab_double.records import Model, Project
from tests.gitlab_double.routing import Request

PREFIX = r"/api/v4/projects/(?P<project>[^/]+)/ml/mlflow/api/2\.0/mlflow/"
MAX_RESULTS_DEFAULT = 200
MAX_RESULTS_CAP = 1000


def authorize(
    request: Request, *, write: bool, registry: bool = True
) -> tuple[auth.Caller, Project]:
    """Authenticated member (read = Guest+); writes need Developer+ and answer 401 (sic) if not.

    Every route checks ``read_model_experiments``; registry routes (``registry``) also
    ``read_model_registry``. With the project's Model experiments or Model registry feature off
    (or, on 16.8-17.5, the ``model_registry`` flag) the check fails: 404 ``{"message":"404 Not
    Found"}``, without an ``error_code``.
    """
    caller, project = auth.authenticate(request, auth.MLFLOW, required=True)
    auth.require_feature(project, "model_experiments", not_found())
    if registry:
        auth.require_feature(project, "model_registry", not_found())
    if write:
        auth.require_role(caller, "developer", unauthorized())
    return caller, project


def find_model(project: Project, name: Any) -> Model:
    model = project.models.get(str(name)) if name else None
    if model is None:
        raise resource_missing()
    return model


def page_offset(params: dict[str, Any]) -> int:
    token = params.get("page_token")
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(str(token).encode()))["offset"])
    except (ValueError, KeyError, TypeError):
        raise grape("page_token is invalid") from None


def next_page_token(offset: int, size: int, total: int) -> str | None:
    if offset + size >= total:
        return None
    raw = json.dumps({"offset": offset + size}).encode()
    return base64.urlsafe_b64encode(raw).decode()
