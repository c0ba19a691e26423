"""`gmr download`, `gmr versions` and `gmr show`: the commands that only read a registry."""

from __future__ import annotations

from pathlib import Path

import click

from gitlab_model_registry import reading
from gitlab_model_registry.cli._context import (
    CONCURRENCY,
    JSON,
    MODEL,
    VERSION,
    Context,
    common_options,
    option,
    required_model,
)
from gitlab_model_registry.cli._signing import verifier, verify_options
from gitlab_model_registry.console_results import render_download, render_show, render_versions
from gitlab_model_registry.errors import UsageError
from gitlab_model_registry.pacing import AUTO

ENVIRONMENT = option(
    "--environment",
    envvar="GMR_ENVIRONMENT",
    metavar="NAME",
    help="The version in this environment (GitLab deployments; MLflow alias).",
)


@click.command(short_help="Download a version: exact, latest or a constraint.")
@MODEL
@click.argument(
    "version",
    envvar=["GMR_MODEL_VERSION", "MODEL_VERSION"],
    required=False,
    metavar="[VERSION|latest|CONSTRAINT]",
)
@option(
    "--dest",
    envvar="GMR_DEST",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to download into (must be empty).",
)
@option("--force", is_flag=True, envvar="GMR_FORCE", help="Replace a non-empty --dest.")
@option(
    "--cache-dir",
    envvar="GMR_CACHE_DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep downloaded files here by sha256; later downloads take them from it.",
)
@ENVIRONMENT
@verify_options(
    "--verify",
    "GMR_VERIFY",
    "Check the version's signature before downloading; fail (exit 5) unless it covers every file.",
)
@JSON
@CONCURRENCY
@common_options
def download(
    model: str | None,
    version: str | None,
    dest: Path,
    force: bool,
    cache_dir: Path | None,
    environment: str | None,
    as_json: bool,
    concurrency: int | None,
    verify: bool,
    public_key: Path | None,
    identity: str | None,
    issuer: str | None,
) -> None:
    """Download a version of MODEL (exact, 'latest', a constraint such as '>=1.2,<2', or the
    one in --environment)."""
    ctx = Context()
    result = reading.download(
        ctx.backend(),
        required_model(model),
        _spec(version, environment),
        dest,
        force=force,
        concurrency=concurrency or AUTO,
        cache_dir=cache_dir,
        verify=verifier(verify, public_key, identity, issuer),
        observer=ctx.console,
        environment=environment,
    )
    click.echo(render_download(result, as_json=as_json))


@click.command(short_help="List a model's versions, newest first.")
@MODEL
@JSON
@common_options
def versions(model: str | None, as_json: bool) -> None:
    """List the versions of MODEL, newest first, each with the environments holding it."""
    ctx = Context()
    backend, name = ctx.backend(), required_model(model)
    found = reading.versions(backend, name)
    held = reading.placements(backend, name) if found else {}
    click.echo(render_versions(found, as_json=as_json, held=held))


@click.command(short_help="Show a version's files, params, metrics and CI link.")
@MODEL
@VERSION
@ENVIRONMENT
@JSON
@common_options
def show(model: str | None, version: str | None, environment: str | None, as_json: bool) -> None:
    """Show a version of MODEL (or the one in --environment): files, params, metrics, tags and
    CI link."""
    ctx = Context()
    details = reading.show(
        ctx.backend(),
        required_model(model),
        _spec(version, environment),
        environment=environment,
    )
    click.echo(render_show(details, as_json=as_json))


def _spec(version: str | None, environment: str | None) -> str:
    """VERSION, or latest; with --environment a VERSION given on the command line is refused
    (one read from MODEL_VERSION, e.g. an earlier job's dotenv, gives way)."""
    source = click.get_current_context().get_parameter_source("version")
    if environment and version and source == click.core.ParameterSource.COMMANDLINE:
        raise UsageError("VERSION and --environment are exclusive", hint="pass one of them")
    return version or reading.LATEST
