"""The ``gmr`` command line: flags -> Settings -> one library call -> rendering.

This is the only module that imports click, and ``main`` is the single exception boundary that
maps errors to one-line messages and the exit codes of the design's table.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from gitlab_model_registry import __version__, api
from gitlab_model_registry.backends import Backend
from gitlab_model_registry.console import Console, dotenv_values, render_publish, write_dotenv
from gitlab_model_registry.errors import GmrError, UsageError
from gitlab_model_registry.settings import Flags, Settings

F = TypeVar("F", bound=Callable[..., Any])
BUMP = click.Choice(["major", "minor", "patch", "premajor", "preminor", "prepatch", "prerelease"])
_SHOW_TRACEBACK = 2


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
        flags = Flags(**{name: options.pop(name) for name in names})
        self.settings = Settings.resolve(flags, os.environ, Path.cwd())

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
        backend = MlflowBackend(self.settings.tracking_uri, artifact_root=artifacts)
        # mlflow sets its own loggers to INFO on import; its chatter is noise at our default.
        logging.getLogger("mlflow").setLevel(logging.INFO if self.verbosity else logging.WARNING)
        return backend


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="gmr")
def cli() -> None:
    """Publish, promote and download models in GitLab's Model registry (or any MLflow registry)."""


def version_options(command: F) -> F:
    options = [
        click.option(
            "--version",
            "version",
            envvar="GMR_VERSION",
            metavar="SEMVER|auto",
            help="Exact version, or 'auto' to choose from the CI context (tag, merge request, branch).",
        ),
        click.option(
            "--bump",
            envvar="GMR_BUMP",
            type=BUMP,
            help="Bump the registry's latest version (default patch).",
        ),
        click.option(
            "--prerelease-label",
            envvar="GMR_PRERELEASE_LABEL",
            default="rc",
            show_default=True,
            help="Label of prerelease bumps.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@cli.command()
@click.argument("model", envvar="GMR_MODEL", required=False)
@click.argument("paths", nargs=-1, type=click.Path())
@version_options
@click.option(
    "--description",
    envvar="GMR_DESCRIPTION",
    help="Version description (default: the CI job and commit).",
)
@click.option(
    "--param", "param_pairs", multiple=True, metavar="K=V", help="A parameter; repeatable."
)
@click.option(
    "--params-file",
    multiple=True,
    type=click.Path(path_type=Path),
    envvar="GMR_PARAMS_FILE",
    help="Parameters from JSON/YAML; repeatable.",
)
@click.option(
    "--metric",
    "metric_pairs",
    multiple=True,
    metavar="K=V",
    help="A metric (finite number); repeatable.",
)
@click.option(
    "--metrics-file",
    multiple=True,
    type=click.Path(path_type=Path),
    envvar="GMR_METRICS_FILE",
    help="Metrics from JSON/YAML; repeatable.",
)
@click.option(
    "--dotenv",
    envvar="GMR_DOTENV",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write MODEL_* variables for artifacts:reports:dotenv.",
)
@click.option(
    "--json", "as_json", is_flag=True, envvar="GMR_JSON", help="Print the result as JSON."
)
@click.option(
    "--dry-run", is_flag=True, envvar="GMR_DRY_RUN", help="Print the plan; write nothing."
)
@click.option(
    "--concurrency",
    envvar="GMR_CONCURRENCY",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Parallel uploads.",
)
@common_options
def publish(model: str | None, paths: tuple[str, ...], **options: Any) -> None:
    """Publish MODEL's files (files or directories) as a new version.

    Without PATH arguments the paths come from GMR_FILES (a JSON array or whitespace-separated).
    """
    request_options = {
        k: options.pop(k)
        for k in ("version", "bump", "prerelease_label", "description", "concurrency", "dry_run")
    }
    output = {k: options.pop(k) for k in ("dotenv", "as_json")}
    metadata = [
        options.pop(k) for k in ("param_pairs", "params_file", "metric_pairs", "metrics_file")
    ]
    ctx = Context(options)
    params, metrics = api.load_metadata(*metadata)
    request = api.PublishRequest(
        model=_required_model(model),
        paths=paths or _paths_from_env(),
        params=params,
        metrics=metrics,
        **request_options,
    )
    result = api.publish(ctx.backend(), request, ctx.settings.ci, ctx.console)
    if output["dotenv"] and result.model_version:
        write_dotenv(output["dotenv"], dotenv_values(result.model_version))
    click.echo(render_publish(result, as_json=output["as_json"]))


@cli.command("next-version")
@click.argument("model", envvar="GMR_MODEL", required=False)
@version_options
@common_options
def next_version(model: str | None, **options: Any) -> None:
    """Print the version `publish` would create now; writes nothing."""
    request_options = {k: options.pop(k) for k in ("version", "bump", "prerelease_label")}
    ctx = Context(options)
    request = api.PublishRequest(model=_required_model(model), **request_options)
    click.echo(api.next_version(ctx.backend(), request, ctx.settings.ci))


def _required_model(model: str | None) -> str:
    if not model:
        raise UsageError("no model name", hint="pass MODEL or set GMR_MODEL")
    return model


def _paths_from_env() -> tuple[str, ...]:
    raw = os.environ.get("GMR_FILES", "").strip()
    if raw.startswith("["):
        try:
            paths = json.loads(raw)
        except ValueError as error:
            raise UsageError(f"GMR_FILES is not a valid JSON array: {error}") from None
        return tuple(str(p) for p in paths)
    return tuple(shlex.split(raw))


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn every failure into one line and an exit code."""
    verbosity = _verbosity(argv or sys.argv[1:])
    logging.basicConfig(
        level=logging.DEBUG if verbosity >= 2 else logging.WARNING, format="%(message)s"
    )
    try:
        cli.main(args=argv, prog_name="gmr", standalone_mode=False)
    except click.exceptions.Abort:
        _fail("aborted", 130)
    except click.ClickException as error:
        _fail(error.format_message(), 2, hint=f"see: gmr {' '.join(_command(argv))} --help")
    except GmrError as error:
        if verbosity >= _SHOW_TRACEBACK:
            logging.exception("traceback")
        _fail(error.message, error.exit_code, hint=error.hint)
    except Exception as error:  # the boundary: anything else is a bug
        if verbosity >= _SHOW_TRACEBACK:
            logging.exception("traceback")
        _fail(
            f"unexpected error: {type(error).__name__}: {error}",
            1,
            hint="re-run with -vv for the traceback",
        )
    sys.exit(0)


def _verbosity(args: list[str]) -> int:
    """-v/-vv counted before click parses, so errors raised while parsing honour it too."""
    return sum(
        1 if a == "--verbose" else len(a) - 1 for a in args if re.fullmatch(r"--verbose|-v+", a)
    )


def _command(argv: list[str] | None) -> list[str]:
    return [a for a in (argv or sys.argv[1:])[:1] if not a.startswith("-")]


def _fail(message: str, code: int, *, hint: str = "") -> None:
    click.echo(f"error: {message}" + (f" — {hint}" if hint else ""), err=True)
    sys.exit(code)
