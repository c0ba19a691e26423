"""Environments: which version of a model is in ``production`` (or any environment), since when
and put there by whom, and putting a version back (rollback).

On GitLab an environment holds the version of its last successful deployment tied to the model
(``backends._gitlab_environments``), so GitLab's Environments page, protected environments,
approvals and its rollback button all apply; on MLflow it is a registered-model alias
(``backends._mlflow_environments``). Only complete versions are ever deployed or read.
"""

from __future__ import annotations

from dataclasses import dataclass

from gitlab_model_registry import catalog, gates, versioning
from gitlab_model_registry.backends import Backend
from gitlab_model_registry.errors import NotFoundError, UsageError
from gitlab_model_registry.models import CiContext, Deployment, ModelVersion

__all__ = [
    "Deployment",
    "RollbackResult",
    "check_name",
    "current_version",
    "deploy",
    "history",
    "rollback",
]


@dataclass(frozen=True)
class RollbackResult:
    """What ``rollback`` put back into an environment, and what it replaced."""

    environment: str
    previous: str | None  # the version the environment held before
    target: ModelVersion
    deployment: Deployment


check_name = catalog.check_environment


def current_version(registry: Backend, model: str, environment: str) -> ModelVersion | None:
    """The version ``environment`` holds now, or None when nothing of ``model`` is there."""
    check_name(environment)
    return catalog.in_environment(registry, model, environment)


def holding(registry: Backend, model: str, environment: str) -> gates.Baseline:
    """What ``environment`` holds and that version's metrics: the baseline of gates naming it."""
    mv = current_version(registry, model, environment)
    metrics = registry.get_run_data(mv.run_id).metrics if mv and mv.run_id else {}
    return gates.Baseline(environment, mv.version if mv else None, metrics)


def require_current(registry: Backend, model: str, environment: str) -> ModelVersion:
    """The version in ``environment``; an empty environment is an error that says so."""
    return catalog.require_in_environment(registry, model, environment)


def history(registry: Backend, model: str, environment: str | None = None) -> list[Deployment]:
    """Every deployment of a version of ``model`` (to ``environment`` or any), newest first."""
    if environment is not None:
        check_name(environment)
    if registry.get_model(model) is None:
        raise NotFoundError(f"model {model!r} not found on {registry.describe()}")
    return registry.environments().history(model, environment)


def deploy(registry: Backend, mv: ModelVersion, environment: str, ci: CiContext) -> Deployment:
    """Make the (complete) version ``mv`` the one in ``environment``."""
    check_name(environment)
    return registry.environments().record(mv, environment, ci)


def rollback(
    registry: Backend, model: str, environment: str, ci: CiContext, to: str | None = None
) -> RollbackResult:
    """Put the version held before the current one (or ``to``) into ``environment`` again,
    recorded as a new deployment."""
    check_name(environment)
    if to is not None:
        to = str(versioning.parse(to))
    ledger = registry.environments()
    current = ledger.current(model, environment)
    if to is None:
        to = _previous(ledger.history(model, environment), current, model, environment)
    target = catalog.get_complete(registry, model, to)
    deployment = ledger.record(target, environment, ci)
    return RollbackResult(environment, current, target, deployment)


def _previous(past: list[Deployment], current: str | None, model: str, environment: str) -> str:
    """The version deployed successfully before the current one's latest deployment."""
    if current is None:
        raise UsageError(
            f"nothing of {model} is in environment {environment!r}: nothing to roll back",
            hint="name the version with --to VERSION",
        )
    done = [d.version for d in past if d.status == "success"]
    start = done.index(current) if current in done else 0
    earlier = next((v for v in done[start:] if v != current), None)
    if earlier is None:
        raise UsageError(
            f"{model} {current} is the only version {environment!r} ever held",
            hint="name the version with --to VERSION",
        )
    return earlier
