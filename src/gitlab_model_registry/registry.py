"""The one factory that turns ``Settings`` into a backend (as twine's ``create_repository``).

Every setting reaches the backend as an argument: nothing here or below writes ``os.environ``.
"""

from __future__ import annotations

from pathlib import Path

from gitlab_model_registry.backends import Backend
from gitlab_model_registry.errors import UsageError
from gitlab_model_registry.observer import NULL_OBSERVER, Observer
from gitlab_model_registry.retry import RetryPolicy
from gitlab_model_registry.settings import Settings
from gitlab_model_registry.split_manifest import DEFAULT_SPLIT_SIZE
from gitlab_model_registry.splitting import SplitFiles
from gitlab_model_registry.tls import verify_setting


def open_registry(settings: Settings, observer: Observer = NULL_OBSERVER) -> Backend:
    """The backend ``settings`` describe; retries are announced through ``observer.log``.

    GitLab's splits files over ``split_manifest.DEFAULT_SPLIT_SIZE`` into parts and reads them as
    one file (``publish`` passes its own split size); MLflow registries store files whole.
    """
    inner = _open(settings, observer)
    return SplitFiles(inner, DEFAULT_SPLIT_SIZE) if inner.kind == "gitlab" else inner


def _open(settings: Settings, observer: Observer) -> Backend:
    policy = RetryPolicy(attempts=settings.max_retries + 1)
    if settings.backend == "gitlab":
        from gitlab_model_registry.backends.gitlab import GitLabBackend

        return GitLabBackend(settings, notify=observer.log, policy=policy)
    from gitlab_model_registry.backends._mlflow_http import Connection
    from gitlab_model_registry.backends.mlflow import MlflowBackend

    artifacts = str(Path(embedded_root(settings)) / "mlartifacts") if settings.embedded else None
    connection = Connection(
        token=settings.token,
        username=settings.username,
        password=settings.password,
        verify=verify_setting(settings.ca_file),
        timeout=settings.timeout,
    )
    return MlflowBackend(
        settings.tracking_uri,
        artifact_root=artifacts,
        connection=connection,
        notify=observer.log,
        policy=policy,
    )


def open_target(
    settings: Settings, source: Backend, to_project: str | None, observer: Observer = NULL_OBSERVER
) -> Backend:
    """Where ``promote`` writes: the same registry, or another project of the same GitLab."""
    if not to_project:
        return source
    if settings.backend != "gitlab":
        raise UsageError(
            "--to-project needs the GitLab backend",
            hint="an MLflow registry has no projects; promote within it with --to or --release",
        )
    return open_registry(settings.for_project(to_project), observer)


def embedded_root(settings: Settings) -> str:
    """The directory of the embedded registry's SQLite file."""
    return str(Path(settings.tracking_uri.removeprefix("sqlite:///")).parent)
