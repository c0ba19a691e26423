"""Creating an MLflow version that carries a semver, settling two creators of one semver, and
deleting a version with its run (``gmr prune`` only).

The semver is the version's tag ``SEMVER_TAG`` and its registered-model alias (``semver_alias``);
of two versions claiming one semver, the lower MLflow number wins.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gitlab_model_registry.backends._mlflow_files import RunFiles
from gitlab_model_registry.backends._mlflow_runs import Runs
from gitlab_model_registry.backends._mlflow_support import (
    SEMVER_TAG,
    mlflow_errors,
    search_literal,
    semver_alias,
)
from gitlab_model_registry.errors import GmrError, NotFoundError, VersionTakenError
from gitlab_model_registry.models import ModelVersion

_PAGE = 1000


def create_version(
    client: Any, runs: Runs, model: str, version: str, description: str, tags: dict[str, str]
) -> Any:
    """The new MLflow version (with its run), once it has won any race for its semver."""
    version_tags = {**tags, SEMVER_TAG: version}
    run_id, artifact_uri = runs.create_run(model, version, version_tags)
    try:
        with mlflow_errors(f"creating version {version} of {model!r}"):
            created = client.create_model_version(
                model,
                artifact_uri,
                run_id=run_id,
                tags=version_tags,
                description=description,
                await_creation_for=0,  # OSS registries answer READY; skips a log line
            )
    except Exception:
        runs.forget_run(run_id)
        raise
    settle_race(client, runs, model, version, created)
    return created


def settle_race(client: Any, runs: Runs, model: str, version: str, created: Any) -> None:
    """Two creators of one semver: the lower MLflow number wins, the other deletes itself.

    MLflow numbers versions in commit order, so the loser always sees the winner here.
    """
    holders = [
        mv for mv in search_versions(client, model) if (mv.tags or {}).get(SEMVER_TAG) == version
    ]
    winner = min(holders, key=lambda mv: int(mv.version), default=created)
    # Whoever wins gets the alias: also when its own answer was lost and only a retried
    # create (the loser here) got as far as this.
    point_alias(client, model, version, str(winner.version))
    if int(winner.version) < int(created.version):
        try:
            with mlflow_errors(f"withdrawing duplicate version {version} of {model!r}"):
                client.delete_model_version(model, str(created.version))
        except NotFoundError:
            pass  # a retried delete whose first answer was lost: it is gone already
        if winner.run_id != created.run_id:  # a retried create shares the winner's run
            runs.forget_run(created.run_id)
        raise VersionTakenError(f"version {version} of model {model!r} was created meanwhile")


def point_alias(client: Any, model: str, version: str, number: str) -> None:
    """Point the semver's alias at ``number``. Every creator in a race sets the same value;
    on SQLite their writes can collide on the alias table's key, which is fine once the
    alias says what they all meant."""
    alias = semver_alias(version)
    try:
        with mlflow_errors(f"setting alias of version {version} of {model!r}"):
            client.set_registered_model_alias(model, alias, number)
    except GmrError:
        with mlflow_errors(f"reading alias of version {version} of {model!r}"):
            pointed = client.get_model_version_by_alias(model, alias)
        if str(pointed.version) != number:
            raise


def search_versions(client: Any, model: str) -> Iterator[Any]:
    """Every MLflow version of ``model``, page by page."""
    query = f"name = {search_literal(model)}"
    token = None
    while True:
        with mlflow_errors(f"listing versions of {model!r}"):
            page = client.search_model_versions(query, max_results=_PAGE, page_token=token)
        yield from page
        token = page.token
        if not token:
            return


def delete_with_run(client: Any, files: RunFiles, mv: ModelVersion) -> None:
    """The run's artifacts, then the run, then the version: what is listed goes last, so
    a prune that stops half-way finds the version again and finishes it."""
    what = f"deleting version {mv.version} of {mv.model!r}"
    if mv.run_id:
        try:
            with mlflow_errors(what):
                uri = str(client.get_run(mv.run_id).info.artifact_uri)
        except NotFoundError:
            uri = ""
        if uri:
            files.delete_all(uri, what)
            with mlflow_errors(what):
                client.delete_run(mv.run_id)
    with mlflow_errors(what):
        client.delete_model_version(mv.model, mv.version_id)
