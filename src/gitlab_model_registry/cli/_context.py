"""Options every command shares, and the Context that turns them into Settings and a backend."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import click

from gitlab_model_registry.backends import Backend
from gitlab_model_registry.console import Console
from gitlab_model_registry.errors import UsageError
from gitlab_model_registry.settings import Flags, Settings

F = TypeVar("F", bound=Callable[..., Any])


def common_options(command: F) -> F:
    """Connection and output options shared by every command."""
    options = [
        click.option(
            "--gitlab-url", envvar="GMR_GITLAB_URL", help="GitLab URL (in CI: CI_API_V4_URL)."
        ),
        click.option(
            "--project",
            envvar="GMR_PROJECT",
            help="GitLab project id or path (in CI: CI_PROJECT_ID).",
        ),
        click.option(
            "--token",
            envvar="GMR_TOKEN",
            help="API token, api scope, Developer role (or GITLAB_TOKEN, MLFLOW_TRACKING_TOKEN).",
        ),
        click.option(
            "--token-variable",
            envvar="GMR_TOKEN_VARIABLE",
            help="Name of the environment variable holding the API token.",
        ),
        click.option(
            "--tracking-uri",
            envvar="GMR_TRACKING_URI",
            help="MLflow tracking URI (or MLFLOW_TRACKING_URI); GitLab's MLflow URL selects GitLab.",
        ),
        click.option(
            "--ca-file",
            envvar="GMR_CA_FILE",
            type=click.Path(exists=True, dir_okay=False),
            help="Extra CA bundle (in CI: CI_SERVER_TLS_CA_FILE).",
        ),
        click.option(
            "--timeout",
            envvar="GMR_TIMEOUT",
            type=float,
            help="Seconds to wait for the server (default 60).",
        ),
        click.option(
            "--upload-token",
            envvar="GMR_UPLOAD_TOKEN",
            type=click.Choice(["job", "api"]),
            help="Token for file transfers: CI_JOB_TOKEN (default in CI) or the API token.",
        ),
        click.option("-v", "--verbose", count=True, help="More detail; -vv shows tracebacks."),
        click.option(
            "--no-progress", is_flag=True, envvar="GMR_NO_PROGRESS", help="No progress lines."
        ),
        click.option(
            "--color",
            envvar="GMR_COLOR",
            type=click.Choice(["auto", "always", "never"]),
            default="auto",
            show_default=True,
            help="Colour on stderr (NO_COLOR is honoured).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


class Context:
    """What every command needs, built once from the common options."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.verbosity: int = options.pop("verbose")
        self.console = Console.for_environment(
            os.environ,
            color=options.pop("color"),
            progress=not options.pop("no_progress"),
            verbosity=self.verbosity,
        )
        names = (
            "gitlab_url",
            "project",
            "token",
            "token_variable",
            "tracking_uri",
            "ca_file",
            "timeout",
            "upload_token",
        )
        self.flags = Flags(**{name: options.pop(name) for name in names})
        self.settings = Settings.resolve(self.flags, os.environ, Path.cwd())

    def backend(self) -> Backend:
        if self.settings.backend == "gitlab":
            from gitlab_model_registry.backends.gitlab import GitLabBackend

            return GitLabBackend(self.settings)
        from gitlab_model_registry.backends.mlflow import MlflowBackend

        if self.settings.embedded:
            self.console.log(
                f"no registry configured: using the local MLflow registry {self.settings.tracking_uri} "
                f"(browse it with: mlflow ui --backend-store-uri {self.settings.tracking_uri})"
            )
        artifacts = str(Path.cwd() / "mlartifacts") if self.settings.embedded else None
        _bridge_to_mlflow(self.settings)
        backend = MlflowBackend(self.settings.tracking_uri, artifact_root=artifacts)
        # mlflow sets its own loggers to INFO on import; its chatter (and its tracebacks, which
        # our one-line errors replace) is noise at our default.
        logging.getLogger("mlflow").setLevel(logging.INFO if self.verbosity else logging.CRITICAL)
        return backend

    def target_backend(self, source: Backend, to_project: str | None) -> Backend:
        """Where ``promote`` writes: the same registry, or another GitLab project (--to-project)."""
        if not to_project:
            return source
        if self.settings.backend != "gitlab":
            raise UsageError(
                "--to-project needs the GitLab backend",
                hint="an MLflow registry has no projects; promote within it with --to or --release",
            )
        from gitlab_model_registry.backends.gitlab import GitLabBackend

        # A job token reaches another project only through that project's allowlist: transfer
        # with the API token unless --upload-token job was asked for.
        settings = replace(self.settings, project=to_project)
        if self.flags.upload_token != "job":
            settings = replace(settings, upload_token="api")
        return GitLabBackend(settings)

    def source_ref(self, model: str, version: str) -> str:
        """How a promoted version names its source: ``<project>/<model>@<version>``."""
        settings = self.settings
        where = (
            settings.project_path or settings.project if settings.backend == "gitlab" else "mlflow"
        )
        return f"{where}/{model}@{version}"


def _bridge_to_mlflow(settings: Settings) -> None:
    """mlflow reads its token and HTTP limits from the environment only: hand ours over."""
    if settings.token is not None:
        os.environ.setdefault("MLFLOW_TRACKING_TOKEN", settings.token.reveal())
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(int(settings.timeout)))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "4")


def required_model(model: str | None) -> str:
    if not model:
        raise UsageError("no model name", hint="pass MODEL or set GMR_MODEL")
    return model
