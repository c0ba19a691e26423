"""`gmr history` and `gmr rollback`: what each environment held when, and putting a version back."""

from __future__ import annotations

import click

from gitlab_model_registry import environments
from gitlab_model_registry.cli._context import (
    JSON,
    MODEL,
    Context,
    common_options,
    option,
    required_model,
)
from gitlab_model_registry.console_environments import render_history, render_rollback


@click.command(short_help="What was in each environment when, newest first.")
@MODEL
@option("--environment", envvar="GMR_ENVIRONMENT", metavar="NAME", help="Only this environment.")
@JSON
@common_options
def history(model: str | None, environment: str | None, as_json: bool) -> None:
    """List the deployments of MODEL's versions: when, where, which version, job and user."""
    ctx = Context()
    found = environments.history(ctx.backend(), required_model(model), environment)
    click.echo(render_history(found, as_json=as_json))


@click.command(short_help="Put the previous (or a given) version back into an environment.")
@MODEL
@option(
    "--environment",
    envvar="GMR_ENVIRONMENT",
    metavar="NAME",
    required=True,
    help="The environment to roll back.",
)
@option(
    "--to",
    "to_version",
    envvar="GMR_ROLLBACK_TO",
    metavar="SEMVER",
    help="The version to put back (default: the one before the current).",
)
@JSON
@common_options
def rollback(model: str | None, environment: str, to_version: str | None, as_json: bool) -> None:
    """Point ENVIRONMENT at MODEL's previous version again, recorded as a new deployment."""
    environments.check_name(environment)
    ctx = Context()
    result = environments.rollback(
        ctx.backend(), required_model(model), environment, ctx.settings.ci, to_version
    )
    click.echo(render_rollback(result, as_json=as_json))
