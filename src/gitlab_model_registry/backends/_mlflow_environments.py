"""Environments on MLflow registries: a registered-model alias per environment (``production``
-> version number), and the history as version tags, which MLflow's UI shows on each version.

A deployment is the tag ``gmr.deployment.<UTC timestamp>`` on the version put in place; its
value is JSON (environment, status, when, job, user). "Current" is the alias: MLflow's own
notion, which its clients (``models:/<model>@production``) resolve too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from gitlab_model_registry.backends import Backend
from gitlab_model_registry.backends._mlflow_support import SEMVER_TAG, mlflow_errors
from gitlab_model_registry.errors import GmrError, UsageError
from gitlab_model_registry.models import CiContext, Deployment, ModelVersion, utc_timestamp

HISTORY_PREFIX = "gmr.deployment."
#: MLflow aliases allow ``[A-Za-z0-9_-]``; ``v<digits>`` and ``latest`` are reserved by MLflow,
#: and ``v<digit>…`` names gmr's semver aliases.
_ALIAS = re.compile(r"^(?!v\d)(?!latest$)[A-Za-z0-9_-]{1,255}$")


def check_name(environment: str) -> None:
    if not _ALIAS.match(environment):
        raise UsageError(
            f"environment {environment!r} cannot be an MLflow alias",
            hint="use letters, digits, '_' and '-', not starting with 'v<digit>' nor 'latest'",
        )


class MlflowEnvironments:
    def __init__(self, client: Callable[[], Any], backend: Backend) -> None:
        self._client, self._backend = client, backend

    def check_name(self, environment: str) -> None:
        check_name(environment)

    def current(self, model: str, environment: str) -> str | None:
        check_name(environment)
        if self._backend.get_model(model) is None:
            return None
        # A missing alias is an INVALID_PARAMETER_VALUE: read the model's aliases instead.
        with mlflow_errors(f"reading the aliases of {model!r}"):
            client = self._client()
            number = dict(client.get_registered_model(model).aliases or {}).get(environment)
        if number is None:
            return None
        with mlflow_errors(f"reading version {number} of {model!r}"):
            found = client.get_model_version(model, str(number))
        semver = (found.tags or {}).get(SEMVER_TAG)
        return str(semver) if semver else None

    def history(self, model: str, environment: str | None) -> list[Deployment]:
        if environment:
            check_name(environment)
        # Keys hold the time to the microsecond (created_at only to the second): order by them.
        found = [
            (key, deployment)
            for mv in self._backend.list_versions(model)
            for key, value in mv.tags.items()
            if key.startswith(HISTORY_PREFIX) and (deployment := _parse(mv.version, value))
        ]
        found.sort(key=lambda pair: pair[0], reverse=True)
        return [d for _, d in found if environment in (None, d.environment)]

    def record(self, mv: ModelVersion, environment: str, ci: CiContext) -> Deployment:
        check_name(environment)
        now = datetime.now(timezone.utc)
        deployment = Deployment(
            environment=environment,
            version=mv.version,
            created_at=utc_timestamp(now.isoformat()),
            status="success",
            job_url=ci.job_url,
            user=ci.user_login,
            pipeline_url=ci.pipeline_url,
        )
        key = HISTORY_PREFIX + now.strftime("%Y%m%dT%H%M%S.%fZ")
        value = json.dumps(
            {
                "environment": environment,
                "status": deployment.status,
                "created_at": deployment.created_at,
                "job_url": deployment.job_url,
                "pipeline_url": deployment.pipeline_url,
                "user": deployment.user,
            }
        )
        client = self._client()
        # The history first: an alias never points at a version whose record is missing.
        with mlflow_errors(f"recording the deployment of {mv.model} {mv.version}"):
            client.set_model_version_tag(mv.model, mv.version_id, key, value)
        what = f"pointing alias {environment!r} of {mv.model!r}"
        try:
            with mlflow_errors(what):
                client.set_registered_model_alias(mv.model, environment, mv.version_id)
        except GmrError:
            # On SQLite a racing promotion's first write of the alias can collide with ours on
            # the alias table's key; the row exists now, so writing again updates it.
            with mlflow_errors(what):
                client.set_registered_model_alias(mv.model, environment, mv.version_id)
        return deployment


def _parse(version: str, value: str) -> Deployment | None:
    try:
        raw = json.loads(value)
        return Deployment(
            environment=str(raw["environment"]),
            version=version,
            created_at=utc_timestamp(raw["created_at"]),
            status=str(raw.get("status", "success")),
            job_url=str(raw.get("job_url", "")),
            user=str(raw.get("user", "")),
            pipeline_url=str(raw.get("pipeline_url", "")),
        )
    except (ValueError, KeyError, TypeError):
        return None  # not written by gmr: not a deployment
