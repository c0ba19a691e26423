"""Options every command shares, and the Context that turns them into Settings and a backend."""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from gitlab_model_registry.backends import Backend
from gitlab_model_registry.console import Console
from gitlab_model_registry.errors import UsageError
from gitlab_model_registry.registry import open_registry, open_target
from gitlab_model_registry.settings import Flags, Settings

F = TypeVar("F", bound=Callable[..., Any])


class ListFromEnv(click.types.StringParamType):
    """One value of a repeatable option whose GMR_ variable holds several: whitespace-separated,
    or a JSON array (what a component's array input becomes inside a variable)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def split_envvar_value(self, rv: str) -> list[str]:
        text = rv.strip()
        if not text.startswith("["):
            return text.split()
        try:
            values = json.loads(text)
        except ValueError as error:
            raise UsageError(f"not a valid JSON array of {self.name}s: {error}") from None
        return [str(value) for value in values]


#: Every option is declared with its environment variable, and ``--help`` shows it.
option = functools.partial(click.option, show_envvar=True)

#: Output and transfer options several commands share, declared once.
JSON = option(
    "--json", "as_json", is_flag=True, envvar="GMR_JSON", help="Print the result as JSON."
)
CONCURRENCY = option(
    "--concurrency",
    envvar="GMR_CONCURRENCY",
    type=click.IntRange(1, 64),
    help="Parallel transfers (default: up to 16 small files and 4 big ones at once).",
)
#: MODEL and VERSION fall back to MODEL_NAME and MODEL_VERSION: a job after a publish job (whose
#: dotenv report set them) works on "the version this pipeline published".
MODEL = click.argument("model", envvar=["GMR_MODEL", "MODEL_NAME"], required=False)
VERSION = click.argument("version", envvar=["GMR_MODEL_VERSION", "MODEL_VERSION"], required=False)


def gates_option(help_text: str) -> Callable[[F], F]:
    """``--require``: metric gates (promote refuses on them, report shows their verdicts)."""
    return option(
        "--require",
        "gates",
        multiple=True,
        envvar="GMR_REQUIRE",
        type=ListFromEnv("gate"),
        metavar="'METRIC>=N'",
        help=help_text,
    )


_COMMON = "gmr.common"


def _keep(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Collect a common option for ``Context`` instead of passing it to every command."""
    if param.name:
        ctx.meta.setdefault(_COMMON, {})[param.name] = value
    return value


def common(*names: str, **attrs: Any) -> Callable[[F], F]:
    """A common option: kept for ``Context``, not a parameter of the command function."""
    return option(*names, expose_value=False, callback=_keep, **attrs)


def common_options(command: F) -> F:
    """Connection and output options shared by every command."""
    options = [
        common("--gitlab-url", envvar="GMR_GITLAB_URL", help="GitLab URL (in CI: CI_API_V4_URL)."),
        common(
            "--project",
            envvar="GMR_PROJECT",
            help="GitLab project id or path (in CI: CI_PROJECT_ID).",
        ),
        common(
            "--token",
            envvar="GMR_TOKEN",
            help="Token of the registry: GitLab API token, api scope, Developer role (or "
            "GITLAB_TOKEN); a plain MLflow server's token (or MLFLOW_TRACKING_TOKEN).",
        ),
        common(
            "--token-variable",
            envvar="GMR_TOKEN_VARIABLE",
            help="Name of the environment variable holding the API token.",
        ),
        common(
            "--tracking-uri",
            envvar="GMR_TRACKING_URI",
            help="MLflow tracking URI (or MLFLOW_TRACKING_URI); GitLab's MLflow URL selects GitLab.",
        ),
        common(
            "--ca-file",
            envvar="GMR_CA_FILE",
            type=click.Path(exists=True, dir_okay=False),
            help="CA bundle added to the system's trust (in CI: CI_SERVER_TLS_CA_FILE).",
        ),
        common(
            "--timeout",
            envvar="GMR_TIMEOUT",
            type=float,
            help="Seconds to wait for the server, > 0 (default 60; MLflow: MLFLOW_HTTP_REQUEST_TIMEOUT).",
        ),
        common(
            "--upload-token",
            envvar="GMR_UPLOAD_TOKEN",
            type=click.Choice(["job", "api"]),
            help="Token for file transfers: CI_JOB_TOKEN (default in the job's own project) or "
            "the API token (default for other projects).",
        ),
        common(
            "-v",
            "--verbose",
            count=True,
            envvar="GMR_VERBOSE",
            help="More detail; -vv shows tracebacks (GMR_VERBOSE: a count, e.g. 2).",
        ),
        common("--no-progress", is_flag=True, envvar="GMR_NO_PROGRESS", help="No progress lines."),
        common(
            "--color",
            envvar="GMR_COLOR",
            type=click.Choice(["auto", "always", "never"]),
            default="auto",
            show_default=True,
            help="Colour on stderr (NO_COLOR is honoured).",
        ),
    ]
    for decorator in reversed(options):
        command = decorator(command)
    return command


class Context:
    """What every command needs, built once from the common options."""

    def __init__(self) -> None:
        options = dict(click.get_current_context().meta[_COMMON])
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
        if self.settings.embedded:
            self.console.log(
                f"no registry configured: using the local MLflow registry {self.settings.tracking_uri} "
                f"(browse it: `make ui` in a checkout of gitlab-model-registry, or `pip install mlflow` "
                f"then `mlflow ui --backend-store-uri {self.settings.tracking_uri}`)"
            )
        backend = open_registry(self.settings, self.console)
        if self.settings.backend == "mlflow":
            # mlflow sets its own loggers to INFO on import; its chatter (and its tracebacks,
            # which our one-line errors replace) is noise at our default.
            level = logging.INFO if self.verbosity else logging.CRITICAL
            logging.getLogger("mlflow").setLevel(level)
        return backend

    def target_backend(self, source: Backend, to_project: str | None) -> Backend:
        """Where ``promote`` writes: the same registry, or another GitLab project (--to-project)."""
        return open_target(self.settings, source, to_project, self.console)

    def source_ref(self, model: str, version: str) -> str:
        """How a promoted version names its source: ``<project>/<model>@<version>``."""
        settings = self.settings
        where = (
            settings.project_path or settings.project if settings.backend == "gitlab" else "mlflow"
        )
        return f"{where}/{model}@{version}"


def required_model(model: str | None) -> str:
    if not model:
        raise UsageError("no model name", hint="pass MODEL or set GMR_MODEL")
    return model
